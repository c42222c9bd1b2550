"""Rolling rate and latency statistics for diagnostics and benchmarks."""
from __future__ import annotations

import collections

import numpy as np


class RollingStats:
    """The last `size` samples, with percentiles."""

    def __init__(self, size: int = 500) -> None:
        self._values: collections.deque[float] = collections.deque(maxlen=size)

    def add(self, value: float) -> None:
        self._values.append(value)

    def __len__(self) -> int:
        return len(self._values)

    def percentile(self, q: float) -> float:
        return float(np.percentile(self._values, q)) if self._values else float("nan")


class RateMeter:
    """Events per second over the last `horizon` seconds of a caller-supplied clock."""

    def __init__(self, horizon: float = 5.0) -> None:
        self.horizon = horizon
        self._times: collections.deque[float] = collections.deque()
        self.total = 0

    def tick(self, now: float) -> None:
        self._times.append(now)
        self.total += 1
        self._trim(now)

    def rate(self, now: float) -> float:
        self._trim(now)
        if len(self._times) < 2:
            return 0.0
        return (len(self._times) - 1) / max(now - self._times[0], 1e-9)

    def _trim(self, now: float) -> None:
        while self._times and now - self._times[0] > self.horizon:
            self._times.popleft()
