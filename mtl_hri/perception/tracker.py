"""Stable body ids across frames, on the frames' own stamps.

OC-SORT (Cao et al., "Observation-Centric SORT: Rethinking SORT for Robust Multi-Object Tracking"), from Roboflow's
maintained `trackers` package. Chosen by measurement over ByteTrack and C-BIoU from the same package: people who
walk in and stop, or stand hidden behind someone, are where they were last *seen*, not where a constant-velocity
prediction carried them, and OC-SORT re-anchors a track on its last observation. On four synthetic 4-person
scenes it switched ids 30 times against ByteTrack's 38 and C-BIoU's 37 (docs/BENCHMARKS.md).

Ids are ROS4HRI's: short random strings, valid while the body is tracked and never reused.
"""
from __future__ import annotations

import random
import string
from dataclasses import dataclass

import numpy as np

ID_LENGTH = 5  # as ROS4HRI's reference body node


@dataclass
class Track:
    id: str
    index: int  # which of the boxes given to `update`
    tracker_id: int  # the tracker's own number for the track


class BodyTracker:
    """OC-SORT over boxes with confidences; a body missing for `timeout` seconds loses its track and its id."""

    def __init__(self, timeout: float, seed: int | None = None) -> None:
        from trackers import OCSORTTracker

        # lost_track_buffer counts 30 FPS frames; on stamps, it is a time budget of buffer / 30 s.
        self._tracker = OCSORTTracker(lost_track_buffer=max(1, round(timeout * 30)), frame_rate=30.0,
                                      minimum_consecutive_frames=1, minimum_iou_threshold=0.2,
                                      high_conf_det_threshold=0.5)
        self._names: dict[int, str] = {}
        self._issued: set[str] = set()
        self._rng = random.Random(seed)

    def update(self, boxes: np.ndarray, scores: np.ndarray, stamp: float) -> list[Track]:
        """Associate (N, 4) xyxy boxes at `stamp` (seconds); return the tracked ones with their ids."""
        import supervision as sv

        detections = sv.Detections(xyxy=np.asarray(boxes, np.float32).reshape(-1, 4),
                                   confidence=np.asarray(scores, np.float32).reshape(-1),
                                   data={"index": np.arange(len(boxes))})
        out = self._tracker.update(detections, timestamp=stamp)
        if not len(out):  # then it is a bare `Detections.empty()`, without our index
            return []
        return [Track(self._name(int(t)), int(i), int(t)) for t, i in zip(out.tracker_id, out.data["index"]) if t >= 0]

    def rename(self, track: Track, name: str) -> None:
        """Give `track` the id `name` from now on; the track that had it gets a new one, should it come back."""
        for tracker_id, old in list(self._names.items()):
            if old == name:
                del self._names[tracker_id]
                self._name(tracker_id)
        self._names[track.tracker_id] = name
        track.id = name

    def reset(self) -> None:
        """Forget every track (a camera restart): the next bodies get new ids."""
        self._tracker.reset()
        self._names.clear()

    def _name(self, tracker_id: int) -> str:
        if tracker_id not in self._names:
            name = ""
            while not name or name in self._issued:
                name = "".join(self._rng.choices(string.ascii_lowercase, k=ID_LENGTH))
            self._issued.add(name)
            self._names[tracker_id] = name
        return self._names[tracker_id]
