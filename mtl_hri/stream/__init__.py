"""Streaming inference core: frame window, preprocessing, engines and decision smoothing. Never imports rclpy."""
from .engine import HandTrack, HeadResult, RecognitionResult, Timings
from .preprocess import FrameGeometry, resize_crop
from .smoothing import Decision, DecisionSmoother, SmoothingParams
from .torch_engine import TorchEngine
from .window import FrameWindow, Push, WindowSnapshot

__all__ = [
    "Decision", "DecisionSmoother", "FrameGeometry", "FrameWindow", "HandTrack", "HeadResult", "Push",
    "RecognitionResult", "SmoothingParams", "Timings", "TorchEngine", "WindowSnapshot", "resize_crop",
]
