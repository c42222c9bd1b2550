"""The PyTorch engine: batches windows (or streamed frames) of several cameras into one forward pass.

It runs on the CPU, or on CUDA with the fast path of `accel.py`.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable, Sequence

import torch

from ..model import StreamState, load_model_dir
from .accel import PinnedUploader, autocast, choose_window_forward, prepare_for_device, time_call
from .engine import EngineBase, RecognitionResult, Window, max_threads, resolve_device, resolve_precision
from .normalize import Normalizer
from .preprocess import blank_window

log = logging.getLogger(__name__)

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}  # engine.PRECISIONS


class TorchEngine(EngineBase):

    backend = "torch"

    def __init__(self, model_dir: str | Path, device: str = "auto", precision: str = "auto",
                 streaming: bool = True, accel: str = "auto", threads: int = 0) -> None:
        name, self.device_warning = resolve_device(device, torch.cuda.device_count())
        self.device = torch.device(name)
        if self.device_warning:
            log.warning(self.device_warning)
        self.precision = resolve_precision(precision, self.device.type)
        self.dtype = DTYPES[self.precision]
        self.set_threads(threads or max_threads())
        model, self.card = load_model_dir(model_dir)
        self.model = prepare_for_device(model.to(self.device).eval(), self.device)
        self.normalize = Normalizer(self.card.input, self.device)
        self.upload = PinnedUploader(self.device)
        self.stream_slower = False
        self.accel, self._window_forward = self._warm_up(accel)
        self.set_streaming(streaming)

    def _warm_up(self, accel: str) -> tuple[str, Callable]:
        """Run every path once so the first decision is not slow, and pick the fastest window forward."""
        spec = self.spec
        clip = self.normalize(blank_window(spec))
        chosen, forward, self.warmup_ms = choose_window_forward(self.model, clip, accel, self.device, self._autocast)
        if self.model.supports_streaming:
            with torch.inference_mode(), self._autocast():
                _, state = self.model.prime(clip)
                self.warmup_ms["stream_step"] = time_call(lambda: self.model.step(clip[:, -1], state), self.device)
            # On a GPU a step is a few dozen small kernels and can lose to a graph-replayed window (docs/BENCHMARKS.md);
            # then decisions come from whole windows, which never drift.
            self.stream_slower = self.device.type == "cuda" and self.warmup_ms["stream_step"] > self.warmup_ms[chosen]
        log.info("engine warm-up on %s: %s (ms: %s)%s", self.device, chosen, self.warmup_ms,
                 "; whole windows beat streaming here" if self.stream_slower else "")
        return chosen, forward

    def set_streaming(self, enabled: bool) -> None:
        """Streams only when asked, the model supports it and it measured faster; forgets any state."""
        self.streaming = enabled and self.model.supports_streaming and not self.stream_slower
        self._state = None

    def set_threads(self, threads: int) -> None:
        torch.set_num_threads(threads)  # for the whole process: torch has no other scope

    def _autocast(self):
        return autocast(self.device.type, self.dtype)

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
