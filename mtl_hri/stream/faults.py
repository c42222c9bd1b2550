"""Failures of the worker's stages, counted and rate-limited, so that one bad cycle never ends the worker.

Each (stage, exception type) is a kind: its first occurrence is reported with a traceback, later ones at
most every `throttle` seconds with how many happened meanwhile. `active` is true while a failure is
recent, so that diagnostics return to OK once the cause has gone.
"""
from __future__ import annotations

import collections
import traceback
from dataclasses import dataclass, field

STAGES = ("conversion", "scheduling", "inference", "decision", "publishing")


@dataclass
class FaultLog:
    throttle: float = 5.0  # s between two reports of one kind
    recent: float = 5.0  # s a failure keeps the level raised
    counts: collections.Counter = field(default_factory=collections.Counter)  # per stage
    last: str = ""  # the newest failure, one line
    _last_time: float | None = None
    _reported: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)  # kind -> (time, count then)
    _kind_counts: collections.Counter = field(default_factory=collections.Counter)

    def record(self, stage: str, exc: BaseException, now: float) -> str | None:
        """Count a failure; returns the report to log (with its traceback) when one is due, else None."""
        if stage not in STAGES:
            raise ValueError(f"unknown stage '{stage}' (one of {', '.join(STAGES)})")
        kind = (stage, type(exc).__name__)
        self.counts[stage] += 1
        self._kind_counts[kind] += 1
        self.last = f"{stage} failed: {type(exc).__name__}: {exc}"
        self._last_time = now
        previous = self._reported.get(kind)
        if previous is not None and now - previous[0] < self.throttle:
            return None
        since = self._kind_counts[kind] - (previous[1] if previous else 0)
        self._reported[kind] = (now, self._kind_counts[kind])
        repeats = f" ({since} times since the last report)" if previous is not None else ""
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
        return f"{self.last}{repeats}; the worker goes on\n{trace}"

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def active(self, now: float) -> bool:
        return self._last_time is not None and now - self._last_time <= self.recent
