"""`mtl-hri-export`: write ONNX graphs for a model directory and check them against PyTorch."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..model.checkpoint import load_model_dir
from ..model.export import export_onnx, verify_onnx

TOLERANCE = 1e-3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="model directory (model.json + model.safetensors)")
    parser.add_argument("--out", type=Path, help="where to write the graphs (default: the model directory)")
    args = parser.parse_args(argv)
    model, card = load_model_dir(args.model)
    out = args.out or args.model
    for path in export_onnx(model, card, out):
        print(f"wrote {path}")
    diffs = verify_onnx(model, card, out)
    for graph, diff in diffs.items():
        print(f"{graph}: max |onnxruntime - torch| = {diff:.2e}")
    if any(d > TOLERANCE for d in diffs.values()):
        print(f"error: outputs differ by more than {TOLERANCE}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
