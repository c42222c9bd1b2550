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
from ..model.card import STREAM_FILE, WINDOW_FILE, ModelLoadError, load_card, output_names
from ..model.config import ModelCard
from ..ort_options import providers_for, session_options
from .engine import EngineBase, cuda_devices, resolve_device
from .preprocess import normalization


def has_onnx_export(model_dir: str | Path) -> bool:
    """Tell whether the directory holds a window graph that its card vouches for (its sha256 in `exports`)."""
    model_dir = Path(model_dir)
    return (model_dir / WINDOW_FILE).is_file() and WINDOW_FILE in load_card(model_dir).exports


def _verified(path: Path, card: ModelCard) -> Path:
    """`path`, if the card vouches for it (its sha256 in `exports`); ModelLoadError otherwise."""
    digest = card.exports.get(path.name)
    if digest is None:
        raise ModelLoadError(f"{path} has no sha256 in the model card; run `mtl-hri-export --model {path.parent}`")
    if file_sha256(path) != digest:
        raise ModelLoadError(f"{path} does not match the sha256 in its model card (corrupt or replaced)")
    return path


def _session(path: Path, expected: list[int], options, providers):
    """Open a verified graph whose input has the shape the card says; ModelLoadError otherwise."""
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(str(path), options, providers=providers)
    except Exception as exc:  # noqa: BLE001 - onnxruntime's errors share no base class but Exception
        raise ModelLoadError(f"cannot load {path}: {exc}") from None
    shape = session.get_inputs()[0].shape
    if list(shape) != expected:
        raise ModelLoadError(f"{path} takes input {shape}, but the model card says {expected}: re-export it")
    return session


class OnnxEngine(EngineBase):
    """Serves the streaming graph, or the window graph when not streaming.

    Both are checked against the card when the engine is made, but only the one in use is opened: a session holds
    its weights, reordered for the CPU, and the other graph would double them (measured: 10 to 30 MB of RSS).
    """

    backend = "onnxruntime"
    fixed_threads = True  # a session's threads are fixed when it is made

    def __init__(self, model_dir: str | Path, device: str = "auto", streaming: bool = True,
                 threads: int = 0) -> None:
        model_dir = Path(model_dir)
        if not (model_dir / WINDOW_FILE).is_file():
            raise ValueError(f"{model_dir} has no {WINDOW_FILE}; run `mtl-hri-export --model {model_dir}` first")
        self.card = load_card(model_dir)
        self.device_warning = None
        if device != "cpu":  # validates the request; GPU use depends on the installed onnxruntime
            self.device_warning = resolve_device(device, cuda_devices())[1]
        self._options = session_options(threads or os.cpu_count() or 1)
        self.providers = providers_for(device)
        self.device = "cuda" if self.providers[0] != "CPUExecutionProvider" else "cpu"
        self._window_path = _verified(model_dir / WINDOW_FILE, self.card)
        stream_path = model_dir / STREAM_FILE
        self._stream_path = _verified(stream_path, self.card) if stream_path.is_file() else None
        self.window = self.stream = None
        self._offset, self._scale = normalization(self.card.input)
        self._outputs = output_names(self.card)
        self.set_streaming(streaming)

    def set_streaming(self, enabled: bool) -> None:
        """Stream when asked and the model has a streaming graph; opens the graph now needed (ModelLoadError)."""
        streaming = enabled and self._stream_path is not None
        spec = self.card.input
        if streaming and self.stream is None:
            self.stream = _session(self._stream_path, [1, *spec.frame_shape], self._options, self.providers)
        elif not streaming and self.window is None:
            self.window = _session(self._window_path, [1, spec.frames, *spec.frame_shape], self._options,
                                   self.providers)
        self.streaming = streaming  # only once the graph it needs is open: on failure the engine serves as before
        self._state = None

    def _normalize(self, frames: np.ndarray) -> np.ndarray:
        """(T, H, W, 3) uint8 -> (T, 3, H, W) float32; keypoints (T, points, channels) go as they are."""
        if self.card.input.modality == "keypoints":
            return np.ascontiguousarray(frames, np.float32)
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
