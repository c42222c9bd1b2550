"""The inference engine: loads a model directory and turns a window of frames into a typed result."""
from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from ..model import InputSpec, ModelCard, StreamState, load_model_dir
from .accel import PinnedUploader, choose_window_forward, prepare_for_device, time_call
from .preprocess import FrameGeometry, Normalizer, resize_crop

log = logging.getLogger(__name__)

PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


@dataclass
class HeadResult:
    labels: list[str]  # index 0 is "none"
    probs: np.ndarray  # (n_classes,)

    @property
    def top(self) -> tuple[str, float]:
        i = int(np.argmax(self.probs))
        return self.labels[i], float(self.probs[i])


@dataclass
class HandTrack:
    """Points of one hand per temporal slice (per frame for TSM; the newest only when streaming), in source pixels."""

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
    left: HandTrack | None
    right: HandTrack | None
    timings: Timings


def resolve_device(requested: str) -> tuple[torch.device, str | None]:
    """`auto`, `cpu`, `cuda` or `cuda:N` -> (device, warning or None)."""
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda"), None
        return torch.device("cpu"), "device 'auto': no CUDA device available, running on the CPU"
    if requested == "cpu":
        return torch.device("cpu"), None
    if requested.startswith("cuda"):
        device = torch.device(requested)
        if not torch.cuda.is_available():
            raise ValueError(f"device '{requested}' requested but CUDA is not available")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device '{requested}' does not exist ({torch.cuda.device_count()} CUDA devices)")
        return device, None
    raise ValueError(f"unknown device '{requested}' (auto, cpu, cuda or cuda:N)")


def resolve_precision(requested: str, device: torch.device) -> torch.dtype:
    if requested == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    if requested not in PRECISIONS:
        raise ValueError(f"unknown precision '{requested}' (auto, fp32, fp16, bf16)")
    if device.type == "cpu" and requested == "fp16":
        raise ValueError("fp16 is not supported on the CPU; use fp32 or bf16")
    return PRECISIONS[requested]


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


Window = tuple[np.ndarray, Sequence[FrameGeometry]]  # (T, size, size, 3) uint8 crops oldest first, geometries


class EngineBase:
    """What every backend shares. Backends implement `infer_many` and `step_many`, which take and return
    explicit stream states so one engine can serve many cameras; `infer` / `step` keep one internal stream."""

    card: ModelCard
    streaming: bool = False
    _state = None

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

    def prepare(self, rgb: np.ndarray) -> tuple[np.ndarray, FrameGeometry]:
        """Source RGB frame -> the uint8 crop the window stores, and how to map back."""
        return resize_crop(rgb, self.card.input)

    def infer_many(self, windows: Sequence[Window]) -> list[tuple[RecognitionResult, object]]:
        """Whole windows in one batch -> (result, stream state after the window, or None when not streaming)."""
        raise NotImplementedError

    def step_many(self, items: Sequence[tuple[np.ndarray, FrameGeometry, object]]) -> list[tuple[RecognitionResult, object]]:
        """(new frame, its geometry, the stream state) per stream, in one batch -> (result, new state)."""
        raise NotImplementedError

    def infer(self, frames: np.ndarray, geometries: Sequence[FrameGeometry]) -> RecognitionResult:
        """A whole window; when streaming, it also primes the internal stream for `step`."""
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
                left, right = HandTrack(src[:, 0], conf[:, 0]), HandTrack(src[:, 1], conf[:, 1])
            results.append(RecognitionResult(heads, left, right, timings))
        return results


