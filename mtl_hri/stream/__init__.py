"""Streaming inference core: frame window, preprocessing, engines and decision smoothing. Never imports rclpy.

Names are imported on first use (PEP 562): the frame path (preprocess, pipeline) loads without torch.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "engine": ("HandTrack", "HeadResult", "RecognitionResult", "Timings"),
    "preprocess": ("FrameGeometry", "resize_crop"),
    "smoothing": ("Decision", "DecisionSmoother", "SmoothingParams"),
    "torch_engine": ("TorchEngine",),
    "window": ("FrameWindow", "Push", "WindowSnapshot"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
