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
    """Per-frame points of one hand, in source-image pixels."""

    xy: np.ndarray  # (T, 2)
    confidence: np.ndarray  # (T,) in [0, 1]


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
    """Loads `model_dir` and runs whole windows through it."""

    def __init__(self, model_dir: str | Path, device: str = "auto", precision: str = "auto") -> None:
        self.device, self.device_warning = resolve_device(device)
        if self.device_warning:
            log.warning(self.device_warning)
        self.dtype = resolve_precision(precision, self.device)
        model, self.card = load_model_dir(model_dir)
        self.model = model.to(self.device).eval()
        self.normalize = Normalizer(self.card.input, self.device)

    @property
    def spec(self):
        return self.card.input

    @property
    def labels(self) -> dict[str, list[str]]:
        return self.card.labels

    def prepare(self, rgb: np.ndarray) -> tuple[np.ndarray, FrameGeometry]:
        """Source RGB frame -> the uint8 crop the window stores, and how to map back."""
        return resize_crop(rgb, self.card.input)

    def _autocast(self):
        if self.dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    @torch.inference_mode()
    def infer(self, frames: np.ndarray, geometries: Sequence[FrameGeometry]) -> RecognitionResult:
        """frames: (T, size, size, 3) uint8 crops, oldest first; geometries: one per frame."""
        t0 = time.perf_counter()
        clip = self.normalize(frames)
        t1 = time.perf_counter()
        with self._autocast():
            out = self.model(clip)
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
            crop_xy = (out.hand_coords[0].float().cpu().numpy() + 1) * (size / 2)  # (T, 2 hands, 2)
            conf = torch.sigmoid(out.hand_visibility[0].float()).cpu().numpy()  # (T, 2)
            src = np.stack([[g.to_source(crop_xy[t, h]) for h in range(2)] for t, g in enumerate(geometries)])
            left, right = HandTrack(src[:, 0], conf[:, 0]), HandTrack(src[:, 1], conf[:, 1])
        t3 = time.perf_counter()
        return RecognitionResult(
            heads, left, right, Timings((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3)
        )
