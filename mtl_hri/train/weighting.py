"""Task weighting schemes: average, DWA, uncertainty.

They are the schemes compared by Spathis, Kardaris and Maragos, "Multi-task Learning For Joint Action and Gesture
Recognition" (2025).

All schemes *sum* weighted task losses. Average uses weight 1 per task, and DWA's weights sum to
K (the number of tasks), so both start from the same total and keep the same scale.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


class TaskWeighting(nn.Module):
    """Combines a dict of task losses into one scalar.

    ``forward`` accepts any subset of the configured tasks (a missing task adds nothing) and
    rejects unknown ones, so a loss never silently drops out of the total.
    """

    def __init__(self, tasks: Sequence[str]) -> None:
        super().__init__()
        if not tasks or len(set(tasks)) != len(tasks):
            raise ValueError(f"tasks must be non-empty and unique, got {list(tasks)}")
        self.tasks = tuple(tasks)

    def forward(self, losses: dict[str, torch.Tensor]) -> torch.Tensor:
        unknown = set(losses) - set(self.tasks)
        if unknown or not losses:
            raise KeyError(f"losses {sorted(losses)} must be a non-empty subset of tasks {list(self.tasks)}")
        terms = [self.term(i, losses[task]) for i, task in enumerate(self.tasks) if task in losses]
        return torch.stack(terms).sum()

    def term(self, index: int, loss: torch.Tensor) -> torch.Tensor:
        """Contribution of task ``self.tasks[index]`` to the total."""
        raise NotImplementedError

    def weights(self) -> dict[str, float]:
        """Return the current multiplier of each task's loss, for logging."""
        raise NotImplementedError

    def end_epoch(self, epoch_losses: dict[str, float]) -> None:
        """Take each task's mean loss over the epoch just ended (called once per epoch)."""


class AverageWeighting(TaskWeighting):
    """Equal weights: the plain sum of the task losses (the paper's "average")."""

    def term(self, index: int, loss: torch.Tensor) -> torch.Tensor:
        return loss

    def weights(self) -> dict[str, float]:
        return dict.fromkeys(self.tasks, 1.0)


def dwa_weights(previous: Sequence[float], before: Sequence[float], temperature: float) -> list[float]:
    """λ_k = K·exp(w_k/T) / Σ_i exp(w_i/T) with w_k = L_k(t−1) / L_k(t−2) (Liu et al. 2019)."""
    ratios = [p / max(b, 1e-12) for p, b in zip(previous, before)]
    # shifting by the max ratio leaves the softmax unchanged and cannot overflow
    top = max(ratios)
    exps = [math.exp((r - top) / temperature) for r in ratios]
    return [len(exps) * e / sum(exps) for e in exps]


class DWAWeighting(TaskWeighting):
    """Dynamic Weight Average: tasks whose loss fell least over the last epoch get more weight.

    λ_k = 1 for the first two epochs; from then on λ is set at each ``end_epoch`` from the two
    latest epoch mean losses. The history lives in buffers, so it survives a checkpoint.
    """

    def __init__(self, tasks: Sequence[str], temperature: float = 2.0) -> None:
        super().__init__(tasks)
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        self.temperature = temperature
        k = len(self.tasks)
        self.register_buffer("lambdas", torch.ones(k, dtype=torch.float64))
        self.register_buffer("history", torch.zeros(2, k, dtype=torch.float64))  # rows: L(t−2), L(t−1)
        self.register_buffer("epochs_seen", torch.zeros((), dtype=torch.long))

    def term(self, index: int, loss: torch.Tensor) -> torch.Tensor:
        return self.lambdas[index].to(loss.dtype) * loss

    def weights(self) -> dict[str, float]:
        return {task: float(w) for task, w in zip(self.tasks, self.lambdas)}

    def end_epoch(self, epoch_losses: dict[str, float]) -> None:
        missing = set(self.tasks) - set(epoch_losses)
        if missing:
            raise KeyError(f"end_epoch needs every task's epoch loss; missing {sorted(missing)}")
        latest = torch.tensor([float(epoch_losses[t]) for t in self.tasks], dtype=torch.float64)
        self.history.copy_(torch.stack([self.history[1], latest.to(self.history.device)]))
        self.epochs_seen += 1
        if int(self.epochs_seen) >= 2:
            new = dwa_weights(self.history[1].tolist(), self.history[0].tolist(), self.temperature)
            self.lambdas.copy_(torch.tensor(new, dtype=torch.float64))


class UncertaintyWeighting(TaskWeighting):
    """Homoscedastic uncertainty weighting (Kendall et al. 2018), learned s_k = log σ_k².

    L = Σ_k exp(−s_k)·L_k / 2 + s_k / 2, i.e. Σ_k L_k / (2σ_k²) + log σ_k. The s_k are
    parameters: give them to the optimiser (without weight decay, which would pull σ to 1).
    """

    def __init__(self, tasks: Sequence[str]) -> None:
        super().__init__(tasks)
        self.log_vars = nn.Parameter(torch.zeros(len(self.tasks)))

    def term(self, index: int, loss: torch.Tensor) -> torch.Tensor:
        s = self.log_vars[index]
        return 0.5 * (torch.exp(-s) * loss + s)

    def weights(self) -> dict[str, float]:
        return {task: 0.5 * math.exp(-s) for task, s in zip(self.tasks, self.log_vars.detach().tolist())}


WEIGHTINGS: dict[str, type[TaskWeighting]] = {
    "average": AverageWeighting,
    "dwa": DWAWeighting,
    "uncertainty": UncertaintyWeighting,
}


def build_weighting(name: str, tasks: Sequence[str], **kwargs) -> TaskWeighting:
    """Build a weighting by name: "average", "dwa" (kwarg: temperature) or "uncertainty"."""
    if name not in WEIGHTINGS:
        raise ValueError(f"unknown task weighting {name!r}; choose one of {sorted(WEIGHTINGS)}")
    return WEIGHTINGS[name](tasks, **kwargs)
