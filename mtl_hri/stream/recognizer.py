"""The inference engine: loads a model directory and turns a window of frames into a typed result."""
from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..model import ModelCard, load_model_dir
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


class Recognizer:
    """Loads `model_dir`; runs whole windows, or streams one frame at a time when the model can."""

    def __init__(self, model_dir: str | Path, device: str = "auto", precision: str = "auto",
                 streaming: bool = True) -> None:
        self.device, self.device_warning = resolve_device(device)
        if self.device_warning:
            log.warning(self.device_warning)
        self.dtype = resolve_precision(precision, self.device)
        model, self.card = load_model_dir(model_dir)
        self.model = model.to(self.device).eval()
        self.normalize = Normalizer(self.card.input, self.device)
        self.streaming = False
        self.set_streaming(streaming)

    @property
    def spec(self):
        return self.card.input

    @property
    def labels(self) -> dict[str, list[str]]:
        return self.card.labels

    def set_streaming(self, enabled: bool) -> None:
        """Streams only when asked and the model supports it; forgets any state."""
        self.streaming = enabled and self.model.supports_streaming
        self._state = None

    def reset_stream(self) -> None:
        self._state = None

    @property
    def stream_ready(self) -> bool:
        return self._state is not None

    def prepare(self, rgb: np.ndarray) -> tuple[np.ndarray, FrameGeometry]:
        """Source RGB frame -> the uint8 crop the window stores, and how to map back."""
        return resize_crop(rgb, self.card.input)

    def _autocast(self):
        if self.dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    @torch.inference_mode()
    def infer(self, frames: np.ndarray, geometries: Sequence[FrameGeometry]) -> RecognitionResult:
        """A whole window: (T, size, size, 3) uint8 crops, oldest first, one geometry per frame.

        When streaming, this also primes the state so the following frames can be stepped.
        """
        t0 = time.perf_counter()
        clip = self.normalize(frames)
        t1 = time.perf_counter()
        with self._autocast():
            if self.streaming:
                out, self._state = self.model.prime(clip)
            else:
                out = self.model(clip)
        return self._result(out, geometries, t0, t1)

    @torch.inference_mode()
    def step(self, frame: np.ndarray, geometry: FrameGeometry) -> RecognitionResult:
        """One new frame after `infer` primed the stream; hands are for this frame only."""
        if self._state is None:
            raise RuntimeError("the stream is not primed: run infer() on a full window first")
        t0 = time.perf_counter()
        x = self.normalize(frame[None])[:, 0]
        t1 = time.perf_counter()
        with self._autocast():
            out, self._state = self.model.step(x, self._state)
        return self._result(out, [geometry], t0, t1)

    def _result(self, out, geometries: Sequence[FrameGeometry], t0: float, t1: float) -> RecognitionResult:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        t2 = time.perf_counter()
        heads = {
            task: HeadResult(self.card.labels[task], torch.softmax(logits[0].float(), -1).cpu().numpy())
            for task, logits in out.logits.items()
        }
        left = right = None
        if out.hand_coords is not None:
            size = self.card.input.size
            crop_xy = (out.hand_coords[0].float().cpu().numpy() + 1) * (size / 2)  # (S, 2 hands, 2)
            conf = torch.sigmoid(out.hand_visibility[0].float()).cpu().numpy()  # (S, 2)
            n_slices, n_frames = crop_xy.shape[0], len(geometries)
            # slice s summarises frames up to the end of its chunk: map it with that frame's geometry
            ends = [(s + 1) * n_frames // n_slices - 1 for s in range(n_slices)]
            src = np.stack([[geometries[e].to_source(crop_xy[s, h]) for h in range(2)] for s, e in enumerate(ends)])
            left, right = HandTrack(src[:, 0], conf[:, 0]), HandTrack(src[:, 1], conf[:, 1])
        t3 = time.perf_counter()
        return RecognitionResult(heads, left, right, Timings((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3))
