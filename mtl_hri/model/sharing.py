"""Hard parameter sharing: one trunk whose features every task reads."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from .config import ArchConfig
from .trunk import StagedTrunk, TrunkFeatures

TrunkFactory = Callable[[], StagedTrunk]


class HardSharing(nn.Module):
    def __init__(self, make_trunk: TrunkFactory, tasks: list[str], arch: ArchConfig) -> None:
        super().__init__()
        self.trunk = make_trunk()
        self.tasks = tasks
        self.out_channels, self.low_channels = self.trunk.out_channels, self.trunk.low_channels

    def forward(self, clip: torch.Tensor) -> dict[str, TrunkFeatures]:
        features = self.trunk(clip)
        return {task: features for task in self.tasks}
