"""The front end: who is in the frame, where their body and hands are, and under which id, frame after frame.

As MediaPipe's pose graph does, a body once found is followed by its own landmarks (the region its last landmarks
ask for), so the person detector only runs every `detect_interval` seconds, or while nobody is followed, to find
newcomers. Every landmark pass doubles as a check: a region whose landmark model says "no body" is dropped, which
removes the detector's false alarms (traffic cones, bags). ByteTrack then keeps ids stable through crossings and
short occlusions.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .detector import PersonDetector
from .hands import HandLandmarker, HandLandmarks
from .pose import BodyLandmarks, PoseLandmarker
from .roi import Roi
from .skeleton import coco18
from .tracker import BodyTracker

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

    def problem(self) -> str:
        """Why these parameters cannot be used ("" when they can)."""
        checks = [(1 <= self.max_bodies <= 32, f"max_bodies must be 1 to 32, not {self.max_bodies}"),
                  (0.0 < self.body_timeout <= 60.0, f"body_timeout must be in (0, 60] s, not {self.body_timeout}"),
                  (0.0 <= self.detect_interval <= 10.0,
                   f"detect_interval must be in [0, 10] s, not {self.detect_interval}"),
                  (0.0 < self.min_detection_score < 1.0,
                   f"min_detection_score must be in (0, 1), not {self.min_detection_score}"),
                  (0.0 < self.min_presence < 1.0, f"min_presence must be in (0, 1), not {self.min_presence}"),
                  (1 <= self.threads <= 1024, f"threads must be 1 to 1024, not {self.threads}")]
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


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two xyxy boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return float(w * h / union) if union > 0 else 0.0


def body_box(landmarks: BodyLandmarks, width: int, height: int) -> np.ndarray:
    """Return the padded box of a body's landmarks, clipped to the frame."""
    x0, y0, x1, y1 = landmarks.box()
    pad = BOX_PAD * max(y1 - y0, x1 - x0)
    return np.clip([x0 - pad, y0 - pad, x1 + pad, y1 + pad], 0, [width, height, width, height]).astype(np.float32)


class FrontEnd:
    """Bodies, landmarks and ids for one camera. `process` takes frames in stamp order; `reset` after a restart."""

    def __init__(self, params: FrontEndParams, directory: Path | None = None, seed: int | None = None) -> None:
        if params.problem():
            raise ValueError(params.problem())
        self.params = params
        self.detector = PersonDetector(directory, params.threads, params.min_detection_score)
        self.pose = PoseLandmarker(directory, params.threads)
        self.hand_model = HandLandmarker(directory, params.threads, params.min_presence)
        self.tracker = BodyTracker(params.body_timeout, seed)
        self.bodies: dict[str, Body] = {}
        self._last_detection = -math.inf
        self._rejected: list[tuple[np.ndarray, float]] = []  # (box, stamp): detections that were not bodies
        self._pending: list[BodyLandmarks] = []  # bodies found on the last frame that the tracker has no id for yet

    def reset(self) -> list[str]:
        """Forget every body; return their ids (now dropped)."""
        dropped = list(self.bodies)
        self.bodies.clear()
        self.tracker.reset()
        self._last_detection = -math.inf
        self._rejected.clear()
        self._pending.clear()
        return dropped

    def process(self, rgb: np.ndarray, stamp: float) -> Perceived:
        """Find, follow and identify the bodies in one RGB frame taken at `stamp` (seconds)."""
        p, costs = self.params, Costs()
        height, width = rgb.shape[:2]
        t0 = time.perf_counter()
        followed = [b.landmarks for b in self._followed()] + self._pending
        found = [lm for lm in (self.pose(rgb, f.next_roi) for f in followed) if self._accept(lm)]
        costs.bodies_landmarked = len(followed)
        landmarks_s = time.perf_counter() - t0
        detected = not found or stamp - self._last_detection >= p.detect_interval
        left_out = 0
        if detected:
            t1 = time.perf_counter()
            detections = self.detector(rgb)
            self._last_detection = stamp
            costs.detect_ms = (time.perf_counter() - t1) * 1e3
            boxes = [body_box(lm, width, height) for lm in found]
            self._rejected = [(box, t) for box, t in self._rejected if 0 <= stamp - t < REJECTED_FOR]
            known = boxes + [box for box, _ in self._rejected]
            fresh = sorted((d for d in detections if all(iou(d.box, b) < SAME_BODY_IOU for b in known)),
                           key=lambda d: -(d.box[2] - d.box[0]) * (d.box[3] - d.box[1]))
            room = max(0, p.max_bodies - len(found))
            t2 = time.perf_counter()
            for d in fresh[:room]:
                first = self.pose(rgb, Roi.around_box(d.box, DETECTION_ROI_SCALE))
                costs.bodies_landmarked += 1
                if not self._accept(first):
                    self._rejected.append((d.box, stamp))
                    continue
                refined = self.pose(rgb, first.next_roi)  # once more, in the region the body itself asks for
                costs.bodies_landmarked += 1
                found.append(refined if self._accept(refined) else first)
            landmarks_s += time.perf_counter() - t2
            left_out = sum(d.score >= 0.5 for d in fresh[room:])
        found = self._distinct(found, width, height)
        costs.landmarks_ms = landmarks_s * 1e3
        boxes = np.array([body_box(lm, width, height) for lm in found]).reshape(-1, 4)
        tracks = self.tracker.update(boxes, np.array([lm.presence for lm in found]), stamp)
        out = Perceived([], left_out=left_out, detected=detected, costs=costs)
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

    def _accept(self, lm: BodyLandmarks) -> bool:
        """Say whether a body is there and everything about it is a number (nothing non-finite reaches a topic)."""
        return lm.presence >= self.params.min_presence and bool(np.isfinite(lm.points).all()) \
            and lm.next_roi.size > 1 and np.isfinite([lm.next_roi.cx, lm.next_roi.cy, lm.next_roi.size]).all()

    def _followed(self) -> list[Body]:
        """Return the bodies to follow on this frame: the largest `max_bodies` of those seen on the last one."""
        live = [b for b in self.bodies.values() if b.seen_now]
        return sorted(live, key=lambda b: -b.area)[:self.params.max_bodies]

    @staticmethod
    def _distinct(found: list[BodyLandmarks], width: int, height: int) -> list[BodyLandmarks]:
        """Drop a body that two regions converged on (people crossing): the more confident one stays."""
        kept: list[BodyLandmarks] = []
        for lm in sorted(found, key=lambda lm: -lm.presence):
            box = body_box(lm, width, height)
            if all(iou(box, body_box(k, width, height)) < 0.6 for k in kept):
                kept.append(lm)
        return kept
