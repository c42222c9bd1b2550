"""What a labelled clip is (ClipRecord, with optional hand tracks) and the label space that indexes it.

Conventions: hand 0 is the person's LEFT hand, 1 the RIGHT; hand positions are pixels of the original
video frame with the centre of pixel i at i (as OpenCV draws); a clip is the frames [start, end) of its
video, end -1 meaning "to the end".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from ..model.config import NONE
from ..model.keypoints import N_POINTS

TASKS = ("action", "gesture")  # the classified tasks
# NONE, class 0 of every task, is also the task of a clip that is neither action nor gesture
RECORD_TASKS = (*TASKS, NONE)


@dataclass
class HandTrack:
    """Per-frame hand positions of one video."""

    xy: np.ndarray  # (N, 2, 2) float32 (x, y) pixels of the original frame; [:, 0] left hand, [:, 1] right
    visible: np.ndarray  # (N, 2) bool
    first_frame: int = 0  # video frame index of row 0

    def __post_init__(self) -> None:
        self.xy = np.asarray(self.xy, dtype=np.float32)
        self.visible = np.asarray(self.visible, dtype=bool)
        if self.xy.ndim != 3 or self.xy.shape[1:] != (2, 2) or self.visible.shape != self.xy.shape[:2]:
            raise ValueError(f"hand track shapes {self.xy.shape}, {self.visible.shape}: want (N, 2, 2), (N, 2)")

    def load(self) -> HandTrack:
        return self

    def at(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions (T, 2, 2) and visibility (T, 2) at video frame indices; frames the track lacks are invisible."""
        rows = np.asarray(frames, dtype=np.int64) - self.first_frame
        inside = (rows >= 0) & (rows < len(self.xy))
        if not inside.any():
            return np.zeros((len(rows), 2, 2), np.float32), np.zeros((len(rows), 2), bool)
        rows = np.clip(rows, 0, len(self.xy) - 1)
        xy = self.xy[rows]
        visible = self.visible[rows] & inside[:, None] & np.isfinite(xy).all(-1)
        return xy, visible


@dataclass
class KeypointTrack:
    """Per-frame landmarks of one video's person, in the front end's topology (`mtl_hri.model.keypoints`)."""

    points: np.ndarray  # (N, N_POINTS, 3) float32: x, y pixels of the original frame, present (0 / 1)
    first_frame: int = 0

    def __post_init__(self) -> None:
        self.points = np.asarray(self.points, dtype=np.float32)
        if self.points.ndim != 3 or self.points.shape[1:] != (N_POINTS, 3):
            raise ValueError(f"keypoint track of shape {self.points.shape}: want (N, {N_POINTS}, 3)")

    def load(self) -> KeypointTrack:
        return self

    def at(self, frames: np.ndarray) -> np.ndarray:
        """(T, N_POINTS, 3) at video frame indices; frames the track lacks have no point present."""
        rows = np.asarray(frames, dtype=np.int64) - self.first_frame
        inside = (rows >= 0) & (rows < len(self.points))
        out = np.zeros((len(rows), N_POINTS, 3), np.float32)
        out[inside] = self.points[rows[inside]]
        out[..., 2] *= np.isfinite(out[..., :2]).all(-1)
        return np.nan_to_num(out)


class KeypointSource(Protocol):
    """A keypoint track, or where to read one when a clip is loaded."""

    def load(self) -> KeypointTrack: ...


class HandSource(Protocol):
    """A hand track, or where to read one when a clip is loaded (a CSV, an NTU skeleton file)."""

    def load(self) -> HandTrack: ...


@dataclass
class ClipRecord:
    path: Path  # the video file
    task: str  # "action", "gesture" or "none" (label "none": class 0 of every task)
    label: str
    start: int = 0  # labelled frames [start, end)
    end: int = -1  # exclusive; -1: to the end of the video
    source: str = ""  # dataset name
    hands: HandSource | None = None
    keypoints: KeypointSource | None = None  # the person's landmarks, for keypoint models
    subject: int | None = None  # performer (NTU, NVGesture) or group (UCF-101), where the dataset has one
    camera: int | None = None
    split: str | None = None

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if self.task not in RECORD_TASKS:
            raise ValueError(f"{self.path}: task must be one of {RECORD_TASKS}, got {self.task!r}")
        if self.task == NONE and self.label != NONE:
            raise ValueError(f"{self.path}: a `none` clip must have label `none`, got {self.label!r}")
        if self.start < 0 or not (self.end == -1 or self.end > self.start):
            raise ValueError(f"{self.path}: bad segment [{self.start}, {self.end})")

    def hand_track(self) -> HandTrack | None:
        return None if self.hands is None else self.hands.load()


@dataclass
class SourceData:
    """What an adapter reads from one dataset split."""

    records: list[ClipRecord]
    classes: dict[str, list[str]]  # task -> the dataset's classes in its own order, without `none`; split-independent


@dataclass
class LabelSpace:
    """Classes per task (index 0 is `none`) and the classes a horizontal flip turns into each other."""

    classes: dict[str, list[str]]
    flip: dict[str, str] = field(default_factory=dict)  # label -> its mirror image; made symmetric

    def __post_init__(self) -> None:
        for task, names in self.classes.items():
            if not names or names[0] != NONE:
                raise ValueError(f"classes of task {task!r} must start with {NONE!r}")
            if len(set(names)) != len(names):
                raise ValueError(f"classes of task {task!r} repeat a class")
        mirror: dict[str, str] = {}
        for a, b in self.flip.items():
            for x, y in ((a, b), (b, a)):
                if mirror.setdefault(x, y) != y:
                    raise ValueError(f"flip maps {x!r} to both {mirror[x]!r} and {y!r}")
        for task, names in self.classes.items():
            for x in names:
                if mirror.get(x, x) not in names:
                    raise ValueError(f"flip maps {x!r} to {mirror[x]!r}, which task {task!r} lacks")
        self.flip = mirror
        self._index = {task: {name: i for i, name in enumerate(names)} for task, names in self.classes.items()}

    def index(self, task: str, label: str) -> int:
        try:
            return self._index[task][label]
        except KeyError:
            raise KeyError(f"no class {label!r} in task {task!r}") from None

    def mirrored(self, label: str) -> str:
        """Return the class a mirrored clip of `label` shows (the label itself if it has no mirror class)."""
        return self.flip.get(label, label)
