"""One camera's recognition pipeline without ROS: the frame protocol, scheduling, decisions and health.

A frame flows one way. The caller's callback hands it to `ingest` (bound, sample, decode, prepare, store);
the worker takes `next_job`, runs the engine (`run_jobs`) and hands the result to `complete` (stream state,
decision, smoothing), which returns what to publish. The node wraps one `CameraStream` per image topic;
`mtl-hri-offline` drives the same calls frame by frame. Nothing else touches the window.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol, Sequence

import numpy as np

from ..model import InputSpec
from .engine import EngineBase, RecognitionResult
from .preprocess import FrameGeometry, Pixels, check_frame_size, prepare
from .smoothing import Decision, DecisionSmoother, SmoothingParams
from .stats import RateMeter, RollingStats
from .window import FrameWindow, Push

MAX_CATCH_UP = 3  # a streaming worker this many frames behind steps through them; further behind, it re-primes
TRAIL = 12  # hand positions kept for the debug trail
STALE_AFTER = 3.0  # s with a full window and frames arriving but no decision: the stream is stale


class LazyFrame(Protocol):
    """A frame whose header is read first; its pixels are decoded only when the window samples it."""

    def size(self) -> tuple[int, int]:
        """(width, height) as declared; cheap, raises for a malformed frame."""

    def pixels(self) -> Pixels:
        """Decode the frame; raises when it cannot."""


class ArrayFrame:
    """A frame that is already decoded (a video file's): its size is its array's."""

    def __init__(self, pixels: Pixels) -> None:
        self._pixels = pixels

    def size(self) -> tuple[int, int]:
        return self._pixels.size

    def pixels(self) -> Pixels:
        return self._pixels


class Outcome(Enum):
    SAMPLED = "sampled"  # prepared and stored in the window
    SKIPPED = "skipped"  # valid, not needed at sample_fps
    BACKWARDS = "backwards"  # stamp not after the previous one (by less than max_frame_gap): rejected
    OFF_CLOCK = "off_clock"  # stamp further than max_clock_offset from the caller's clock: rejected
    BAD = "bad"  # malformed, undecodable or beyond the limits: rejected


@dataclass
class Ingested:
    outcome: Outcome
    reset: str = ""  # why the stream restarted before this frame ("" if it did not)
    error: str = ""  # why a BAD frame was refused
    fault: Exception | None = None  # set when that was not bad input (a ValueError) but a failure of ours


@dataclass
class FrameMeta:
    geometry: FrameGeometry
    source: Any  # the caller's record of the frame (a ROS header, an offline frame)
    rgb: np.ndarray | None = None  # the source frame, kept only when an overlay will be drawn


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


@dataclass
class StreamStats:
    """Counters and rates on the caller's clock, for diagnostics."""

    frames_in: RateMeter = field(default_factory=RateMeter)
    frames_sampled: RateMeter = field(default_factory=RateMeter)
    decisions: RateMeter = field(default_factory=RateMeter)
    inference_ms: RollingStats = field(default_factory=RollingStats)
    latency_ms: RollingStats = field(default_factory=RollingStats)
    frames_bad: int = 0
    frames_off_clock: int = 0
    windows_skipped: int = 0
    restarts: int = 0  # the stream restarted: a gap, stamps jumping back, a new frame size
    last_frame: float | None = None  # caller's clock at the last frame in
    last_sampled: float | None = None
    last_error: str = ""
    events: dict[str, float] = field(default_factory=dict)  # what went wrong -> caller's clock when it last did

    def note(self, event: str, now: float) -> None:
        self.events[event] = now

    def recent(self, now: float, horizon: float) -> list[str]:
        """List what went wrong within the last `horizon` seconds, newest first."""
        return [e for e, t in sorted(self.events.items(), key=lambda kv: -kv[1]) if now - t <= horizon]


class CameraStream:
    """One camera's frame protocol and scheduling.

    Live, it serves the newest work and skips what went stale; `offline`, it queues every sampled frame so that
    every window is processed in order (same input, same decisions).
    """

    def __init__(self, offline: bool = False) -> None:
        self.offline = offline
        self.spec: InputSpec | None = None
        self.window: FrameWindow[FrameMeta] | None = None
        self.smoothers: dict[str, DecisionSmoother] = {}
        self.stats = StreamStats()
        self.trails: tuple[collections.deque, collections.deque] = (
            collections.deque(maxlen=TRAIL), collections.deque(maxlen=TRAIL))
        self._frame_size: tuple[int, int] | None = None
        self._configs = 0
        self._state: tuple[tuple[int, int], Any] | None = None  # (generation it belongs to, stream state)
        self._taken_seq = self._processed = 0
        self._full_since: float | None = None
        self._last_decision: float | None = None
        self._silent = False
        self.max_clock_offset = 0.0  # s; 0: stamps are not compared with the caller's clock
        self._queue: collections.deque[Job] = collections.deque()  # offline only

    # ------------------------------------------------------------------ configuration
    def configure(self, spec: InputSpec, labels: dict[str, list[str]], sample_fps: float, stride: int,
                  max_frame_gap: float, smoothing: SmoothingParams, rebuild: bool,
                  max_clock_offset: float = 0.0) -> None:
        """Take the model's input spec and labels, and the parameters.

        `rebuild` (a new model) makes a new window and smoothers; otherwise the parameters change in place.
        `max_clock_offset` > 0 rejects stamps that far from the caller's clock.
        """
        self.max_clock_offset = max_clock_offset
        if rebuild or self.window is None or self.window.sample_fps != sample_fps:
            self.spec = spec
            self.window = FrameWindow(spec.frames, (spec.size, spec.size, 3), sample_fps, stride, max_frame_gap)
            self._configs += 1
            self._taken_seq = self._processed = 0
            self._state, self._full_since = None, None
            self._queue.clear()
        self.window.stride, self.window.max_frame_gap = stride, max_frame_gap
        if rebuild or set(self.smoothers) != set(labels):
            self.smoothers = {task: DecisionSmoother(classes, smoothing) for task, classes in labels.items()}
        for smoother in self.smoothers.values():
            smoother.params = smoothing

    @property
    def generation(self) -> tuple[int, int]:
        return self._configs, self.window.resets if self.window else 0

    # ------------------------------------------------------------------ the callback's half
    def ingest(self, frame: LazyFrame, stamp: float, source: Any, now: float, keep_rgb: bool = False) -> Ingested:
        """Bound, sample, decode, prepare and store one frame. Never raises: a frame that fails anywhere is BAD.

        Only the header is read for frames that are rejected or not sampled.
        """
        stats, w = self.stats, self.window
        stats.frames_in.tick(now)
        stats.last_frame, self._silent = now, False
        try:
            size = tuple(frame.size())
            check_frame_size(*size)
        except Exception as exc:  # noqa: BLE001 - any failure to read a frame makes it a bad frame, never a crash
            return self._bad(exc, now)
        if self.max_clock_offset and abs(stamp - now) > self.max_clock_offset:
            stats.frames_off_clock += 1
            stats.note("stamps far from the clock", now)
            return Ingested(Outcome.OFF_CLOCK, error=f"stamp {stamp:.3f} is {stamp - now:+.1f} s from the clock")
        reset = ""
        last = w.last_stamp
        if w.check_gap(stamp):
            reset = f"a gap of {stamp - last:.2f} s between frames"
        elif w.count and last - stamp > w.max_frame_gap:
            w.reset()
            reset = f"stamps jumping back by {last - stamp:.2f} s"
        elif self._frame_size not in (None, size) and w.count:
            w.reset()
            reset = f"the frame size changed from {self._frame_size[0]}x{self._frame_size[1]} to {size[0]}x{size[1]}"
        if reset:
            self._restart()
            stats.restarts += 1
            stats.note("stream restarts", now)
        kind = w.classify(stamp)
        if kind is not Push.SAMPLED:
            w.push(stamp, None)
            if kind is Push.BACKWARDS:
                stats.note("backwards stamps", now)
            return Ingested(Outcome.BACKWARDS if kind is Push.BACKWARDS else Outcome.SKIPPED, reset)
        try:
            pixels = frame.pixels()
            crop, geometry = prepare(pixels, self.spec)
            rgb = pixels.rgb() if keep_rgb else None
        except Exception as exc:  # noqa: BLE001 - see above
            return self._bad(exc, now, reset)
        self._frame_size = size
        _, due = w.push(stamp, crop, FrameMeta(geometry, source, rgb))
        stats.frames_sampled.tick(now)
        stats.last_sampled = now
        if w.full and self._full_since is None:
            self._full_since = now
        if self.offline and w.full:
            snap = w.snapshot()
            self._queue.append(Job("window", snap.frames, [m.geometry for m in snap.metas], snap.metas[-1],
                                   float(snap.stamps[-1]), due, self.generation))
        return Ingested(Outcome.SAMPLED, reset)

    def _bad(self, exc: Exception, now: float, reset: str = "") -> Ingested:
        self.stats.frames_bad += 1
        self.stats.note("malformed frames", now)
        self.stats.last_error = str(exc) or type(exc).__name__
        return Ingested(Outcome.BAD, reset, self.stats.last_error, None if isinstance(exc, ValueError) else exc)

    def _restart(self) -> None:
        """After a window reset: forget decisions, trails and the stream state."""
        for smoother in self.smoothers.values():
            smoother.reset()
        for trail in self.trails:
            trail.clear()
        self._full_since = None

    def check_silence(self, now: float) -> bool:
        """Reset, once, when frames stopped for longer than max_frame_gap; True when it did."""
        w = self.window
        last = self.stats.last_frame
        if w is None or not w.count or self._silent or last is None or now - last <= w.max_frame_gap:
            return False
        self._silent = True
        w.reset()
        self._restart()
        return True

    # ------------------------------------------------------------------ the worker's half
    def has_work(self, streaming: bool) -> bool:
        w = self.window
        if w is None:
            return False
        if self.offline:
            return bool(self._queue)
        return w.sampled_total > self._processed if streaming else w.decisions_due > self._taken_seq

    def next_job(self, streaming: bool) -> Job | None:
        """Take the next work for the engine, or None.

        Live: streaming steps through the new frames when there are a few; after a reset, or when the worker
        fell further behind, it primes on the newest full window: stale frames are skipped, not queued.
        """
        if self.offline:
            job = self._queue.popleft()
            if not (streaming or job.due):
                return None  # a whole-window model only computes the windows it publishes
            state = self._state_for(job.generation) if streaming else None
            if state is not None:  # the previous queued window ended one frame earlier: one step on the newest
                return Job("frames", job.frames[-1:], job.geometries[-1:], job.newest, job.stamp, job.due,
                           job.generation, state)
            return job
        w = self.window
        due = w.decisions_due > self._taken_seq
        self.stats.windows_skipped += max(0, w.decisions_due - self._taken_seq - 1)
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
                           self.generation, state)
        snap = w.snapshot()
        return Job("window", snap.frames, [m.geometry for m in snap.metas], snap.metas[-1],
                   float(snap.stamps[-1]), due, self.generation)

    def _state_for(self, generation: tuple[int, int]) -> Any:
        return self._state[1] if self._state is not None and self._state[0] == generation else None

    def complete(self, job: Job, result: RecognitionResult, state: Any, now: float) -> Decided | None:
        """Finish a job: keep its stream state and, when a decision is due, smooth it; None: nothing to publish."""
        if job.generation[0] != self._configs:
            return None  # made before a reconfiguration: its result belongs to another model or window
        if not finite(result):
            self._state = None  # a state that produced NaN would poison every later step
            raise ValueError("the engine returned non-finite outputs; nothing is published for this window")
        self._state = (job.generation, state) if state is not None else None
        if not job.due:
            return None
        stats = self.stats
        decisions = {task: self.smoothers[task].update(head.probs, job.stamp) for task, head in result.heads.items()
                     if task in self.smoothers}
        latency = (now - job.stamp) * 1e3
        stats.decisions.tick(now)
        stats.inference_ms.add(result.timings.inference_ms)
        stats.latency_ms.add(latency)
        self._last_decision = now
        if result.left is not None:
            for track, trail in zip((result.left, result.right), self.trails):
                trail.append((float(track.xy[-1, 0]), float(track.xy[-1, 1]), float(track.confidence[-1])))
        w = self.window
        return Decided(decisions, result, job.newest, job.stamp, latency, (list(self.trails[0]), list(self.trails[1])),
                       (w.count, w.length))

    def abandon(self, job: Job) -> None:
        """Forget the stream state after the engine failed on `job`, so that the next job re-primes."""
        self._state = None

    # ------------------------------------------------------------------ health
    def stale(self, now: float) -> bool:
        """Frames are sampled into a full window, but no decision came out for a few seconds."""
        w, stats = self.window, self.stats
        if w is None or not w.full or self._full_since is None or stats.last_sampled is None:
            return False
        if now - stats.last_sampled > w.max_frame_gap:
            return False  # the camera went quiet: silence, not a stalled worker
        period = w.stride / w.sample_fps if w.sample_fps else 0.0
        since = max(self._full_since, self._last_decision or self._full_since)
        return now - since > max(STALE_AFTER, 2 * period)


