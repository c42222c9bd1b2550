"""`mtl-hri-demo`: a camera video -> video_publisher -> recognizer -> listener, over DDS on loopback.

With `--synthetic N` the video is a freshly rendered sequence of N synthetic clips per class, and
the decided labels are printed next to the truth, with a per-clip hit rate at the end. Without it,
the video is real pedestrian footage (vtest.avi). Either way it prints the measured rates and
latencies, and saves the last debug image as a PNG and a JSON summary.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..data.labels import HRI_LABELS
from ..data.synth import SequenceClip, SynthConfig, write_sequence
from ..ros.dds_env import apply_loopback_env
from ..ros.stamps import stamp_nanoseconds
from .bench.procs import RosProcess
from .fetch_footage import default_cache, fetch

NAMESPACE = "/mtl_hri"
IMAGE_TOPIC = "/camera/image_raw"


def synthetic_video(out: Path, clips_per_class: int, seed: int) -> tuple[Path, list[SequenceClip], float]:
    """Render every class `clips_per_class` times in a shuffled order into one MP4."""
    cfg = SynthConfig(seed=seed)
    rng = np.random.default_rng(seed)
    classes = [(t, c) for t, labels in HRI_LABELS.items() for c in labels[1:]] + [("none", "none")]
    order = [classes[i] for i in rng.permutation(len(classes) * clips_per_class) % len(classes)]
    path = out / "synthetic_sequence.mp4"
    return path, write_sequence(path, order, cfg), cfg.fps


def score_clips(truths: list[SequenceClip], decisions: list[tuple[int, str, str]], tail: int) -> list[dict]:
    """Per clip: the most frequent decision of its task from its start to `tail` frames after its end.

    The tail is there because the window trails the frames. Each clip also says whether that decision is the truth (for
    idle clips: mostly `none`).
    """
    rows = []
    for t in truths:
        seen = [(a, g) for f, a, g in decisions if t.start <= f < t.end + tail]
        if t.task == "none":
            labels = [a if a != "none" else g for a, g in seen]
        else:
            labels = [a if t.task == "action" else g for a, g in seen]
        decided = max(set(labels), key=labels.count) if labels else "-"
        rows.append({"task": t.task, "truth": t.label, "decided": decided, "hit": decided == t.label,
                     "decisions": len(labels)})
    return rows


def spin_until_quiet(node, seconds: float = 2.0) -> None:
    import rclpy

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.05)


def frame_index(image_stamps: dict[int, str], stamp, order: list[int] | None = None) -> int:
    """Find the position of a frame stamp among the stamps the camera sent (frames arrive in order)."""
    import bisect

    order = order if order is not None else sorted(image_stamps)
    return bisect.bisect_left(order, stamp_nanoseconds(stamp))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, help="video file (default: vtest.avi, fetched if needed)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds to run")
    parser.add_argument("--rate", type=float, default=15.0, help="camera frames per second (0: the file's rate)")
    parser.add_argument("--model", default="", help="model directory (default: the bundled model)")
    parser.add_argument("--out", type=Path, default=Path("demo_out"), help="where to write the PNG and summary")
    parser.add_argument("--domain-id", type=int, help="ROS_DOMAIN_ID (default: random)")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N",
                        help="play N freshly rendered synthetic clips per class and score the decisions against "
                             "the truth")
    parser.add_argument("--seed", type=int, default=100,
                        help="seed of the synthetic sequence (the training sets used seeds 0 and 1)")
    args = parser.parse_args(argv)

    env = apply_loopback_env(args.domain_id)  # before rclpy starts
    import rclpy
    from tqdm import tqdm

    from ..ros.image_conv import image_to_rgb
    from .bench.listener import OutputListener

    args.out.mkdir(parents=True, exist_ok=True)
    truths: list[SequenceClip] = []
    if args.synthetic:
        video, truths, args.rate = synthetic_video(args.out, args.synthetic, args.seed)
        frames = truths[-1].end + 16
        args.duration = frames / args.rate + 30  # the whole sequence once, plus start-up (ends with the video)
        print(f"rendered {len(truths)} synthetic clips ({frames} frames) to {video}")
    else:
        video = args.video or fetch(default_cache())
    print(f"ROS_DOMAIN_ID={env['ROS_DOMAIN_ID']}, DDS profile {env['FASTDDS_DEFAULT_PROFILES_FILE']}")
    rclpy.init()
    listener = OutputListener(NAMESPACE, image_topic=IMAGE_TOPIC if truths else None, debug=True)
    model = ["-p", f"model:={args.model}"] if args.model else []
    recognizer = RosProcess("recognizer", ["-r", f"__ns:={NAMESPACE}", "-r", f"image:={IMAGE_TOPIC}", *model],
                            env, args.out)
    publisher = RosProcess("video_publisher", ["-r", f"image:={IMAGE_TOPIC}", "-p", f"video:={video}",
                                               "-p", f"rate:={float(args.rate)}",
                                               "-p", f"loop:={'false' if truths else 'true'}",
                                               "-p", f"wait_for_subscribers:={2 if truths else 0}",
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
                    truth = ""
                    if truths and r.hands and r.image_stamps:
                        frame = frame_index(r.image_stamps, r.hands[-1].header.stamp)
                        clip = next((t for t in truths if t.start <= frame < t.end), None)
                        truth = f"  truth: {clip.task} {clip.label}" if clip else "  truth: (between clips)"
                    tqdm.write(f"{elapsed:6.1f}s  action={now[0]:<12} gesture={now[1]:<12}{truth}")
                    last = now
                bar.set_postfix_str(f"decisions={len(r.hands)}", refresh=False)
                if truths and not publisher.alive() and publisher.proc.returncode == 0:
                    spin_until_quiet(listener)  # the sequence is over: collect the last decisions
                    break
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
    if truths:
        order = sorted(r.image_stamps)
        decisions = [(frame_index(r.image_stamps, h.header.stamp, order), a, g)
                     for h, (a, g) in zip(r.hands, r.hands_labels)]
        clips = score_clips(truths, decisions, tail=16)
        for c in clips:
            print(f"  {c['task']:<8} truth {c['truth']:<12} decided {c['decided']:<12} {'HIT' if c['hit'] else 'miss'}")
        hits = sum(c["hit"] for c in clips)
        print(f"per-clip hit rate: {hits}/{len(clips)} = {hits / len(clips):.0%}")
        summary["synthetic"] = {"clips": clips, "hit_rate": hits / len(clips), "truth": [asdict(t) for t in truths]}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    listener.destroy_node()
    rclpy.try_shutdown()
    print(json.dumps({k: v for k, v in summary.items() if k not in ("node_diagnostics", "synthetic")}, indent=2))
    print(f"node diagnostics: {json.dumps(diag)}")
    ok = len(r.hands) > 0 and all(c == 0 for c in codes.values())
    if not ok:
        print("demo FAILED: no decisions or an unclean exit; logs in", args.out, file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
