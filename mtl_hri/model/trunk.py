"""The trunk interface: a clip enters, passes a list of stages, and leaves as canonical 5D maps.

Sharing strategies (hard, cross-stitch, LWS) interleave task columns between stages, so every
trunk exposes its stages. Inside a stage a trunk may use any layout; `canonical` turns a stage
output into (B, C, T, H, W).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class Context:
    """Per-call facts a stage may need: the batch and frame count."""

    batch: int
    frames: int


@dataclass
class TrunkFeatures:
    low: torch.Tensor  # (B, Cl, Tl, h, w) at spatial stride <= 8, for the hand head
    high: torch.Tensor  # (B, C, S, H', W') the last feature map


class StagedTrunk(nn.Module):
    """Base class. Subclasses fill `stages` and set the channel counts and `low_stage`."""

    out_channels: int
    low_channels: int
    low_stage: int  # index of the stage whose output feeds the hand head
    stages: nn.ModuleList

    def begin(self, clip: torch.Tensor) -> tuple[torch.Tensor, Context]:
        """(B, T, 3, H, W) -> the first stage's input; default layout (B, 3, T, H, W) for 3D CNNs."""
        return clip.transpose(1, 2), Context(clip.shape[0], clip.shape[1])

    def run_stage(self, i: int, x: torch.Tensor, ctx: Context) -> torch.Tensor:
        return self.stages[i](x)

    def canonical(self, x: torch.Tensor, ctx: Context) -> torch.Tensor:
        """Reshape a stage output to (B, C, T, H, W)."""
        return x

    def stage_channels(self) -> list[int]:
        """Output channels of each stage (cross-stitch units need them)."""
        raise NotImplementedError

    def forward(self, clip: torch.Tensor) -> TrunkFeatures:
        x, ctx = self.begin(clip)
        low = x
        for i in range(len(self.stages)):
            x = self.run_stage(i, x, ctx)
            if i == self.low_stage:
                low = x
        return TrunkFeatures(self.canonical(low, ctx), self.canonical(x, ctx))
