"""`mtl-hri-bench engine`: the node's engine without DDS, from upload to results on the host.

Timed per window and per streamed frame, for each backend, precision, window forward and camera count.
"""
from __future__ import annotations

import argparse
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from ...data.labels import HRI_LABELS
from ...model import ArchConfig, InputSpec, ModelCard, build_model, save_model_dir, trunk_names
from ...model.config import KEYPOINT_TRUNKS
from ...model.export import export_model_dir
from ...stream.engine import ACCELS, BACKENDS, PRECISIONS, create_engine
from ...stream.onnx_engine import has_onnx_export
from ...stream.preprocess import geometry_for
from .models import engine_window
from .report import fmt_timing, print_table
from .timing import Timing, time_calls

HELP = "the node's engine without DDS: ms per window and per streamed frame"


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
    """List the model directories to time: those named, plus an untrained one per --trunks entry."""
    dirs = [Path(m) for m in args.models]
    for trunk in args.trunks:
        arch = ArchConfig(trunk=trunk, hand_head=trunk not in KEYPOINT_TRUNKS)
        spec = InputSpec(frames=args.frames, size=args.size, modality=arch.modality)
        card = ModelCard(f"{trunk}_untrained", arch, HRI_LABELS, input=spec)
        model = build_model(arch, HRI_LABELS, pretrained=False, window_frames=args.frames)
        dirs.append(save_model_dir(model, card, Path(args.workdir) / card.name))
    return dirs


def onnx_export_dir(model_dir: Path, workdir: str) -> Path:
    """`model_dir` if it holds an ONNX export, else a copy of it exported into `workdir`."""
    if has_onnx_export(model_dir):
        return model_dir
    export = Path(workdir) / f"{model_dir.name}_onnx"
    shutil.copytree(model_dir, export, dirs_exist_ok=True)
    export_model_dir(export)
    return export


def bench_engine(model_dir: Path, backend: str, device: str, precision: str, accel: str, cameras: list[int],
                 repeats: int) -> list[EngineRow]:
    """One engine timed per whole window and, where it streams, per streamed frame, for each camera count."""
    engine = create_engine(model_dir, backend=backend, device=device, precision=precision, streaming=False,
                           accel=accel)
    spec, card = engine.spec, engine.card
    frames = engine_window(spec)
    geometry = [geometry_for(spec.size, spec.size, spec)] * spec.frames
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
            rows.append(EngineRow(card.name, card.arch.trunk, engine.backend, str(engine.device), engine.precision,
                                  engine.accel, "stream" if streaming else "window", n, latency, engine.warmup_ms))
    return rows


def print_engines(rows: list[EngineRow]) -> None:
    print_table(f"{'model':<28} {'backend':<11} {'device':<7} {'precision':<9} {'accel':<7} {'mode':<6} {'cams':>4}  "
                f"{'ms p50 / p99':>17}",
                [f"{r.model:<28} {r.backend:<11} {r.device:<7} {r.precision:<9} {r.accel:<7} {r.mode:<6} "
                 f"{r.cameras:>4}  {fmt_timing(r.latency)}" for r in rows])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models", nargs="*", default=["models/default"], help="model directories to time")
    parser.add_argument("--trunks", nargs="*", default=[], choices=trunk_names(),
                        help="also time an untrained model of each of these trunks")
    parser.add_argument("--backends", nargs="+", default=["torch"], choices=[b for b in BACKENDS if b != "auto"])
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--precisions", nargs="+", default=["auto"], choices=("auto", *PRECISIONS))
    parser.add_argument("--accels", nargs="+", default=["auto"], choices=ACCELS)
    parser.add_argument("--cameras", type=int, nargs="+", default=[1], help="cameras batched into one call")
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=112)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--workdir", default="/tmp/mtl_hri_bench", help="where the untrained models go")


def run(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads or torch.get_num_threads())
    runs = []
    for model_dir in engine_model_dirs(args):
        for backend in args.backends:
            if backend == "onnxruntime":  # neither knob applies, and its graphs take one camera: once per model
                export = onnx_export_dir(model_dir, args.workdir)
                runs.append((export, backend, args.precisions[0], args.accels[0], [1]))
            else:
                runs += [(model_dir, backend, p, a, args.cameras) for p in args.precisions for a in args.accels]
    rows = [row for model_dir, backend, precision, accel, cameras in tqdm(runs, desc="engines", unit="engine")
            for row in bench_engine(model_dir, backend, args.device, precision, accel, cameras, args.repeats)]
    print_engines(rows)
    return {"engines": [asdict(r) for r in rows]}
