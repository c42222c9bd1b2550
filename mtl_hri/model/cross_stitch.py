"""Soft sharing with cross-stitch units (Misra et al. 2016): one trunk column per task, mixed after chosen stages.

A unit after stage s replaces each task's stage output by a channel-wise linear combination of all
tasks' outputs, `x̃_i = Σ_j α_ij ⊙ x_j`, with α of shape (n_tasks, n_tasks, C_s). The mixed maps are
what the columns carry on, so a task's `low` (for the hand head) is its column's mixed output of
`low_stage` when a unit sits there.

α usually wants a higher learning rate than the columns. The one mechanism for that is
`cross_stitch_parameters()`: the trainer puts those parameters in their own optimizer group and every
other parameter of the model (columns, heads) in the base group, separating them by identity.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from .config import ArchConfig
from .sharing import TrunkFactory
from .trunk import TrunkFeatures


def cross_stitch_init(n_tasks: int, channels: int, self_weight: float, other_weight: float) -> torch.Tensor:
    """Return α (n, n, C): `self_weight` on the diagonal, `other_weight` split evenly over the n-1 other tasks.

    Each row then sums to self + other whatever the number of tasks (with (0.9, 0.1): a convex mix).
    """
    off = other_weight / (n_tasks - 1) if n_tasks > 1 else 0.0
    alpha = torch.full((n_tasks, n_tasks), off)
    alpha.fill_diagonal_(self_weight)
    return alpha.unsqueeze(-1).repeat(1, 1, channels)


def cross_stitch(alpha: torch.Tensor, xs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """x̃_i = Σ_j α_ij ⊙ x_j; α (n, n, C) acts on dim 1 (channels) of every x, in any layout.

    Written as plain products and sums so that α at the identity returns each x_i bit for bit.
    """
    shape = (1, -1) + (1,) * (xs[0].dim() - 2)
    return [sum(alpha[i, j].view(shape) * x for j, x in enumerate(xs)) for i in range(len(xs))]


class CrossStitchUnit(nn.Module):
    def __init__(self, n_tasks: int, channels: int, init: tuple[float, float]) -> None:
        super().__init__()
        self.alpha = nn.Parameter(cross_stitch_init(n_tasks, channels, *init))

    def forward(self, xs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        return cross_stitch(self.alpha, xs)


def unit_stages(requested: Sequence[int], n_stages: int) -> list[int]:
    """Stages followed by a unit: the requested ones, or (none requested) every stage but the last."""
    stages = sorted(set(requested)) if requested else list(range(n_stages - 1))
    bad = [s for s in stages if not 0 <= s < n_stages]
    if bad:
        raise ValueError(f"cross_stitch_stages {bad} outside the trunk's stages 0..{n_stages - 1}")
    return stages


class CrossStitchSharing(nn.Module):
    def __init__(self, make_trunk: TrunkFactory, tasks: list[str], arch: ArchConfig) -> None:
        super().__init__()
        self.tasks = tasks
        self.columns = nn.ModuleList(make_trunk() for _ in tasks)
        first = self.columns[0]
        self.n_stages = len(first.stages)
        channels = first.stage_channels()
        # keys are stage indices as strings (ModuleDict keys must be str)
        self.units = nn.ModuleDict({
            str(s): CrossStitchUnit(len(tasks), channels[s], arch.cross_stitch_init)
            for s in unit_stages(arch.cross_stitch_stages, self.n_stages)
        })
        self.out_channels, self.low_channels = first.out_channels, first.low_channels

    def cross_stitch_parameters(self) -> list[nn.Parameter]:
        """Return the α of every unit, for their own learning-rate group (see the module docstring)."""
        return [unit.alpha for unit in self.units.values()]

    def forward(self, clip: torch.Tensor) -> dict[str, TrunkFeatures]:
        starts = [column.begin(clip) for column in self.columns]
        contexts = [ctx for _, ctx in starts]
        xs = lows = [x for x, _ in starts]
        for i in range(self.n_stages):
            xs = [column.run_stage(i, x, ctx) for column, x, ctx in zip(self.columns, xs, contexts)]
            if str(i) in self.units:
                xs = self.units[str(i)](xs)
            if i == self.columns[0].low_stage:
                lows = xs
        return {
            task: TrunkFeatures(column.canonical(low, ctx), column.canonical(x, ctx))
            for task, column, low, x, ctx in zip(self.tasks, self.columns, lows, xs, contexts)
        }
