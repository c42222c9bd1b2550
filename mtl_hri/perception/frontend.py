"""The front end: who is in the frame, where their body and hands are, and under which id, frame after frame.

As MediaPipe's pose graph does, a body once found is followed by its own landmarks (the region its last landmarks
ask for), so the person detector only runs every `detect_interval` seconds, or while nobody is followed, to find
newcomers. Every landmark pass doubles as a check: a region whose landmark model says "no body" is dropped, which
removes the detector's false alarms (traffic cones, bags). OC-SORT then keeps ids stable through crossings and
short occlusions.

Live (`background`), finding newcomers while bodies are followed runs in a thread of its own, beside the
following of the next frames, so that it never adds to a frame's latency; the newcomers it found are followed
from the frame after. Offline, it runs in line, so that the same frames always give the same bodies.
"""
from __future__ import annotations

import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .detector import PersonDetector
from .hands import HandLandmarker, HandLandmarks
from .pose import BodyLandmarks, PoseLandmarker
from .roi import Roi
from .runtime import RUNTIMES
from .skeleton import coco18
from .tracker import BodyTracker, Track

DETECTION_ROI_SCALE = 1.25  # from a detector's box to the landmark model's square
BOX_PAD = 0.1  # the landmarks' box, grown by this fraction of its height on every side (head top, feet, hands)
SAME_BODY_IOU = 0.4  # a detection overlapping a followed body this much is that body
REJECTED_FOR = 2.0  # s: a detection the landmark model turned down is not checked again in that place for this long


@dataclass
class FrontEndParams:
    max_bodies: int = 5  # bodies followed at once; the largest (nearest) win
    body_timeout: float = 1.0  # s: a body unseen this long is dropped and its id retired
    detect_interval: float = 0.5  # s between person detections while bodies are followed; 0: every frame
    min_detection_score: float = 0.3  # the detector's; the landmark model's presence check follows
    min_presence: float = 0.5  # the landmark models' presence score to accept a body or a hand
    hands: bool = True  # run the hand landmark model around visible wrists
    threads: int = 1  # CPU threads of each model
    runtime: str = "litert"  # or "onnxruntime": the ONNX conversions (`mtl-hri-fetch-front-end --onnx`), for a GPU

    def problem(self) -> str:
        """Why these parameters cannot be used ("" when they can)."""
        checks = [(1 <= self.max_bodies <= 32, f"max_bodies must be 1 to 32, not {self.max_bodies}"),
                  (0.0 < self.body_timeout <= 60.0, f"body_timeout must be in (0, 60] s, not {self.body_timeout}"),
                  (0.0 <= self.detect_interval <= 10.0,
                   f"detect_interval must be in [0, 10] s, not {self.detect_interval}"),
                  (0.0 < self.min_detection_score < 1.0,
                   f"min_detection_score must be in (0, 1), not {self.min_detection_score}"),
                  (0.0 < self.min_presence < 1.0, f"min_presence must be in (0, 1), not {self.min_presence}"),
                  (1 <= self.threads <= 1024, f"threads must be 1 to 1024, not {self.threads}"),
                  (self.runtime in RUNTIMES, f"runtime must be one of {', '.join(RUNTIMES)}, not {self.runtime!r}")]
        return next((reason for ok, reason in checks if not ok), "")


@dataclass
class Body:
    id: str
    box: np.ndarray  # (x0, y0, x1, y1) source pixels around the whole body
    confidence: float  # the landmark model's presence score
    landmarks: BodyLandmarks
    skeleton: np.ndarray  # (18, 3) x, y px, confidence, ROS4HRI Skeleton2D order
    hands: list[HandLandmarks]
    stamp: float  # when it was last seen
    seen_now: bool = True  # seen on the latest frame (False: followed from memory until body_timeout)

    @property
    def area(self) -> float:
        return float((self.box[2] - self.box[0]) * (self.box[3] - self.box[1]))


