"""The hand teacher: real MediaPipe Hands, in its own environment, over a real photo of a hand, as hand CSVs."""
import csv
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from mtl_hri.data.generic import HandCSV
from mtl_hri.data.hand_teacher import Detection, assign_sides
from mtl_hri.tools.annotate_hands import main

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv-mediapipe" / "bin" / "python"  # `make mediapipe`, which `make test` runs first
HAND_CROP = (250, 150, 300)  # x, y, side: a raised hand in opencv-doc's basketball2.png (640x480)
WALL_CROP = (255, 155, 110)  # bare wall beside it, nobody in it
SIZE = 600  # frames are crops scaled to SIZE x SIZE: the hand crop 2x
SHIFT = 4  # source pixels the camera pans per frame
HAND_FRAMES, WALL_FRAMES = 10, 4


def test_sides_follow_mediapipe_handedness_and_mirroring():
    right = Detection("Right", 0.9, 10.0, 20.0)  # MediaPipe assumes a mirrored image
    xy, visible = assign_sides([right], mirrored=False)
    assert visible.tolist() == [True, False] and xy[0].tolist() == [10.0, 20.0]  # the person's left hand
    xy, visible = assign_sides([right], mirrored=True)
    assert visible.tolist() == [False, True] and xy[1].tolist() == [10.0, 20.0]
    twins = [Detection("Left", 0.6, 1.0, 1.0), Detection("Left", 0.8, 2.0, 2.0), Detection("Right", 0.5, 3.0, 3.0)]
    xy, visible = assign_sides(twins, mirrored=False)  # the more confident keeps the label; the third is dropped
    assert visible.all() and xy.tolist() == [[1.0, 1.0], [2.0, 2.0]]
    assert not assign_sides([], mirrored=False)[1].any()


@pytest.fixture(scope="module")
def hand_video(tmp_path_factory, basketball_photo) -> Path:
    """Film a camera panning across a real raised hand (2x zoom), then across the bare wall beside it."""
    photo = cv2.imread(str(basketball_photo))
    frames = []
    for k in range(HAND_FRAMES + WALL_FRAMES):
        x, y, side = HAND_CROP if k < HAND_FRAMES else WALL_CROP
        x += SHIFT * (k % HAND_FRAMES)
        frames.append(cv2.resize(photo[y:y + side, x:x + side], (SIZE, SIZE), interpolation=cv2.INTER_CUBIC))
    path = tmp_path_factory.mktemp("teacher") / "pan.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 15.0, frames[0].shape[1::-1])
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def _track(path: Path):
    track = HandCSV(path).load()
    assert track.first_frame == 0 and len(track.xy) == HAND_FRAMES + WALL_FRAMES
    return track


def test_mediapipe_finds_the_hand_and_follows_the_pan(hand_video, tmp_path):
    assert PYTHON.is_file(), "no MediaPipe environment: run `make mediapipe`"
    out = tmp_path / "hands"
    preview = tmp_path / "preview.png"
    assert main([str(hand_video), "--out", str(out), "--python", str(PYTHON), "--preview", str(preview)]) == 0
    track = _track(out / "pan.csv")
    seen = track.visible[:HAND_FRAMES].any(axis=1)
    assert seen.sum() >= HAND_FRAMES - 1, track.visible  # the hand, in (nearly) every frame
    assert not track.visible[HAND_FRAMES:].any(), track.xy[HAND_FRAMES:]  # nothing on the bare wall
    side = int(np.argmax(track.visible[:HAND_FRAMES].sum(axis=0)))
    xy = track.xy[:HAND_FRAMES, side][seen]
    steps = np.diff(xy, axis=0) / np.diff(np.flatnonzero(seen))[:, None]
    # the camera pans right by SHIFT source px = 2 * SHIFT output px per frame: the hand moves left as much
    assert np.allclose(np.median(steps, axis=0), [-2 * SHIFT, 0], atol=2.0), steps
    assert ((xy >= 0) & (xy < SIZE)).all()
    sheet = cv2.imread(str(preview))
    assert sheet is not None and sheet.shape[0] > 100

    mirrored = tmp_path / "mirrored"
    assert main([str(hand_video), "--out", str(mirrored), "--python", str(PYTHON), "--mirrored"]) == 0
    flipped = _track(mirrored / "pan.csv")  # a selfie view: the same detections on the other side
    np.testing.assert_array_equal(flipped.visible, track.visible[:, ::-1])
    np.testing.assert_allclose(flipped.xy, track.xy[:, ::-1], atol=1e-3)


def test_manifest_mode_fills_the_hands_column_and_reports_bad_videos(hand_video, tmp_path):
    root = tmp_path / "mine"
    (root / "clips").mkdir(parents=True)
    (root / "clips" / "pan.mp4").write_bytes(hand_video.read_bytes())
    (root / "clips" / "broken.mp4").write_bytes(b"not a video")
    with open(root / "manifest.csv", "w", newline="") as f:
        csv.writer(f).writerows([["path", "task", "label", "start", "end"],
                                 ["clips/pan.mp4", "gesture", "wave", 0, 14],
                                 ["clips/broken.mp4", "gesture", "stop", 0, 10]])
    assert main(["--manifest", str(root / "manifest.csv"), "--python", str(PYTHON)]) == 1  # one video failed
    with open(root / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["hands"] for r in rows] == ["hands/pan.csv", ""]
    assert [r["label"] for r in rows] == ["wave", "stop"]  # the rest of the manifest is kept
    assert _track(root / "hands" / "pan.csv").visible.any()


def test_a_missing_or_broken_environment_is_a_clear_error(hand_video, tmp_path, capsys):
    assert main([str(hand_video), "--out", str(tmp_path), "--python", str(tmp_path / "nope" / "python")]) == 1
    assert "make mediapipe" in capsys.readouterr().err
    # an interpreter without mediapipe: the worker dies at import, and its traceback is reported
    assert main([str(hand_video), "--out", str(tmp_path), "--python", sys.executable]) == 1
    assert "No module named 'mediapipe'" in capsys.readouterr().err
