"""Timing of repeated calls for the benchmarks: p50 / p99 from `mtl_hri.stream.stats`' one timer."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ...stream.stats import time_samples


@dataclass
class Timing:
    p50_ms: float
    p99_ms: float
    n: int


def time_calls(fn: Callable[[], object], repeats: int, warmup: int = 2) -> Timing:
    """Time p50 / p99 of `repeats` calls after `warmup` untimed ones.

    No device synchronisation: every call timed here returns its results on the host.
    """
    samples = time_samples(fn, repeats, warmup)
    return Timing(samples.percentile(50), samples.percentile(99), len(samples))
