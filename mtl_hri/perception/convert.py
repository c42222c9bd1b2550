"""The front end's TFLite models as ONNX, for ONNX Runtime: the route to a robot's GPU (CUDA, TensorRT providers).

LiteRT runs the TFLite files on CPUs, as fast as ONNX Runtime's CPU provider or faster, and stays the default; ONNX
Runtime is there for robots with a GPU. The conversion runs at set-up time (`mtl-hri-fetch-front-end --onnx`, and
`make setup`), never at run time, with tflite2onnx 0.4.1 (https://github.com/zhenhuaw-me/tflite2onnx, Apache-2.0)
and the `tflite` flatbuffer schema package, both pinned in requirements.txt.

`<stem>.onnx` lands beside `<stem>.tflite` and keeps its interface: the same input and output names, NHWC layouts
(tflite2onnx turns the graph to NCHW; a Transpose after the input and before each 4-D output restore the TFLite
layout, and ONNX Runtime folds them into the next and previous nodes). Initializers and value_info are sorted by
name, which makes the file byte-reproducible (tflite2onnx collects them in sets of objects, whose order changes from
run to run), so each converted file is checked against a pinned sha256 as the TFLite files are; another version of
tflite2onnx, tflite or onnx than the pinned ones gives other bytes, which the conversion reports rather than writes.
"""
from __future__ import annotations

import logging
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

from ..checksum import file_sha256
from .models import HAND_LANDMARKS, PERSON_DETECTOR, POSE_LANDMARKS, FrontEndModelError, ModelFile, default_dir, resolve

FIX = "mtl-hri-fetch-front-end --onnx"
PINNED = "tflite2onnx 0.4.1, tflite 2.18.0 and onnx 1.23.2 (requirements.txt)"
ONNX_SHA256 = {  # of convert_to_onnx's output with the PINNED versions
    PERSON_DETECTOR.name: "79047ba8fa5a5cb2f4e81dd9cc3e736aae57b1a8c6451af1c8ce5f26ad8bb074",
    POSE_LANDMARKS.name: "4b76b21df8e09a986fbb2433fc60d2bf735d58bfa4d50107616f11251950d1e0",
    HAND_LANDMARKS.name: "84b72cb548e7eb0bd47fd50a1c0e383d16ba780ea94a7c7e316a8d011097dbee",
}


def onnx_path(model: ModelFile, directory: Path | None = None) -> Path:
    """Return where `model`'s ONNX conversion lives: `<stem>.onnx` beside the TFLite file."""
    return (directory or default_dir()) / (Path(model.name).stem + ".onnx")


def resolve_onnx(model: ModelFile, directory: Path | None = None) -> Path:
    """Return the path of `model`'s ONNX conversion once its checksum matches; FrontEndModelError naming the fix."""
    path = onnx_path(model, directory)
    if not path.is_file():
        raise FrontEndModelError(f"front-end model {path.name} (for ONNX Runtime) not found at {path}: convert the "
                                 f"TFLite models with `{FIX} --out {path.parent}`")
    got = file_sha256(path)
    if got != ONNX_SHA256[model.name]:
        raise FrontEndModelError(f"front-end model {path} is altered or corrupt (sha256 {got[:12]}..., expected "
                                 f"{ONNX_SHA256[model.name][:12]}...): convert it again with `{FIX}`")
    return path


