"""One camera's recognition pipeline without ROS: the frame protocol, scheduling, decisions and health.

A frame flows one way. The caller's callback hands it to `ingest` (bound, sample, decode, prepare, store);
the worker takes `next_job`, runs the engine (`run_jobs`) and hands the result to `complete` (stream state,
decision, smoothing), which returns what to publish. The node wraps one `CameraStream` per image topic;
`mtl-hri-offline` drives the same calls frame by frame. Nothing else touches the window.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol, Sequence

import numpy as np

from ..model import InputSpec
from .body_keypoints import body_keypoints
from .engine import EngineBase, RecognitionResult
from .preprocess import FrameGeometry, Pixels, check_frame_size, frame_layout, geometry_for, prepare, prepare_square
from .smoothing import SmoothingParams
from .stats import RateMeter, RollingStats
from .window import FrameWindow, Push
from .window_stream import Decided, FrameMeta, Job, WindowConfig, WindowStream

if TYPE_CHECKING:
    from ..perception.frontend import Body, FrontEnd, Perceived


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
    created: list[str] = field(default_factory=list)  # bodies that got a window with this frame
    dropped: list[str] = field(default_factory=list)  # bodies gone: their windows and topics end


@dataclass
class Admitted:
    """A sampled frame between `admit` and `store`: `perceive` fills in its crops and the front end's view."""

    frame: LazyFrame
    stamp: float
    source: Any
    size: tuple[int, int]
    keep_rgb: bool
    spec: InputSpec
    front_end: FrontEnd | None
    generation: int  # the configuration it was admitted under
    reset: str = ""
    dropped: list[str] = field(default_factory=list)
    crop: np.ndarray | None = None
    geometry: FrameGeometry | None = None
    rgb: np.ndarray | None = None  # kept for the overlay
    perceived: Perceived | None = None
    crops: list = field(default_factory=list)  # (body, crop or keypoints, geometry) of the bodies seen
    error: Exception | None = None


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
    bodies_created: int = 0  # ids ever given (each body's window)
    bodies_dropped: int = 0
    bodies_left_out: int = 0  # at the last detection: people beyond max_bodies
    detect_ms: RollingStats = field(default_factory=RollingStats)  # the front end's stages, when they ran
    landmarks_ms: RollingStats = field(default_factory=RollingStats)  # every body's, per frame
    hands_ms: RollingStats = field(default_factory=RollingStats)
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
    """One camera's frame protocol, its windows and their scheduling.

    Every frame is checked here once (size, stamps, clock). The scene's window (the whole frame, centre-cropped)
    samples them; with a front end, each body it tracks gets its own window of crops around the body, and the
    scene only decides while nobody is in view. Live, it serves the newest work and skips what went stale;
    `offline`, it queues every sampled frame so that every window is processed in order.
    """

    def __init__(self, offline: bool = False, front_end: FrontEnd | None = None) -> None:
        self.offline = offline
        self.front_end = front_end
        self.spec: InputSpec | None = None
        self.scene: WindowStream | None = None
        self.bodies: dict[str, WindowStream] = {}  # by body id, while the front end tracks them
        self.tracked: list[Body] = []  # the front end's bodies at the last sampled frame, largest first
        self.stats = StreamStats()
        self._config: WindowConfig | None = None
        self._frame_size: tuple[int, int] | None = None
        self._silent = False
        self._busy_until: float | None = None  # when the last admitted frame was done with (stored)
        self.max_clock_offset = 0.0  # s; 0: stamps are not compared with the caller's clock

    @property
    def window(self) -> FrameWindow | None:
        """The scene's window: it samples every frame the camera sends."""
        return self.scene.window if self.scene else None

    @property
    def primary(self) -> str | None:
        """The body the plain topics describe: the largest seen on the latest frame whose window is full.

        None (the whole scene) while there is none, so that the plain topics get one decision per sampled frame:
        they never fall silent while a new body's window fills, or while the nearest person is hidden.
        """
        ready = [b.id for b in self.tracked
                 if b.seen_now and b.id in self.bodies and self.bodies[b.id].window.full]
        return ready[0] if ready else None

    # ------------------------------------------------------------------ configuration
    def configure(self, spec: InputSpec, labels: dict[str, list[str]], sample_fps: float, stride: int,
                  max_frame_gap: float, smoothing: SmoothingParams, rebuild: bool,
                  max_clock_offset: float = 0.0) -> None:
        """Take the model's input spec and labels, and the parameters.

        `rebuild` (a new model), or a new sampling rate, makes new windows and smoothers; otherwise the parameters
        change in place. `max_clock_offset` > 0 rejects stamps that far from the caller's clock.
        """
        self.max_clock_offset = max_clock_offset
        old = self._config
        renew = rebuild or old is None or old.sample_fps != sample_fps
        self.spec = spec
        self._config = WindowConfig(spec, labels, sample_fps, stride, max_frame_gap, smoothing,
                                    (old.generation if old else 0) + int(renew))
        if renew:
            self.scene = WindowStream(self._config, None, self.offline)
            self.bodies.clear()
        else:
            for stream in self._streams():
                stream.retune(self._config)

    def set_front_end(self, front_end: FrontEnd | None) -> list[str]:
        """Track bodies with `front_end` from the next frame on (None: the whole scene only); return the ids dropped."""
        dropped = self._restart() if self.scene else []
        if self.front_end is not None and self.front_end is not front_end:
            self.front_end.close()
        self.front_end = front_end
        return dropped

    def _streams(self) -> list[WindowStream]:
        return ([self.scene] if self.scene else []) + list(self.bodies.values())

    # ------------------------------------------------------------------ the callback's half
    def ingest(self, frame: LazyFrame, stamp: float, source: Any, now: float, keep_rgb: bool = False) -> Ingested:
        """Bound, sample, decode, prepare and store one frame. Never raises: a frame that fails anywhere is BAD.

        Only the header is read for frames that are rejected or not sampled. It is `admit`, `perceive` and
        `store` in a row; a caller whose worker shares the streams runs `perceive` (the costly part: decoding and
        the front end) outside its lock.
        """
        got = self.admit(frame, stamp, source, now, keep_rgb)
        return got if isinstance(got, Ingested) else self.store(self.perceive(got), now)

    def admit(self, frame: LazyFrame, stamp: float, source: Any, now: float, keep_rgb: bool = False
              ) -> Ingested | Admitted:
        """Check a frame's header and stamp, and sample it: an `Ingested` when that is all, else `Admitted`."""
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
        dropped: list[str] = []
        if reset:
            dropped = self._restart()
            stats.restarts += 1
            stats.note("stream restarts", now)
        kind = w.classify(stamp)
        if kind is not Push.SAMPLED:
            w.push(stamp, None)
            if kind is Push.BACKWARDS:
                stats.note("backwards stamps", now)
            return Ingested(Outcome.BACKWARDS if kind is Push.BACKWARDS else Outcome.SKIPPED, reset, dropped=dropped)
        return Admitted(frame, stamp, source, size, keep_rgb, self.spec, self.front_end, self._config.generation,
                        reset, dropped)

    @staticmethod
    def perceive(a: Admitted) -> Admitted:
        """Decode, crop, and run the front end on an admitted frame. Never raises (a failure is kept in `a`).

        It touches nothing but the frame and the front end (which only the frame callback uses), so it needs no
        lock against the worker.
        """
        try:
            pixels = a.frame.pixels()
            keypoints = a.spec.modality == "keypoints"
            if keypoints:  # the whole scene is nobody's keypoints: a keypoint model decides on bodies only
                a.crop, a.geometry = np.zeros(*frame_layout(a.spec)), geometry_for(*pixels.size, a.spec)
            else:
                a.crop, a.geometry = prepare(pixels, a.spec)
            rgb = pixels.rgb() if a.keep_rgb or a.front_end else None
            a.rgb = rgb if a.keep_rgb else None
            if a.front_end:
                a.perceived = a.front_end.process(rgb, a.stamp)
                seen = [b for b in a.perceived.bodies if b.seen_now]
                a.crops = ([(b, *body_keypoints(b, *pixels.size, a.spec.size)) for b in seen] if keypoints
                           else [(b, *prepare_square(pixels, a.spec, b.box)) for b in seen])
        except Exception as exc:  # noqa: BLE001 - see `admit`
            a.error = exc
        return a

    def store(self, a: Admitted, now: float) -> Ingested:
        """Put a perceived frame in the scene's window and its bodies' windows; decide which is primary."""
        stats, stamp, dropped = self.stats, a.stamp, list(a.dropped)
        self._busy_until = now
        if a.error is not None:
            return self._bad(a.error, now, a.reset, dropped)
        if a.generation != self._config.generation or a.front_end is not self.front_end:
            return Ingested(Outcome.SKIPPED, a.reset, dropped=dropped)  # the model or front end changed meanwhile
        self._frame_size = a.size
        created, metas = [], {}
        due = self.scene.window.due_next()  # bodies decide on the camera's cadence, so the plain topics keep it
        if a.perceived is not None:
            self.tracked = a.perceived.bodies
            self._count(a.perceived)
            for body_id in a.perceived.dropped:
                self.bodies.pop(body_id, None)
            dropped += a.perceived.dropped
            for body, body_crop, body_geometry in a.crops:
                if body.id not in self.bodies:
                    self.bodies[body.id] = WindowStream(self._config, body.id, self.offline)
                    created.append(body.id)
                metas[body.id] = FrameMeta(body_geometry, a.source, a.rgb, body)
                self.bodies[body.id].push(stamp, body_crop, metas[body.id], now, due=due)
        primary = self.primary
        if primary is not None:
            metas[primary].primary = True
        # The scene always samples; it decides only while no body is primary.
        self.scene.push(stamp, a.crop, FrameMeta(a.geometry, a.source, a.rgb, primary=primary is None), now,
                        decide=primary is None)
        stats.frames_sampled.tick(now)
        stats.last_sampled = now
        return Ingested(Outcome.SAMPLED, a.reset, created=created, dropped=dropped)

    def _count(self, perceived: Perceived) -> None:
        stats, costs = self.stats, perceived.costs
        stats.bodies_created += len(perceived.created)
        stats.bodies_dropped += len(perceived.dropped)
        if perceived.detected:
            stats.bodies_left_out = perceived.left_out
            stats.detect_ms.add(costs.detect_ms)
        stats.landmarks_ms.add(costs.landmarks_ms)
        stats.hands_ms.add(costs.hands_ms)

    def _bad(self, exc: Exception, now: float, reset: str = "", dropped: list[str] | None = None) -> Ingested:
        self.stats.frames_bad += 1
        self.stats.note("malformed frames", now)
        self.stats.last_error = str(exc) or type(exc).__name__
        return Ingested(Outcome.BAD, reset, self.stats.last_error, None if isinstance(exc, ValueError) else exc,
                        dropped=dropped or [])

    def _restart(self) -> list[str]:
        """After a reset of the scene's window: every body starts over; return the ids dropped."""
        self.scene.restart()
        dropped = list(self.bodies)
        if self.front_end:
            dropped = sorted(set(dropped) | set(self.front_end.reset()))
        self.bodies.clear()
        self.tracked = []
        return dropped

    def check_silence(self, now: float) -> list[str] | None:
        """Reset, once, when frames stopped for longer than max_frame_gap: return the body ids dropped then.

        None when it did not reset. The gap counts from when the last frame was done with, not from its arrival:
        a caller that perceives in its frame callback takes no frame meanwhile, and that is not a silent camera.
        """
        w = self.window
        last = max((t for t in (self.stats.last_frame, self._busy_until) if t is not None), default=None)
        if w is None or not w.count or self._silent or last is None or now - last <= w.max_frame_gap:
            return None
        self._silent = True
        w.reset()
        return self._restart()

    # ------------------------------------------------------------------ the worker's half
    def _deciding(self) -> list[WindowStream]:
        """Return the windows that decide now: every body's, and the scene's while it is primary."""
        bodies = list(self.bodies.values())
        return [self.scene, *bodies] if self.scene and self.primary is None else bodies

    def has_work(self, streaming: bool) -> bool:
        return any(s.has_work(streaming) for s in self._deciding())

    def next_jobs(self, streaming: bool) -> list[Job]:
        """Take the engine's next work from every deciding window (one job each, at most)."""
        deciding = [s for s in self._deciding() if s.has_work(streaming)]
        if self.offline and deciding:  # frame by frame across windows, so that decisions come out in stamp order
            oldest = min(s.queued_stamp() for s in deciding)
            deciding = [s for s in deciding if s.queued_stamp() == oldest]
        jobs = [job for s in deciding if (job := s.next_job(streaming))]
        self.stats.windows_skipped = sum(s.windows_skipped for s in self._streams())
        return jobs

    def _stream_of(self, job: Job) -> WindowStream | None:
        return self.scene if job.body is None else self.bodies.get(job.body)

    def complete(self, job: Job, result: RecognitionResult, state: Any, now: float) -> Decided | None:
        """Finish a job in its window; None: nothing to publish (or the body is gone)."""
        stream = self._stream_of(job)
        if stream is None:
            return None
        decided = stream.complete(job, result, state, now)
        if decided is not None:
            self.stats.decisions.tick(now)
            self.stats.inference_ms.add(result.timings.inference_ms)
            self.stats.latency_ms.add(decided.latency_ms)
        return decided

    def abandon(self, job: Job) -> None:
        """Forget the stream state after the engine failed on `job`, so that the next job re-primes."""
        if (stream := self._stream_of(job)) is not None:
            stream.abandon()

    # ------------------------------------------------------------------ health
    def stale(self, now: float) -> bool:
        """Frames are sampled into a full window, but no decision came out for a few seconds."""
        return any(s.stale(now, self.stats.last_sampled) for s in self._deciding())


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
