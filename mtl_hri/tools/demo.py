"""`mtl-hri-demo`: real footage -> video_publisher -> recognizer -> listener, over DDS on loopback.

Prints decisions as they arrive, then the measured rates and latencies; saves the last debug
image as a PNG and a JSON summary.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from ..ros.dds_env import apply_loopback_env
from .fetch_footage import default_cache, fetch
from .procs import RosProcess

NAMESPACE = "/mtl_hri"
IMAGE_TOPIC = "/camera/image_raw"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, help="video file (default: vtest.avi, fetched if needed)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds to run")
    parser.add_argument("--rate", type=float, default=15.0, help="camera frames per second (0: the file's rate)")
    parser.add_argument("--model", default="", help="model directory (default: the bundled model)")
    parser.add_argument("--out", type=Path, default=Path("demo_out"), help="where to write the PNG and summary")
    parser.add_argument("--domain-id", type=int, help="ROS_DOMAIN_ID (default: random)")
    args = parser.parse_args(argv)

    env = apply_loopback_env(args.domain_id)  # before rclpy starts
    import rclpy
    from tqdm import tqdm

    from ..ros.image_conv import image_to_rgb
    from ..ros.listener import OutputListener

    video = args.video or fetch(default_cache())
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"ROS_DOMAIN_ID={env['ROS_DOMAIN_ID']}, DDS profile {env['FASTDDS_DEFAULT_PROFILES_FILE']}")
    rclpy.init()
    listener = OutputListener(NAMESPACE, debug=True)
    model = ["-p", f"model:={args.model}"] if args.model else []
    recognizer = RosProcess("recognizer", ["-r", f"__ns:={NAMESPACE}", "-r", f"image:={IMAGE_TOPIC}", *model],
                            env, args.out)
    publisher = RosProcess("video_publisher", ["-r", f"image:={IMAGE_TOPIC}", "-p", f"video:={video}",
                                               "-p", f"rate:={args.rate}", "-p", "loop:=true",
                                               "-p", "frame_id:=camera"], env, args.out)
    last = ("", "")
    try:
        start = time.monotonic()
        with tqdm(total=int(args.duration), unit="s", desc="demo", mininterval=1.0) as bar:
            while (elapsed := time.monotonic() - start) < args.duration:
                rclpy.spin_once(listener, timeout_sec=0.1)
                if int(elapsed) > bar.n:
                    bar.update(min(int(elapsed), bar.total) - bar.n)
                r = listener.received
                now = (r.actions[-1] if r.actions else "-", r.gestures[-1] if r.gestures else "-")
                if now != last:
                    tqdm.write(f"{elapsed:6.1f}s  action={now[0]:<12} gesture={now[1]}")
                    last = now
                bar.set_postfix_str(f"decisions={len(r.hands)}", refresh=False)
                for proc in (recognizer, publisher):
                    if not proc.alive():
                        raise RuntimeError(f"{proc.name} exited early:\n{proc.log()[-3000:]}")
        diag = listener.diagnostic_values()
    finally:
        codes = {p.name: p.stop() for p in (publisher, recognizer)}
    r = listener.received
    latency = np.array(r.hands_latency_ms[5:] or [np.nan])  # skip warm-up
    window_s = (r.hands_wall[-1] - r.hands_wall[5]) if len(r.hands_wall) > 6 else float("nan")
    summary = {
        "video": str(video),
        "duration_s": args.duration,
        "camera_fps": args.rate,
        "input_fps (node)": float(diag.get("input_fps", "nan")),
        "decisions_per_s (listener)": (len(r.hands_wall) - 6) / window_s if window_s == window_s else 0.0,
        "decisions_received": len(r.hands),
        "latency_ms_p50 (stamp->listener)": float(np.percentile(latency, 50)),
        "latency_ms_p99 (stamp->listener)": float(np.percentile(latency, 99)),
        "node_diagnostics": diag,
        "exit_codes": codes,
    }
    if r.debug_image is not None:
        import cv2

        png = args.out / "debug_image.png"
        cv2.imwrite(str(png), cv2.cvtColor(image_to_rgb(r.debug_image), cv2.COLOR_RGB2BGR))
        summary["debug_png"] = str(png)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    listener.destroy_node()
    rclpy.try_shutdown()
    print(json.dumps({k: v for k, v in summary.items() if k != "node_diagnostics"}, indent=2))
    print(f"node diagnostics: {json.dumps(diag)}")
    ok = len(r.hands) > 0 and all(c == 0 for c in codes.values())
    if not ok:
        print("demo FAILED: no decisions or an unclean exit; logs in", args.out, file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
