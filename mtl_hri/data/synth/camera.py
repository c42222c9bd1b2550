"""What the camera adds to a rendered clip: a little shake, photometric drift, blur and sensor noise.

The shake is geometric, so the keypoints follow it.
"""
from __future__ import annotations

import cv2
import numpy as np


def _wobble(n: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth random signal in [-1, 1]: a few sinusoids of random frequency (0.3-3 Hz) and phase."""
    t = np.arange(n) / fps
    sig = sum(rng.normal() * np.sin(2 * np.pi * rng.uniform(0.3, 3.0) * t + rng.uniform(0, 2 * np.pi))
              for _ in range(3))
    return sig / max(np.abs(sig).max(), 1e-9)


def _jitter(n: int, width: int, height: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """(n, 2, 3) small affine camera jitter per frame: shift, rotation and zoom about the frame centre."""
    px = width / 320
    shift = rng.uniform(0, 2.5) * px
    tx, ty = shift * _wobble(n, fps, rng), shift * _wobble(n, fps, rng)
    rot, zoom = rng.uniform(0, 0.7) * _wobble(n, fps, rng), 1 + rng.uniform(0, 0.01) * _wobble(n, fps, rng)
    centre = ((width - 1) / 2, (height - 1) / 2)
    mats = np.stack([cv2.getRotationMatrix2D(centre, float(a), float(z)) for a, z in zip(rot, zoom)])
    mats[:, :, 2] += np.stack([tx, ty], 1)
    return mats


def in_frame(xy: np.ndarray, width: int, height: int) -> np.ndarray:
    """Tell which (..., 2) pixel positions lie inside a frame of that size."""
    return ((xy >= 0) & (xy <= [width - 1, height - 1])).all(-1)


def shake(frames: np.ndarray, hands: np.ndarray, visible: np.ndarray, fps: float, rng: np.random.Generator,
          keypoints: np.ndarray | None = None) -> None:
    """Warp every frame by its jitter, in place, and move the hand keypoints (and the landmarks' x, y) with it.

    A hand pushed out of the frame is no longer visible.
    """
    n, height, width = frames.shape[:3]
    for t, mat in enumerate(_jitter(n, width, height, fps, rng)):
        frames[t] = cv2.warpAffine(frames[t], mat, (width, height), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REFLECT101)
        hands[t] = hands[t] @ mat[:, :2].T + mat[:, 2]
        if keypoints is not None:
            keypoints[t, :, :2] = keypoints[t, :, :2] @ mat[:, :2].T + mat[:, 2]
    visible &= in_frame(hands, width, height)


def photometric(frames: np.ndarray, rng: np.random.Generator) -> None:
    """In place: brightness/contrast/colour drift over the clip, Gaussian or motion blur, sensor noise."""
    n = len(frames)
    gain = np.linspace(rng.uniform(0.75, 1.2), rng.uniform(0.75, 1.2), n)
    contrast = np.linspace(rng.uniform(0.8, 1.15), rng.uniform(0.8, 1.15), n)
    cast = rng.uniform(0.92, 1.08, 3).astype(np.float32)
    noise = rng.uniform(1.0, 6.0)
    kernel = None
    blur = rng.random()
    if blur < 0.35:  # motion blur: a short line at a random angle
        size = int(rng.integers(3, 6)) | 1
        kernel = np.zeros((size, size), np.float32)
        cv2.line(kernel, (0, size // 2), (size - 1, size // 2), 1.0, 1)
        rot = cv2.getRotationMatrix2D(((size - 1) / 2, (size - 1) / 2), rng.uniform(0, 180), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (size, size))
        kernel /= kernel.sum()
    sigma = rng.uniform(0.4, 1.1) if 0.35 <= blur < 0.7 else 0.0
    for t in range(n):
        f = frames[t].astype(np.float32)
        mean, colour = f.mean(), (gain[t] * cast).astype(np.float32)
        f *= contrast[t] * colour  # ((f - mean) * contrast + mean) * colour, in place
        f += mean * (1 - contrast[t]) * colour
        if kernel is not None:
            f = cv2.filter2D(f, -1, kernel, borderType=cv2.BORDER_REFLECT101)
        elif sigma:
            f = cv2.GaussianBlur(f, (0, 0), sigma)
        f += noise * rng.standard_normal(f.shape, dtype=np.float32)
        np.rint(f, out=f)
        frames[t] = np.clip(f, 0, 255, out=f)
