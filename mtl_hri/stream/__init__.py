"""Streaming inference core: frame window, preprocessing, engines and decision smoothing. Never imports rclpy.

Names are imported on first use (PEP 562): the frame path (preprocess, pipeline) loads without torch.
"""
from __future__ import annotations

from ..lazy import lazy_exports

_EXPORTS = {
    "engine": ("HandEstimate", "HeadResult", "RecognitionResult", "Timings"),
    "preprocess": ("FrameGeometry", "resize_crop"),
    "smoothing": ("Decision", "DecisionSmoother", "SmoothingParams"),
    "torch_engine": ("TorchEngine",),
    "window": ("FrameWindow", "Push", "WindowSnapshot"),
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
