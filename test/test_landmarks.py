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
from mtl_hri.model.keypoints import BODY_POINTS, LEFT_HAND, N_POINTS
from mtl_hri.tools.footage import Segment
from mtl_hri.tools.landmarks import MIN_FRAMES, front_end_errors, segment_rows


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


def test_the_front_end_errors_are_measured_in_the_units_training_simulates_them_in():
    """A still body of 200 px with known noise: lost frames, unseen points, no hands, jitter of the region."""
    rng = np.random.default_rng(0)
    still = np.c_[rng.uniform(300, 400, BODY_POINTS), np.linspace(100, 300, BODY_POINTS)]
    track = np.zeros((400, N_POINTS, 3), np.float32)
    track[:, :BODY_POINTS, :2] = still + rng.normal(0, 2.0, (400, BODY_POINTS, 2))  # 2 px
    track[:, :BODY_POINTS, 2] = rng.random((400, BODY_POINTS)) >= 0.1
    track[rng.random(400) < 0.05] = 0  # lost frames
    track[0, :BODY_POINTS, 2] = track[-1, :BODY_POINTS, 2] = 1  # the track runs from the first frame to the last
    track[10:20, LEFT_HAND:LEFT_HAND + 21, 2] = 1  # a hand on 10 frames
    errors = front_end_errors({"a": track, "nobody": np.zeros((5, N_POINTS, 3), np.float32)}, 768, 576)
    side = 1.2 * 200 * 1.15  # the padded box's height (BOX_PAD 0.1 on each side), squared with BODY_PAD 1.15
    seen = track[:, :BODY_POINTS, 2].any(axis=1)
    assert (errors.tracks, errors.frames) == (1, 400) and errors.drop_frame == pytest.approx(1 - seen.mean())
    assert errors.drop_point == pytest.approx(0.1, abs=0.01)
    assert errors.no_hand == pytest.approx(1 - seen[10:20].sum() / seen.sum())
    assert errors.jitter == pytest.approx(2.0 / side, rel=0.15)


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
    # val: the last 16 frames (a pedestrian seen on 8 of them makes a clip; the default 20 % would leave 8 of 8)
    run = subprocess.run([sys.executable, "-m", "mtl_hri.tools.landmarks", str(segments), "--out", str(out),
                          "--val-fraction", "0.4"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "street.avi: the front end on" in run.stdout and "body points unseen" in run.stdout
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
