"""Rolling rate and latency statistics, and the one timer of repeated calls, for diagnostics and benchmarks."""
from __future__ import annotations

import collections
import time
from typing import Callable, Iterable

import numpy as np


class RollingStats:
    """The last `size` samples, with percentiles."""

    def __init__(self, size: int = 500) -> None:
        self._values: collections.deque[float] = collections.deque(maxlen=size)

    def add(self, value: float) -> None:
        self._values.append(value)

    @classmethod
    def of(cls, values: Iterable[float]) -> RollingStats:
        """Every one of `values` (percentiles are nan when there are none)."""
        values = list(values)
        stats = cls(size=max(len(values), 1))
        for value in values:
            stats.add(value)
        return stats

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


def time_samples(fn: Callable[[], object], repeats: int, warmup: int = 1,
                 sync: Callable[[], None] | None = None) -> RollingStats:
    """Time `repeats` calls of `fn` in milliseconds, after `warmup` untimed ones.

    `sync` (a CUDA synchronise) runs before each clock reading, so that asynchronous work is inside the sample that
    launched it.
    """
    for _ in range(warmup):
        fn()
    samples = RollingStats(size=max(repeats, 1))
    for _ in range(repeats):
        if sync is not None:
            sync()
        t0 = time.perf_counter()
        fn()
        if sync is not None:
            sync()
        samples.add((time.perf_counter() - t0) * 1e3)
    return samples