@contextmanager
def _converter() -> Iterator[object]:
    """Yield tflite2onnx with its one fix for these models, undone on leaving.

    tflite2onnx 0.4.1's Padding.transform rewrites the PAD's `paddings` initializer in place (TFLite [n, 2] to ONNX
    [begins..., ends...], in the NCHW order). BlazePose shares one paddings constant between several PADs, so the
    second PAD finds the flattened array and fails ("IndexError: too many indices"). The fix rewrites each constant
    once, after checking that every PAD sharing it has the same layout (so that one rewrite is right for all).
    """
    import tflite2onnx
    from tflite2onnx.op.padding import Padding

    original = Padding.transform

    def transform(self) -> None:
        pads = self.inputs[1]
        layout = self.inputs[0].layout
        perm = None if layout is None else tuple(layout.perm)
        done = getattr(pads, "_mtl_hri_perm", "not yet")
        if done == "not yet":
            original(self)
            pads._mtl_hri_perm = perm
        elif done != perm or np.asarray(pads.data).ndim != 1:
            raise FrontEndModelError(f"PADs sharing {pads.name} have different layouts ({done}, {perm})")

    log = logging.getLogger("tflite2onnx")
    level = log.level
    Padding.transform = transform
    log.setLevel(logging.ERROR)  # "float16 not supported/tested yet": its float16 weights come out as float32
    try:
        yield tflite2onnx
    finally:
        Padding.transform = original
        log.setLevel(level)


def _nhwc_interface(graph) -> None:
    """Put the TFLite model's NHWC layouts back on the graph's 4-D inputs and outputs, under the same names."""
    from onnx import helper

    io = {v.name for v in graph.input} | {v.name for v in graph.output}
    stale = [v for v in graph.value_info if v.name in io]  # tflite2onnx lists the I/O there too, NCHW
    for v in stale:
        graph.value_info.remove(v)
    head, tail = [], []
    for value, perm, to_nhwc in [(v, [0, 3, 1, 2], False) for v in graph.input] + \
                                [(v, [0, 2, 3, 1], True) for v in graph.output]:
        dims = value.type.tensor_type.shape.dim
        if len(dims) != 4:
            continue
        inner = value.name + "__nchw"
        for node in graph.node:
            node.input[:] = [inner if x == value.name else x for x in node.input]
            node.output[:] = [inner if x == value.name else x for x in node.output]
        n, c, h, w = (d.dim_value for d in dims)
        for d, v in zip(dims, (n, h, w, c)):
            d.dim_value = v
        if to_nhwc:
            tail.append(helper.make_node("Transpose", [inner], [value.name], perm=perm, name=value.name + "__to_nhwc"))
        else:
            head.append(helper.make_node("Transpose", [value.name], [inner], perm=perm, name=value.name + "__to_nchw"))
    nodes = head + list(graph.node) + tail
    del graph.node[:]
    graph.node.extend(nodes)


def _sort_by_name(graph) -> None:
    for field in (graph.initializer, graph.value_info):
        items = sorted(field, key=lambda t: t.name)
        del field[:]
        field.extend(items)


def convert_to_onnx(model: ModelFile, directory: Path | None = None) -> Path:
    """Convert `model`'s checked TFLite file in `directory` to `<stem>.onnx` beside it; return its path.

    A conversion already there with the right checksum is kept. The new file is written as `.part`, checked
    against its pinned sha256, and only then put in place.
    """
    import onnx

    out = onnx_path(model, directory)
    if out.is_file() and file_sha256(out) == ONNX_SHA256[model.name]:
        return out
    src = resolve(model, directory)
    with tempfile.TemporaryDirectory(prefix="mtl_hri_onnx_") as tmp, _converter() as tflite2onnx:
        raw = Path(tmp) / "nchw.onnx"
        try:
            tflite2onnx.convert(str(src), str(raw))
        except Exception as exc:  # noqa: BLE001 - the converter's failures share no base class
            raise FrontEndModelError(f"tflite2onnx cannot convert {src}: {type(exc).__name__}: {exc}") from exc
        m = onnx.load(str(raw))
    _nhwc_interface(m.graph)
    onnx.checker.check_model(m)
    m = onnx.shape_inference.infer_shapes(m, strict_mode=True)
    _sort_by_name(m.graph)
    part = out.with_name(out.name + ".part")
    part.write_bytes(m.SerializeToString())
    got = file_sha256(part)
    if got != ONNX_SHA256[model.name]:
        part.unlink()
        raise FrontEndModelError(f"{src.name} converted to sha256 {got[:12]}..., expected "
                                 f"{ONNX_SHA256[model.name][:12]}...: convert with {PINNED}")
    part.replace(out)
    return out
