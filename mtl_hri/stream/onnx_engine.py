"""ONNX Runtime backend: the exported graphs run without PyTorch on the hot path (numpy in, numpy out).

Streaming state travels as explicit tensors. Priming steps the window's frames through the
per-frame graph from a zero state, which is exactly what the full window computes.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from ..checksum import file_sha256
from ..model import ModelCard, ModelLoadError
from ..model.checkpoint import load_card
from ..model.export import STREAM_FILE, WINDOW_FILE, output_names
from ..ort_options import providers_for, session_options
from .engine import EngineBase, resolve_device
from .preprocess import normalization


def has_onnx_export(model_dir: str | Path) -> bool:
    """Tell whether the directory holds a window graph that its card vouches for (its sha256 in `exports`)."""
    model_dir = Path(model_dir)
    return (model_dir / WINDOW_FILE).is_file() and WINDOW_FILE in load_card(model_dir).exports


def _session(ort, path: Path, card: ModelCard, expected: list[int], options, providers):
    """Open a graph the card vouches for, whose input has the shape the card says; ModelLoadError otherwise."""
    digest = card.exports.get(path.name)
    if digest is None:
        raise ModelLoadError(f"{path} has no sha256 in the model card; run `mtl-hri-export --model {path.parent}`")
    if file_sha256(path) != digest:
        raise ModelLoadError(f"{path} does not match the sha256 in its model card (corrupt or replaced)")
    try:
        session = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:  # noqa: BLE001 - onnxruntime's errors share no base class but Exception
        raise ModelLoadError(f"cannot load {path}: {exc}") from None
    shape = session.get_inputs()[0].shape
    if list(shape) != expected:
        raise ModelLoadError(f"{path} takes input {shape}, but the model card says {expected}: re-export it")
    return session


class OnnxEngine(EngineBase):
    backend = "onnxruntime"

    def __init__(self, model_dir: str | Path, device: str = "auto", streaming: bool = True,
                 threads: int = 0) -> None:
        import onnxruntime as ort

        model_dir = Path(model_dir)
        if not (model_dir / WINDOW_FILE).is_file():
            raise ValueError(f"{model_dir} has no {WINDOW_FILE}; run `mtl-hri-export --model {model_dir}` first")
        self.card = load_card(model_dir)
        self.device_warning = None
        if device != "cpu":  # validates the request; GPU use depends on the installed onnxruntime
            self.device_warning = resolve_device(device)[1]
        options = session_options(threads or os.cpu_count() or 1)
        self.providers = providers_for(device)
        self.device = "cuda" if self.providers[0] != "CPUExecutionProvider" else "cpu"
        spec = self.card.input
        self.window = _session(ort, model_dir / WINDOW_FILE, self.card, [1, spec.frames, 3, spec.size, spec.size],
                               options, self.providers)
        stream_path = model_dir / STREAM_FILE
        self.stream = (_session(ort, stream_path, self.card, [1, 3, spec.size, spec.size], options, self.providers)
                       if stream_path.is_file() else None)
        self._offset, self._scale = normalization(self.card.input)
        self._outputs = output_names(self.card)
        self.set_streaming(streaming)

    def set_streaming(self, enabled: bool) -> None:
        self.streaming = enabled and self.stream is not None
        self._state = None

    def _normalize(self, frames: np.ndarray) -> np.ndarray:
        """(T, H, W, 3) uint8 -> (T, 3, H, W) float32."""
        x = (frames.astype(np.float32) - self._offset) * self._scale
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    def _zero_state(self) -> dict[str, np.ndarray]:
        return {i.name: np.zeros(i.shape, np.float32) for i in self.stream.get_inputs() if i.name != "frame"}

    def _step(self, frame: np.ndarray, state: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict]:
        """One normalised frame (3, H, W) through the streaming graph -> (outputs, new state)."""
        results = self.stream.run(None, {"frame": frame[None], **state})
        n = len(self._outputs)
        return dict(zip(self._outputs, results[:n])), dict(zip(state, results[n:]))

    # The graphs are exported for batch 1, so cameras run one after another here (each costs little).
    def infer_many(self, windows):
        out = []
        for frames, geometries in windows:
            t0 = time.perf_counter()
            x = self._normalize(frames)
            t1 = time.perf_counter()
            state = None
            if self.streaming:  # priming = stepping the window from a zero state, as the full window computes
                state = self._zero_state()
                for frame in x:
                    outputs, state = self._step(frame, state)
                geometries = [geometries[-1]]  # the newest frame's hands are what streaming gives
            else:
                outputs = dict(zip(self._outputs, self.window.run(None, {"clip": x[None]})))
            out.append((self._results(outputs, [geometries], t0, t1, time.perf_counter())[0], state))
        return out

    def step_many(self, items):
        out = []
        for frame, geometry, state in items:
            t0 = time.perf_counter()
            x = self._normalize(frame[None])[0]
            t1 = time.perf_counter()
            outputs, state = self._step(x, state)
            out.append((self._results(outputs, [[geometry]], t0, t1, time.perf_counter())[0], state))
        return out
