"""A body as a keypoint model sees it, and its hands where the model has no hand head: from the front end's landmarks.

The keypoints are in the square region that an RGB model's crop would cover (`preprocess.body_square`), so that both
modalities look at the same part of the frame.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..model.keypoints import BODY_POINTS, BODY_WRISTS, HAND_POINTS, LEFT_HAND, N_POINTS, RIGHT_HAND, normalize_to_roi
from .engine import HandEstimate
from .preprocess import FrameGeometry, body_square

if TYPE_CHECKING:
    from ..perception.frontend import Body

MIN_VISIBLE = 0.5  # a body landmark with less visibility counts as not seen (occluded or out of the frame)
HAND_BASE = {"left": LEFT_HAND, "right": RIGHT_HAND}


def body_points(body: Body) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the (N_POINTS, 2) source pixels of `body`'s points, their confidence and whether each was seen."""
    xy = np.zeros((N_POINTS, 2))
    confidence = np.zeros(N_POINTS)
    present = np.zeros(N_POINTS, bool)
    landmarks = body.landmarks
    xy[:BODY_POINTS] = landmarks.points[:, :2]
    confidence[:BODY_POINTS] = landmarks.visibility
    present[:BODY_POINTS] = landmarks.visibility >= MIN_VISIBLE
    for hand in body.hands:
        points = slice(HAND_BASE[hand.side], HAND_BASE[hand.side] + HAND_POINTS)
        xy[points], confidence[points], present[points] = hand.points[:, :2], hand.presence, True
    return xy, confidence, present


def body_keypoints(body: Body, width: int, height: int, size: int) -> tuple[np.ndarray, FrameGeometry]:
    """(N_POINTS, N_CHANNELS) keypoints of `body` in its square region, and that region as a crop geometry.

    `width` and `height` are the source frame's; `size` the crop side the geometry maps to (the card's).
    """
    left, top, side = body_square(body.box)
    keypoints = normalize_to_roi(*body_points(body), np.array([left + side / 2, top + side / 2]), side)
    scale = size / side
    return keypoints, FrameGeometry(width, height, scale, left * scale, top * scale)


def landmark_hands(body: Body) -> tuple[HandEstimate, HandEstimate]:
    """Return (left, right) in source pixels, for a model without a hand head.

    A hand found is its centre (the mean of its points) with its presence; one not found, the body's wrist with that
    landmark's visibility.
    """
    estimates = []
    for side in ("left", "right"):
        hand = next((h for h in body.hands if h.side == side), None)
        if hand is not None:
            xy, confidence = hand.points[:, :2].mean(axis=0), hand.presence
        else:
            wrist = BODY_WRISTS[side]
            xy, confidence = body.landmarks.points[wrist, :2], body.landmarks.visibility[wrist]
        estimates.append(HandEstimate(np.asarray(xy, np.float64)[None], np.array([float(confidence)])))
    return estimates[0], estimates[1]
