"""One window's scheduling and decisions: the whole scene's, or one tracked body's.

It owns its frame window, its engine stream state, its smoothers and its hand trails, and nothing else touches
them: `CameraStream` pushes prepared frames in, the worker takes `next_job`, and `complete` returns what to publish.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..model import InputSpec
from .body_keypoints import landmark_hands
from .engine import RecognitionResult
from .preprocess import FrameGeometry, frame_layout
from .smoothing import Decision, DecisionSmoother, SmoothingParams
from .window import FrameWindow

MAX_CATCH_UP = 3  # a streaming worker this many frames behind steps through them; further behind, it re-primes
TRAIL = 12  # hand positions kept for the debug trail
STALE_AFTER = 3.0  # s with a full window and frames arriving but no decision: the stream is stale


@dataclass
class FrameMeta:
    geometry: FrameGeometry
    source: Any  # the caller's record of the frame (a ROS header, an offline frame)
    rgb: np.ndarray | None = None  # the source frame, kept only when an overlay will be drawn
    body: Any = None  # the front end's `Body` this crop is of; None: the whole scene
    primary: bool = False  # this window's decision on this frame is the one the plain topics carry


@dataclass
class Job:
    """Work for the engine: a whole window (prime / recompute) or streamed frames from `state`."""

    kind: str  # "window": (re)compute a whole window | "frames": step the stream through new frames
    frames: np.ndarray  # (n, S, S, 3), oldest first
    geometries: list[FrameGeometry]  # one per frame
    newest: FrameMeta
    stamp: float
    due: bool  # a decision is to be published for it
    generation: tuple[int, int]  # (configuration, window reset) when made: stream states never cross either
    state: Any = None  # the stream state a "frames" job steps from
    body: str | None = None  # which window: a body id, or None for the whole scene
    fresh: bool = False  # offline: the window before it was not decided, so no stream state leads to it


@dataclass
class Decided:
    """What `complete` hands back to publish: decisions of every task, the result they came from."""

    decisions: dict[str, Decision]
    result: RecognitionResult
    newest: FrameMeta
    stamp: float
    latency_ms: float
    trails: tuple[list[tuple[float, float, float]], list[tuple[float, float, float]]]  # left, right
    window_fill: tuple[int, int]
    body: str | None = None


@dataclass
class WindowConfig:
    """What every window of a camera shares: the model's input and labels, and the parameters."""

    spec: InputSpec
    labels: dict[str, list[str]]
    sample_fps: float
    stride: int
    max_frame_gap: float
    smoothing: SmoothingParams
    generation: int  # the camera's configuration count: a new model or sampling rate makes new windows


