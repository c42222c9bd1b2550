"""The exact landmarks of a rendered figure, in the front end's topology (`mtl_hri.model.keypoints`).

BlazePose's 33 body points come from the figure's joints and head; each hand's 21 points from an articulated hand:
per-finger curl and spread on a palm turned by the hand shape (MediaPipe's hand topology: the wrist, then the
thumb's CMC, MCP, IP and tip, then each finger's MCP, PIP, DIP and tip, index to pinky).

Units are the figure's (standing height); the world is the figure's (x image right, y up, z toward the camera).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...model.keypoints import HAND_POINTS, LEFT_HAND, N_POINTS, RIGHT_HAND
from .figure import LEFT, OUTWARD, RIGHT, Body, Figure


@dataclass(frozen=True)
class HandShape:
    """How a hand is held: curl of each digit (0 straight, 1 fully bent), spread and how the palm is turned."""

    curl: tuple[float, float, float, float, float]  # thumb, index, middle, ring, pinky
    spread: float = 8.0  # degrees between neighbouring fingers
    facing: str = "forward"  # where the palm faces: "forward" (the body's front), "medial" (the body's midline)
    along: str = "forearm"  # where the fingers point: "forearm" (on from the forearm), "up" (the world's up)
    thumb: str = ""  # "up" / "down": the fist is turned so that the thumb points that way (thumbs up / down)


SHAPES = {
    "fist": HandShape((0.8, 1.0, 1.0, 1.0, 1.0), 2.0, "medial"),
    "open": HandShape((0.1, 0.1, 0.1, 0.15, 0.2), 8.0),
    "palm": HandShape((0.0, 0.0, 0.0, 0.0, 0.0), 10.0, along="up"),  # open palm toward the camera: stop
    "point": HandShape((0.8, 0.0, 1.0, 1.0, 1.0), 2.0, "medial"),  # the index along the forearm
    "thumb": HandShape((0.0, 1.0, 1.0, 1.0, 1.0), 2.0, thumb="up"),
    "thumb_down": HandShape((0.0, 1.0, 1.0, 1.0, 1.0), 2.0, thumb="down"),
    "victory": HandShape((0.9, 0.0, 0.0, 1.0, 1.0), 14.0, along="up"),
    "point_up": HandShape((0.9, 0.0, 1.0, 1.0, 1.0), 2.0, along="up"),
    "love": HandShape((0.0, 0.0, 1.0, 1.0, 0.0), 12.0, along="up"),  # thumb, index and pinky out: ILY
}

# In palm radii (Body.hand): each finger's knuckle (MCP) along the palm and across it (toward the thumb), and its
# three bones; the thumb's base (CMC) and its three bones. Proportions of an adult hand.
KNUCKLES = ((2.0, 0.75), (2.05, 0.25), (1.95, -0.25), (1.8, -0.72))
FINGER_BONES = ((0.85, 0.5, 0.4), (0.95, 0.57, 0.42), (0.88, 0.53, 0.4), (0.68, 0.4, 0.35))
THUMB_BASE = (0.45, 0.55)
THUMB_BONES = (0.75, 0.6, 0.5)
FLEX = (80.0, 100.0, 70.0)  # degrees at each finger joint when fully curled (MCP, PIP, DIP)
THUMB_FLEX = (45.0, 60.0, 60.0)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _rotate(v: np.ndarray, axis: np.ndarray, degrees: float) -> np.ndarray:
    """Rodrigues' rotation of `v` about the unit `axis`."""
    a = np.radians(degrees)
    return v * np.cos(a) + np.cross(axis, v) * np.sin(a) + axis * np.dot(axis, v) * (1 - np.cos(a))


