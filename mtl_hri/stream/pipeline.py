"""One camera's recognition pipeline without ROS: window, stream state, scheduling and smoothing.

The node wraps one `CameraStream` per image topic and runs the jobs on a worker thread;
`mtl-hri-offline` drives the same class frame by frame from a bag or a video file.
"""
from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .preprocess import FrameGeometry
from .engine import EngineBase, RecognitionResult
from .smoothing import Decision, DecisionSmoother, SmoothingParams
from .window import FrameWindow

MAX_CATCH_UP = 3  # a streaming worker this many frames behind steps through them; further behind, it re-primes


@dataclass
class FrameMeta:
    geometry: FrameGeometry
    source: Any  # the caller's record of the frame (a ROS header, a frame index)
    rgb: np.ndarray | None = None  # the source frame, kept only when an overlay will be drawn


@dataclass
class Job:
    """Work for the engine: a whole window (prime / recompute) or streamed frames."""

    stream: "CameraStream"
    kind: str  # "window": (re)compute a whole window | "frames": step the stream through new frames
    frames: np.ndarray  # (n, S, S, 3), oldest first
    geometries: list[FrameGeometry]  # one per frame
    newest: FrameMeta
    stamp: float
    due: bool  # a decision is to be published for it
    generation: int = 0  # the window's reset count when the job was made: states never cross a reset


class CameraStream:
    """Scheduling follows the window: live, it serves the newest work and skips what went stale; `offline`,
    it queues every sampled frame so that every window is processed in order (same input, same decisions)."""

    def __init__(self, offline: bool = False) -> None:
        self.offline = offline
        self.window: FrameWindow[FrameMeta] | None = None
        self.smoothers: dict[str, DecisionSmoother] = {}
        self.stream_state: Any = None
        self.windows_skipped = 0
        self._taken_seq = self._processed = self._resets_seen = self._state_generation = 0
        self._queue: collections.deque[Job] = collections.deque()  # offline only

    def configure(self, engine: EngineBase, sample_fps: float, stride: int, max_frame_gap: float,
                  smoothing: SmoothingParams, rebuild: bool) -> None:
        spec = engine.spec
        if rebuild or self.window is None or self.window.sample_fps != sample_fps:
            self.window = FrameWindow(spec.frames, (spec.size, spec.size, 3), sample_fps, stride, max_frame_gap)
            self._taken_seq = self._processed = self._resets_seen = 0
            self.stream_state = None
            self._queue.clear()
        self.window.stride, self.window.max_frame_gap = stride, max_frame_gap
        if rebuild or set(self.smoothers) != set(engine.labels):
            self.smoothers = {task: DecisionSmoother(labels, smoothing) for task, labels in engine.labels.items()}
        for smoother in self.smoothers.values():
            smoother.params = smoothing

    def store(self, stamp: float, crop: np.ndarray, meta: FrameMeta) -> None:
        """A frame the window said it samples (Push.SAMPLED)."""
        _, due = self.window.push(stamp, crop, meta)
        if self.offline and self.window.full:
            snap = self.window.snapshot()
            self._queue.append(Job(self, "window", snap.frames, [m.geometry for m in snap.metas], snap.metas[-1],
                                   float(snap.stamps[-1]), due, self.window.resets))

    def reset_decisions(self) -> None:
        for smoother in self.smoothers.values():
            smoother.reset()

    def has_work(self, streaming: bool) -> bool:
        w = self.window
        if w is None:
            return False
        if self.offline:
            return bool(self._queue)
        return w.sampled_total > self._processed if streaming else w.decisions_due > self._taken_seq

    def next_job(self, streaming: bool) -> Job | None:
        """Live: streaming steps through the new frames when there are a few; after a reset, or when the
        worker fell further behind, it primes on the newest full window: stale frames are skipped, not queued."""
        w = self.window
        if self.offline:
            job = self._queue.popleft()
            if not (streaming or job.due):
                return None  # a whole-window model only computes the windows it publishes
            if streaming and self.stream_state is not None and job.generation == self._state_generation:
                # the previous queued window ended one frame earlier: one step on the newest frame
                job = Job(self, "frames", job.frames[-1:], job.geometries[-1:], job.newest, job.stamp, job.due)
            self._state_generation = job.generation
            return job
        if w.resets != self._resets_seen:
            self._resets_seen, self.stream_state = w.resets, None
        due = w.decisions_due > self._taken_seq
        self.windows_skipped += max(0, w.decisions_due - self._taken_seq - 1)
        self._taken_seq = w.decisions_due
        if streaming:
            new = w.sampled_total - self._processed
            self._processed = w.sampled_total
            if not w.full:
                return None
            if 1 <= new <= MAX_CATCH_UP and self.stream_state is not None:
                frames, stamps, metas = w.newest(new)
                return Job(self, "frames", frames, [m.geometry for m in metas], metas[-1], float(stamps[-1]), due)
        snap = w.snapshot()
        return Job(self, "window", snap.frames, [m.geometry for m in snap.metas], snap.metas[-1],
                   float(snap.stamps[-1]), due)

    def decide(self, result: RecognitionResult, stamp: float) -> dict[str, Decision]:
        return {task: self.smoothers[task].update(head.probs, stamp) for task, head in result.heads.items()}


def run_jobs(engine: EngineBase, jobs: Sequence[Job]) -> list[tuple[Job, RecognitionResult, Any]]:
    """Batched forward passes: all whole windows at once, then the streams' new frames, one step at a time.
    Returns (job, result for its newest frame, the stream state after it)."""
    windows = [j for j in jobs if j.kind == "window"]
    streams = [j for j in jobs if j.kind == "frames"]
    done = [(j, r, s) for j, (r, s) in zip(windows, engine.infer_many([(j.frames, j.geometries) for j in windows])
                                           if windows else [])]
    latest = {id(j): (None, j.stream.stream_state) for j in streams}
    for i in range(max((len(j.frames) for j in streams), default=0)):
        batch = [j for j in streams if i < len(j.frames)]
        outs = engine.step_many([(j.frames[i], j.geometries[i], latest[id(j)][1]) for j in batch])
        latest.update({id(j): out for j, out in zip(batch, outs)})
    return done + [(j, *latest[id(j)]) for j in streams]


def sample_fps_for(engine: EngineBase, requested: float) -> float:
    """-1 (the default) takes the model card's rate."""
    return engine.spec.sample_fps if requested == -1.0 else requested
