"""`mtl-hri-bench soak`: the recognizer's memory and latency over a long run, through real DDS on loopback.

The recognizer and a looping camera run as separate processes, as in `e2e`, for `--minutes`, with the node's
defaults (`--sample-fps 0` decides on every camera frame instead). Every `--interval` seconds the recognizer's RSS,
that interval's latencies, and the CPU of the node, the camera and the rest of the machine are sampled, so that a
latency burst can be told apart from a busy machine.
The verdict is issue 12's: RSS growth at most 50 MB, and no latency drift. A benchmark, not a test: it exits 0
either way.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ...stream.stats import RollingStats
from .loopback import WARMUP_S, check_alive, cpu_seconds, memory_mb, spin, start_camera, start_node
from .report import machine, print_table, write_json

HELP = "a long run through real DDS on loopback: recognizer RSS and latency over time (JSON and PNG)"
MAX_RSS_GROWTH_MB = 50.0
MAX_P99_RATIO = 1.25  # p99 of the last window / the first window
DRIFT_WINDOW_MIN = 5.0  # minutes, in runs of at least twice that; a fifth of a shorter run


@dataclass
class Sample:
    minute: float  # end of the interval, since the warm-up
    seconds: float  # length of the interval
    rss_mb: float  # the recognizer's, at the end of the interval
    latency_p50_ms: float  # frame stamp -> the listener receiving `hands`
    latency_p99_ms: float
    decisions: int
    decisions_per_s: float
    frames_sent: int  # by the camera's fixed schedule: fps x seconds
    frames_not_decided: int  # sent - decisions, ±1 at the interval's edges: by design when sample_fps subsamples
    frames_in: int  # the node's lifetime counters, from its newest diagnostics
    windows_skipped: int
    node_cpu: float  # cores busy over the interval (1.0: one core all the time)
    camera_cpu: float
    machine_cpu: float  # every process, this one included
    others_cpu: float  # machine - node - camera - this process: what else the machine was doing


@dataclass
class Summary:
    minutes: float  # counted, after the warm-up
    rss_first_mb: float
    rss_last_mb: float
    rss_growth_mb: float  # of the least-squares line, over the run
    rss_mb_per_min: float
    p99_first_minute_ms: float
    p99_last_minute_ms: float
    p99_minute_ratio: float
    p50_drift_ms_per_min: float  # least-squares slopes of the intervals' percentiles
    p99_drift_ms_per_min: float
    drift_window_min: float
    p99_first_window_ms: float
    p99_last_window_ms: float
    p99_window_ratio: float
    decisions: int
    windows_skipped: int  # over the counted intervals: decisions the worker was too late for (overload)
    frames_dropped: int | None  # e2e's: camera frames the node never received (None: the camera did not finish)
    others_cpu_median: float  # cores, over every interval
    others_cpu_worst: float  # cores, mean over the tenth of intervals with the highest p99
    node_cpu_median: float
    node_cpu_worst: float
    rss_ok: bool
    latency_ok: bool
    stopped: str  # why the run ended early; empty when it ran to the end

    @property
    def passed(self) -> bool:
        return self.rss_ok and self.latency_ok and not self.stopped


def slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of y over x (nan with fewer than two points)."""
    return float(np.polyfit(x, y, 1)[0]) if len(x) >= 2 else math.nan


def p99(values: np.ndarray) -> float:
    return RollingStats.of(values).percentile(99)