@dataclass
class WindowStream:
    """One window of sampled crops and the decisions made on it."""

    config: WindowConfig
    body: str | None = None
    offline: bool = False
    window: FrameWindow[FrameMeta] = field(init=False)
    smoothers: dict[str, DecisionSmoother] = field(init=False)
    windows_skipped: int = 0

    def __post_init__(self) -> None:
        c = self.config
        # A body's window stores every frame it is given: the camera's scene window has already sampled them.
        shape, dtype = frame_layout(c.spec)
        self.window = FrameWindow(c.spec.frames, shape, c.sample_fps if self.body is None else 0.0, c.stride,
                                  c.max_frame_gap, dtype)
        self.smoothers = {task: DecisionSmoother(classes, c.smoothing) for task, classes in c.labels.items()}
        self.trails: tuple[collections.deque, collections.deque] = (
            collections.deque(maxlen=TRAIL), collections.deque(maxlen=TRAIL))
        self._state: tuple[tuple[int, int], Any] | None = None  # (generation it belongs to, stream state)
        self._taken_seq = self._processed = 0
        self._full_since: float | None = None
        self._last_decision: float | None = None
        self._queue: collections.deque[Job] = collections.deque()  # offline only
        self._skipped = False  # offline: frames went by undecided since the last queued window

    def retune(self, config: WindowConfig) -> None:
        """Take new parameters that keep the window (stride, gap, smoothing, the same labels)."""
        self.config = config
        self.window.stride, self.window.max_frame_gap = config.stride, config.max_frame_gap
        if set(self.smoothers) != set(config.labels):
            self.smoothers = {task: DecisionSmoother(classes, config.smoothing)
                              for task, classes in config.labels.items()}
        for smoother in self.smoothers.values():
            smoother.params = config.smoothing

    @property
    def generation(self) -> tuple[int, int]:
        return self.config.generation, self.window.resets

    def restart(self) -> None:
        """After a window reset: forget decisions, trails and the stream state."""
        for smoother in self.smoothers.values():
            smoother.reset()
        for trail in self.trails:
            trail.clear()
        self._full_since = None

    def push(self, stamp: float, crop: np.ndarray, meta: FrameMeta, now: float, decide: bool = True,
             due: bool | None = None) -> None:
        """Store one prepared crop (the camera has sampled and checked it).

        `decide` False: keep the frame in the window but decide nothing on it (the scene while a body is primary);
        the stream state is dropped, since it would not follow the frames skipped. `due`: the camera's cadence,
        for a body's window (see `FrameWindow.push`).
        """
        w = self.window
        if w.check_gap(stamp):  # a body unseen for longer than max_frame_gap starts over
            self.restart()
        _, due = w.push(stamp, crop, meta, due)
        if w.full and self._full_since is None:
            self._full_since = now
        if not decide:
            self._skipped = True  # offline, the next queued window is `fresh`; live, no state may step over this
            if not self.offline:  # and nothing is owed for this frame when the window decides again
                self._state = None
                self._taken_seq, self._processed = w.decisions_due, w.sampled_total
        elif self.offline and w.full:
            snap = w.snapshot()
            self._queue.append(Job("window", snap.frames, [m.geometry for m in snap.metas], snap.metas[-1],
                                   float(snap.stamps[-1]), due, self.generation, body=self.body,
                                   fresh=self._skipped))
            self._skipped = False

    # ------------------------------------------------------------------ the worker's half
    def has_work(self, streaming: bool) -> bool:
        w = self.window
        if self.offline:
            return bool(self._queue)
        return w.sampled_total > self._processed if streaming else w.decisions_due > self._taken_seq

    def queued_stamp(self) -> float:
        """Offline: the stamp of the next queued window (inf when none)."""
        return self._queue[0].stamp if self._queue else float("inf")

    def next_job(self, streaming: bool) -> Job | None:
        """Take the next work for the engine, or None.

        Live: streaming steps through the new frames when there are a few; after a reset, or when the worker
        fell further behind, it primes on the newest full window: stale frames are skipped, not queued.
        """
        if self.offline:
            if not self._queue:
                return None
            job = self._queue.popleft()
            if not (streaming or job.due):
                return None  # a whole-window model only computes the windows it publishes
            state = self._state_for(job.generation) if streaming and not job.fresh else None
            if state is not None:  # the previous queued window ended one frame earlier: one step on the newest
                return Job("frames", job.frames[-1:], job.geometries[-1:], job.newest, job.stamp, job.due,
                           job.generation, state, self.body)
            return job
        w = self.window
        due = w.decisions_due > self._taken_seq
        self.windows_skipped += max(0, w.decisions_due - self._taken_seq - 1)
        self._taken_seq = w.decisions_due
        if streaming:
            new = w.sampled_total - self._processed
            self._processed = w.sampled_total
        if not w.full:
            return None  # the window restarted after the decision fell due: nothing whole to decide on
        if streaming:
            state = self._state_for(self.generation)
            if 1 <= new <= MAX_CATCH_UP and state is not None:
                frames, stamps, metas = w.newest(new)
                return Job("frames", frames, [m.geometry for m in metas], metas[-1], float(stamps[-1]), due,
                           self.generation, state, self.body)
        snap = w.snapshot()
        return Job("window", snap.frames, [m.geometry for m in snap.metas], snap.metas[-1],
                   float(snap.stamps[-1]), due, self.generation, body=self.body)

    def _state_for(self, generation: tuple[int, int]) -> Any:
        return self._state[1] if self._state is not None and self._state[0] == generation else None

    def complete(self, job: Job, result: RecognitionResult, state: Any, now: float) -> Decided | None:
        """Finish a job: keep its stream state and, when a decision is due, smooth it; None: nothing to publish."""
        if job.generation[0] != self.config.generation:
            return None  # made before a reconfiguration: its result belongs to another model or window
        if not finite(result):
            self._state = None  # a state that produced NaN would poison every later step
            raise ValueError("the engine returned non-finite outputs; nothing is published for this window")
        self._state = (job.generation, state) if state is not None else None
        if not job.due:
            return None
        decisions = {task: self.smoothers[task].update(head.probs, job.stamp) for task, head in result.heads.items()
                     if task in self.smoothers}
        self._last_decision = now
        if result.left is None and job.newest.body is not None:  # no hand head: the front end's hands
            left, right = landmark_hands(job.newest.body)
            result = replace(result, left=left, right=right)
        if result.left is not None:
            for track, trail in zip((result.left, result.right), self.trails):
                trail.append((float(track.xy[-1, 0]), float(track.xy[-1, 1]), float(track.confidence[-1])))
        w = self.window
        return Decided(decisions, result, job.newest, job.stamp, (now - job.stamp) * 1e3,
                       (list(self.trails[0]), list(self.trails[1])), (w.count, w.length), self.body)

    def abandon(self) -> None:
        """Forget the stream state after the engine failed, so that the next job re-primes."""
        self._state = None

    def stale(self, now: float, last_sampled: float | None) -> bool:
        """Frames are sampled into a full window, but no decision came out for a few seconds."""
        w = self.window
        if not w.full or self._full_since is None or last_sampled is None:
            return False
        if now - last_sampled > w.max_frame_gap:
            return False  # the camera went quiet: silence, not a stalled worker
        period = w.stride / self.config.sample_fps if self.config.sample_fps else 0.0
        since = max(self._full_since, self._last_decision or self._full_since)
        return now - since > max(STALE_AFTER, 2 * period)


def finite(result: RecognitionResult) -> bool:
    """Every probability, hand point and confidence is a finite number."""
    arrays = [h.probs for h in result.heads.values()]
    arrays += [a for t in (result.left, result.right) if t is not None for a in (t.xy, t.confidence)]
    return all(np.isfinite(a).all() for a in arrays)