@dataclass
class Costs:
    detect_ms: float = 0.0  # 0 on frames where the detector did not run
    landmarks_ms: float = 0.0  # every body's landmark passes together
    hands_ms: float = 0.0
    bodies_landmarked: int = 0


@dataclass
class Perceived:
    bodies: list[Body]  # tracked now, largest first
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    left_out: int = 0  # people detected beyond max_bodies
    detected: bool = False  # the detector ran on this frame
    costs: Costs = field(default_factory=Costs)


@dataclass
class Discovery:
    """What one person detection found: the new bodies (landmarked on the frame it ran on) and the false alarms."""

    stamp: float
    bodies: list[BodyLandmarks]
    rejected: list[np.ndarray]  # boxes the landmark model found no body in
    left_out: int  # people beyond the room there was
    detect_ms: float
    landmarks_ms: float
    landmarked: int
    epoch: int  # the front end's reset count when it started: an older one's bodies are gone


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two xyxy boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return float(w * h / union) if union > 0 else 0.0


def body_box(landmarks: BodyLandmarks, width: int, height: int) -> np.ndarray:
    """Return the padded box of a body's landmarks, clipped to the frame."""
    return padded_box(landmarks.box(), width, height)


def padded_box(box: np.ndarray, width: int, height: int) -> np.ndarray:
    """Grow a landmarks' (x0, y0, x1, y1) box by BOX_PAD on every side, clipped to the frame."""
    x0, y0, x1, y1 = box
    pad = BOX_PAD * max(y1 - y0, x1 - x0)
    return np.clip([x0 - pad, y0 - pad, x1 + pad, y1 + pad], 0, [width, height, width, height]).astype(np.float32)


