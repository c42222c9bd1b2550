"""Drawing: parts projected orthographically and painted far to near into the RGB frame and a part-id map.

The frame is anti-aliased; the part-id map, aliased, says which part each pixel shows (for hand visibility).
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from .figure import BODY_ID, HAND_IDS, Part

SHIFT = 4  # fractional bits of cv2 drawing coordinates: sub-pixel placement
ONE = 1 << SHIFT


def _fix(pts: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(pts) * ONE).astype(np.int32)


class Painter:
    """Draws parts anti-aliased into the RGB frame and, aliased, into a part-id map (for occlusion)."""

    def __init__(self, frame: np.ndarray, scale: float, origin: tuple[float, float]):
        self.rgb = frame
        self.ids = np.zeros(frame.shape[:2], np.uint8)
        self.scale, self.origin = scale, origin

    def project(self, pts: np.ndarray) -> np.ndarray:
        """World (n, 3) -> pixels (n, 2): orthographic, y up -> rows down."""
        return np.stack([self.origin[0] + self.scale * pts[:, 0], self.origin[1] - self.scale * pts[:, 1]], 1)

    def draw(self, part: Part) -> None:
        px, r = self.project(part.points), part.radius * self.scale
        match part.kind:
            case "capsule":
                self._capsule(px[0], px[1], r, part.colour, part.pid)
            case "poly":
                hull = cv2.convexHull(px.astype(np.float32)).reshape(-1, 2)
                self._each(lambda img, col, line: cv2.fillConvexPoly(img, _fix(hull), col, line, SHIFT),
                           part.colour, part.pid)
            case "head":
                self._head(px[0], r, part.axes, part.colour, part.hair)
            case "hand":
                self._hand(px[0], px[1], r, part.style, part.colour, part.pid)

    def _each(self, fn: Callable, colour: tuple[int, int, int], pid: int) -> None:
        fn(self.rgb, colour, cv2.LINE_AA)
        fn(self.ids, pid, cv2.LINE_8)

    def _disc(self, c: np.ndarray, r: float, colour: tuple[int, int, int], pid: int) -> None:
        self._each(lambda img, col, line: cv2.circle(img, tuple(_fix(c)), int(round(r * ONE)), col, -1, line, SHIFT),
                   colour, pid)

    def _capsule(self, p: np.ndarray, q: np.ndarray, r: float, colour: tuple[int, int, int], pid: int) -> None:
        self._disc(p, r, colour, pid)
        self._disc(q, r, colour, pid)
        d = q - p
        n = float(np.hypot(*d))
        if n > 1e-6:
            normal = np.array([-d[1], d[0]]) / n * r
            quad = _fix([p + normal, q + normal, q - normal, p - normal])
            self._each(lambda img, col, line: cv2.fillConvexPoly(img, quad, col, line, SHIFT), colour, pid)

    def _hand(self, c: np.ndarray, wrist: np.ndarray, r: float, style: str, colour: tuple[int, int, int],
              pid: int) -> None:
        """Palm disc centred on the keypoint, plus fingers/thumb for the gesture's hand shape."""
        d = c - wrist
        length = float(np.hypot(*d))
        along = d / length if length > 0.3 * r else np.array([0.0, -1.0])  # fingers' direction
        if style == "palm":  # open palm facing the camera, fingers up, drawn larger
            r, along = 1.5 * r, np.array([0.0, -1.0])
        self._disc(c, r, colour, pid)
        if style in ("open", "palm"):
            for deg, length in ((-24, 0.9), (-8, 1.0), (8, 0.95), (24, 0.8), (75, 0.75)):
                a = np.radians(deg)
                f = np.array([along[0] * np.cos(a) - along[1] * np.sin(a), along[0] * np.sin(a) + along[1] * np.cos(a)])
                self._capsule(c + 0.6 * r * f, c + (0.6 + length) * r * f, 0.22 * r, colour, pid)
        elif style == "point":
            self._capsule(c, c + 1.9 * r * along, 0.28 * r, colour, pid)
        elif style == "thumb":
            self._capsule(c + [0, -0.5 * r], c + [0, -1.9 * r], 0.32 * r, colour, pid)

    def _head(self, c: np.ndarray, r: float, axes: np.ndarray, skin: tuple[int, int, int],
              hair_rgb: tuple[int, int, int]) -> None:
        """Draw a shaded sphere: face where it points forward, hair at the back and top, two eyes.

        Seeing the face or the back of the head is what makes facing and turning readable.
        """
        x0, y0 = int(np.floor(c[0] - r - 1)), int(np.floor(c[1] - r - 1))
        x1, y1 = int(np.ceil(c[0] + r + 2)), int(np.ceil(c[1] + r + 2))
        h, w = self.ids.shape
        ys, xs = np.mgrid[max(y0, 0):min(y1, h), max(x0, 0):min(x1, w)]
        if xs.size == 0:
            return
        dx, dy = (xs - c[0]) / r, (ys - c[1]) / r
        rho = np.hypot(dx, dy)
        normal = np.stack([dx, -dy, np.sqrt(np.clip(1 - rho**2, 0, 1))], -1)  # world: x right, y up, z to camera
        forward, up, left = axes
        nf, nu = normal @ forward, normal @ up
        hair = (nu > 0.45) | (nf < -0.05) | ((nf < 0.25) & (nu > 0.1))
        colour = np.where(hair[..., None], np.array(hair_rgb, np.float32), np.array(skin, np.float32))
        eyes = np.zeros_like(hair)
        for out in (1, -1):
            e = forward * 0.95 + up * 0.08 + left * 0.3 * out
            eyes |= normal @ (e / np.linalg.norm(e)) > 0.985
        colour[eyes & ~hair] = (30, 25, 25)
        alpha = np.clip(r * (1 - rho) + 0.5, 0, 1)[..., None]
        roi = self.rgb[ys[0, 0]:ys[-1, 0] + 1, xs[0, 0]:xs[0, -1] + 1]
        roi[:] = np.round(roi * (1 - alpha) + colour * alpha).astype(np.uint8)
        self.ids[ys[0, 0]:ys[-1, 0] + 1, xs[0, 0]:xs[0, -1] + 1][rho <= 1] = BODY_ID

    def visible(self, hands_px: np.ndarray, radius_px: float) -> np.ndarray:
        """Tell which hands are visible: a hand is iff its own part was drawn last on the 3x3 pixels around it.

        The 3x3 pixels keep the keypoint off an occluder's edge; hands too small to hold 3x3 use the centre pixel.
        """
        k = 1 if radius_px >= 2.5 else 0
        h, w = self.ids.shape
        out = np.zeros(2, bool)
        for side, (x, y) in enumerate(hands_px):
            col, row = int(round(x)), int(round(y))
            if k <= row < h - k and k <= col < w - k:
                block = self.ids[row - k:row + k + 1, col - k:col + k + 1]
                out[side] = (block == HAND_IDS[side]).all()
        return out


def shadow(frame: np.ndarray, centre: np.ndarray, width: float) -> None:
    """Soft contact shadow on the ground (darkens the scene under the feet)."""
    rx, ry = width / 2, width / 8
    x0, x1 = int(max(centre[0] - 2 * rx, 0)), int(min(centre[0] + 2 * rx + 1, frame.shape[1]))
    y0, y1 = int(max(centre[1] - 2 * ry, 0)), int(min(centre[1] + 2 * ry + 1, frame.shape[0]))
    if x1 <= x0 or y1 <= y0:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1]
    dark = 1 - 0.35 * np.exp(-(((xs - centre[0]) / rx) ** 2 + ((ys - centre[1]) / ry) ** 2) * 1.5)
    frame[y0:y1, x0:x1] = np.round(frame[y0:y1, x0:x1] * dark[..., None]).astype(np.uint8)
