"""Multi-task losses: masked cross-entropies, DSNT hand loss, optional gate.

Masked cross-entropies as in Spathis, Kardaris and Maragos, "Multi-task Learning For Joint Action and Gesture
Recognition" (2025), where each sample is labelled for one task only; the hand loss of Kapidis et al.,
"Multitask Learning to Improve Egocentric Action Recognition" (ICCV Workshops 2019).

Conventions shared with the model (see ``mtl_hri.model.network.MTLOutput``): class 0 of every
classification head is ``none``; hand 0 is the left hand, 1 the right; coordinates are (x, y) in
[-1, 1] over the crop; the hand head predicts S temporal slices of a T-frame clip.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from ..data.targets import IGNORE, Targets
from ..model.dsnt import dsnt_loss

if TYPE_CHECKING:  # the network module pulls in the trunks; losses only need the type
    from mtl_hri.model.network import MTLOutput

SLICE_VISIBLE_FRACTION = 0.5  # a slice shows a hand if the hand is visible in >= half its frames


@dataclass
class LossConfig:
    cross_task_negatives: float = 0.0  # weight of "none" targets made from other tasks' samples; 0 = mask them out
    dsnt_lambda: float = 0.5  # Euclidean vs JS balance of Kapidis et al.'s coordinate loss
    dsnt_sigma: float = 0.1  # std of the target Gaussian, normalised units
    visibility_weight: float = 1.0  # weight of the visibility BCE inside the "hands" loss
    gate_weight: float = 0.0  # scales the gate CE; 0 disables the gate loss
    label_smoothing: float = 0.0  # applied to every cross-entropy


def masked_cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    weights: torch.Tensor | None = None,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Weighted mean CE over the samples with target >= 0 (and weight > 0).

    Invalid rows are dropped before the CE, so they get an exactly-zero gradient. With no valid
    sample the result is a zero still attached to the graph: the task adds nothing, and no NaN.
    """
    valid = target >= 0
    if weights is not None:
        valid = valid & (weights > 0)
    if not bool(valid.any()):
        return logits.sum() * 0
    ce = F.cross_entropy(logits[valid].float(), target[valid], reduction="none", label_smoothing=label_smoothing)
    if weights is None:
        return ce.mean()
    w = weights[valid].to(ce.dtype)
    return (w * ce).sum() / w.sum()