def summarize(samples: list[Sample], lat_min: np.ndarray, lat_ms: np.ndarray, skipped_before: int,
              frames_dropped: int | None, stopped: str) -> Summary:
    """Judge a run from its samples and every latency (at `lat_min` minutes since the warm-up).

    `skipped_before`: the node's windows_skipped counter when the counted run began.
    """
    minute = np.array([s.minute for s in samples])
    rss = np.array([s.rss_mb for s in samples])
    span = float(minute[-1])
    rss_per_min = slope(minute, rss)
    window = DRIFT_WINDOW_MIN if span >= 2 * DRIFT_WINDOW_MIN else span / 5
    first_min, last_min = p99(lat_ms[lat_min < 1]), p99(lat_ms[lat_min >= span - 1])
    first_win, last_win = p99(lat_ms[lat_min < window]), p99(lat_ms[lat_min >= span - window])
    growth = rss_per_min * (span - minute[0])
    worst = np.argsort([s.latency_p99_ms for s in samples])[-max(1, len(samples) // 10):]
    others = np.array([s.others_cpu for s in samples])
    node_cpu = np.array([s.node_cpu for s in samples])
    return Summary(span, float(rss[0]), float(rss[-1]), growth, rss_per_min, first_min, last_min, last_min / first_min,
                   slope(minute, np.array([s.latency_p50_ms for s in samples])),
                   slope(minute, np.array([s.latency_p99_ms for s in samples])),
                   window, first_win, last_win, last_win / first_win, sum(s.decisions for s in samples),
                   samples[-1].windows_skipped - skipped_before, frames_dropped,
                   float(np.median(others)), float(others[worst].mean()), float(np.median(node_cpu)),
                   float(node_cpu[worst].mean()), rss_ok=bool(growth <= MAX_RSS_GROWTH_MB),
                   latency_ok=bool(last_win / first_win <= MAX_P99_RATIO), stopped=stopped)


def print_soak(samples: list[Sample], s: Summary) -> None:
    print_table(f"{'interval':<9} {'minute':>6} {'RSS MB':>7} {'p50 ms':>7} {'p99 ms':>7} {'dec/s':>6} {'sent':>5} "
                f"{'not decided':>11} {'frames in':>9} {'skipped':>7}",
                [f"{name:<9} {r.minute:6.2f} {r.rss_mb:7.1f} {r.latency_p50_ms:7.1f} {r.latency_p99_ms:7.1f} "
                 f"{r.decisions_per_s:6.1f} {r.frames_sent:5d} {r.frames_not_decided:11d} {r.frames_in:9d} "
                 f"{r.windows_skipped:7d}" for name, r in (("first", samples[0]), ("last", samples[-1]))])
    print()
    w = f"{s.drift_window_min:.3g} min"
    verdict = {True: "pass", False: "FAIL"}
    dropped = "-" if s.frames_dropped is None else str(s.frames_dropped)  # "-": the camera did not finish
    rows = [("RSS growth over the run, least-squares fit", f"{s.rss_growth_mb:+.1f} MB",
             f"≤ {MAX_RSS_GROWTH_MB:g} MB", verdict[s.rss_ok]),
            ("RSS growth per minute, least-squares fit", f"{s.rss_mb_per_min:+.3f} MB/min", "", ""),
            ("RSS first / last interval", f"{s.rss_first_mb:.1f} / {s.rss_last_mb:.1f} MB", "", ""),
            ("latency p99 first / last minute", f"{s.p99_first_minute_ms:.1f} / {s.p99_last_minute_ms:.1f} ms",
             f"ratio {s.p99_minute_ratio:.2f}", ""),
            ("latency drift, linear fit: p50 / p99", f"{s.p50_drift_ms_per_min:+.2f} / {s.p99_drift_ms_per_min:+.2f} "
             "ms/min", "", ""),
            (f"latency p99 last {w} / first {w}", f"{s.p99_last_window_ms:.1f} / {s.p99_first_window_ms:.1f} ms",
             f"ratio {s.p99_window_ratio:.2f} ≤ {MAX_P99_RATIO:g}", verdict[s.latency_ok]),
            ("CPU cores, node: median / worst tenth of p99", f"{s.node_cpu_median:.2f} / {s.node_cpu_worst:.2f}",
             "", ""),
            ("CPU cores, rest of machine: median / worst", f"{s.others_cpu_median:.2f} / {s.others_cpu_worst:.2f}",
             "", ""),
            ("decisions / windows skipped / dropped (as e2e)", f"{s.decisions} / {s.windows_skipped} / {dropped}", "",
             "")]
    print_table(f"{f'over {s.minutes:.1f} minutes':<44} {'value':>24}  {'criterion':<20} result",
                [f"{name:<44} {value:>24}  {criterion:<20} {result}" for name, value, criterion, result in rows])
    reason = f" (stopped early: {s.stopped})" if s.stopped else ""
    print(f"verdict: {'PASS' if s.passed else 'FAIL'}{reason}: RSS growth {s.rss_growth_mb:+.1f} MB "
          f"(≤ {MAX_RSS_GROWTH_MB:g}), p99 drift ratio {s.p99_window_ratio:.2f} (≤ {MAX_P99_RATIO:g})")


def plot(path: Path, samples: list[Sample], s: Summary, title: str) -> None:
    """Two panels over the run's minutes: the recognizer's RSS with its fit, and latency p50 / p99."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minute = np.array([r.minute for r in samples])
    rss = np.array([r.rss_mb for r in samples])
    fig, (mem, lat, cpu) = plt.subplots(3, 1, sharex=True, figsize=(10, 10), constrained_layout=True)
    mem.plot(minute, rss, ".-", label="recognizer RSS")
    fit = rss.mean() + s.rss_mb_per_min * (minute - minute.mean())
    mem.plot(minute, fit, "--", label=f"least-squares fit: {s.rss_mb_per_min:+.2f} MB/min")
    limit = fit[0] + MAX_RSS_GROWTH_MB
    mem.axhline(limit, color="tab:red", linestyle=":", label=f"fit start + {MAX_RSS_GROWTH_MB:g} MB (limit)")
    mem.set_ylim(rss.min() - 10, max(rss.max(), limit) + 10)  # the limit in view, so a flat line looks flat
    mem.ticklabel_format(axis="y", useOffset=False)
    mem.set_ylabel("RSS (MB)")
    mem.legend(loc="best")
    mem.grid(alpha=0.3)
    lat.plot(minute, [r.latency_p50_ms for r in samples], ".-", label="p50")
    lat.plot(minute, [r.latency_p99_ms for r in samples], ".-", label="p99")
    for start in (0.0, s.minutes - s.drift_window_min):
        lat.axvspan(start, start + s.drift_window_min, color="grey", alpha=0.12)
    lat.set_ylim(bottom=0)
    lat.set_ylabel(f"latency per {samples[0].seconds:.0f} s interval (ms)\nframe stamp → listener")
    lat.legend(loc="best")
    lat.grid(alpha=0.3)
    for field, label in (("node_cpu", "recognizer"), ("camera_cpu", "camera"), ("others_cpu", "rest of the machine")):
        cpu.plot(minute, [getattr(r, field) for r in samples], ".-", label=label)
    cpu.set_ylim(bottom=0)
    cpu.set_ylabel("CPU cores busy")
    cpu.set_xlabel("minutes after the warm-up (shaded: the windows of the drift ratio)")
    cpu.legend(loc="best")
    cpu.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--minutes", type=float, default=30.0,
                        help=f"counted length of the run, after a warm-up of {WARMUP_S:g} s (default 30)")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples (default 10)")
    parser.add_argument("--fps", type=float, default=30.0, help="camera rate (default 30)")
    parser.add_argument("--sample-fps", type=float, default=-1.0,
                        help="the node's sample_fps: -1 (default) the model card's rate, as users run it; 0 decides "
                             "on every camera frame, a stress setting")
    parser.add_argument("--video", type=Path, help="default: vtest.avi (fetched if needed)")
    parser.add_argument("--model", default="", help="model directory (default: the bundled model)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME:=VALUE",
                        help="another node parameter, as ros2 run takes it (repeatable), e.g. num_threads:=1")
    parser.add_argument("--out", type=Path, default=Path("docs/bench/soak_cpu.json"),
                        help="the samples and the summary (default %(default)s)")
    parser.add_argument("--plot", type=Path, help="the PNG (default: --out with .png)")


def command_line(args: argparse.Namespace) -> str:
    """Spell out the command with every setting that shapes the run, defaults included."""
    extra = (f" --video {args.video}" if args.video else "") + (f" --model {args.model}" if args.model else "") \
        + "".join(f" --param {p}" for p in args.param)
    return (f"mtl-hri-bench soak --minutes {args.minutes:g} --interval {args.interval:g} --fps {args.fps:g} "
            f"--sample-fps {args.sample_fps:g}{extra}")


def run(args: argparse.Namespace) -> dict:
    from ...ros.dds_env import apply_loopback_env
    from ..fetch_footage import default_cache, fetch

    if args.minutes * 60 < 2 * args.interval:
        print("mtl-hri-bench soak: --minutes must cover at least two intervals", file=sys.stderr)
        raise SystemExit(2)
    env = apply_loopback_env()  # before rclpy starts
    import rclpy

    from .listener import Received

    seconds = args.minutes * 60
    frames = int((WARMUP_S + seconds) * args.fps)  # its first frame comes after `launched`: it outlasts the run
    params = [*(["-p", f"model:={args.model}"] if args.model else []), "-p", f"sample_fps:={float(args.sample_fps)}",
              *(a for p in args.param for a in ("-p", p))]
    samples: list[Sample] = []
    lat_t: list[float] = []
    lat_ms: list[float] = []
    diag: dict[str, str] = {}
    stopped = ""
    dropped = None

    def take() -> Received:
        """Empty the listener: a long run would otherwise keep every message."""
        nonlocal diag
        diag = listener.diagnostic_values() or diag
        with listener.lock:
            taken, listener.received = listener.received, Received()
        return taken

    with contextlib.ExitStack() as cleanup:  # on the way out: camera, node, listener, rclpy
        rclpy.init()
        cleanup.callback(rclpy.try_shutdown)
        video = args.video or fetch(default_cache())
        listener, node = start_node("soak", "recognizer", params, env)
        cleanup.callback(listener.destroy_node)
        cleanup.callback(node.stop)
        camera = start_camera(video, args.fps, frames, env)
        cleanup.callback(camera.stop)

        def cpus() -> tuple[float, float, float, float]:
            return (cpu_seconds(node.proc.pid), cpu_seconds(camera.proc.pid), cpu_seconds(os.getpid()),
                    cpu_seconds())

        launched = time.time()
        with tqdm(total=int(WARMUP_S + seconds), desc="soak", unit="s") as bar:
            spin(listener, WARMUP_S)
            bar.update(int(WARMUP_S))
            take()
            skipped_before = int(diag.get("windows_skipped", 0))
            t0 = last = time.time()
            cpu_last = cpus()
            while len(samples) < int(seconds // args.interval):
                try:
                    spin(listener, t0 + (len(samples) + 1) * args.interval - time.time())
                    check_alive("soak", camera, node)
                except (KeyboardInterrupt, RuntimeError) as exc:  # keep what was measured
                    stopped = (str(exc).splitlines() or ["interrupted"])[0]
                    print(f"soak stopped early: {exc or 'interrupted'}", file=sys.stderr)
                    break
                got, now, cpu_now = take(), time.time(), cpus()
                node_cpu, camera_cpu, own_cpu, machine_cpu = ((a - b) / (now - last) for a, b in zip(cpu_now, cpu_last))
                cpu_last = cpu_now
                lat_t.extend((t - t0) / 60 for t in got.hands_wall)
                lat_ms.extend(got.hands_latency_ms)
                latency = RollingStats.of(got.hands_latency_ms)
                sent = round(args.fps * (now - last))
                samples.append(Sample((now - t0) / 60, now - last, memory_mb(node.proc.pid)[0],
                                      latency.percentile(50), latency.percentile(99), len(latency),
                                      len(latency) / (now - last), sent, sent - len(latency),
                                      int(diag.get("frames_in", -1)), int(diag.get("windows_skipped", -1)),
                                      node_cpu, camera_cpu, machine_cpu,
                                      machine_cpu - node_cpu - camera_cpu - own_cpu))
                last = now
                bar.update(min(bar.total, int(now - launched)) - bar.n)
                bar.set_postfix(rss_mb=f"{samples[-1].rss_mb:.0f}", p99_ms=f"{samples[-1].latency_p99_ms:.1f}")
        if not stopped:
            spin(listener, 60, until=lambda: not camera.alive())  # it stops itself after `frames`
            spin(listener, 2.5)  # a diagnostics update after the last frame
            take()
            if camera.proc.poll() == 0 and "frames_in" in diag:
                dropped = frames - int(diag["frames_in"])
    if len(samples) < 2:
        raise RuntimeError(f"soak: stopped after {len(samples)} samples: {stopped}\n{node.log()[-1500:]}")
    summary = summarize(samples, np.array(lat_t), np.array(lat_ms), skipped_before, dropped, stopped)
    print_soak(samples, summary)
    info = machine()
    title = (f"{command_line(args)}\n{info['platform']}, {info['cpu_threads']} CPU threads, torch {info['torch']}"
             f"{', ' + info['cuda'] if info['cuda'] else ''}\n{'PASS' if summary.passed else 'FAIL'}: RSS "
             f"{summary.rss_growth_mb:+.1f} MB (≤ {MAX_RSS_GROWTH_MB:g}), p99 last/first {summary.drift_window_min:.3g}"
             f" min {summary.p99_window_ratio:.2f} (≤ {MAX_P99_RATIO:g})")
    results = {"machine": info, "command": command_line(args), "ros_domain_id": env["ROS_DOMAIN_ID"],
               "camera_fps": args.fps, "interval_s": args.interval, "warmup_s": WARMUP_S,
               "summary": dict(asdict(summary), passed=summary.passed), "samples": [asdict(s) for s in samples]}
    write_json(args.out, results)
    plot(args.plot or args.out.with_suffix(".png"), samples, summary, title)
    return results