class Recognizer(EngineBase):
    """PyTorch backend: batches windows (or streamed frames) of several cameras into one forward pass."""

    backend = "torch"

    def __init__(self, model_dir: str | Path, device: str = "auto", precision: str = "auto",
                 streaming: bool = True, accel: str = "auto") -> None:
        self.device, self.device_warning = resolve_device(device)
        if self.device_warning:
            log.warning(self.device_warning)
        self.dtype = resolve_precision(precision, self.device)
        model, self.card = load_model_dir(model_dir)
        self.model = prepare_for_device(model.to(self.device).eval(), self.device)
        self.normalize = Normalizer(self.card.input, self.device)
        self.upload = PinnedUploader(self.device)
        self.stream_slower = False
        self.accel, self._window_forward = self._warm_up(accel)
        self.set_streaming(streaming)

    def _warm_up(self, accel: str) -> tuple[str, Callable]:
        """Runs every path once so the first decision is not slow, and picks the fastest window forward."""
        spec = self.spec
        clip = self.normalize(np.zeros((spec.frames, spec.size, spec.size, 3), np.uint8))
        chosen, forward, self.warmup_ms = choose_window_forward(self.model, clip, accel, self.device, self._autocast)
        if self.model.supports_streaming:
            with torch.inference_mode(), self._autocast():
                _, state = self.model.prime(clip)
                self.warmup_ms["stream_step"] = time_call(lambda: self.model.step(clip[:, -1], state), self.device)
            # On a GPU a step is a few dozen small kernels and can lose to a graph-replayed window (H100: 7.9 ms
            # per eager step vs 1.7 ms per window); then decisions come from whole windows, which never drift.
            self.stream_slower = self.device.type == "cuda" and self.warmup_ms["stream_step"] > self.warmup_ms[chosen]
        log.info("engine warm-up on %s: %s (ms: %s)%s", self.device, chosen, self.warmup_ms,
                 "; whole windows beat streaming here" if self.stream_slower else "")
        return chosen, forward

    def set_streaming(self, enabled: bool) -> None:
        """Streams only when asked, the model supports it and it measured faster; forgets any state."""
        self.streaming = enabled and self.model.supports_streaming and not self.stream_slower
        self._state = None

    def _autocast(self):
        if self.dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    @torch.inference_mode()
    def infer_many(self, windows: Sequence[Window]) -> list[tuple[RecognitionResult, StreamState | None]]:
        t0 = time.perf_counter()
        clips = torch.cat([self.normalize(self.upload(frames)) for frames, _ in windows])
        t1 = time.perf_counter()
        if self.streaming:
            with self._autocast():
                out, state = self.model.prime(clips)
            states = state.split()
        else:
            out, states = self._window_forward(clips), [None] * len(windows)
        results = self._torch_results(out, [g for _, g in windows], t0, t1)
        return list(zip(results, states))

    @torch.inference_mode()
    def step_many(self, items) -> list[tuple[RecognitionResult, StreamState]]:
        t0 = time.perf_counter()
        x = torch.cat([self.normalize(self.upload(frame[None]))[:, 0] for frame, _, _ in items])
        t1 = time.perf_counter()
        with self._autocast():
            out, state = self.model.step(x, StreamState.cat([s for _, _, s in items]))
        results = self._torch_results(out, [[g] for _, g, _ in items], t0, t1)
        return list(zip(results, state.split()))

    def _torch_results(self, out, geometries, t0: float, t1: float) -> list[RecognitionResult]:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        t2 = time.perf_counter()
        outputs = {f"logits_{task}": v.float().cpu().numpy() for task, v in out.logits.items()}
        if out.hand_coords is not None:
            outputs["hand_coords"] = out.hand_coords.float().cpu().numpy()
            outputs["hand_visibility"] = out.hand_visibility.float().cpu().numpy()
        return self._results(outputs, geometries, t0, t1, t2)


BACKENDS = ("auto", "torch", "onnxruntime")


def create_engine(model_dir: str | Path, backend: str = "auto", device: str = "auto", precision: str = "auto",
                  streaming: bool = True, accel: str = "auto") -> EngineBase:
    """`torch`, `onnxruntime`, or `auto`: ONNX Runtime on the CPU when the directory holds an export."""
    from .onnx_engine import OnnxRecognizer, has_onnx_export

    if backend not in BACKENDS:
        raise ValueError(f"unknown backend '{backend}' ({', '.join(BACKENDS)})")
    if backend == "auto":
        on_cpu = resolve_device(device)[0].type == "cpu"
        backend = "onnxruntime" if on_cpu and has_onnx_export(model_dir) else "torch"
    if backend == "onnxruntime":
        return OnnxRecognizer(model_dir, device=device, streaming=streaming)
    return Recognizer(model_dir, device=device, precision=precision, streaming=streaming, accel=accel)
