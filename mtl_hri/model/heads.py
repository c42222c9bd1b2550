"""Task heads: clip classification and DSNT hand points."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .dsnt import dsnt, spatial_softmax

N_HANDS = 2  # 0 = left, 1 = right


class ClassificationHead(nn.Module):
    """Temporal average of per-frame pooled features, then a linear classifier."""

    def __init__(self, in_channels: int, n_classes: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_channels, n_classes)

    def forward(self, clip_features: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(clip_features))


class HandHead(nn.Module):
    """Per-frame left/right heatmaps at stride 8, DSNT coordinates and a visibility logit per hand.

    Deep (stride 32) features are projected and upsampled onto the stride-8 map, so the heatmap
    has both semantics and resolution.
    """

    def __init__(self, low_channels: int, high_channels: int, mid: int = 64) -> None:
        super().__init__()
        self.project = nn.Sequential(nn.Conv2d(high_channels, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True))
        self.fuse = nn.Sequential(
            nn.Conv2d(mid + low_channels, mid, 3, padding=1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True)
        )
        self.heatmap = nn.Conv2d(mid, N_HANDS, 1)
        self.visibility = nn.Linear(high_channels, N_HANDS)

    def forward(
        self, low: torch.Tensor, high: torch.Tensor, pooled: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """low (N, Cl, h, w), high (N, Ch, h', w'), pooled (N, Ch) -> heatmaps (N, 2, h, w), coords (N, 2, 2), vis (N, 2)."""
        up = F.interpolate(self.project(high), size=low.shape[-2:], mode="bilinear", align_corners=False)
        heatmaps = spatial_softmax(self.heatmap(self.fuse(torch.cat([up, low], dim=1))))
        return heatmaps, dsnt(heatmaps), self.visibility(pooled)
