"""Our own datasets: a CSV manifest (what `mtl-hri-synth` writes) or a folder per class.

Manifest layout (paths relative to the manifest's directory):

    <root>/manifest.csv     path,task,label,start,end[,split][,hands][,keypoints]
    <root>/labels.json      optional {"action": [...], "gesture": [...]}: the class order (with or without `none`)
    <root>/<hands>.csv      frame,left_x,left_y,left_visible,right_x,right_y,right_visible
    <root>/<keypoints>.npy  (frames, points, 3): the person's landmarks (mtl_hri.model.keypoints), x, y, present

`task` is action, gesture or none (label none); empty start/end mean 0/-1; hand positions are pixels of
the video frame (centre of pixel i at i), left = the person's left hand. Without a split column the
manifest is one split: load it with split None.

Folder layout: <root>/[<split>/]<task>/<label>/<video> for task action or gesture, and
<root>/[<split>/]none/<video> for `none` clips. Classes are the class folders of every split, sorted by
name; no hands.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .records import NONE, TASKS, ClipRecord, HandTrack, KeypointTrack, SourceData

VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v"}
HAND_COLUMNS = ("frame", "left_x", "left_y", "left_visible", "right_x", "right_y", "right_visible")


@dataclass(frozen=True)
class HandCSV:
    """A hand CSV, read when a clip is loaded. Frames missing from it count as invisible."""

    path: Path

    def load(self) -> HandTrack:
        with open(self.path, newline="") as f:
            reader = csv.DictReader(f)
            missing = set(HAND_COLUMNS) - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f"{self.path}: missing columns {sorted(missing)}")
            rows = np.array([[float(row[c]) for c in HAND_COLUMNS] for row in reader]).reshape(-1, 7)
        if len(rows) == 0:
            return HandTrack(np.zeros((0, 2, 2)), np.zeros((0, 2), bool))
        frames = rows[:, 0].astype(np.int64)
        first = int(frames.min())
        xy = np.zeros((int(frames.max()) - first + 1, 2, 2), np.float32)
        visible = np.zeros(xy.shape[:2], bool)
        xy[frames - first] = rows[:, [1, 2, 4, 5]].reshape(-1, 2, 2)
        visible[frames - first] = rows[:, [3, 6]] > 0.5
        return HandTrack(xy, visible, first)


@dataclass(frozen=True)
class KeypointFile:
    """A `.npy` of (N, N_POINTS, 3) landmarks (x, y pixels, present) from frame 0, read when a clip is loaded."""

    path: Path

    def load(self) -> KeypointTrack:
        try:
            points = np.load(self.path, allow_pickle=False)  # never unpickle what a dataset ships
        except (OSError, ValueError) as exc:
            raise ValueError(f"{self.path}: not a keypoint array ({exc})") from None
        try:
            return KeypointTrack(points)
        except ValueError as exc:
            raise ValueError(f"{self.path}: {exc}") from None


def write_keypoints(path: Path, points: np.ndarray) -> None:
    """Write a clip's landmarks (T, N_POINTS, 3) as `.npy`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, np.asarray(points, np.float32), allow_pickle=False)


def write_hand_csv(path: Path, xy: np.ndarray, visible: np.ndarray) -> None:
    """Write a hand CSV: `xy` (T, 2, 2) pixels of the left and right hand per frame, `visible` (T, 2)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(HAND_COLUMNS)
        for t, ((left, right), (lv, rv)) in enumerate(zip(xy, visible)):
            out.writerow([t, f"{left[0]:.3f}", f"{left[1]:.3f}", int(lv),
                          f"{right[0]:.3f}", f"{right[1]:.3f}", int(rv)])


def _classes_in_order(records: list[ClipRecord]) -> dict[str, list[str]]:
    classes: dict[str, list[str]] = {task: [] for task in TASKS}
    for r in records:
        if r.task != NONE and r.label not in classes[r.task]:
            classes[r.task].append(r.label)
    return {task: names for task, names in classes.items() if names}


def load_manifest(root: Path | str, split: str | None = None, manifest: str = "manifest.csv") -> SourceData:
    """Load the records of one split of a manifest; classes from labels.json, else in order of first appearance."""
    root = Path(root)
    path = root / manifest
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        columns = set(reader.fieldnames or ())
        rows = list(reader)
    missing = {"path", "task", "label"} - columns
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    if split is not None and "split" not in columns:
        raise ValueError(f"{path} has no split column: load it with split None")
    records = []
    for n, row in enumerate(rows, 2):
        hands = (row.get("hands") or "").strip()
        keypoints = (row.get("keypoints") or "").strip()
        try:
            record = ClipRecord(
                root / row["path"], row["task"], row["label"], int(row.get("start") or 0), int(row.get("end") or -1),
                source=root.name, hands=HandCSV(root / hands) if hands else None, split=row.get("split") or None,
                keypoints=KeypointFile(root / keypoints) if keypoints else None,
            )
        except ValueError as exc:
            raise ValueError(f"{path}:{n}: {exc}") from exc
        records.append(record)
    classes = _classes_in_order(records)
    labels_json = root / "labels.json"
    if labels_json.is_file():
        given = json.loads(labels_json.read_text())
        classes = {task: [c for c in given[task] if c != NONE] for task in TASKS if task in given}
    if split is not None:
        records = [r for r in records if r.split == split]
    return SourceData(records, classes)


def _subdirs(folder: Path) -> list[Path]:
    return sorted(d for d in folder.iterdir() if d.is_dir()) if folder.is_dir() else []


def _videos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)


def load_folders(root: Path | str, split: str | None = None) -> SourceData:
    root = Path(root)
    base = root / split if split else root
    if not base.is_dir():
        raise ValueError(f"no folder {base}")

    splits = _subdirs(root) if split else [root]  # the label space must not depend on the split
    classes = {task: sorted({d.name for s in splits for d in _subdirs(s / task)}) for task in TASKS}
    classes = {task: names for task, names in classes.items() if names}
    records = [ClipRecord(v, task, d.name, source=root.name, split=split)
               for task in classes for d in _subdirs(base / task) for v in _videos(d)]
    if (base / NONE).is_dir():
        records += [ClipRecord(v, NONE, NONE, source=root.name, split=split) for v in _videos(base / NONE)]
    return SourceData(records, classes)
