"""The keypoint input of keypoint models: which points, in which order, with which channels. Imports no torch.

One frame of a person is (N_POINTS, N_CHANNELS): BlazePose's 33 body landmarks, then the person's left hand and
right hand in MediaPipe's 21-point hand topology (the models of the front end, `mtl_hri.perception`). Each point is
(x, y, confidence, present): x and y relative to the person's region (`normalize_to_roi`), confidence the landmark
model's visibility or presence, and present 1 where the point was seen. A point that was not seen is (0, 0, 0, 0):
the `present` channel tells the network so, and its graph convolutions average over present neighbours only.
"""
from __future__ import annotations

import numpy as np

BODY_POINTS = 33
HAND_POINTS = 21
LEFT_HAND = BODY_POINTS  # index of the left hand's wrist
RIGHT_HAND = BODY_POINTS + HAND_POINTS
N_POINTS = BODY_POINTS + 2 * HAND_POINTS
CHANNELS = ("x", "y", "confidence", "present")
N_CHANNELS = len(CHANNELS)

# BlazePose's skeleton (MediaPipe's POSE_CONNECTIONS) and the hand's (HAND_CONNECTIONS), by landmark index.
BODY_EDGES = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12), (11, 13), (13, 15),
    (15, 17), (15, 19), (15, 21), (17, 19), (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20), (11, 23),
    (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28), (27, 29), (28, 30), (29, 31), (30, 32), (27, 31),
    (28, 32),
)
HAND_EDGES = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11), (11, 12), (9, 13),
    (13, 14), (14, 15), (15, 16), (13, 17), (0, 17), (17, 18), (18, 19), (19, 20),
)
BODY_WRISTS = {"left": 15, "right": 16}
# The drawing leaves the face, the mouth and the torso apart; the graph joins them so that they inform each other.
FACE_LINKS = ((0, 11), (0, 12), (9, 0), (10, 0))


def edges() -> list[tuple[int, int]]:
    """Every edge of the person graph: the body's, the face links, each hand's, each body wrist to its hand's."""
    hands = [(base + a, base + b) for base in (LEFT_HAND, RIGHT_HAND) for a, b in HAND_EDGES]
    return [*BODY_EDGES, *FACE_LINKS, *hands, (BODY_WRISTS["left"], LEFT_HAND), (BODY_WRISTS["right"], RIGHT_HAND)]


def normalize_to_roi(xy: np.ndarray, confidence: np.ndarray, present: np.ndarray, center: np.ndarray,
                     size: float) -> np.ndarray:
    """Source-pixel points (N, 2) of one frame -> (N, N_CHANNELS) float32, x and y in units of the region's side.

    `center` (2,) and `size` are the person's square region (the crop's); absent points become all zeros.
    """
    if not size > 0:
        raise ValueError(f"the region's size must be > 0, not {size}")
    present = np.asarray(present, bool)
    out = np.zeros((len(xy), N_CHANNELS), np.float32)
    out[:, :2] = (np.asarray(xy, np.float64) - center) / size
    out[:, 2] = np.clip(confidence, 0.0, 1.0)
    out[:, 3] = 1.0
    out[~present] = 0.0
    return out
