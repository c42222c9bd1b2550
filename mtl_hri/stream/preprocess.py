"""Frame preprocessing from the model card's input spec: resize, centre crop, normalise."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from ..model.config import InputSpec


@dataclass(frozen=True)
class FrameGeometry:
    """Maps between source-image and crop coordinates."""

    src_width: int
    src_height: int
    scale: float  # resized = source * scale
    x0: int  # crop origin in the resized image
    y0: int

    def to_source(self, xy_crop: np.ndarray) -> np.ndarray:
        """Continuous crop coordinates (pixel i spans [i, i+1)) -> source pixel coordinates (centre of pixel i is i)."""
        return (xy_crop + np.array([self.x0, self.y0])) / self.scale - 0.5

    def to_crop(self, xy_source: np.ndarray) -> np.ndarray:
        """Inverse of `to_source`: source pixel coordinates -> continuous crop coordinates."""
        return (xy_source + 0.5) * self.scale - np.array([self.x0, self.y0])


def scaled_size(width: int, height: int, scale: float, size: int) -> tuple[int, int]:
    """(width, height) of the scaled image; never smaller than the `size` crop."""
    return max(size, round(width * scale)), max(size, round(height * scale))


def geometry_for(width: int, height: int, spec: InputSpec) -> FrameGeometry:
    scale = spec.resize / min(width, height)
    rw, rh = scaled_size(width, height, scale, spec.size)
    return FrameGeometry(width, height, scale, (rw - spec.size) // 2, (rh - spec.size) // 2)


def resize_crop(
    rgb: np.ndarray, spec: InputSpec, geometry: FrameGeometry | None = None
) -> tuple[np.ndarray, FrameGeometry]:
    """(H, W, 3) uint8 -> (size, size, 3) uint8 crop of the scaled image.

    By default the short side is scaled to `resize` and the centre cropped (`geometry_for`); training
    passes its own `geometry` (scale jitter, random crop origin) so both share one pixel path.
    """
    h, w = rgb.shape[:2]
    g = geometry if geometry is not None else geometry_for(w, h, spec)
    rw, rh = scaled_size(w, h, g.scale, spec.size)
    resized = cv2.resize(rgb, (rw, rh), interpolation=cv2.INTER_AREA if g.scale < 1 else cv2.INTER_LINEAR)
    return resized[g.y0 : g.y0 + spec.size, g.x0 : g.x0 + spec.size], g


class Normalizer:
    """uint8 (T, H, W, 3) frames (numpy, or a tensor already uploaded) -> normalised float (1, T, 3, H, W) on the device."""

    def __init__(self, spec: InputSpec, device: torch.device) -> None:
        self.device = device
        self.mean = torch.tensor(spec.mean, device=device).view(1, 1, 3, 1, 1) * 255
        self.inv_std = 1 / (torch.tensor(spec.std, device=device).view(1, 1, 3, 1, 1) * 255)

    def __call__(self, frames: np.ndarray | torch.Tensor) -> torch.Tensor:
        x = (torch.from_numpy(frames) if isinstance(frames, np.ndarray) else frames).to(self.device, non_blocking=True)
        x = x.permute(0, 3, 1, 2).unsqueeze(0).float()
        return (x - self.mean) * self.inv_std
