"""The debug overlay: decided labels, a bar chart of top probabilities, hand points with trails."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import cv2
import numpy as np

HAND_COLOURS = ((255, 80, 80), (80, 160, 255))  # left red, right blue (RGB)


@dataclass
class OverlayInfo:
    decisions: dict[str, tuple[str, float]]  # task -> (label, smoothed score)
    probs: dict[str, tuple[list[str], np.ndarray]]  # task -> (labels, window probabilities)
    trails: Sequence[Sequence[tuple[float, float, float]]]  # per hand: recent (x, y, confidence)
    lines: list[str] = field(default_factory=list)  # free text: window fill, latency, ...


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
