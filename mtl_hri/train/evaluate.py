"""Running a model over a labelled loader and scoring it (shared by training and `mtl-hri-eval`)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..model.config import InputSpec
from ..stream.accel import autocast as accel_autocast
from ..stream.normalize import Normalizer
from .losses import slice_targets
from .metrics import HandMetrics, TaskMetrics, classification_metrics, hand_metrics


@dataclass
class EvalReport:
    tasks: dict[str, TaskMetrics]
    hands: HandMetrics | None
    loss: float = float("nan")
    extra: dict = field(default_factory=dict)

    def summary(self) -> dict[str, float]:
        """Flat scalars for logs and model cards."""
        out = {f"{t}/top1": m.top1 for t, m in self.tasks.items()}
        out.update({f"{t}/mean_class_accuracy": m.mean_class_accuracy for t, m in self.tasks.items()})
        out.update({f"{t}/f1": m.f1 for t, m in self.tasks.items()})
        if self.hands is not None:
            out["hands/mean_error_fraction"] = self.hands.mean_error_fraction
            out["hands/pck_0.1"] = self.hands.pck_01
        return out

    def score(self) -> float:
        """Model selection: mean top-1 over tasks."""
        return float(np.nanmean([m.top1 for m in self.tasks.values()]))

    def to_dict(self) -> dict:
        return {
            "tasks": {t: m.to_dict() for t, m in self.tasks.items()},
            "hands": self.hands.to_dict() if self.hands else None,
            "summary": self.summary(),
        }


def normalize_batch(clips: torch.Tensor, spec: InputSpec) -> torch.Tensor:
    """uint8 (B, T, 3, H, W) on the device -> normalised float, exactly as the engines normalise a window."""
    return Normalizer(spec, clips.device).clips(clips)


def autocast(device: torch.device, enabled: bool):
    """bf16 on CUDA when enabled; the CPU trains in fp32."""
    return accel_autocast(device.type, torch.bfloat16 if enabled and device.type == "cuda" else None)


@torch.no_grad()
def evaluate(model: nn.Module, loader, spec: InputSpec, device: torch.device, amp: bool = False,
             progress=None) -> EvalReport:
    model.eval()
    probs: dict[str, list[np.ndarray]] = {t: [] for t in model.tasks}
    targets: dict[str, list[np.ndarray]] = {t: [] for t in model.tasks}
    pred_xy, true_xy, visible = [], [], []
    for clips, tgt in (progress(loader) if progress else loader):
        with autocast(device, amp):
            out = model(normalize_batch(clips.to(device, non_blocking=True), spec))
        for task in model.tasks:
            probs[task].append(out.logits[task].float().softmax(-1).cpu().numpy())
            targets[task].append(tgt.labels[task].cpu().numpy() if task in tgt.labels else np.full(len(clips), -1))
        if out.hand_coords is not None and tgt.hands is not None:
            s = out.hand_coords.shape[1]
            vis = tgt.hand_visible if tgt.hand_visible is not None else torch.ones(tgt.hands.shape[:3])
            coords, vis_s = slice_targets(tgt.hands.float(), vis.float(), s)
            has = tgt.has_hands if tgt.has_hands is not None else torch.ones(len(clips), dtype=torch.bool)
            pred_xy.append(out.hand_coords.float().cpu().numpy())
            true_xy.append(coords.numpy())
            visible.append((vis_s > 0.5).numpy() & has.view(-1, 1, 1).numpy())
    tasks = {t: classification_metrics(np.concatenate(probs[t]), np.concatenate(targets[t])) for t in model.tasks}
    hands = None
    if pred_xy:
        hands = hand_metrics(np.concatenate(pred_xy), np.concatenate(true_xy), np.concatenate(visible), spec.size)
    return EvalReport(tasks, hands)
