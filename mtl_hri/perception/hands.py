"""Hand landmarks around a body's wrists, on regions that the body landmarks give, as MediaPipe's holistic graph does.

The model is MediaPipe Hands' landmark model (Zhang et al., "MediaPipe Hands: On-device Real-time Hand Tracking").

A palm detector on the whole frame misses the small hands of a person a few metres away; the body's wrist, index
and pinky points find them at any distance, and say which hand is which.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .models import HAND_LANDMARKS
from .pose import LEFT_INDEX, LEFT_PINKY, LEFT_WRIST, RIGHT_INDEX, RIGHT_PINKY, RIGHT_WRIST, BodyLandmarks
from .roi import Roi, crop
from .runtime import load_model

INPUT = 224
POINTS = 21
ROI_EXPANSION = 2.7  # holistic's hand ROI from pose
MIN_ROI_PX = 32  # a hand region smaller than this in the source frame holds too few pixels to place 21 points
SIDES = {"left": (LEFT_WRIST, LEFT_PINKY, LEFT_INDEX), "right": (RIGHT_WRIST, RIGHT_PINKY, RIGHT_INDEX)}


@dataclass
class HandLandmarks:
    side: str  # the person's "left" or "right" hand (from the body's landmarks, not a mirrored classifier)
    points: np.ndarray  # (21, 3) x, y source pixels, z (crop pixels, relative to the wrist)
    presence: float  # [0, 1]: a hand is in the region
    roi: Roi


def hand_roi(wrist: np.ndarray, pinky: np.ndarray, index: np.ndarray) -> Roi:
    """Return the region around a hand from three body points, centred on the estimated middle finger.

    As MediaPipe's HandDetectionsFromPoseToRectsCalculator: twice the wrist-middle distance, expanded 2.7 times,
    turned so that the fingers point up.
    """
    middle = (2 * index + pinky) / 3
    size = 2 * float(np.hypot(*(middle - wrist)))
    return Roi.aligned(middle, middle + (middle - wrist), max(size, 1.0) * ROI_EXPANSION)


class HandLandmarker:
    """Both hands of one body, where the body's wrists are visible."""

    def __init__(self, directory: Path | None = None, threads: int = 1, min_visibility: float = 0.5,
                 runtime: str = "litert") -> None:
        self.model = load_model(HAND_LANDMARKS, directory, (INPUT, INPUT), threads, runtime)
        self.min_visibility = min_visibility

    def __call__(self, rgb: np.ndarray, body: BodyLandmarks) -> list[HandLandmarks]:
        hands = []
        for side, joints in SIDES.items():
            if body.visibility[joints[0]] < self.min_visibility:
                continue
            wrist, pinky, index = (body.points[j, :2] for j in joints)
            roi = hand_roi(wrist, pinky, index)
            if roi.size < MIN_ROI_PX:
                continue
            out = self.model.run(crop(rgb, roi, INPUT))
            raw = out["Identity"].reshape(POINTS, 3)
            points = np.concatenate([roi.to_source(raw[:, :2], INPUT), raw[:, 2:]], axis=1)
            hands.append(HandLandmarks(side, points, float(out["Identity_1"].ravel()[0]), roi))
        return hands
