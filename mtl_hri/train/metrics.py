"""Evaluation metrics: per-task accuracy, mean class accuracy, P/R/F1, confusion; hand errors.

The practice reviewed by Labana and Modi, "Human Action Recognition via Multi-Task Learning" (survey; our copy
bears no year).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class TaskMetrics:
    top1: float
    top5: float
    mean_class_accuracy: float
    precision: float  # macro over classes present in the targets
    recall: float
    f1: float
    n: int
    confusion: list[list[int]]  # rows: target class, columns: predicted class

    def to_dict(self) -> dict:
        return asdict(self)


def confusion_matrix(targets: np.ndarray, predictions: np.ndarray, n_classes: int) -> np.ndarray:
    m = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(m, (targets, predictions), 1)
    return m


def classification_metrics(probs: np.ndarray, targets: np.ndarray) -> TaskMetrics:
    """Score probs (N, C) against targets (N,), where -1 = unlabelled (ignored)."""
    keep = targets >= 0
    probs, targets = probs[keep], targets[keep]
    n, c = probs.shape if probs.ndim == 2 else (0, 0)
    if n == 0:
        return TaskMetrics(*(float("nan"),) * 6, 0, [])
    pred = probs.argmax(1)
    top5 = np.argsort(-probs, axis=1)[:, : min(5, c)]
    cm = confusion_matrix(targets, pred, c)
    present = cm.sum(1) > 0
    recall = np.diag(cm)[present] / cm.sum(1)[present]
    predicted = cm.sum(0)[present]
    precision = np.where(predicted > 0, np.diag(cm)[present] / np.maximum(predicted, 1), 0.0)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    return TaskMetrics(
        top1=float((pred == targets).mean()),
        top5=float((top5 == targets[:, None]).any(1).mean()),
        mean_class_accuracy=float(recall.mean()),
        precision=float(precision.mean()),
        recall=float(recall.mean()),
        f1=float(f1.mean()),
        n=int(n),
        confusion=cm.tolist(),
    )


@dataclass
class HandMetrics:
    mean_error_px: float  # at the crop resolution the network sees
    mean_error_fraction: float  # of the crop width
    pck_01: float  # fraction of visible points within 0.1 of the crop size
    n_points: int

    def to_dict(self) -> dict:
        return asdict(self)


def hand_metrics(pred: np.ndarray, target: np.ndarray, visible: np.ndarray, size: int) -> HandMetrics:
    """pred, target (..., 2) in normalised [-1, 1] crop coordinates, visible (...) bool."""
    visible = visible.astype(bool)
    if not visible.any():
        return HandMetrics(float("nan"), float("nan"), float("nan"), 0)
    err = np.linalg.norm(pred[visible] - target[visible], axis=-1) / 2  # fraction of the crop width
    return HandMetrics(float(err.mean() * size), float(err.mean()), float((err <= 0.1).mean()), int(err.size))