def finite(result: RecognitionResult) -> bool:
    """Every probability, hand point and confidence is a finite number."""
    arrays = [h.probs for h in result.heads.values()]
    arrays += [a for t in (result.left, result.right) if t is not None for a in (t.xy, t.confidence)]
    return all(np.isfinite(a).all() for a in arrays)


def run_jobs(engine: EngineBase, jobs: Sequence[Job]) -> list[tuple[RecognitionResult, Any]]:
    """Run batched forward passes: all whole windows at once, then the streams' new frames, a step at a time.

    Returns, for each job in order, the result for its newest frame and the stream state after it.
    """
    out: list[Any] = [None] * len(jobs)
    windows = [i for i, j in enumerate(jobs) if j.kind == "window"]
    if windows:
        for i, r in zip(windows, engine.infer_many([(jobs[i].frames, jobs[i].geometries) for i in windows])):
            out[i] = r
    streams = [i for i, j in enumerate(jobs) if j.kind == "frames"]
    for i in streams:
        out[i] = (None, jobs[i].state)
    for step in range(max((len(jobs[i].frames) for i in streams), default=0)):
        batch = [i for i in streams if step < len(jobs[i].frames)]
        results = engine.step_many([(jobs[i].frames[step], jobs[i].geometries[step], out[i][1]) for i in batch])
        for i, r in zip(batch, results):
            out[i] = r
    return out


def sample_fps_for(engine: EngineBase, requested: float) -> float:
    """-1 (the default) takes the model card's rate."""
    return engine.spec.sample_fps if requested == -1.0 else requested
