"""Which runtime runs the front end's models: LiteRT, or ONNX Runtime for a GPU.

LiteRT runs the TFLite files (the default: the fastest on CPUs); ONNX Runtime runs their ONNX conversions
(`convert.py`), the route to a robot's GPU. Both give the same interface (`name`, `input_hw`, `run(x)` on one
float32 HWC image, every output by name), so the detector and the landmark models do not know which one runs them.
ONNX Runtime takes TensorRT, then CUDA, then the CPU, as far as the installed onnxruntime build has them: the ONNX
engine's provider choice (`mtl_hri.ort_options`). A missing conversion is a FrontEndModelError naming the fix, never a
fall-back to LiteRT.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..ort_options import providers_for, session_options
from .convert import resolve_onnx
from .litert import TfliteModel
from .models import FrontEndModelError, ModelFile

RUNTIMES = ("litert", "onnxruntime")


class OnnxModel:
    """A loaded ONNX conversion: `run(x)` takes one float32 HWC image of the input shape, returns outputs by name."""

    def __init__(self, model: ModelFile, directory: Path | None, input_hw: tuple[int, int], threads: int) -> None:
        import onnxruntime as ort

        path = resolve_onnx(model, directory)
        try:
            self._session = ort.InferenceSession(str(path), session_options(threads), providers=providers_for("auto"))
        except Exception as exc:  # noqa: BLE001 - onnxruntime's errors share no base class but Exception
            raise FrontEndModelError(f"ONNX Runtime cannot load {path}: {exc}") from exc
        (inp,) = self._session.get_inputs()
        if list(inp.shape) != [1, *input_hw, 3]:
            raise FrontEndModelError(f"{path} takes {inp.shape}, expected 1x{input_hw[0]}x{input_hw[1]}x3")
        self.name = path.name
        self.input_hw = input_hw
        self.providers = self._session.get_providers()
        self._input = inp.name
        self._outputs = [o.name for o in self._session.get_outputs()]

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        results = self._session.run(self._outputs, {self._input: np.ascontiguousarray(x, np.float32)[None]})
        return {name: y[0] for name, y in zip(self._outputs, results)}


def load_model(model: ModelFile, directory: Path | None, input_hw: tuple[int, int], threads: int,
               runtime: str = "litert") -> TfliteModel | OnnxModel:
    """Load `model` (its TFLite file, or its ONNX conversion beside it) for `runtime`, one of RUNTIMES."""
    if runtime == "litert":
        return TfliteModel(model, directory, input_hw, threads)
    if runtime == "onnxruntime":
        return OnnxModel(model, directory, input_hw, threads)
    raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
