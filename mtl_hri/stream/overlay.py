"""The debug overlay: decided labels, a bar chart of top probabilities, hand points with trails."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import cv2
import numpy as np

HAND_COLOURS = ((255, 80, 80), (80, 160, 255))  # left red, right blue (RGB)
# Skeleton2D (COCO-18) limbs: neck-nose, arms, torso to hips, legs, eyes and ears.
LIMBS = ((1, 0), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12),
         (12, 13), (0, 14), (14, 16), (0, 15), (15, 17))


@dataclass
class BodyMark:
    """One tracked body as the overlay draws it."""

    id: str
    box: np.ndarray  # (x0, y0, x1, y1) source pixels
    skeleton: np.ndarray  # (18, 3) x, y, confidence
    hands: list[np.ndarray]  # (21, >=2) points per hand found
    text: str  # its latest labels
    primary: bool = False  # the body the plain topics describe


@dataclass
class OverlayInfo:
    decisions: dict[str, tuple[str, float]]  # task -> (label, smoothed score)
    probs: dict[str, tuple[list[str], np.ndarray]]  # task -> (labels, window probabilities)
    trails: Sequence[Sequence[tuple[float, float, float]]]  # per hand: recent (x, y, confidence)
    lines: list[str] = field(default_factory=list)  # free text: window fill, latency, ...
    bodies: list[BodyMark] = field(default_factory=list)


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float, colour=(255, 255, 255)) -> None:
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)


def draw_overlay(rgb: np.ndarray, info: OverlayInfo, top_k: int = 3) -> np.ndarray:
    """Return a new RGB image with the overlay drawn on a copy of `rgb`."""
    img = np.ascontiguousarray(rgb).copy()
    h, w = img.shape[:2]
    s = max(0.4, min(w, h) / 900)
    line = int(28 * s / 0.6)
    y = line
    for task, (label, score) in info.decisions.items():
        _text(img, f"{task}: {label} ({score:.2f})", (8, y), s * 1.1, (255, 255, 0))
        y += line
        labels, probs = info.probs[task]
        for i in np.argsort(probs)[::-1][:top_k]:
            bar = int(probs[i] * w * 0.25)
            cv2.rectangle(img, (8, y - line // 2), (8 + bar, y), (0, 200, 0), -1)
            _text(img, f"{labels[i]} {probs[i]:.2f}", (12 + int(w * 0.25), y), s * 0.8)
            y += int(line * 0.8)
    for body in info.bodies:
        _draw_body(img, body, s)
    for text in info.lines:
        _text(img, text, (8, y), s * 0.8, (200, 200, 200))
        y += int(line * 0.8)
    for trail, colour in zip(info.trails, HAND_COLOURS):
        pts = [(int(round(x)), int(round(yy))) for x, yy, _ in trail]
        for a, b in zip(pts, pts[1:]):
            cv2.line(img, a, b, colour, max(1, int(2 * s)), cv2.LINE_AA)
        if pts:
            conf = trail[-1][2]
            cv2.circle(img, pts[-1], max(3, int(8 * s)), colour, -1 if conf >= 0.5 else max(1, int(2 * s)), cv2.LINE_AA)
    return img


def _draw_body(img: np.ndarray, body: BodyMark, s: float) -> None:
    colour = (255, 255, 0) if body.primary else (0, 255, 120)
    thick = max(1, int(2 * s))
    x0, y0, x1, y1 = (int(round(v)) for v in body.box)
    cv2.rectangle(img, (x0, y0), (x1, y1), colour, thick, cv2.LINE_AA)
    _text(img, f"{body.id} {body.text}", (x0, max(12, y0 - 4)), s * 0.7, colour)
    pts = body.skeleton
    for a, b in LIMBS:
        if pts[a, 2] >= 0.5 and pts[b, 2] >= 0.5:
            cv2.line(img, (int(pts[a, 0]), int(pts[a, 1])), (int(pts[b, 0]), int(pts[b, 1])), colour, thick,
                     cv2.LINE_AA)
    for hand in body.hands:
        for x, y in hand[:, :2]:
            cv2.circle(img, (int(x), int(y)), max(1, int(2 * s)), (255, 0, 255), -1, cv2.LINE_AA)
