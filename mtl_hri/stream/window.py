"""A preallocated ring buffer of preprocessed frames, sampled by timestamp."""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

import numpy as np

Meta = TypeVar("Meta")

# A frame lands in the sample slot floor((t - t0) * fps + JITTER); the first frame per slot is kept.
# The offset tolerates stamp jitter of up to a quarter of the sample period; EPS keeps stamps that
# fall exactly on a slot boundary (common camera/sample rate ratios) from flickering with rounding.
JITTER = 0.25
EPS = 1e-6
MAX_FRAME_GAP = 0.5  # s: the default gap between stamps that starts a new window


class Push(Enum):
    SAMPLED = "sampled"  # stored in the window
    SKIPPED = "skipped"  # not needed at sample_fps
    BACKWARDS = "backwards"  # stamp not after the previous one: rejected


@dataclass
class WindowSnapshot(Generic[Meta]):
    frames: np.ndarray  # (T, H, W, C) uint8 crops, or (T, points, channels) float32 keypoints; oldest first
    stamps: np.ndarray  # (T,) float64 seconds
    metas: list[Meta]
    seq: int  # number of decisions made due so far; identifies the window


class FrameWindow(Generic[Meta]):
    """Sliding window of the last `length` sampled frames.

    * Frames are sampled by stamp at `sample_fps` (0 keeps every frame).
    * A decision is due on every `stride`-th sampled frame once the window is full.
    * A stamp that does not increase is rejected and counted.
    * A gap between consecutive stamps above `max_frame_gap` empties the window first.
    """

    def __init__(
        self,
        length: int,
        frame_shape: tuple[int, ...],
        sample_fps: float,
        stride: int = 1,
        max_frame_gap: float = MAX_FRAME_GAP,
        dtype: type = np.uint8,
    ) -> None:
        if length < 1 or stride < 1 or sample_fps < 0 or max_frame_gap <= 0:
            raise ValueError("length and stride must be >= 1, sample_fps >= 0 and max_frame_gap > 0")
        self.length = length
        self.sample_fps = sample_fps
        self.stride = stride
        self.max_frame_gap = max_frame_gap
        self._frames = np.zeros((length, *frame_shape), dtype)
        self._stamps = np.zeros(length, np.float64)
        self._metas: list[Meta | None] = [None] * length
        self._head = 0  # next slot to write
        self._count = 0
        self._since_due = 0
        self._last_stamp = -math.inf
        self._t0 = 0.0
        self._last_slot = -1
        self.rejected_backwards = 0
        self.resets = 0
        self.decisions_due = 0
        self.sampled_total = 0  # frames ever stored; a streaming consumer tracks how many it has seen

    @property
    def full(self) -> bool:
        return self._count == self.length

    @property
    def count(self) -> int:
        return self._count

    @property
    def last_stamp(self) -> float:
        return self._last_stamp

    def reset(self) -> None:
        """Forget every stored frame and stamp (counted in `resets`); the next frame starts a new sampling grid."""
        self._last_stamp = -math.inf
        self._count = 0
        self._since_due = 0
        self._last_slot = -1
        self._metas = [None] * self.length
        self.resets += 1

    def check_gap(self, stamp: float) -> bool:
        """Return True (after resetting) when `stamp` follows the previous stamp by more than max_frame_gap."""
        if self._count and stamp - self._last_stamp > self.max_frame_gap:
            self.reset()
            return True
        return False

    def classify(self, stamp: float) -> Push:
        """Tell what push() would do with a frame at `stamp`, so callers can skip converting unneeded frames."""
        if stamp <= self._last_stamp:
            return Push.BACKWARDS
        if self._count == 0 or self.sample_fps == 0:
            return Push.SAMPLED
        return Push.SAMPLED if self._slot(stamp) > self._last_slot else Push.SKIPPED

    def due_next(self) -> bool:
        """Whether a decision falls due if the next frame is sampled."""
        return min(self._count + 1, self.length) == self.length and self._since_due + 1 >= self.stride

    def push(self, stamp: float, frame: np.ndarray | None, meta: Meta | None = None,
             due: bool | None = None) -> tuple[Push, bool]:
        """Offer a frame; returns (what happened, whether a decision is now due).

        `frame` may be None for a frame that `classify` reported as skipped or backwards.
        Call `check_gap` first so a long gap starts a new window. `due` imposes another window's cadence (the
        camera's, on a body's window) instead of this one's stride count.
        """
        kind = self.classify(stamp)
        if kind is Push.BACKWARDS:
            self.rejected_backwards += 1
            return kind, False
        self._last_stamp = stamp
        if kind is Push.SKIPPED:
            return kind, False
        if frame is None:
            raise ValueError("a sampled frame needs its pixels")
        if self._count == 0:
            self._t0 = stamp
        self._last_slot = self._slot(stamp) if self.sample_fps else self._last_slot + 1
        self._frames[self._head] = frame
        self._stamps[self._head] = stamp
        self._metas[self._head] = meta
        self._head = (self._head + 1) % self.length
        self._count = min(self._count + 1, self.length)
        self._since_due += 1
        self.sampled_total += 1
        due = self.full and (self._since_due >= self.stride if due is None else due)
        if due:
            self._since_due = 0
            self.decisions_due += 1
        return kind, due

    def snapshot(self) -> WindowSnapshot[Meta]:
        """Copy the stored frames in chronological order."""
        order = (self._head - self._count + np.arange(self._count)) % self.length
        return WindowSnapshot(
            frames=self._frames[order],
            stamps=self._stamps[order],
            metas=[self._metas[i] for i in order],
            seq=self.decisions_due,
        )

    def newest(self, n: int = 1) -> tuple[np.ndarray, np.ndarray, list[Meta | None]]:
        """Copy the newest n frames (oldest first), their stamps and metas."""
        order = (self._head - min(n, self._count) + np.arange(min(n, self._count))) % self.length
        return self._frames[order], self._stamps[order], [self._metas[i] for i in order]

    def _slot(self, stamp: float) -> int:
        return math.floor((stamp - self._t0) * self.sample_fps + JITTER + EPS)
