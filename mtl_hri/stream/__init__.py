"""Streaming inference core: frame window, preprocessing, engine and decision smoothing. Never imports rclpy."""
from .preprocess import FrameGeometry, resize_crop
from .recognizer import HandTrack, HeadResult, RecognitionResult, Recognizer, Timings
from .smoothing import Decision, DecisionSmoother, SmoothingParams
from .window import FrameWindow, Push, WindowSnapshot

__all__ = [
    "Decision", "DecisionSmoother", "FrameGeometry", "FrameWindow", "HandTrack", "HeadResult", "Push",
    "RecognitionResult", "Recognizer", "SmoothingParams", "Timings", "WindowSnapshot", "resize_crop",
]
