"""BlazePose's 33 points in ROS4HRI's Skeleton2D order (OpenPose COCO-18)."""
from __future__ import annotations

import numpy as np

# Skeleton2D index -> BlazePose index; NECK (1) has none: it is the shoulders' midpoint.
COCO18_FROM_BLAZEPOSE = (0, -1, 12, 14, 16, 11, 13, 15, 24, 26, 28, 23, 25, 27, 2, 5, 7, 8)
LEFT_SHOULDER, RIGHT_SHOULDER = 11, 12


def coco18(points: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """(18, 3) x, y, confidence in Skeleton2D order from (33, >=2) BlazePose points and their visibility."""
    index = np.array(COCO18_FROM_BLAZEPOSE)
    out = np.concatenate([points[index, :2], visibility[index, None]], axis=1).astype(np.float32)
    out[1, :2] = (points[LEFT_SHOULDER, :2] + points[RIGHT_SHOULDER, :2]) / 2
    out[1, 2] = min(visibility[LEFT_SHOULDER], visibility[RIGHT_SHOULDER])
    return out
