"""What every inference engine shares: result types, device and precision resolution, the base engine, a factory.

The factory, `create_engine`, picks the PyTorch or the ONNX Runtime engine for a model directory. Nothing here
imports torch: on the ONNX Runtime path the node never loads it (about 700 MB of its memory).
"""
from __future__ import annotations

import ctypes
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..model.config import InputSpec, ModelCard
from .preprocess import FrameGeometry

PRECISIONS = ("fp32", "fp16", "bf16")
ACCELS = ("auto", "eager", "graphs", "compile")  # the PyTorch engine's GPU window forwards (accel.py)


@dataclass
class HeadResult:
    labels: list[str]  # index 0 is "none"
    probs: np.ndarray  # (n_classes,)

    @property
    def top(self) -> tuple[str, float]:
        i = int(np.argmax(self.probs))
        return self.labels[i], float(self.probs[i])


@dataclass
class HandEstimate:
    """The network's estimate of one hand, in source pixels.

    One point per temporal slice (per frame for TSM; the newest only when streaming). The ground truth of
    training is `data.records.HandTrack`.
    """

    xy: np.ndarray  # (S, 2)
    confidence: np.ndarray  # (S,) in [0, 1]


@dataclass
class Timings:
    upload_ms: float
    inference_ms: float
    postprocess_ms: float

    @property
    def total_ms(self) -> float:
        return self.upload_ms + self.inference_ms + self.postprocess_ms


@dataclass
class RecognitionResult:
    heads: dict[str, HeadResult]  # task -> probabilities
    left: HandEstimate | None
    right: HandEstimate | None
    timings: Timings


def cuda_devices() -> int:
    """Count the CUDA devices that the driver shows this process (CUDA_VISIBLE_DEVICES applies); 0 without one.

    Asked of libcuda directly, so that choosing a device does not import torch.
    """
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return 0
    count = ctypes.c_int(0)
    if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(count)) != 0:
        return 0
    return count.value


def resolve_device(requested: str, cuda_count: int) -> tuple[str, str | None]:
    """`auto`, `cpu`, `cuda` or `cuda:N`, with `cuda_count` devices at hand -> (device, warning or None)."""
    if requested == "auto":
        if cuda_count:
            return "cuda", None
        return "cpu", "device 'auto': no CUDA device available, running on the CPU"
    if requested == "cpu":
        return requested, None
    index = requested.removeprefix("cuda:")
    if requested != "cuda" and not (requested.startswith("cuda:") and index.isdigit()):
        raise ValueError(f"unknown device '{requested}' (auto, cpu, cuda or cuda:N)")
    if not cuda_count:
        raise ValueError(f"device '{requested}' requested but CUDA is not available")
    if requested != "cuda" and int(index) >= cuda_count:
        raise ValueError(f"device '{requested}' does not exist ({cuda_count} CUDA devices)")
    return requested, None


def resolve_precision(requested: str, device_type: str) -> str:
    """`auto` or a name in PRECISIONS, on a `cpu` or `cuda` device -> the name to run at."""
    if requested == "auto":
        return "bf16" if device_type == "cuda" else "fp32"
    if requested not in PRECISIONS:
        raise ValueError(f"unknown precision '{requested}' (auto, {', '.join(PRECISIONS)})")
    if device_type == "cpu" and requested == "fp16":
        raise ValueError("fp16 is not supported on the CPU; use fp32 or bf16")
    return requested


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


Window = tuple[np.ndarray, Sequence[FrameGeometry]]  # (T, size, size, 3) uint8 crops oldest first, geometries