class FrontEnd:
    """Bodies, landmarks and ids for one camera. `process` takes frames in stamp order; `reset` after a restart."""

    def __init__(self, params: FrontEndParams, directory: Path | None = None, seed: int | None = None,
                 background: bool = False) -> None:
        if params.problem():
            raise ValueError(params.problem())
        self.params = params
        self.detector = PersonDetector(directory, params.threads, params.min_detection_score, runtime=params.runtime)
        self.pose = PoseLandmarker(directory, params.threads, params.runtime)
        self.hand_model = HandLandmarker(directory, params.threads, params.min_presence, params.runtime)
        self.tracker = BodyTracker(params.body_timeout, seed)
        self.bodies: dict[str, Body] = {}
        # The discovery thread shares the landmark model, which takes one call at a time (a second interpreter cost
        # 41 MB of the node's memory; a frame waits at most one pass, ~14 ms); the detector is only ever used by one
        # discovery at a time (the one in flight, else one in line).
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="mtl_hri_discovery") if background else None
        self._discovering: Future[Discovery] | None = None
        self._epoch = 0
        self._last_detection = -math.inf
        self._rejected: list[tuple[np.ndarray, float]] = []  # (box, stamp): detections that were not bodies
        self._pending: list[BodyLandmarks] = []  # bodies found on the last frame that the tracker has no id for yet

    def reset(self) -> list[str]:
        """Forget every body; return their ids (now dropped)."""
        self._forget_discovery()
        self._epoch += 1
        dropped = list(self.bodies)
        self.bodies.clear()
        self.tracker.reset()
        self._last_detection = -math.inf
        self._rejected.clear()
        self._pending.clear()
        return dropped

    def close(self) -> None:
        """Wait for a discovery in flight and stop its thread."""
        self._forget_discovery()
        if self._pool is not None:
            self._pool.shutdown()

    def _forget_discovery(self) -> None:
        """Let the discovery in flight finish (the detector is not shared while it runs) and drop what it found."""
        if self._discovering is not None:
            self._discovering.exception()  # waits; what it raised belongs to bodies that are gone
            self._discovering = None

    def _settle(self) -> Discovery | None:
        """Wait for the discovery in flight, if any, and take it; its failure is raised here."""
        job, self._discovering = self._discovering, None
        return job.result() if job is not None else None

    def process(self, rgb: np.ndarray, stamp: float) -> Perceived:
        """Find, follow and identify the bodies in one RGB frame taken at `stamp` (seconds)."""
        p, costs = self.params, Costs()
        height, width = rgb.shape[:2]
        t0 = time.perf_counter()
        # Who keeps a place two regions converged on: bodies seen last, then those not yet tracked, then hidden ones
        # found again, then newcomers. So a hidden body's region that slid onto the person in front of it never
        # takes that person's id.
        bodies = self._followed()
        followed = [(0, b.id, b.landmarks) for b in bodies if b.seen_now] \
            + [(1, None, lm) for lm in self._pending] + [(2, b.id, b.landmarks) for b in bodies if not b.seen_now]
        ranked = [(rank, origin, lm) for rank, origin, lm in
                  ((r, o, self.pose(rgb, f.next_roi)) for r, o, f in followed) if self._accept(lm)]
        found = [lm for *_, lm in ranked]
        costs.bodies_landmarked = len(followed)
        new = self._collect(wait=not found)
        if new is not None and new.stamp != stamp:  # found on an earlier frame: follow the newcomers onto this one
            costs.bodies_landmarked += len(new.bodies)
            new.bodies = [lm for lm in (self.pose(rgb, b.next_roi) for b in new.bodies) if self._accept(lm)]
        landmarks_s = time.perf_counter() - t0
        due = not found or stamp - self._last_detection >= p.detect_interval
        if new is None and self._discovering is None and due:
            self._rejected = [(box, t) for box, t in self._rejected if 0 <= stamp - t < REJECTED_FOR]
            known = [body_box(lm, width, height) for lm in found] + [box for box, _ in self._rejected]
            room = max(0, p.max_bodies - len(found))
            self._last_detection = stamp
            if self._pool is not None and found:  # the followed bodies go out now; the newcomers with a later frame
                self._discovering = self._pool.submit(self._discover, rgb, stamp, known, room, self._epoch)
            else:
                new = self._discover(rgb, stamp, known, room, self._epoch)
        left_out = 0
        if new is not None:
            costs.detect_ms = new.detect_ms
            landmarks_s += new.landmarks_ms / 1e3
            costs.bodies_landmarked += new.landmarked
            self._rejected += [(box, stamp) for box in new.rejected]
            ranked += [(3, None, lm) for lm in new.bodies]
            left_out = new.left_out
        origins, found = self._distinct(ranked, width, height)
        costs.landmarks_ms = landmarks_s * 1e3
        boxes = np.array([body_box(lm, width, height) for lm in found]).reshape(-1, 4)
        tracks = self.tracker.update(boxes, np.array([lm.presence for lm in found]), stamp)
        self._keep_lineage(tracks, origins)
        out = Perceived([], left_out=left_out, detected=new is not None, costs=costs)
        t3 = time.perf_counter()
        seen = set()
        for track in tracks:
            lm = found[track.index]
            hands = self.hand_model(rgb, lm) if p.hands else []
            hands = [h for h in hands if h.presence >= p.min_presence and np.isfinite(h.points).all()]
            if track.id not in self.bodies:
                out.created.append(track.id)
            self.bodies[track.id] = Body(track.id, boxes[track.index], lm.presence, lm,
                                         coco18(lm.points, lm.visibility), hands, stamp)
            seen.add(track.id)
        costs.hands_ms = (time.perf_counter() - t3) * 1e3
        tracked = {t.index for t in tracks}
        self._pending = [lm for i, lm in enumerate(found) if i not in tracked][:p.max_bodies]
        for body_id, body in list(self.bodies.items()):
            if body_id not in seen:
                body.seen_now = False
                if stamp - body.stamp > p.body_timeout or stamp < body.stamp:
                    del self.bodies[body_id]
                    out.dropped.append(body_id)
        out.bodies = sorted(self.bodies.values(), key=lambda b: -b.area)
        return out

    def _collect(self, wait: bool) -> Discovery | None:
        """Take the discovery in flight once it is done (`wait`: now, since nobody else is followed)."""
        if self._discovering is None or not (wait or self._discovering.done()):
            return None
        found = self._settle()
        return found if found is not None and found.epoch == self._epoch else None

    def _discover(self, rgb: np.ndarray, stamp: float, known: list[np.ndarray], room: int, epoch: int) -> Discovery:
        """Detect people, and landmark up to `room` of those outside the `known` boxes: the newcomers.

        It reads nothing that the following of later frames changes, so it may run in the discovery thread.
        """
        t0 = time.perf_counter()
        detections = self.detector(rgb)
        t1 = time.perf_counter()
        fresh = sorted((d for d in detections if all(iou(d.box, b) < SAME_BODY_IOU for b in known)),
                       key=lambda d: -(d.box[2] - d.box[0]) * (d.box[3] - d.box[1]))
        bodies, rejected, landmarked = [], [], 0
        for d in fresh[:room]:
            first = self.pose(rgb, Roi.around_box(d.box, DETECTION_ROI_SCALE))
            landmarked += 1
            if not self._accept(first):
                rejected.append(d.box)
                continue
            refined = self.pose(rgb, first.next_roi)  # once more, in the region the body asks for
            landmarked += 1
            bodies.append(refined if self._accept(refined) else first)
        left_out = sum(d.score >= 0.5 for d in fresh[room:])
        return Discovery(stamp, bodies, rejected, left_out, (t1 - t0) * 1e3, (time.perf_counter() - t1) * 1e3,
                         landmarked, epoch)

    def _accept(self, lm: BodyLandmarks) -> bool:
        """Say whether a body is there and everything about it is a number (nothing non-finite reaches a topic)."""
        return lm.presence >= self.params.min_presence and bool(np.isfinite(lm.points).all()) \
            and lm.next_roi.size > 1 and np.isfinite([lm.next_roi.cx, lm.next_roi.cy, lm.next_roi.size]).all()

    def _followed(self) -> list[Body]:
        """Return the bodies to follow on this frame: the largest `max_bodies`, seen last or hidden since.

        A hidden body (someone crossing in front) is looked for where it was last seen until it times out, so that
        it is found again, under its id, as soon as it shows, without waiting for the next detection.
        """
        return sorted(self.bodies.values(), key=lambda b: (not b.seen_now, -b.area))[:self.params.max_bodies]

    def _keep_lineage(self, tracks: list[Track], origins: list[str | None]) -> None:
        """Give a body found in a known body's own region that body's id, where the tracker would start a new one.

        A tracker's motion model can carry a lost track away from where its body stands (someone who walked in and
        stopped, or was hidden for a few frames), so they come back under a new id. The landmark model found them
        in their own region, so the id is theirs, unless another body holds it on this frame. On the four scenes of
        `mtl-hri-bench frontend` this saves 2 of 32 switches.
        """
        held = {t.id for t in tracks if t.id in self.bodies}
        for track in tracks:
            origin = origins[track.index]
            if track.id not in self.bodies and origin in self.bodies and origin not in held:
                self.tracker.rename(track, origin)
                held.add(origin)

    @staticmethod
    def _distinct(ranked: list[tuple[int, str | None, BodyLandmarks]], width: int, height: int
                  ) -> tuple[list[str | None], list[BodyLandmarks]]:
        """Keep one body where several regions converged (people crossing): the best ranked, then most confident.

        Returns the kept bodies and, for each, the id of the body whose region it was found in (None: a newcomer).
        """
        kept: list[tuple[str | None, BodyLandmarks]] = []
        for _, origin, lm in sorted(ranked, key=lambda r: (r[0], -r[2].presence)):
            box = body_box(lm, width, height)
            if all(iou(box, body_box(k, width, height)) < 0.6 for _, k in kept):
                kept.append((origin, lm))
        return [o for o, _ in kept], [lm for _, lm in kept]
