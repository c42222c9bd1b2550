"""`mtl-hri-bench e2e`: latency, drops, lag trend and memory of the recognizer, through real DDS on loopback.

Each node runs in its own process; the recognizer is compared with the naive node, and the camera rates it sustains
are found.
"""
from __future__ import annotations

import argparse
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ...stream.engine import BACKENDS
from ...stream.stats import RateMeter, RollingStats
from .loopback import WARMUP_S, check_alive, memory_mb, spin, start_camera, start_node
from .report import print_table

HELP = "through real DDS on loopback: latency, drops, lag trend, memory, comparisons"


@dataclass
class E2ERow:
    name: str
    camera_fps: float
    duration_s: float
    frames_sent: int
    frames_received: int  # by the node, from its diagnostics (-1: not reported)
    windows_skipped: int
    decisions: int
    decisions_per_s: float
    latency_p50_ms: float  # frame stamp -> the listener receiving `hands`
    latency_p99_ms: float
    first_minute_p99_ms: float
    last_minute_p99_ms: float
    rss_mb: float
    peak_rss_mb: float
    inference_ms_p50: float

    @property
    def dropped(self) -> int:
        return self.frames_sent - self.frames_received if self.frames_received >= 0 else -1

    @property
    def lag_ratio(self) -> float:
        return self.last_minute_p99_ms / self.first_minute_p99_ms


def run_e2e(name: str, executable: str, params: list[str], fps: float, duration: float, video: Path,
            env: dict[str, str], warmup: float = WARMUP_S) -> E2ERow:
    """One configuration: recognizer (or the naive node), a video publisher at `fps`, and this process listening."""
    import rclpy

    listener, node = start_node(name, executable, params, env)
    try:
        total = warmup + duration
        sent = int(total * fps)
        publisher = start_camera(video, fps, sent, env)
        start = time.time()
        end = time.monotonic() + total + 30  # the publisher stops itself after `sent` frames
        with tqdm(total=int(total), desc=f"{name} @ {fps:g} fps", unit="s", leave=False) as bar:
            while time.monotonic() < end and publisher.alive():
                rclpy.spin_once(listener, timeout_sec=0.05)
                bar.update(max(0, min(int(total), int(time.time() - start)) - bar.n))
        check_alive(name, publisher, node)
        spin(listener, 2.5)  # the last decisions, and a diagnostics update after the last frame
        rss, peak = memory_mb(node.proc.pid)
        diag = listener.diagnostic_values()
        publisher.stop()
    finally:
        node.stop()
        listener.destroy_node()
    r = listener.received
    t = np.asarray(r.hands_wall) - start
    lat = np.asarray(r.hands_latency_ms)
    keep = t >= warmup
    t, lat = t[keep], lat[keep]
    first, last = lat[t < warmup + 60], lat[t >= t.max() - 60] if len(t) else lat
    rate = RateMeter(horizon=math.inf)  # over the whole counted run
    for wall in t:
        rate.tick(wall)
    latency = RollingStats.of(lat)
    first_p99, last_p99 = RollingStats.of(first).percentile(99), RollingStats.of(last).percentile(99)
    return E2ERow(name, fps, duration, sent, int(diag.get("frames_in", -1)), int(diag.get("windows_skipped", -1)),
                  len(lat), rate.rate(t[-1]) if len(t) else 0.0, latency.percentile(50), latency.percentile(99),
                  first_p99, last_p99, rss, peak, float(diag.get("inference_ms_p50", "nan")))


def print_e2e(rows: list[E2ERow]) -> None:
    print_table(f"{'configuration':<24} {'cam fps':>7} {'sent':>6} {'dropped':>7} {'skipped':>7} {'dec/s':>6} "
                f"{'p50 ms':>7} {'p99 ms':>7} {'1st-min p99':>11} {'last-min p99':>12} {'lag x':>6} {'RSS MB':>7} "
                f"{'infer ms':>8}",
                [f"{r.name:<24} {r.camera_fps:7.0f} {r.frames_sent:6d} {r.dropped:7d} {r.windows_skipped:7d} "
                 f"{r.decisions_per_s:6.1f} {r.latency_p50_ms:7.1f} {r.latency_p99_ms:7.1f} "
                 f"{r.first_minute_p99_ms:11.1f} {r.last_minute_p99_ms:12.1f} {r.lag_ratio:6.2f} {r.peak_rss_mb:7.0f} "
                 f"{r.inference_ms_p50:8.1f}" for r in rows])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fps", type=float, default=15.0, help="camera rate of the main and comparison runs")
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of the long run (lag trend)")
    parser.add_argument("--compare-duration", type=float, default=30.0, help="seconds of each comparison run")
    parser.add_argument("--sweep", type=float, nargs="*", default=[15.0, 30.0, 60.0, 90.0], help="camera rates to try")
    parts = ("compare", "long", "sweep")
    parser.add_argument("--parts", nargs="+", default=list(parts), choices=parts, help="which runs to make")
    parser.add_argument("--sweep-duration", type=float, default=20.0)
    parser.add_argument("--video", type=Path, help="default: vtest.avi (fetched if needed)")
    parser.add_argument("--model", default="", help="model directory (default: the bundled model)")
    parser.add_argument("--backend", default="auto", choices=BACKENDS)


def run(args: argparse.Namespace) -> dict:
    from ...ros.dds_env import apply_loopback_env
    from ..fetch_footage import default_cache, fetch

    env = apply_loopback_env()  # before rclpy starts
    import rclpy

    rclpy.init()
    video = args.video or fetch(default_cache())
    model = ["-p", f"model:={args.model}"] if args.model else []
    configs = [
        ("streaming", "recognizer", [*model, "-p", "sample_fps:=0.0"]),
        ("no_streaming", "recognizer", [*model, "-p", "sample_fps:=0.0", "-p", "streaming:=false"]),
        ("naive_in_callback", "mtl-hri-naive-recognizer", model),
    ]
    if args.backend != "auto":
        configs = [(n, e, [*p, "-p", f"backend:={args.backend}"] if e == "recognizer" else p) for n, e, p in configs]
    rows = [run_e2e(n, e, p, args.fps, args.compare_duration, video, env) for n, e, p in configs
            if "compare" in args.parts]
    if "long" in args.parts:
        rows.insert(0, run_e2e("streaming_long", "recognizer", configs[0][2], args.fps, args.duration, video, env))
    sweep = [run_e2e(f"sweep_{fps:g}", "recognizer", configs[0][2], fps, args.sweep_duration, video, env)
             for fps in (args.sweep if "sweep" in args.parts else [])]
    rclpy.try_shutdown()
    print_e2e(rows + sweep)
    sustained = [r.camera_fps for r in sweep if r.dropped == 0 and r.windows_skipped == 0 and r.lag_ratio <= 1.2]
    if sweep:
        print(f"highest camera FPS sustained with a decision on every frame, no drops, no skips: "
              f"{max(sustained) if sustained else 'none of the swept rates'}")
    return {"e2e": [dict(asdict(r), dropped=r.dropped, lag_ratio=r.lag_ratio) for r in rows + sweep],
            "max_sustained_fps": max(sustained) if sustained else None, "ros_domain_id": env["ROS_DOMAIN_ID"]}
