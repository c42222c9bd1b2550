"""The GPU fast path of the PyTorch engine: pinned uploads, CUDA-graph replay or torch.compile, warm-up.

On the CPU these reduce to plain calls. The choice between eager, CUDA graphs and torch.compile is
made by measuring each on the real model at warm-up (`accel="auto"`), since which one wins
depends on the trunk.
"""
from __future__ import annotations

import contextlib
import logging
from typing import Callable

import numpy as np
import torch
from torch import nn

from .engine import ACCELS
from .stats import time_samples

log = logging.getLogger(__name__)


def autocast(device_type: str, dtype: torch.dtype | None):
    """Mixed precision for inference and training alike; fp32 (or None) runs as it is."""
    if dtype is None or dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type, dtype=dtype)


class PinnedUploader:
    """Copies numpy frames (or keypoints) into page-locked staging memory, then to the device asynchronously."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._staging: dict[tuple[int, ...], torch.Tensor] = {}

    def __call__(self, frames: np.ndarray) -> torch.Tensor:
        if self.device.type != "cuda":
            return torch.from_numpy(frames)
        staging = self._staging.get(frames.shape)
        if staging is None:  # one buffer per shape, reused for every later frame of that shape
            dtype = torch.from_numpy(frames[:0]).dtype  # uint8 crops, float32 keypoints
            staging = self._staging[frames.shape] = torch.empty(frames.shape, dtype=dtype, pin_memory=True)
        staging.numpy()[...] = frames
        # async copy; the stream orders it before the kernels that use it, and the staging buffer is
        # not rewritten before the caller synchronises on the result
        return staging.to(self.device, non_blocking=True)


class GraphRunner:
    """One captured CUDA graph per input shape: replay copies the input into a static buffer."""

    def __init__(self, fn: Callable[[torch.Tensor], object], autocast: Callable) -> None:
        self.fn, self.autocast = fn, autocast
        self._graphs: dict[tuple[int, ...], tuple[torch.cuda.CUDAGraph, torch.Tensor, object]] = {}

    def __call__(self, x: torch.Tensor):
        entry = self._graphs.get(tuple(x.shape))
        if entry is None:
            entry = self._graphs[tuple(x.shape)] = self._capture(x)
        graph, static_in, static_out = entry
        static_in.copy_(x)
        graph.replay()
        return static_out

    def _capture(self, x: torch.Tensor):
        static_in = x.clone()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side), torch.inference_mode(), self.autocast():
            for _ in range(3):  # warm the allocator and cuDNN's algorithm choice before capture
                self.fn(static_in)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph), torch.inference_mode(), self.autocast():
            static_out = self.fn(static_in)
        return graph, static_in, static_out


def prepare_for_device(model: nn.Module, device: torch.device) -> nn.Module:
    """channels_last_3d for 3D CNNs on CUDA (faster cuDNN kernels); identity otherwise."""
    if device.type == "cuda" and not getattr(model, "supports_streaming", False):
        for module in model.modules():  # only 3D convolutions: a 2D head's 4-D weights have no such layout
            if isinstance(module, nn.Conv3d):
                module.weight.data = module.weight.data.contiguous(memory_format=torch.channels_last_3d)
    return model


def time_call(fn: Callable[[], object], device: torch.device, repeats: int = 5) -> float:
    """Median ms of `fn` after one warm-up call, synchronising CUDA around each call."""
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else None
    return time_samples(fn, repeats, warmup=1, sync=sync).percentile(50)


def choose_window_forward(model: nn.Module, example: torch.Tensor, requested: str, device: torch.device,
                          autocast: Callable) -> tuple[str, Callable[[torch.Tensor], object], dict[str, float]]:
    """Pick the window forward to serve with; return it and the ms each candidate measured at warm-up on `example`."""
    if requested not in ACCELS:
        raise ValueError(f"unknown accel '{requested}' ({', '.join(ACCELS)})")

    def eager(x: torch.Tensor):
        return _run(model, x, autocast)

    if device.type != "cuda":
        if requested not in ("auto", "eager"):
            log.warning("accel '%s' needs CUDA; running eager on %s", requested, device)
        return "eager", eager, {"eager": time_call(lambda: eager(example), device, 1)}
    candidates: dict[str, Callable[[torch.Tensor], object]] = {"eager": eager}
    if requested in ("auto", "graphs"):
        candidates["graphs"] = GraphRunner(model, autocast)
    if requested == "compile":  # minutes of compilation: only when asked for
        compiled = torch.compile(model, mode="max-autotune-no-cudagraphs")
        candidates["compile"] = lambda x: _run(compiled, x, autocast)
    timings = {}
    for name, fn in candidates.items():
        try:
            timings[name] = time_call(lambda: fn(example), device)
        except RuntimeError as exc:  # e.g. an op that cannot be captured: fall back to the others
            log.warning("accel '%s' failed at warm-up: %s", name, exc)
    best = min(timings, key=timings.get) if requested == "auto" else requested if requested in timings else "eager"
    return best, candidates[best], timings


def _run(fn: Callable, x: torch.Tensor, autocast: Callable):
    with torch.inference_mode(), autocast():
        return fn(x)
