"""Timing of repeated calls, summarised with the percentiles of `mtl_hri.stream.stats`."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable

from ...stream.stats import RollingStats


def all_samples(values: Iterable[float]) -> RollingStats:
    """Every one of `values`, for their percentiles (nan when there are none)."""
    values = list(values)
    stats = RollingStats(size=max(len(values), 1))
    for value in values:
        stats.add(value)
    return stats


@dataclass
class Timing:
    p50_ms: float
    p99_ms: float
    n: int


def time_calls(fn: Callable[[], object], repeats: int, warmup: int = 2) -> Timing:
    """p50 / p99 of `repeats` calls after `warmup` untimed ones. No device synchronisation: every call timed
    here returns its results on the host. (`stream.accel.time_call` gives only a median.)"""
    for _ in range(warmup):
        fn()
    samples = RollingStats(size=repeats)
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.add((time.perf_counter() - t0) * 1e3)
    return Timing(samples.percentile(50), samples.percentile(99), len(samples))
