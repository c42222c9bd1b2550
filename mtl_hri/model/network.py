"""Multi-task networks: a trunk shared by action and gesture heads and a hand head."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .config import ArchConfig
from .heads import ClassificationHead, HandHead
from .tsm import TSMMobileNetV2


@dataclass
class MTLOutput:
    logits: dict[str, torch.Tensor]  # task -> (B, n_classes)
    hand_heatmaps: torch.Tensor | None  # (B, T, 2, h, w), normalised
    hand_coords: torch.Tensor | None  # (B, T, 2, 2) in [-1, 1], hand 0 = left
    hand_visibility: torch.Tensor | None  # (B, T, 2) logits


class HardSharingMTL(nn.Module):
    """Hard parameter sharing: one per-frame trunk, one head per task."""

    def __init__(self, arch: ArchConfig, n_classes: dict[str, int], pretrained: bool = True) -> None:
        super().__init__()
        self.trunk = TSMMobileNetV2(arch.shift_fold_div, pretrained=pretrained)
        c = self.trunk.out_channels
        self.heads = nn.ModuleDict({task: ClassificationHead(c, n, arch.dropout) for task, n in n_classes.items()})
        self.hands = HandHead(self.trunk.low_channels, c) if arch.hand_head else None

    def forward(self, clip: torch.Tensor) -> MTLOutput:
        """clip: (B, T, 3, H, W), normalised."""
        b, t = clip.shape[:2]
        low, high = self.trunk(clip.flatten(0, 1), t)
        pooled = high.mean(dim=(-2, -1))  # (B*T, C)
        clip_features = pooled.view(b, t, -1).mean(dim=1)
        logits = {task: head(clip_features) for task, head in self.heads.items()}
        if self.hands is None:
            return MTLOutput(logits, None, None, None)
        heatmaps, coords, vis = self.hands(low, high, pooled)
        return MTLOutput(
            logits,
            heatmaps.view(b, t, *heatmaps.shape[1:]),
            coords.view(b, t, *coords.shape[1:]),
            vis.view(b, t, -1),
        )
