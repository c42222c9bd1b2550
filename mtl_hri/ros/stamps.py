"""builtin_interfaces/Time (or anything with `sec` and `nanosec`, such as a rosbags message) as numbers."""
from __future__ import annotations

from typing import Any


def stamp_seconds(stamp: Any) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


def stamp_nanoseconds(stamp: Any) -> int:
    """Exact, for matching stamps as keys."""
    return stamp.sec * 10**9 + stamp.nanosec
