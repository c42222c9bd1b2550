"""`mtl-hri-landmarks`: real footage through the front end into a keypoint training set that trains a keypoint model."""
import csv
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from mtl_hri.data.composite import CompositeConfig
from mtl_hri.data.generic import load_manifest
from mtl_hri.model.keypoints import N_POINTS
from mtl_hri.tools.footage import Segment
from mtl_hri.tools.landmarks import MIN_FRAMES, segment_rows


def track(seen: range, length: int = 100) -> np.ndarray:
    points = np.zeros((length, N_POINTS, 3), np.float32)
    points[list(seen), :, 2] = 1
    return points


def test_a_segment_is_cut_into_train_then_val_by_time_and_short_parts_are_left_out():
    segment = Segment(Path("v.avi"), 10, 59, "action", "walk")  # 50 frames: train 10-49, val 50-59
    tracks = {"a": track(range(0, 100)), "b": track(range(45, 52)), "c": track(range(20, 30))}
    files = {k: Path(f"keypoints/{k}.npy") for k in tracks}
    rows = segment_rows(segment, tracks, files, 0.2)
    got = {(r.keypoints.stem, r.split, r.start, r.end) for r in rows}
    assert got == {("a", "train", 10, 50), ("a", "val", 50, 60), ("c", "train", 20, 30)}
    assert all(r.end - r.start >= MIN_FRAMES and (r.task, r.label) == ("action", "walk") for r in rows)
    assert segment_rows(segment, tracks, files, 0.0) == [r for r in segment_rows(segment, tracks, files, 0.0)
                                                         if r.split == "train"]


def test_a_source_repeats_its_train_records_only(tmp_path):
    (tmp_path / "manifest.csv").write_text("path,task,label,split\nx.avi,action,walk,train\ny.avi,action,walk,val\n")
    config = CompositeConfig.from_dict({"name": "n", "sources": [{"type": "manifest", "root": str(tmp_path),
                                                                  "repeat": 3}]})
    assert len(config.records("train")[0]) == 3 and len(config.records("val")[0]) == 1
    with pytest.raises(ValueError, match="repeat must be at least 1"):
        CompositeConfig.from_dict({"name": "n", "sources": [{"type": "manifest", "root": ".", "repeat": 0}]})


def test_real_pedestrians_become_keypoint_clips_a_keypoint_model_trains_on(footage, tmp_path):
    """Run the command on 40 frames of vtest.avi; its manifest loads, and the clips are real, in-frame landmarks."""
    from mtl_hri.data.clips import ClipDataset
    from mtl_hri.data.records import LabelSpace
    from mtl_hri.model.config import InputSpec

    capture, clip = cv2.VideoCapture(str(footage)), tmp_path / "street.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (768, 576))
    for _ in range(40):
        writer.write(capture.read()[1])
    writer.release()
    segments = tmp_path / "segments.csv"
    segments.write_text("video,first,last,task,label\nstreet.avi,0,39,action,walk\nstreet.avi,0,29,gesture,none\n")
    out = tmp_path / "set"
    run = subprocess.run([sys.executable, "-m", "mtl_hri.tools.landmarks", str(segments), "--out", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    with (out / "manifest.csv").open() as f:
        rows = list(csv.DictReader(f))
    walk = [r for r in rows if r["task"] == "action"]
    assert len({r["keypoints"] for r in walk}) >= 2  # several pedestrians, each their own track
    assert {r["split"] for r in walk} == {"train", "val"}
    for r in rows:
        last = 39 if r["task"] == "action" else 29
        assert 0 <= int(r["start"]) < int(r["end"]) <= last + 1 and Path(r["path"]) == clip.resolve()
        points = np.load(out / r["keypoints"])
        seen = points[points[..., 2] > 0]
        assert len(seen) and (seen[:, 0] > -50).all() and (seen[:, 0] < 818).all()  # image pixels, not normalised
    records = load_manifest(out, "train").records
    labels = LabelSpace({"action": ["none", "walk"], "gesture": ["none"]})
    spec = InputSpec(frames=8, size=112, sample_fps=5.0, modality="keypoints")
    data = ClipDataset(records, labels, spec, train=True)
    sample = data[0]
    assert sample.clip.shape[:2] == (8, N_POINTS) and sample.clip[..., 3].sum() > 0  # points present
    bad = subprocess.run([sys.executable, "-m", "mtl_hri.tools.landmarks", str(segments), "--out", str(out),
                          "--val-fraction", "1.5"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--val-fraction must be in [0, 1)" in bad.stderr
