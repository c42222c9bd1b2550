"""Keypoint clips for keypoint models: a person's landmarks in their region, as the node's front end gives them.

Each frame is normalised in the square region the node would use for that person on that frame: the padded box of
the present body points (`perception.frontend.padded_box`), squared (`stream.preprocess.body_square`). Training
adds what a real front end does to landmarks (`KeypointNoise`): jitter, dropped points, hands it misses or swaps,
frames it loses, a box that wobbles, confidences below 1. A flip mirrors x and swaps the left and right points.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.keypoints import BODY_POINTS, HAND_POINTS, LEFT_HAND, N_CHANNELS, RIGHT_HAND, normalize_to_roi
from ..perception.frontend import padded_box
from ..perception.pose import visible_box
from ..stream.preprocess import body_square

# BlazePose's left / right pairs: the face's, then every limb point's (odd: left, even: right from 11 on)
BODY_MIRROR = ((1, 4), (2, 5), (3, 6), (7, 8), (9, 10), *((i, i + 1) for i in range(11, BODY_POINTS, 2)))


@dataclass
class KeypointNoise:
    """A front end's errors, as probabilities per frame (or point) and sizes in units of the person's region.

    Measured by `mtl-hri-landmarks` on the front end's tracks of vtest.avi's pedestrians (frames 0-399, 17 people,
    1804 frames, 2026-12-07): frames lost within a track 3.2 %, body points unseen 11.8 %, no hand on any frame, jitter
    at most 1.0 % of the region. The hands' misses and swaps, the box's wobble and the confidences are estimates.
    """

    jitter: float = 0.01  # s.d. of each point's position
    drop_point: float = 0.12  # a body point reported missing
    drop_hand: float = 0.3  # a hand not found on a frame
    # No hand found on the whole clip: the front end skips hands under 32 px, and on vtest.avi's pedestrians (83 px
    # tall, median) it found none in 1313 body-frames (measured 2026-12-02), though 85 % of their body points.
    no_hands: float = 0.3
    swap_hands: float = 0.02  # the two hands swapped
    drop_frame: float = 0.03  # a frame with nobody's landmarks
    box: float = 0.05  # s.d. of the region's shift and relative size
    confidence: tuple[float, float] = (0.5, 1.0)  # present points' confidence, drawn uniformly
    empty: float = 0.05  # a window of nobody, labelled `none`: what the node's scene shows while nobody is tracked


def mirror_order() -> np.ndarray:
    """Return the point order of the mirror image: left points where their right ones were, the hands swapped."""
    order = np.arange(RIGHT_HAND + HAND_POINTS)
    for a, b in BODY_MIRROR:
        order[[a, b]] = order[[b, a]]
    order[LEFT_HAND:RIGHT_HAND], order[RIGHT_HAND:] = order[RIGHT_HAND:].copy(), order[LEFT_HAND:RIGHT_HAND].copy()
    return order


def mirror(points: np.ndarray, width: int) -> np.ndarray:
    """(T, N_POINTS, 3) pixels -> the mirror image: x flipped, the left and right points swapped."""
    out = points[:, mirror_order()].copy()
    out[..., 0] = width - 1 - out[..., 0]
    return out


def body_region(seen: np.ndarray, width: int, height: int) -> tuple[int, int, int]:
    """(left, top, side) of the square region the node gives a body whose seen points are `seen` (at least 4)."""
    return body_square(padded_box(visible_box(seen, np.ones(len(seen))), width, height))


def keypoint_clip(points: np.ndarray, width: int, height: int, rng: np.random.Generator | None = None,
                  noise: KeypointNoise | None = None) -> np.ndarray:
    """(T, N_POINTS, 3) pixels and presence -> (T, N_POINTS, N_CHANNELS) float32, as the model takes them.

    With `rng`, `noise` (default KeypointNoise()) is applied; without, the exact points with confidence 1.
    """
    noise = noise or KeypointNoise()
    out = np.zeros((len(points), points.shape[1], N_CHANNELS), np.float32)
    handless = rng is not None and rng.random() < noise.no_hands
    for t, frame in enumerate(points):
        present = frame[:, 2] > 0.5
        xy = frame[:, :2].astype(np.float64)
        confidence = np.ones(len(frame))
        if rng is not None:
            if rng.random() < noise.drop_frame:
                continue
            if rng.random() < noise.swap_hands:
                hands = np.r_[RIGHT_HAND:RIGHT_HAND + HAND_POINTS, LEFT_HAND:LEFT_HAND + HAND_POINTS]
                order = np.r_[:LEFT_HAND, hands]
                xy, present = xy[order], present[order]
            present = present.copy()
            present[:BODY_POINTS] &= rng.random(BODY_POINTS) >= noise.drop_point
            for base in (LEFT_HAND, RIGHT_HAND):
                if handless or rng.random() < noise.drop_hand:
                    present[base:base + HAND_POINTS] = False
            confidence = rng.uniform(*noise.confidence, len(frame))
        body = present[:BODY_POINTS]
        if body.sum() < 4:  # the front end keeps no body it cannot see
            continue
        left, top, side = body_region(xy[:BODY_POINTS][body], width, height)
        centre = np.array([left + side / 2, top + side / 2])
        if rng is not None:
            centre = centre + rng.normal(0, noise.box * side, 2)
            side = side * float(np.exp(rng.normal(0, noise.box)))
            xy = xy + rng.normal(0, noise.jitter * side, xy.shape)
        out[t] = normalize_to_roi(xy, confidence, present, centre, side)
    return out
