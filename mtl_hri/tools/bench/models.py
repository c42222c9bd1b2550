"""`mtl-hri-bench models`: the model alone on the CPU: parameters, GMACs, ms per window and per streamed frame."""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ...data.labels import HRI_LABELS
from ...model import ArchConfig, InputSpec, ModelCard, build_model, sharing_names, trunk_names
from ...model.config import KEYPOINT_TRUNKS
from ...model.flops import count_parameters, gmacs
from ...model.lws import LWSSharing
from .report import fmt_timing, print_table
from .timing import Timing, time_calls

HELP = "model only: parameters, GMACs, CPU ms per window and per streaming frame"


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


def clip_gmacs(arch: ArchConfig, spec: InputSpec) -> float:
    """Multiply-adds of one clip of `spec`, counted on the meta device (nothing is computed)."""
    with torch.device("meta"):
        model = build_model(arch, HRI_LABELS, pretrained=False, window_frames=spec.frames).eval()
        if isinstance(model.sharing, LWSSharing):  # the assignment is read on the host: give it real logits
            model.sharing.logits = torch.zeros(model.sharing.logits.shape, device="cpu")
        return gmacs(model, torch.empty(1, spec.frames, *spec.frame_shape))


def engine_window(spec: InputSpec) -> np.ndarray:
    """Return a random window as the engines take it: uint8 crops, or keypoints (every point present)."""
    rng = np.random.default_rng(0)
    if spec.modality == "keypoints":
        window = rng.normal(0.0, 0.3, (spec.frames, *spec.frame_shape)).astype(np.float32)
        window[..., 2:] = 1.0
        return window
    return rng.integers(0, 256, (spec.frames, spec.size, spec.size, 3), np.uint8)


def bench_model(trunk: str, sharing: str, spec: InputSpec, repeats: int, onnx: bool, workdir: Path) -> ModelRow:
    arch = ArchConfig(trunk=trunk, sharing=sharing, hand_head=trunk not in KEYPOINT_TRUNKS)
    spec = replace(spec, modality=arch.modality)
    model = build_model(arch, HRI_LABELS, pretrained=False, window_frames=spec.frames).eval()
    clip = torch.randn(1, spec.frames, *spec.frame_shape)
    with torch.inference_mode():
        row = ModelRow(trunk, sharing, count_parameters(model) / 1e6, clip_gmacs(arch, replace(spec, size=112)),
                       clip_gmacs(arch, replace(spec, size=224, resize=max(224, spec.resize))),
                       time_calls(lambda: model(clip), repeats))
        if model.supports_streaming:
            _, state = model.prime(clip)

            def step():
                nonlocal state
                _, state = model.step(clip[:, -1], state)

            row.stream_frame_cpu = time_calls(step, repeats * 4)
            with torch.device("meta"):
                meta = build_model(arch, HRI_LABELS, pretrained=False, window_frames=spec.frames).eval()
                s = meta.init_state(1, spec.size, "meta")
                frame = torch.empty(1, *replace(spec, size=112).frame_shape)
                row.stream_gmacs_112 = gmacs(lambda f: meta.step(f, s), frame)
    if onnx:
        from ...model.export import export_onnx
        from ...stream.onnx_engine import OnnxEngine
        from ...stream.preprocess import geometry_for

        card = ModelCard(f"{trunk}_{sharing}", arch, HRI_LABELS, input=spec)
        out = workdir / card.name
        export_onnx(model, card, out)
        (out / "model.json").write_text(json.dumps(card.to_dict()))
        engine = OnnxEngine(out, device="cpu", streaming=False)
        frames = engine_window(spec)
        geometry = [geometry_for(spec.size, spec.size, spec)] * spec.frames
        row.window_onnx = time_calls(lambda: engine.infer(frames, geometry), repeats)
        if model.supports_streaming:
            engine.set_streaming(True)
            engine.infer(frames, geometry)
            row.stream_frame_onnx = time_calls(lambda: engine.step(frames[-1], geometry[-1]), repeats * 4)
    return row


def print_models(rows: list[ModelRow]) -> None:
    print_table(f"{'trunk':<17} {'sharing':<13} {'params M':>8} {'GMACs 112':>9} {'GMACs 224':>9}  "
                f"{'window ms p50/p99':>17}  {'frame ms p50/p99':>17}  {'onnx window':>17}  {'onnx frame':>17}",
                [f"{r.trunk:<17} {r.sharing:<13} {r.params_m:8.2f} {r.gmacs_112:9.2f} {r.gmacs_224:9.2f}  "
                 f"{fmt_timing(r.window_cpu)}  {fmt_timing(r.stream_frame_cpu)}  {fmt_timing(r.window_onnx)}  "
                 f"{fmt_timing(r.stream_frame_onnx)}" for r in rows])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trunks", nargs="+", default=trunk_names(), choices=trunk_names())
    parser.add_argument("--sharing", nargs="+", default=sharing_names(), choices=sharing_names())
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=112)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--onnx", action="store_true", help="also export and time ONNX Runtime (CPU provider)")
    parser.add_argument("--workdir", default="/tmp/mtl_hri_bench", help="where ONNX exports go")


def run(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads or torch.get_num_threads())
    spec = InputSpec(frames=args.frames, size=args.size)
    combos = [(t, s) for t in args.trunks for s in args.sharing]
    workdir = Path(args.workdir)
    rows = [bench_model(t, s, spec, args.repeats, args.onnx, workdir)
            for t, s in tqdm(combos, desc="models", unit="model")]
    print_models(rows)
    return {"models": [asdict(r) for r in rows]}
