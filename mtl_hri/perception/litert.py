"""One TFLite model run by LiteRT (`ai-edge-litert`), with its input shape checked at load time."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .models import FrontEndModelError, ModelFile, resolve


class TfliteModel:
    """A loaded model: `run(x)` takes one float32 HWC image of the input shape and returns every output by name."""

    def __init__(self, model: ModelFile, directory: Path | None, input_hw: tuple[int, int], threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        path = resolve(model, directory)
        try:
            self._interpreter = Interpreter(model_path=str(path), num_threads=max(1, threads))
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:  # a file that passed its checksum cannot fail here, but say so
            raise FrontEndModelError(f"LiteRT cannot load {path}: {exc}") from exc
        (inp,) = self._interpreter.get_input_details()
        if tuple(inp["shape"][1:3]) != input_hw:
            raise FrontEndModelError(f"{path} takes {tuple(inp['shape'])}, expected 1x{input_hw[0]}x{input_hw[1]}x3")
        self.name = model.name
        self.input_hw = input_hw
        self._input = inp["index"]
        self._outputs = {d["name"]: d["index"] for d in self._interpreter.get_output_details()}

    def run(self, x: np.ndarray) -> dict[str, np.ndarray]:
        self._interpreter.set_tensor(self._input, np.ascontiguousarray(x, np.float32)[None])
        self._interpreter.invoke()
        return {name: self._interpreter.get_tensor(i)[0] for name, i in self._outputs.items()}