class EngineBase:
    """What every backend shares.

    Backends implement `infer_many` and `step_many`, which take and return explicit stream states so one engine can
    serve many cameras; `infer` / `step` keep one internal stream.
    """

    backend: str  # "torch" or "onnxruntime"
    card: ModelCard
    device: object  # a torch.device or a name
    device_warning: str | None = None  # set when `auto` fell back to the CPU
    precision: str = "fp32"  # one of PRECISIONS
    fixed_threads: bool = False  # True where the threads of inference are fixed when the engine is made
    accel: str = "-"  # the GPU window forward chosen at warm-up ("-" where it does not apply)
    warmup_ms: dict[str, float] = {}  # what each path measured at warm-up (read-only; engines set their own)
    streaming: bool = False
    _state = None

    def set_streaming(self, enabled: bool) -> None:
        """Streams only when asked and the engine can; forgets any internal state."""
        raise NotImplementedError

    def set_threads(self, threads: int) -> None:
        """Bound the CPU threads of inference (1 .. max_threads()), where they are not `fixed_threads`."""
        raise NotImplementedError

    @property
    def spec(self) -> InputSpec:
        return self.card.input

    @property
    def labels(self) -> dict[str, list[str]]:
        return self.card.labels

    def reset_stream(self) -> None:
        self._state = None

    @property
    def stream_ready(self) -> bool:
        return self._state is not None

    def infer_many(self, windows: Sequence[Window]) -> list[tuple[RecognitionResult, object]]:
        """Whole windows in one batch -> (result, stream state after the window, or None when not streaming)."""
        raise NotImplementedError

    def step_many(
        self, items: Sequence[tuple[np.ndarray, FrameGeometry, object]],
    ) -> list[tuple[RecognitionResult, object]]:
        """Step every stream in one batch: (new frame, its geometry, the stream state) -> (result, new state)."""
        raise NotImplementedError

    def infer(self, frames: np.ndarray, geometries: Sequence[FrameGeometry]) -> RecognitionResult:
        """Infer a whole window; when streaming, it also primes the internal stream for `step`."""
        (result, self._state), = self.infer_many([(frames, geometries)])
        return result

    def step(self, frame: np.ndarray, geometry: FrameGeometry) -> RecognitionResult:
        """One new frame of the internal stream; hands are for this frame only."""
        if self._state is None:
            raise RuntimeError("the stream is not primed: run infer() on a full window first")
        (result, self._state), = self.step_many([(frame, geometry, self._state)])
        return result

    def _results(self, outputs: dict[str, np.ndarray], geometries: Sequence[Sequence[FrameGeometry]],
                 t0: float, t1: float, t2: float) -> list[RecognitionResult]:
        """Batched numpy outputs (`logits_<task>` (B, n), `hand_coords` (B, S, 2, 2), `hand_visibility` (B, S, 2))."""
        t3 = time.perf_counter()
        timings = Timings((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3)
        results = []
        for b, geoms in enumerate(geometries):
            heads = {task: HeadResult(classes, softmax(outputs[f"logits_{task}"][b].astype(np.float64)))
                     for task, classes in self.card.labels.items()}
            left = right = None
            if "hand_coords" in outputs:
                crop_xy = (outputs["hand_coords"][b].astype(np.float64) + 1) * (self.card.input.size / 2)
                conf = 1 / (1 + np.exp(-outputs["hand_visibility"][b].astype(np.float64)))
                n_slices, n_frames = crop_xy.shape[0], len(geoms)
                # slice s summarises frames up to the end of its chunk: map it with that frame's geometry
                ends = [(s + 1) * n_frames // n_slices - 1 for s in range(n_slices)]
                src = np.stack([[geoms[e].to_source(crop_xy[s, h]) for h in range(2)] for s, e in enumerate(ends)])
                left, right = HandEstimate(src[:, 0], conf[:, 0]), HandEstimate(src[:, 1], conf[:, 1])
            results.append(RecognitionResult(heads, left, right, timings))
        return results


BACKENDS = ("auto", "torch", "onnxruntime")


def max_threads() -> int:
    return os.cpu_count() or 1


def create_engine(model_dir: str | Path, backend: str = "auto", device: str = "auto", precision: str = "auto",
                  streaming: bool = True, accel: str = "auto", threads: int = 0) -> EngineBase:
    """`torch`, `onnxruntime`, or `auto`: ONNX Runtime on the CPU when the directory holds a checked export.

    `threads` (1 .. the machine's cores; 0: all of them) bounds the CPU threads of inference.
    """
    from .onnx_engine import OnnxEngine, has_onnx_export

    if backend not in BACKENDS:
        raise ValueError(f"unknown backend '{backend}' ({', '.join(BACKENDS)})")
    if not 0 <= threads <= max_threads():
        raise ValueError(f"threads must be 0 (all) to {max_threads()} (this machine's cores), not {threads}")
    if backend == "auto":
        on_cpu = resolve_device(device, cuda_devices())[0] == "cpu"
        backend = "onnxruntime" if on_cpu and has_onnx_export(model_dir) else "torch"
    if backend == "onnxruntime":
        return OnnxEngine(model_dir, device=device, streaming=streaming, threads=threads)
    from .torch_engine import TorchEngine  # torch only where it serves

    return TorchEngine(model_dir, device=device, precision=precision, streaming=streaming, accel=accel,
                       threads=threads)