def _orthogonal(v: np.ndarray, to: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Return the part of `v` orthogonal to the unit `to`, made unit (`fallback` where nothing is left)."""
    rest = v - np.dot(v, to) * to
    return _unit(rest) if np.linalg.norm(rest) > 1e-6 else _orthogonal(fallback, to, np.array([1.0, 0.0, 0.0]))


def sign_of(side: int) -> float:
    """+1 for the right hand, -1 for the left: rotations about the palm's normal mirror between the hands."""
    return 1.0 if side == RIGHT else -1.0


def hand_frame(side: int, wrist: np.ndarray, centre: np.ndarray, shape: HandShape, axes: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return unit (along, thumb, normal): where the fingers point, the thumb's side, where the palm faces.

    `axes` are the body's world left, up and forward. The thumb is on the side given by the hand (the right hand's
    is along x normal, the left's the opposite), so a mirrored pose mirrors the hand.
    """
    left, up, forward = axes
    sign = sign_of(side)
    along = _unit(centre - wrist)
    if shape.along == "up":
        along = np.array([0.0, 1.0, 0.0])
    if shape.thumb:
        thumb = _orthogonal(np.array([0.0, 1.0 if shape.thumb == "up" else -1.0, 0.0]), along, forward)
        normal = sign * np.cross(thumb, along)
        return along, thumb, normal
    facing = forward if shape.facing == "forward" else -OUTWARD[side] * left
    normal = _orthogonal(facing, along, forward)
    return along, sign * np.cross(along, normal), normal


def hand_landmarks(side: int, wrist: np.ndarray, centre: np.ndarray, shape: HandShape, axes: np.ndarray,
                   palm: float) -> np.ndarray:
    """(21, 3) world points of one hand: the wrist at `wrist`, the palm centre toward `centre`, `palm` its radius."""
    along, thumb, normal = hand_frame(side, wrist, centre, shape, axes)
    bend = np.cross(along, normal)  # fingers bend about this axis, toward the palm's side (+normal)
    points = [wrist]
    base = wrist + palm * (THUMB_BASE[0] * along + THUMB_BASE[1] * thumb)
    direction = _unit(0.5 * along + thumb)  # straight, the thumb stands out from the palm, abducted
    points.append(base)
    for bone, flex in zip(THUMB_BONES, THUMB_FLEX):
        # curled, the thumb folds across the palm: toward the palm's side and toward the little finger
        direction = _unit(_rotate(direction, normal, sign_of(side) * shape.curl[0] * flex * 0.6)
                          + shape.curl[0] * 0.4 * normal)
        points.append(points[-1] + palm * bone * direction)
    for finger, ((at, across), bones) in enumerate(zip(KNUCKLES, FINGER_BONES)):
        knuckle = wrist + palm * (at * along + across * thumb)
        spread = (1.5 - finger) * shape.spread  # index toward the thumb, pinky away
        direction = _rotate(along, normal, -sign_of(side) * spread)
        points.append(knuckle)
        for bone, flex in zip(bones, FLEX):
            direction = _rotate(direction, bend, shape.curl[finger + 1] * flex)
            points.append(points[-1] + palm * bone * direction)
    return np.stack(points)


def figure_landmarks(body: Body, figure: Figure, hands: list[str]) -> np.ndarray:
    """(N_POINTS, 3) world points of the figure: BlazePose's 33, then the left and the right hand's 21.

    `hands` are the pose's hand shapes per side (names of SHAPES).
    """
    j, (left, up, forward) = figure.joints, figure.axes
    points = np.zeros((N_POINTS, 3))
    hand = {}
    for side, base in ((LEFT, LEFT_HAND), (RIGHT, RIGHT_HAND)):
        hand[side] = hand_landmarks(side, j[f"wrist{side}"], j[f"hand{side}"], SHAPES[hands[side]], figure.axes,
                                    body.hand)
        points[base:base + HAND_POINTS] = hand[side]
    c, r = j["head"], body.head_r
    face = {0: (0.98, 0.0, 0.0), 1: (0.84, 0.28, 0.16), 2: (0.8, 0.3, 0.32), 3: (0.72, 0.28, 0.46),
            7: (0.0, 0.1, 0.98), 9: (0.8, -0.42, 0.22)}  # forward, up, left in head radii; left side points
    mirror = {1: 4, 2: 5, 3: 6, 7: 8, 9: 10}
    for i, (f, u, lft) in face.items():
        points[i] = c + r * (f * forward + u * up + lft * left)
        if i in mirror:
            points[mirror[i]] = c + r * (f * forward + u * up - lft * left)
    for side in (LEFT, RIGHT):
        for offset, joint in enumerate(("shoulder", "elbow", "wrist")):
            points[11 + 2 * offset + side] = j[f"{joint}{side}"]
        points[17 + side], points[19 + side], points[21 + side] = hand[side][17], hand[side][5], hand[side][4]
        for offset, joint in enumerate(("hip", "knee", "ankle", "heel", "toe")):
            points[23 + 2 * offset + side] = j[f"{joint}{side}"]
    return points
