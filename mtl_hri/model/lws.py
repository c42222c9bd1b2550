"""Learned weight sharing (LWS, Prellberg & Kramer 2020, arXiv 2003.10159).

Every stage has a pool of K candidate modules (stage i of K independent trunks). For every
(task, stage) a categorical distribution, softmax(logits[task, stage]), says which candidate that
task uses; tasks that pick the same candidate share its weights. Weights are trained by SGD, the
logits by a natural evolution strategy (NES) and never by SGD: they are a buffer, so they are saved
with the weights but the optimizer never sees them.

Which assignment a forward pass uses, (n_tasks, n_stages) candidate indices:
- the one given to `set_assignment` while it is set (training or not);
- else in training mode one sampled from the distributions per forward pass (so weights are trained
  under the distributions even by a trainer that knows nothing of NES);
- else (eval) each task's most probable candidate per stage.

A training step with NES: `a = sample_assignments(n)`; for each a[k]: `set_assignment(a[k])`, loss_k,
backward (gradients accumulate over the samples); `set_assignment(None)`;
`nes_update(a, -losses, lr)`; optimizer step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from .config import ArchConfig
from .sharing import TrunkFactory
from .trunk import Context, TrunkFeatures


# ------------------------------------------------------------------ NES maths (pure)
def fitness_shaping(fitness: torch.Tensor) -> torch.Tensor:
    """Rank-based utilities (Wierstra et al. 2014): u_k = max(0, log(n/2+1) - log(rank_k)) / Σ - 1/n, rank 1 = fittest.

    They depend on the order of the fitness only, so the step ignores the scale of the loss, and they
    sum to 0. Tied fitness values share the mean of their utilities: equal loss, equal credit.
    """
    n = fitness.numel()
    fitness = fitness.detach().flatten().double().cpu()
    rank = torch.empty(n, dtype=torch.float64)
    rank[torch.argsort(fitness, descending=True)] = torch.arange(1, n + 1, dtype=torch.float64)
    raw = (math.log(n / 2 + 1) - rank.log()).clamp(min=0)
    utilities = raw / raw.sum() - 1 / n
    _, tie = torch.unique(fitness, return_inverse=True)
    counts = torch.bincount(tie)
    return (torch.zeros(len(counts), dtype=torch.float64).index_add_(0, tie, utilities) / counts)[tie]


def categorical_nes_gradient(logits: torch.Tensor, samples: torch.Tensor, utilities: torch.Tensor) -> torch.Tensor:
    """Σ_k u_k (one_hot(a_k) - p): the search gradient for softmax(logits) (..., K) from samples (n, ...).

    one_hot(a) - p is the gradient of log p(a) w.r.t. the logits, and also the natural gradient of
    log p(a) in the mean parametrisation p (the IGO / PBIL form). We use it as the natural gradient on
    the logits: the exact one there, one_hot(a)/p_a (up to the null direction), explodes for rare
    candidates, while this step is bounded. With utilities summing to 0 the -p term cancels.
    """
    p = logits.softmax(-1)
    scores = F.one_hot(samples.to(logits.device), logits.shape[-1]).to(p.dtype) - p
    return torch.tensordot(utilities.to(p), scores, dims=1)


# ------------------------------------------------------------------ the sharing strategy
@dataclass
class StageChoice:
    candidate: int
    probability: float


@dataclass
class StageSharing:
    choices: dict[str, StageChoice]  # task -> the candidate it uses at inference
    shared: list[list[str]]  # groups of two or more tasks using the same candidate


@dataclass
class _Path:
    """Tasks that agree on the candidates of every stage so far, and their common computation."""

    tasks: list[int]
    x: torch.Tensor
    ctx: Context
    low: torch.Tensor


class LWSSharing(nn.Module):
    def __init__(self, make_trunk: TrunkFactory, tasks: list[str], arch: ArchConfig) -> None:
        super().__init__()
        self.tasks = tasks
        pool_size = arch.lws_pool_size or len(tasks)
        self.pool = nn.ModuleList(make_trunk() for _ in range(pool_size))  # candidate k of stage i: pool[k].stages[i]
        first = self.pool[0]
        self.n_stages = len(first.stages)
        self.register_buffer("logits", torch.zeros(len(tasks), self.n_stages, pool_size))  # uniform at start
        self.out_channels, self.low_channels = first.out_channels, first.low_channels
        self._assignment: torch.Tensor | None = None

    @property
    def pool_size(self) -> int:
        return len(self.pool)

    def probabilities(self) -> torch.Tensor:
        """(n_tasks, n_stages, K)."""
        return self.logits.float().softmax(-1)

    def set_assignment(self, assignment: torch.Tensor | None) -> None:
        """Fix the candidates (n_tasks, n_stages) every forward pass uses; None returns to the default."""
        if assignment is not None:
            assignment = assignment.detach().to("cpu", torch.long)
            if assignment.shape != self.logits.shape[:2]:
                raise ValueError(f"assignment of shape {tuple(assignment.shape)}, "
                                 f"expected {tuple(self.logits.shape[:2])}")
            if assignment.min() < 0 or assignment.max() >= self.pool_size:
                raise ValueError(f"assignment outside the candidates 0..{self.pool_size - 1}")
        self._assignment = assignment

    def sample_assignments(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, n_tasks, n_stages) drawn from the distributions; on the CPU, like `generator`."""
        probs = self.probabilities().cpu().flatten(0, 1)
        draws = torch.multinomial(probs, n, replacement=True, generator=generator)  # (n_tasks * n_stages, n)
        return draws.T.reshape(n, *self.logits.shape[:2])

    @torch.no_grad()
    def nes_update(self, assignments: torch.Tensor, fitness: torch.Tensor, lr: float) -> None:
        """Take one NES step on the logits from the sampled assignments and their fitness.

        Assignments are (n, n_tasks, n_stages), fitness (n,), higher is better (use -loss).
        """
        step = categorical_nes_gradient(self.logits, assignments, fitness_shaping(fitness))
        self.logits.add_(step, alpha=lr)

    def active_assignment(self) -> torch.Tensor:
        if self._assignment is not None:
            return self._assignment
        if self.training:
            return self.sample_assignments(1)[0]
        return self.logits.argmax(-1).cpu()

    def forward(self, clip: torch.Tensor) -> dict[str, TrunkFeatures]:
        layout = self.pool[0]  # begin / canonical only reshape, every candidate would do the same
        assignment = self.active_assignment().tolist()
        x, ctx = layout.begin(clip)
        paths = [_Path(list(range(len(self.tasks))), x, ctx, x)]
        for i in range(self.n_stages):
            paths = [branch for path in paths for branch in self._branch(path, i, assignment)]
        return {
            self.tasks[t]: TrunkFeatures(layout.canonical(p.low, p.ctx), layout.canonical(p.x, p.ctx))
            for p in paths for t in p.tasks
        }

    def _branch(self, path: _Path, stage: int, assignment: list[list[int]]) -> list[_Path]:
        """Run stage `stage` once per distinct candidate the path's tasks pick: a shared prefix is computed once."""
        branches = []
        for k in dict.fromkeys(assignment[t][stage] for t in path.tasks):
            ctx = replace(path.ctx)  # each branch owns its context, in case a stage records into it
            y = self.pool[k].run_stage(stage, path.x, ctx)
            low = y if stage == self.pool[k].low_stage else path.low
            branches.append(_Path([t for t in path.tasks if assignment[t][stage] == k], y, ctx, low))
        return branches

    def sharing_report(self) -> dict[int, StageSharing]:
        """Report, per stage, the candidate each task uses at inference (its most probable) with its probability.

        Each stage also lists the tasks that share a module.
        """
        probs = self.probabilities()
        best = probs.argmax(-1)
        report = {}
        for i in range(self.n_stages):
            choices = {task: StageChoice(int(best[t, i]), float(probs[t, i, best[t, i]]))
                       for t, task in enumerate(self.tasks)}
            groups: dict[int, list[str]] = {}
            for task, choice in choices.items():
                groups.setdefault(choice.candidate, []).append(task)
            report[i] = StageSharing(choices, [g for g in groups.values() if len(g) > 1])
        return report


def format_sharing_report(report: dict[int, StageSharing]) -> str:
    """Format a text table: one row per stage, `candidate (probability)` per task, then the sharing groups."""
    tasks = list(next(iter(report.values())).choices) if report else []
    rows = [["stage", *tasks, "shared"]]
    for stage, s in report.items():
        cells = [f"{s.choices[t].candidate} ({s.choices[t].probability:.2f})" for t in tasks]
        rows.append([str(stage), *cells, "; ".join("+".join(g) for g in s.shared) or "-"])
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows)
