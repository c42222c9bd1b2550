"""Turns window probabilities into published decisions: EMA, hysteresis, minimum duration."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.config import NONE


@dataclass
class SmoothingParams:
    smoothing: float = 0.5  # EMA factor: s = smoothing * s + (1 - smoothing) * p
    enter_threshold: float = 0.6
    exit_threshold: float = 0.4
    min_duration: float = 0.0  # seconds a new label must hold before it is published

    def validate(self) -> None:
        if not 0.0 <= self.smoothing < 1.0:
            raise ValueError("smoothing must be in [0, 1)")
        if not 0.0 < self.exit_threshold <= self.enter_threshold <= 1.0:
            raise ValueError("need 0 < exit_threshold <= enter_threshold <= 1")
        if self.min_duration < 0:
            raise ValueError("min_duration must be >= 0")


@dataclass
class Decision:
    label: str
    score: float  # smoothed probability of `label`
    changed: bool


class DecisionSmoother:
    """One task's decision state. Class 0 is `none`.

    A class other than `none` is entered when its smoothed probability reaches enter_threshold
    (and it is the most probable such class); it is left when that falls below exit_threshold.
    A change of label is published once the new label has been wanted for min_duration.
    """

    def __init__(self, labels: list[str], params: SmoothingParams) -> None:
        params.validate()
        self.labels = labels
        self.params = params
        self.reset()

    def reset(self) -> None:
        self.smoothed: np.ndarray | None = None
        self.label = NONE
        self._pending: str | None = None
        self._pending_since = 0.0

    def update(self, probs: np.ndarray, stamp: float) -> Decision:
        p = self.params
        probs = np.asarray(probs, np.float64)
        if self.smoothed is None:
            self.smoothed = probs.copy()
        else:
            self.smoothed = p.smoothing * self.smoothed + (1 - p.smoothing) * probs
        wanted = self._wanted()
        if wanted == self.label:
            self._pending = None
        elif wanted != self._pending:
            self._pending, self._pending_since = wanted, stamp
        changed = False
        if self._pending is not None and stamp - self._pending_since >= p.min_duration:
            self.label, self._pending, changed = self._pending, None, True
        return Decision(self.label, float(self.smoothed[self.labels.index(self.label)]), changed)

    def _wanted(self) -> str:
        s = self.smoothed
        best = 1 + int(np.argmax(s[1:])) if len(s) > 1 else 0
        if self.label != NONE and s[self.labels.index(self.label)] >= self.params.exit_threshold:
            current = self.labels.index(self.label)
            # Switch directly only to a class that has clearly entered and now leads.
            if best != current and s[best] >= self.params.enter_threshold and s[best] > s[current]:
                return self.labels[best]
            return self.label
        if len(s) > 1 and s[best] >= self.params.enter_threshold:
            return self.labels[best]
        return NONE
