"""Normalisation on the device, shared by the PyTorch engine and training: one source for both."""
from __future__ import annotations

import numpy as np
import torch

from ..model.config import InputSpec
from .preprocess import normalization


class Normalizer:
    """uint8 frames -> normalised float on the device, for the engines and for training alike.

    Keypoints come normalised to the person's region already (`model.keypoints.normalize_to_roi`): only made float.
    """

    def __init__(self, spec: InputSpec, device: torch.device) -> None:
        self.device = device
        self.keypoints = spec.modality == "keypoints"
        offset, scale = normalization(spec)
        self.offset = torch.from_numpy(offset).to(device).view(1, 1, 3, 1, 1)
        self.scale = torch.from_numpy(scale).to(device).view(1, 1, 3, 1, 1)

    def __call__(self, frames: np.ndarray | torch.Tensor) -> torch.Tensor:
        """(T, H, W, 3) frames (numpy, or a tensor already uploaded) -> (1, T, 3, H, W); keypoints (1, T, V, C)."""
        x = (torch.from_numpy(frames) if isinstance(frames, np.ndarray) else frames).to(self.device, non_blocking=True)
        return self.clips((x if self.keypoints else x.permute(0, 3, 1, 2)).unsqueeze(0))

    def clips(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, 3, H, W) uint8 on the device -> normalised float (keypoints: float)."""
        return x.float() if self.keypoints else (x.float() - self.offset) * self.scale
