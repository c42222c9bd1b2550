"""What a batch of clips is labelled with, as the data side produces it and the losses read it.

Neutral ground between `mtl_hri.data` (which makes targets) and `mtl_hri.train` (which scores against
them): data never imports train.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

IGNORE = -1  # label value meaning "this sample has no label for this task"


@dataclass
class Targets:
    """Ground truth for one batch of B clips of T frames."""

    labels: dict[str, torch.Tensor]  # task -> (B,) long; IGNORE (-1) = not labelled for that task
    hands: torch.Tensor | None = None  # (B, T, 2, 2) (x, y) in [-1, 1]; values of invisible hands are ignored
    hand_visible: torch.Tensor | None = None  # (B, T, 2) float 0/1; None = always visible
    has_hands: torch.Tensor | None = None  # (B,) bool; None = every sample has hand annotations
    task: torch.Tensor | None = None  # (B,) long in {0: action, 1: gesture, 2: none}, IGNORE allowed; gate target

    def to(self, device: torch.device | str, tasks: list[str] | None = None) -> Targets:
        """On `device`, keeping only the labels of `tasks` (all when None), e.g. for an STL model."""
        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device, non_blocking=True)

        labels = {k: move(v) for k, v in self.labels.items() if tasks is None or k in tasks}
        return Targets(labels, move(self.hands), move(self.hand_visible), move(self.has_hands), move(self.task))