def slice_targets(hands: torch.Tensor, visible: torch.Tensor, slices: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Frame hand targets (B, T, 2, 2), visibility (B, T, 2) -> per-slice targets (B, S, 2, 2), (B, S, 2).

    Frames are split into S nearly equal contiguous chunks (``torch.tensor_split``: the first
    T % S chunks get one frame more). A slice's coordinates are the mean over the frames where
    the hand is visible (0 when it is never visible); the slice counts as visible when the hand
    is visible in at least half of its frames. Coordinates of invisible frames are never read, so
    they may hold anything, NaN included.
    """
    b, t = hands.shape[:2]
    if not 1 <= slices <= t:
        raise ValueError(f"cannot split {t} frames into {slices} slices")
    seen = visible > 0.5
    clean = torch.where(seen.unsqueeze(-1), hands, torch.zeros((), dtype=hands.dtype, device=hands.device))
    # (S, T) 0/1 matrix: which frames each slice averages
    chunk = torch.cat([torch.full((len(c),), s) for s, c in enumerate(torch.tensor_split(torch.arange(t), slices))])
    assign = F.one_hot(chunk, slices).T.to(device=hands.device, dtype=hands.dtype)
    seen_f = seen.to(hands.dtype)
    count = torch.einsum("st,btj->bsj", assign, seen_f)
    coords = torch.einsum("st,btjc->bsjc", assign, clean) / count.clamp_min(1).unsqueeze(-1)
    frames = assign.sum(dim=1).view(1, slices, 1)
    return coords, (count >= SLICE_VISIBLE_FRACTION * frames).to(hands.dtype)


def _per_hand_masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """values, mask (B, S, 2) -> sum over hands of the mean over valid (sample, slice).

    Hands are summed as Kapidis et al. (2019) sum their point losses (Σ_j L_coord_j). Masked entries go
    through ``where`` so they get an exactly-zero gradient even if their value is not finite.
    """
    kept = torch.where(mask, values, torch.zeros((), dtype=values.dtype, device=values.device))
    return (kept.sum(dim=(0, 1)) / mask.sum(dim=(0, 1)).clamp_min(1)).sum()


def hand_loss(out: MTLOutput, targets: Targets, cfg: LossConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """(coordinate loss, visibility loss) of the hand head.

    Coordinates: Kapidis et al.'s λ·Euclidean + (1−λ)·JS(Ẑ ‖ N(c_gt, σ²)) per hand and slice, only where
    the slice shows the hand and the sample has hand annotations. The Euclidean term uses
    DSNT of the heatmap, which is ``out.hand_coords`` by the model's construction.
    Visibility: BCE of the visibility logits on the slice visibility, wherever the sample has
    hand annotations. Both are averaged over samples and slices per hand, then summed over hands.
    """
    if out.hand_heatmaps is None or out.hand_visibility is None:
        raise ValueError("hand_loss needs a model with a hand head (hand_heatmaps and hand_visibility)")
    if targets.hands is None:
        raise ValueError("hand_loss needs targets.hands")
    b, t = targets.hands.shape[:2]
    s = out.hand_heatmaps.shape[1]
    device = targets.hands.device
    visible = targets.hand_visible if targets.hand_visible is not None else torch.ones(b, t, 2, device=device)
    has_hands = targets.has_hands if targets.has_hands is not None else torch.ones(b, dtype=torch.bool, device=device)
    coords_gt, vis_gt = slice_targets(targets.hands.float(), visible.float(), s)
    annotated = has_hands.bool().view(b, 1, 1).expand(b, s, 2)

    # float32: the JS term's log(p + 1e-12) underflows in half precision
    per_point = dsnt_loss(out.hand_heatmaps.float(), coords_gt, sigma=cfg.dsnt_sigma, lam=cfg.dsnt_lambda)
    coord = _per_hand_masked_mean(per_point, annotated & (vis_gt > 0.5))
    bce = F.binary_cross_entropy_with_logits(out.hand_visibility.float(), vis_gt, reduction="none")
    return coord, _per_hand_masked_mean(bce, annotated)


def mtl_losses(out: MTLOutput, targets: Targets, cfg: LossConfig) -> dict[str, torch.Tensor]:
    """Unweighted per-task losses, for a ``TaskWeighting`` to combine.

    Keys: every classification head of ``out``; "hands" when the model has a hand head (a
    graph-attached zero if the batch has no hand targets, so the keys stay stable); "gate" when
    ``cfg.gate_weight > 0`` (already scaled by it). A task missing from ``targets.labels`` counts
    as unlabelled for every sample.

    Cross-task negatives: with ``cfg.cross_task_negatives > 0``, a sample unlabelled for task B
    but labelled for some other task is a ``none`` (class 0) target for B's head, with that
    weight; this teaches each head to say ``none`` on the other task's clips, which task-agnostic
    inference relies on. Samples labelled for no task stay ignored.
    """
    unknown = set(targets.labels) - set(out.logits)
    if unknown:
        raise ValueError(f"labels for tasks the model has no head for: {sorted(unknown)}")
    b = next(iter(out.logits.values())).shape[0]
    device = next(iter(out.logits.values())).device
    unlabelled = torch.full((b,), IGNORE, dtype=torch.long, device=device)
    labels = {task: targets.labels.get(task, unlabelled) for task in out.logits}
    labelled_somewhere = torch.stack([y >= 0 for y in labels.values()]).any(dim=0)

    losses: dict[str, torch.Tensor] = {}
    for task, logits in out.logits.items():
        target, weights = labels[task], None
        if cfg.cross_task_negatives > 0:
            negative = (target < 0) & labelled_somewhere
            target = torch.where(negative, torch.zeros_like(target), target)
            weights = torch.where(negative, cfg.cross_task_negatives, 1.0).to(logits.dtype)
        losses[task] = masked_cross_entropy(logits, target, weights, cfg.label_smoothing)

    if out.hand_heatmaps is not None:
        if targets.hands is None:
            losses["hands"] = out.hand_heatmaps.sum() * 0
        else:
            coord, vis = hand_loss(out, targets, cfg)
            losses["hands"] = coord + cfg.visibility_weight * vis

    if cfg.gate_weight > 0:
        if out.gate_logits is None or targets.task is None:
            raise ValueError("gate_weight > 0 needs out.gate_logits and targets.task")
        gate = masked_cross_entropy(out.gate_logits, targets.task, None, cfg.label_smoothing)
        losses["gate"] = cfg.gate_weight * gate
    return losses
