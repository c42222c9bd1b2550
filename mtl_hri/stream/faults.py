"""Failures of the worker's stages, counted and rate-limited, so that one bad cycle never ends the worker.

Each (stage, exception type) is a kind: its first occurrence is reported with a traceback, later ones at
most every `throttle` seconds with how many happened meanwhile. `active` is true while a failure is
recent, so that diagnostics return to OK once the cause has gone.
"""
from __future__ import annotations

import collections
import traceback
from dataclasses import dataclass, field
from typing import Hashable

STAGES = ("conversion", "scheduling", "inference", "decision", "publishing")


@dataclass
class RateLimit:
    """Lets a report of each kind through at most every `period` seconds, counting the ones held back."""

    period: float = 5.0
    _reported: dict[Hashable, tuple[float, int]] = field(default_factory=dict)  # kind -> (time, count then)
    _counts: collections.Counter = field(default_factory=collections.Counter)

    def due(self, kind: Hashable, now: float) -> int | None:
        """Count one occurrence of `kind`. None: hold it back; else how many came since the last report (0: first)."""
        self._counts[kind] += 1
        previous = self._reported.get(kind)
        if previous is not None and now - previous[0] < self.period:
            return None
        self._reported[kind] = (now, self._counts[kind])
        return self._counts[kind] - previous[1] if previous is not None else 0


@dataclass
class FaultLog:
    throttle: float = 5.0  # s between two reports of one kind
    recent: float = 5.0  # s a failure keeps the level raised
    counts: collections.Counter = field(default_factory=collections.Counter)  # per stage
    last: str = ""  # the newest failure, one line
    _last_time: float | None = None
    _limit: RateLimit = field(init=False)

    def __post_init__(self) -> None:
        self._limit = RateLimit(self.throttle)

    def record(self, stage: str, exc: BaseException, now: float) -> str | None:
        """Count a failure; returns the report to log (with its traceback) when one is due, else None."""
        if stage not in STAGES:
            raise ValueError(f"unknown stage '{stage}' (one of {', '.join(STAGES)})")
        self.counts[stage] += 1
        self.last = f"{stage} failed: {type(exc).__name__}: {exc}"
        self._last_time = now
        since = self._limit.due((stage, type(exc).__name__), now)
        if since is None:
            return None
        repeats = f" ({since} times since the last report)" if since else ""
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
        return f"{self.last}{repeats}; the worker goes on\n{trace}"

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def active(self, now: float) -> bool:
        return self._last_time is not None and now - self._last_time <= self.recent
