"""Task heads on canonical (B, C, T, H, W) features: clip classification, DSNT hands, task gate."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .dsnt import dsnt, spatial_softmax

N_HANDS = 2  # 0 = left, 1 = right
GATE_CLASSES = ("action", "gesture", "none")


def global_pool(high: torch.Tensor) -> torch.Tensor:
    """(B, C, T, H, W) -> (B, C)."""
    return high.mean(dim=(2, 3, 4))


class ClassificationHead(nn.Module):
    """Global average pooling, dropout, linear classifier; class 0 is `none`."""

    def __init__(self, in_channels: int, n_classes: int, dropout: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_channels, n_classes)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(pooled))


class HandHead(nn.Module):
    """Left/right heatmaps per temporal slice of the last feature map, DSNT coordinates and visibility.

    Deep features are projected and upsampled onto the stride-8 map, so the heatmap has both
    semantics and resolution. The low map is pooled in time to the deep map's slices.
    """

    def __init__(self, low_channels: int, high_channels: int, mid: int = 64) -> None:
        super().__init__()
        self.project = nn.Sequential(nn.Conv2d(high_channels, mid, 1, bias=False), nn.BatchNorm2d(mid),
                                     nn.ReLU(inplace=True))
        self.fuse = nn.Sequential(
            nn.Conv2d(mid + low_channels, mid, 3, padding=1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True)
        )
        self.heatmap = nn.Conv2d(mid, N_HANDS, 1)
        self.visibility = nn.Linear(high_channels, N_HANDS)

    def forward(self, low: torch.Tensor, high: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Map low (B, Cl, Tl, h, w) and high (B, C, S, H', W') features to heatmaps, coords and visibility.

        Heatmaps are (B, S, 2, h, w), coords (B, S, 2, 2), vis (B, S, 2).
        """
        b, _, s = high.shape[:3]
        if low.shape[2] != s:
            low = F.adaptive_avg_pool3d(low, (s, *low.shape[-2:]))
        heatmaps, coords, vis = self.per_slice(low.transpose(1, 2).flatten(0, 1), high.transpose(1, 2).flatten(0, 1))
        return heatmaps.view(b, s, *heatmaps.shape[1:]), coords.view(b, s, N_HANDS, 2), vis.view(b, s, N_HANDS)

    def per_slice(self, low: torch.Tensor, high: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Slices folded into the batch: low (N, Cl, h, w), high (N, C, H', W')."""
        up = F.interpolate(self.project(high), size=low.shape[-2:], mode="bilinear", align_corners=False)
        heatmaps = spatial_softmax(self.heatmap(self.fuse(torch.cat([up, low], dim=1))))
        return heatmaps, dsnt(heatmaps), self.visibility(high.mean(dim=(-2, -1)))


class GateHead(nn.Module):
    """Which task (action / gesture / none) a clip shows. Reported, never used to route."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_channels, len(GATE_CLASSES))

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.fc(pooled)
