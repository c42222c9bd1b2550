"""Rotated square regions of interest, the crops a landmark model sees, and the map back to source pixels."""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Roi:
    """A square of side `size` px centred at (cx, cy) in the source frame, turned by `angle` rad.

    `angle` is how far the region's "up" is turned clockwise from the image's up: the crop undoes it, so that a
    leaning body or a sideways hand reaches its model upright, as MediaPipe's landmark models were trained.
    """

    cx: float
    cy: float
    size: float
    angle: float = 0.0

    @staticmethod
    def around_box(box: np.ndarray, scale: float) -> "Roi":
        """Return the upright square around an (x0, y0, x1, y1) box, its long side times `scale`."""
        x0, y0, x1, y1 = (float(v) for v in box)
        return Roi((x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * scale)

    @staticmethod
    def aligned(centre: np.ndarray, towards: np.ndarray, size: float) -> "Roi":
        """Return a square at `centre` whose up points from `centre` to `towards` (both (x, y) px)."""
        dx, dy = float(towards[0] - centre[0]), float(towards[1] - centre[1])
        return Roi(float(centre[0]), float(centre[1]), size, math.atan2(dy, dx) + math.pi / 2)

    def matrix(self, out: int) -> np.ndarray:
        """Return the 2x3 affine map from source pixels to an `out`x`out` crop."""
        s = out / self.size
        c, n = math.cos(self.angle) * s, math.sin(self.angle) * s
        return np.array([[c, n, out / 2 - c * self.cx - n * self.cy],
                         [-n, c, out / 2 + n * self.cx - c * self.cy]])

    def to_source(self, points: np.ndarray, out: int) -> np.ndarray:
        """Map (N, 2) crop pixels of an `out` crop back to source pixels."""
        s = self.size / out
        c, n = math.cos(self.angle), math.sin(self.angle)
        u, v = (points[:, 0] - out / 2) * s, (points[:, 1] - out / 2) * s
        return np.stack([self.cx + c * u - n * v, self.cy + n * u + c * v], axis=1)

    def corners(self) -> np.ndarray:
        """Return the (4, 2) corners in source pixels."""
        half = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float) * 0.5 + 0.5
        return self.to_source(half, 1)

    def box(self) -> np.ndarray:
        """Return the axis-aligned (x0, y0, x1, y1) box around the region."""
        c = self.corners()
        return np.concatenate([c.min(0), c.max(0)])


def crop(rgb: np.ndarray, roi: Roi, out: int) -> np.ndarray:
    """Return the `out`x`out` float32 crop in [0, 1]; outside the frame is black, as in MediaPipe's crops."""
    patch = cv2.warpAffine(rgb, roi.matrix(out), (out, out), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return patch.astype(np.float32) * (1 / 255)
