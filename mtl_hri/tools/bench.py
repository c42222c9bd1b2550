"""`mtl-hri-bench`: measured speed, printed as a table and written as JSON.

    mtl-hri-bench models [--trunks ...] [--sharing ...] [--onnx]   model only: params, GMACs, ms per window/frame
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..data.labels import HRI_LABELS
from ..model import ArchConfig, InputSpec, ModelCard, build_model
from ..model.factory import SHARING, TRUNKS
from ..model.flops import count_parameters, gmacs


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
        from ..stream.onnx_engine import OnnxRecognizer
        from ..stream.preprocess import geometry_for

        card = ModelCard(f"{trunk}_{sharing}", arch, HRI_LABELS, input=spec)
        out = workdir / card.name
        export_onnx(model, card, out)
        (out / "model.json").write_text(json.dumps(card.to_dict()))
        engine = OnnxRecognizer(out, device="cpu", streaming=False)
        frames = np.random.default_rng(0).integers(0, 256, (spec.frames, spec.size, spec.size, 3), np.uint8)
        geometry = [geometry_for(spec.size, spec.size, spec)] * spec.frames
        row.window_onnx = time_calls(lambda: engine.infer(frames, geometry), repeats)
        if model.supports_streaming:
            engine.set_streaming(True)
            engine.infer(frames, geometry)
            row.stream_frame_onnx = time_calls(lambda: engine.step(frames[-1], geometry[-1]), repeats * 4)
    return row


def _fmt(t: Timing | None) -> str:
    return f"{t.p50_ms:8.1f} / {t.p99_ms:6.1f}" if t else f"{'-':>17}"


def print_models(rows: list[ModelRow]) -> None:
    head = (f"{'trunk':<17} {'sharing':<13} {'params M':>8} {'GMACs 112':>9} {'GMACs 224':>9}  "
            f"{'window ms p50/p99':>17}  {'frame ms p50/p99':>17}  {'onnx window':>17}  {'onnx frame':>17}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r.trunk:<17} {r.sharing:<13} {r.params_m:8.2f} {r.gmacs_112:9.2f} {r.gmacs_224:9.2f}  "
              f"{_fmt(r.window_cpu)}  {_fmt(r.stream_frame_cpu)}  {_fmt(r.window_onnx)}  {_fmt(r.stream_frame_onnx)}")


def run_models(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads or torch.get_num_threads())
    spec = InputSpec(frames=args.frames, size=args.size)
    combos = [(t, s) for t in args.trunks for s in args.sharing]
    workdir = Path(args.workdir)
    rows = [bench_model(t, s, spec, args.repeats, args.onnx, workdir)
            for t, s in tqdm(combos, desc="models", unit="model")]
    print_models(rows)
    return {"models": [asdict(r) for r in rows]}


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
    for p in (models,):
        p.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    results = {"machine": {"cpu_threads": torch.get_num_threads(), "platform": platform.platform(),
                           "torch": torch.__version__, "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
               "command": "mtl-hri-bench " + " ".join(argv or __import__("sys").argv[1:])}
    results.update(run_models(args))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
