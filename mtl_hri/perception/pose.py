"""Body landmarks in a region, and the region they ask for on the next frame.

The model is BlazePose GHUM full (Bazarevsky et al., "BlazePose: On-device Real-time Body Pose tracking"): 33 points
plus two alignment points.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .models import POSE_LANDMARKS
from .roi import Roi, crop
from .runtime import load_model

INPUT = 256
POINTS = 33  # BlazePose topology; then 33: mid-hip centre, 34: a point on the body's enclosing circle, above it
ROI_SCALE = 1.25  # the body's enclosing circle's diameter, enlarged: MediaPipe's pose_landmark_by_roi
LEFT_ELBOW, RIGHT_ELBOW = 13, 14
LEFT_WRIST, RIGHT_WRIST, LEFT_PINKY, RIGHT_PINKY, LEFT_INDEX, RIGHT_INDEX = 15, 16, 17, 18, 19, 20


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(x, -60.0, 60.0)))  # logits can be far beyond float32's exp range


@dataclass
class BodyLandmarks:
    points: np.ndarray  # (33, 3) x, y source pixels, z (crop-relative depth, pixels of the 256 crop)
    visibility: np.ndarray  # (33,) in [0, 1]: the point is in view and not occluded
    presence: float  # [0, 1]: a body is in the region at all
    next_roi: Roi  # where to look on the next frame

    def box(self, min_visibility: float = 0.5) -> np.ndarray:
        """Return the (x0, y0, x1, y1) box of the visible points (all points when few are)."""
        return visible_box(self.points[:, :2], self.visibility, min_visibility)


def visible_box(xy: np.ndarray, visibility: np.ndarray, min_visibility: float = 0.5) -> np.ndarray:
    """(x0, y0, x1, y1) of the points at least `min_visibility` visible (all of them when fewer than 4 are)."""
    seen = xy[visibility >= min_visibility]
    pts = seen if len(seen) >= 4 else xy
    return np.concatenate([pts.min(0), pts.max(0)]).astype(np.float32)


class PoseLandmarker:
    """One body per call, in the region the detector or the previous frame gave.

    Calls from several threads take turns: a LiteRT interpreter is not thread-safe, and a second one would cost
    41 MB (its packed weights and arena).
    """

    def __init__(self, directory: Path | None = None, threads: int = 1, runtime: str = "litert") -> None:
        self.model = load_model(POSE_LANDMARKS, directory, (INPUT, INPUT), threads, runtime)
        self._lock = threading.Lock()

    def __call__(self, rgb: np.ndarray, roi: Roi) -> BodyLandmarks:
        x = crop(rgb, roi, INPUT)
        with self._lock:
            out = self.model.run(x)
        raw = out["Identity"].reshape(39, 5)
        xy = roi.to_source(raw[:, :2], INPUT)
        points = np.concatenate([xy, raw[:, 2:3]], axis=1)
        centre, top = xy[33], xy[34]
        radius = float(np.hypot(*(top - centre)))
        return BodyLandmarks(points[:POINTS], sigmoid(raw[:POINTS, 3]), float(out["Identity_1"].ravel()[0]),
                             Roi.aligned(centre, top, 2 * radius * ROI_SCALE))
