"""`mtl-hri-bench`: measured speed, printed as a table and written as JSON.

    mtl-hri-bench models [--trunks ...] [--sharing ...] [--onnx]   model only: params, GMACs, ms per window/frame
    mtl-hri-bench engine [--models DIR ...] [--device cuda] ...      the node's engine: upload to results, per window/frame
    mtl-hri-bench e2e [--duration 300] [--sweep 15 30 60 ...]       through real DDS on loopback, separate processes
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..data.labels import HRI_LABELS
from ..model import ArchConfig, InputSpec, ModelCard, build_model, save_model_dir
from ..model.factory import SHARING, TRUNKS
from ..model.flops import count_parameters, gmacs
from ..model.lws import LWSSharing


@dataclass
class Timing:
    p50_ms: float
    p99_ms: float
    n: int


def time_calls(fn, repeats: int, warmup: int = 2) -> Timing:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e3)
    return Timing(statistics.median(samples), float(np.percentile(samples, 99)), repeats)


@dataclass
class ModelRow:
    trunk: str
    sharing: str
    params_m: float
    gmacs_112: float  # per 16-frame clip
    gmacs_224: float
    window_cpu: Timing
    stream_frame_cpu: Timing | None = None
    stream_gmacs_112: float | None = None
    window_onnx: Timing | None = None
    stream_frame_onnx: Timing | None = None


def clip_gmacs(arch: ArchConfig, frames: int, size: int) -> float:
    """Multiply-adds of one clip, counted on the meta device (nothing is computed)."""
    with torch.device("meta"):
        model = build_model(arch, HRI_LABELS, pretrained=False, window_frames=frames).eval()
        if isinstance(model.sharing, LWSSharing):  # the assignment is read on the host: give it real logits
            model.sharing.logits = torch.zeros(model.sharing.logits.shape, device="cpu")
        return gmacs(model, torch.empty(1, frames, 3, size, size))


def bench_model(trunk: str, sharing: str, spec: InputSpec, repeats: int, onnx: bool, workdir: Path) -> ModelRow:
    arch = ArchConfig(trunk=trunk, sharing=sharing)
    model = build_model(arch, HRI_LABELS, pretrained=False, window_frames=spec.frames).eval()
    clip = torch.randn(1, spec.frames, 3, spec.size, spec.size)
    with torch.inference_mode():
        row = ModelRow(trunk, sharing, count_parameters(model) / 1e6, clip_gmacs(arch, spec.frames, 112),
                       clip_gmacs(arch, spec.frames, 224), time_calls(lambda: model(clip), repeats))
        if model.supports_streaming:
            _, state = model.prime(clip)
            holder = {"state": state}

            def step():
                _, holder["state"] = model.step(clip[:, -1], holder["state"])

            row.stream_frame_cpu = time_calls(step, repeats * 4)
            with torch.device("meta"):
                meta = build_model(arch, HRI_LABELS, pretrained=False, window_frames=spec.frames).eval()
                s = meta.init_state(1, spec.size, "meta")
                row.stream_gmacs_112 = gmacs(lambda f: meta.step(f, s), torch.empty(1, 3, spec.size, spec.size))
    if onnx:
        from ..model.export import export_onnx
        from ..stream.onnx_engine import OnnxEngine
        from ..stream.preprocess import geometry_for

        card = ModelCard(f"{trunk}_{sharing}", arch, HRI_LABELS, input=spec)
        out = workdir / card.name
        export_onnx(model, card, out)
        (out / "model.json").write_text(json.dumps(card.to_dict()))
        engine = OnnxEngine(out, device="cpu", streaming=False)
        frames = np.random.default_rng(0).integers(0, 256, (spec.frames, spec.size, spec.size, 3), np.uint8)
        geometry = [geometry_for(spec.size, spec.size, spec)] * spec.frames
        row.window_onnx = time_calls(lambda: engine.infer(frames, geometry), repeats)
        if model.supports_streaming:
            engine.set_streaming(True)
            engine.infer(frames, geometry)
            row.stream_frame_onnx = time_calls(lambda: engine.step(frames[-1], geometry[-1]), repeats * 4)
    return row


def print_table(head: str, lines: list[str]) -> None:
    print(head)
    print("-" * len(head))
    for line in lines:
        print(line)


def _fmt(t: Timing | None) -> str:
    return f"{t.p50_ms:8.1f} / {t.p99_ms:6.1f}" if t else f"{'-':>17}"


def print_models(rows: list[ModelRow]) -> None:
    print_table(f"{'trunk':<17} {'sharing':<13} {'params M':>8} {'GMACs 112':>9} {'GMACs 224':>9}  "
                f"{'window ms p50/p99':>17}  {'frame ms p50/p99':>17}  {'onnx window':>17}  {'onnx frame':>17}",
                [f"{r.trunk:<17} {r.sharing:<13} {r.params_m:8.2f} {r.gmacs_112:9.2f} {r.gmacs_224:9.2f}  "
                 f"{_fmt(r.window_cpu)}  {_fmt(r.stream_frame_cpu)}  {_fmt(r.window_onnx)}  {_fmt(r.stream_frame_onnx)}"
                 for r in rows])


def run_models(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads or torch.get_num_threads())
    spec = InputSpec(frames=args.frames, size=args.size)
    combos = [(t, s) for t in args.trunks for s in args.sharing]
    workdir = Path(args.workdir)
    rows = [bench_model(t, s, spec, args.repeats, args.onnx, workdir)
            for t, s in tqdm(combos, desc="models", unit="model")]
    print_models(rows)
    return {"models": [asdict(r) for r in rows]}


@dataclass
class EngineRow:
    model: str
    trunk: str
    backend: str
    device: str
    precision: str
    accel: str  # the window forward the engine chose (or was told) at warm-up
    mode: str  # "window": a whole window per decision; "stream": one new frame per decision
    cameras: int  # windows or frames batched into one call
    latency: Timing  # one call: upload, normalisation, forward, results back on the host
    warmup_ms: dict[str, float]  # what the engine measured to choose its paths (PyTorch only)


def engine_model_dirs(args: argparse.Namespace) -> list[Path]:
    """The model directories to time: those named, plus an untrained one per --trunks entry."""
    dirs = [Path(m) for m in args.models]
    for trunk in args.trunks:
        arch = ArchConfig(trunk=trunk)
        card = ModelCard(f"{trunk}_untrained", arch, HRI_LABELS, input=InputSpec(frames=args.frames, size=args.size))
        model = build_model(arch, HRI_LABELS, pretrained=False, window_frames=args.frames)
        dirs.append(save_model_dir(model, card, Path(args.workdir) / card.name))
    return dirs


def onnx_export_dir(model_dir: Path, workdir: str) -> Path:
    """`model_dir` if it holds an ONNX export, else a copy of it exported into `workdir`."""
    from ..model.export import export_model_dir
    from ..stream.onnx_engine import has_onnx_export

    if has_onnx_export(model_dir):
        return model_dir
    export = Path(workdir) / f"{model_dir.name}_onnx"
    shutil.copytree(model_dir, export, dirs_exist_ok=True)
    export_model_dir(export)
    return export


def bench_engine(model_dir: Path, backend: str, device: str, precision: str, accel: str, cameras: list[int],
                 repeats: int) -> list[EngineRow]:
    """One engine timed per whole window and, where it streams, per streamed frame, for each camera count."""
    from ..stream.preprocess import geometry_for
    from ..stream.engine import PRECISIONS, create_engine

    engine = create_engine(model_dir, backend=backend, device=device, precision=precision, streaming=False,
                           accel=accel)
    spec, card = engine.spec, engine.card
    frames = np.random.default_rng(0).integers(0, 256, (spec.frames, spec.size, spec.size, 3), np.uint8)
    geometry = [geometry_for(spec.size, spec.size, spec)] * spec.frames
    precision = {v: k for k, v in PRECISIONS.items()}[getattr(engine, "dtype", torch.float32)]
    rows = []
    for streaming in (False, True):
        engine.set_streaming(streaming)
        if streaming and not engine.streaming:  # no streaming form, or it measured slower than windows here
            break
        for n in cameras:
            windows = [(frames, geometry)] * n
            if streaming:
                states = [state for _, state in engine.infer_many(windows)]

                def call():
                    nonlocal states
                    states = [state for _, state in engine.step_many([(frames[-1], geometry[-1], s) for s in states])]
            else:
                def call():
                    engine.infer_many(windows)
            latency = time_calls(call, repeats * (4 if streaming else 1), warmup=3)
            rows.append(EngineRow(card.name, card.arch.trunk, engine.backend, str(getattr(engine, "device", device)),
                                  precision, getattr(engine, "accel", "-"), "stream" if streaming else "window", n,
                                  latency, getattr(engine, "warmup_ms", {})))
    return rows


def print_engines(rows: list[EngineRow]) -> None:
    print_table(f"{'model':<28} {'backend':<11} {'device':<7} {'precision':<9} {'accel':<7} {'mode':<6} {'cams':>4}  "
                f"{'ms p50 / p99':>17}",
                [f"{r.model:<28} {r.backend:<11} {r.device:<7} {r.precision:<9} {r.accel:<7} {r.mode:<6} "
                 f"{r.cameras:>4}  {_fmt(r.latency)}" for r in rows])


def run_engines(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads or torch.get_num_threads())
    runs = []
    for model_dir in engine_model_dirs(args):
        for backend in args.backends:
            if backend == "onnxruntime":  # neither knob applies, and its graphs take one camera: once per model
                runs.append((onnx_export_dir(model_dir, args.workdir), backend, args.precisions[0], args.accels[0], [1]))
            else:
                runs += [(model_dir, backend, p, a, args.cameras) for p in args.precisions for a in args.accels]
    rows = [row for model_dir, backend, precision, accel, cameras in tqdm(runs, desc="engines", unit="engine")
            for row in bench_engine(model_dir, backend, args.device, precision, accel, cameras, args.repeats)]
    print_engines(rows)
    return {"engines": [asdict(r) for r in rows]}


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


def _rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def run_e2e(name: str, executable: str, params: list[str], fps: float, duration: float, video: Path,
            env: dict[str, str], warmup: float = 8.0) -> E2ERow:
    """One configuration: recognizer (or the naive node), a video publisher at `fps`, and this process listening."""
    import rclpy

    from ..ros.listener import OutputListener
    from .procs import RosProcess

    ns = f"/bench_{name}"
    listener = OutputListener(ns, name=f"bench_listener_{name}")
    node = RosProcess(executable, ["-r", f"__ns:={ns}", "-r", "image:=/bench/image", *params], env)
    try:
        ready = time.monotonic() + 60
        while time.monotonic() < ready and not listener.received.diagnostics and executable == "recognizer":
            rclpy.spin_once(listener, timeout_sec=0.1)
        if executable != "recognizer":
            t_end = time.monotonic() + 8  # the naive node has no diagnostics: give it time to load
            while time.monotonic() < t_end:
                rclpy.spin_once(listener, timeout_sec=0.1)
        total = warmup + duration
        sent = int(total * fps)
        publisher = RosProcess("video_publisher", ["-r", "image:=/bench/image", "-p", f"video:={video}",
                                                   "-p", f"rate:={float(fps)}", "-p", "loop:=true", "-p", "frame_id:=bench",
                                                   "-p", f"max_frames:={sent}", "-p", "wait_for_subscribers:=1"], env)
        start = time.time()
        end = time.monotonic() + total + 30  # the publisher stops itself after `sent` frames
        with tqdm(total=int(total), desc=f"{name} @ {fps:g} fps", unit="s", leave=False) as bar:
            while time.monotonic() < end and publisher.alive():
                rclpy.spin_once(listener, timeout_sec=0.05)
                bar.update(max(0, min(int(total), int(time.time() - start)) - bar.n))
        if publisher.proc.returncode not in (0, None) or not node.alive():
            raise RuntimeError(f"{name}: a process died:\n{publisher.log()[-1500:]}\n{node.log()[-1500:]}")
        settle = time.monotonic() + 2.5  # the last decisions, and a diagnostics update after the last frame
        while time.monotonic() < settle:
            rclpy.spin_once(listener, timeout_sec=0.05)
        rss, peak = _rss_mb(node.proc.pid)
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
    pct = lambda a, q: float(np.percentile(a, q)) if len(a) else float("nan")  # noqa: E731
    rate = (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 else 0.0
    return E2ERow(name, fps, duration, sent, int(diag.get("frames_in", -1)), int(diag.get("windows_skipped", -1)),
                  len(lat), rate, pct(lat, 50), pct(lat, 99), pct(first, 99), pct(last, 99), rss, peak,
                  float(diag.get("inference_ms_p50", "nan")))


def print_e2e(rows: list[E2ERow]) -> None:
    print_table(f"{'configuration':<24} {'cam fps':>7} {'sent':>6} {'dropped':>7} {'skipped':>7} {'dec/s':>6} "
                f"{'p50 ms':>7} {'p99 ms':>7} {'1st-min p99':>11} {'last-min p99':>12} {'lag x':>6} {'RSS MB':>7} "
                f"{'infer ms':>8}",
                [f"{r.name:<24} {r.camera_fps:7.0f} {r.frames_sent:6d} {r.dropped:7d} {r.windows_skipped:7d} "
                 f"{r.decisions_per_s:6.1f} {r.latency_p50_ms:7.1f} {r.latency_p99_ms:7.1f} "
                 f"{r.first_minute_p99_ms:11.1f} {r.last_minute_p99_ms:12.1f} {r.lag_ratio:6.2f} {r.peak_rss_mb:7.0f} "
                 f"{r.inference_ms_p50:8.1f}" for r in rows])


def run_e2e_suite(args: argparse.Namespace) -> dict:
    from ..ros.dds_env import apply_loopback_env
    from .fetch_footage import default_cache, fetch

    env = apply_loopback_env()
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
    print(f"highest camera FPS sustained with a decision on every frame, no drops, no skips: "
          f"{max(sustained) if sustained else 'none of the swept rates'}")
    return {"e2e": [dict(asdict(r), dropped=r.dropped, lag_ratio=r.lag_ratio) for r in rows + sweep],
            "max_sustained_fps": max(sustained) if sustained else None, "ros_domain_id": env["ROS_DOMAIN_ID"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    models = sub.add_parser("models", help="model only: parameters, GMACs, CPU ms per window and per streaming frame")
    models.add_argument("--trunks", nargs="+", default=sorted(TRUNKS), choices=sorted(TRUNKS))
    models.add_argument("--sharing", nargs="+", default=sorted(SHARING), choices=sorted(SHARING))
    models.add_argument("--frames", type=int, default=16)
    models.add_argument("--size", type=int, default=112)
    models.add_argument("--repeats", type=int, default=10)
    models.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    models.add_argument("--onnx", action="store_true", help="also export and time ONNX Runtime (CPU provider)")
    models.add_argument("--workdir", default="/tmp/mtl_hri_bench", help="where ONNX exports go")
    engine = sub.add_parser("engine", help="the node's engine without DDS: ms per window and per streamed frame")
    engine.add_argument("--models", nargs="*", default=["models/default"], help="model directories to time")
    engine.add_argument("--trunks", nargs="*", default=[], choices=sorted(TRUNKS),
                        help="also time an untrained model of each of these trunks")
    engine.add_argument("--backends", nargs="+", default=["torch"], choices=("torch", "onnxruntime"))
    engine.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    engine.add_argument("--precisions", nargs="+", default=["auto"], choices=("auto", "fp32", "fp16", "bf16"))
    engine.add_argument("--accels", nargs="+", default=["auto"], choices=("auto", "eager", "graphs", "compile"))
    engine.add_argument("--cameras", type=int, nargs="+", default=[1], help="cameras batched into one call")
    engine.add_argument("--frames", type=int, default=16)
    engine.add_argument("--size", type=int, default=112)
    engine.add_argument("--repeats", type=int, default=50)
    engine.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    engine.add_argument("--workdir", default="/tmp/mtl_hri_bench", help="where the untrained models go")
    e2e = sub.add_parser("e2e", help="through real DDS on loopback: latency, drops, lag trend, memory, comparisons")
    e2e.add_argument("--fps", type=float, default=15.0, help="camera rate of the main and comparison runs")
    e2e.add_argument("--duration", type=float, default=300.0, help="seconds of the long run (lag trend)")
    e2e.add_argument("--compare-duration", type=float, default=30.0, help="seconds of each comparison run")
    e2e.add_argument("--sweep", type=float, nargs="*", default=[15.0, 30.0, 60.0, 90.0], help="camera rates to try")
    e2e.add_argument("--parts", nargs="+", default=["compare", "long", "sweep"], choices=("compare", "long", "sweep"),
                     help="which runs to make")
    e2e.add_argument("--sweep-duration", type=float, default=20.0)
    e2e.add_argument("--video", type=Path, help="default: vtest.avi (fetched if needed)")
    e2e.add_argument("--model", default="", help="model directory (default: the bundled model)")
    e2e.add_argument("--backend", default="auto", choices=("auto", "torch", "onnxruntime"))
    for p in (models, engine, e2e):
        p.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    results = {"machine": {"cpu_threads": torch.get_num_threads(), "platform": platform.platform(),
                           "torch": torch.__version__, "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
               "command": "mtl-hri-bench " + " ".join(argv or __import__("sys").argv[1:])}
    run = {"models": run_models, "engine": run_engines, "e2e": run_e2e_suite}[args.command]
    results.update(run(args))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
