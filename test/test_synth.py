"""mtl-hri-synth: determinism, shapes, exact hand keypoints, left/right, dataset format, distinct motions."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from mtl_hri.data import synth
from mtl_hri.data.labels import HRI_ACTIONS, HRI_GESTURES
from mtl_hri.data.synth import PLAIN_RGB, SynthConfig, generate, render_clip
from mtl_hri.tools.synth import main

CLASSES = [("action", a) for a in HRI_ACTIONS[1:]] + [("gesture", g) for g in HRI_GESTURES[1:]] + [("none", "none")]
# No network and no photos needed: procedural backgrounds, or a flat one for pixel-exact checks.
NOISY = SynthConfig(background="procedural")
CLEAN = SynthConfig(background="plain", photometric=False)  # camera shake stays on: keypoints must follow it


def _clip(cfg: SynthConfig, task: str, label: str, seed: int = 0) -> synth.Clip:
    return render_clip(cfg, task, label, np.random.default_rng([seed, CLASSES.index((task, label))]))


@pytest.fixture(scope="module")
def clean_clips() -> dict[tuple[str, str, int], synth.Clip]:
    return {(task, label, seed): _clip(CLEAN, task, label, seed) for task, label in CLASSES for seed in (0, 1)}


def _foreground(frame: np.ndarray) -> np.ndarray:
    return np.abs(frame.astype(int) - PLAIN_RGB).max(-1) > 40


def _top(frame: np.ndarray) -> int:
    """Row of the highest drawn pixel."""
    return int(np.nonzero(_foreground(frame).any(1))[0][0])


def _centre_x(frame: np.ndarray) -> float:
    return float(np.median(np.nonzero(_foreground(frame))[1]))


def _height(clip: synth.Clip, t: int) -> int:
    rows = np.nonzero(_foreground(clip.frames[t]).any(1))[0]
    return int(rows[-1] - rows[0])


def test_generator_does_not_import_rclpy():
    code = "import sys, mtl_hri.data.synth, mtl_hri.tools.synth; sys.exit('rclpy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1]).returncode == 0


def test_same_seed_same_clip_other_seed_differs():
    a, b, c = (_clip(NOISY, "gesture", "wave", seed) for seed in (5, 5, 6))
    assert np.array_equal(a.frames, b.frames) and np.array_equal(a.hands, b.hands)
    assert np.array_equal(a.visible, b.visible) and (a.start, a.end) == (b.start, b.end)
    assert a.frames.shape != c.frames.shape or not np.array_equal(a.frames, c.frames)
    assert a.hands.shape != c.hands.shape or not np.allclose(a.hands, c.hands)


@pytest.mark.parametrize("task,label", CLASSES)
def test_every_label_renders(task, label):
    clip = _clip(NOISY, task, label)
    n = len(clip.frames)
    assert NOISY.n_frames[0] <= n <= NOISY.n_frames[1]
    assert clip.frames.shape == (n, NOISY.height, NOISY.width, 3) and clip.frames.dtype == np.uint8
    assert clip.hands.shape == (n, 2, 2) and clip.hands.dtype == np.float64
    assert clip.visible.shape == (n, 2) and clip.visible.dtype == bool
    assert 0 <= clip.start < clip.end <= n and clip.end - clip.start >= NOISY.min_segment
    assert (clip.task, clip.label) == (task, label)
    assert clip.visible.any(1).mean() > 0.7  # a hand may hide behind the body, rarely both
    inside = (clip.hands >= 0) & (clip.hands <= [NOISY.width - 1, NOISY.height - 1])
    assert inside.all(-1)[clip.visible].all()


def test_unknown_labels_are_refused():
    with pytest.raises(ValueError):
        _clip(NOISY, "action", "wave")
    with pytest.raises(ValueError):
        render_clip(NOISY, "gesture", "none", np.random.default_rng(0))  # idle clips are task "none"
    with pytest.raises(ValueError):
        SynthConfig(n_frames=(20, 30))  # shorter than the 24-frame segment


def _skin_distance(clip: synth.Clip, t: int, side: int, radius: int) -> int:
    """Smallest colour distance to the skin within `radius` pixels of the keypoint."""
    x, y = np.round(clip.hands[t, side]).astype(int)
    patch = clip.frames[t, max(y - radius, 0):y + radius + 1, max(x - radius, 0):x + radius + 1].astype(int)
    return int(np.abs(patch - clip.skin).max(-1).min())


@pytest.mark.parametrize("task,label", CLASSES)
def test_keypoints_are_the_drawn_hand_centres(task, label):
    """Without shake the pixel under every visible keypoint is skin-coloured.

    Exactly so, but for the rare anti-aliased fringe of an occluder one pixel away.
    """
    clip = _clip(SynthConfig(background="plain", photometric=False, shake=False), task, label)
    for t, side in zip(*np.nonzero(clip.visible)):
        assert _skin_distance(clip, t, side, 0) <= 8, (t, side)


def test_keypoints_follow_the_camera_shake(clean_clips):
    """With shake (bilinear resampling) the hand is still under the keypoint, to within a pixel."""
    for (task, label, seed), clip in clean_clips.items():
        for t, side in zip(*np.nonzero(clip.visible)):
            assert _skin_distance(clip, t, side, 1) <= 12, (label, seed, t, side)


def test_left_hand_on_image_right_when_facing_the_camera(clean_clips):
    for seed in (0, 1):
        clip = clean_clips[("none", "none", seed)]  # idle clips face the camera within +-45 degrees
        assert clip.visible.all()
        assert (clip.hands[:, 0, 0] > clip.hands[:, 1, 0]).all()


def _segment(clip: synth.Clip) -> slice:
    return slice(clip.start, clip.end)


@pytest.mark.parametrize("seed", [0, 1])
def test_pointing_hand_is_on_the_pointed_side(clean_clips, seed):
    for label, sign in (("point_left", -1), ("point_right", 1)):
        clip = clean_clips[("gesture", label, seed)]
        mid = (clip.start + clip.end) // 2
        centre, reach = _centre_x(clip.frames[mid]), 0.2 * _height(clip, clip.start)
        offsets = clip.hands[mid, :, 0] - centre
        pointing = int(np.argmax(np.abs(offsets)))
        assert sign * offsets[pointing] > reach, (label, offsets, reach)


@pytest.mark.parametrize("seed", [0, 1])
def test_swipes_move_the_hand_in_the_stated_direction(clean_clips, seed):
    for label, sign in (("swipe_left", -1), ("swipe_right", 1)):
        clip = clean_clips[("gesture", label, seed)]
        x = clip.hands[_segment(clip), :, 0]
        hand = int(np.argmax(np.ptp(x, axis=0)))  # the swiping hand moves most
        vx = np.diff(x[:, hand])
        fastest = vx[np.argmax(np.abs(vx))]
        assert sign * fastest > 0, (label, vx.round(1))
        assert np.ptp(x[:, hand]) > 0.25 * _height(clip, clip.start)


@pytest.mark.parametrize("seed", [0, 1])
def test_whole_body_actions(clean_clips, seed):
    jump = clean_clips[("action", "jump", seed)]
    tops = [_top(f) for f in jump.frames]
    size = _height(jump, jump.start)
    assert min(tops[jump.start:jump.end]) < tops[jump.start] - 0.1 * size  # up ...
    assert abs(tops[jump.end - 1] - tops[jump.start]) < 0.05 * size  # ... and back down

    bow = clean_clips[("action", "bow", seed)]
    tops = [_top(f) for f in bow.frames]
    assert max(tops[bow.start:bow.end]) > tops[bow.start] + 0.08 * _height(bow, bow.start)

    sit, stand = clean_clips[("action", "sit_down", seed)], clean_clips[("action", "stand_up", seed)]
    assert _height(sit, sit.end - 1) < 0.85 * _height(sit, sit.start)
    assert _height(stand, stand.start) < 0.85 * _height(stand, stand.end - 1)

    turn = clean_clips[("action", "turn_around", seed)]
    before, after = turn.hands[turn.start, :, 0], turn.hands[turn.end - 1, :, 0]
    assert np.sign(before[0] - before[1]) == -np.sign(after[0] - after[1])  # the hands swapped sides


def test_walks_take_every_heading_and_step_along_the_path():
    """Across the frame, toward the camera and away from it; the image travel is the path's sideways share."""
    walk = synth.motions.LABELS["walk"]
    motions = [synth.motions.sample_motion(walk, synth.figure.sample_body(rng), rng, 3.0)
               for rng in (np.random.default_rng([5, k]) for k in range(200))]
    headings = np.array([abs(m.yaw) for m in motions])
    toward, away, across = headings < 30, headings > 150, (60 < headings) & (headings < 120)
    assert toward.sum() > 20 and away.sum() > 20 and across.sum() > 20
    for m in motions:
        assert m.distance == pytest.approx(m.path * np.sin(np.radians(m.yaw))) and m.path > 0.3 * 3.0
    travels = []
    for k in range(12):
        clip = render_clip(CLEAN, "action", "walk", np.random.default_rng([7, k]))
        points = clip.keypoints[clip.start:clip.end, :, :2]
        height = np.ptp(points[0, :33, 1])
        hips = points[:, [23, 24]].mean(1)
        travels.append(abs(hips[-1, 0] - hips[0, 0]) / height)
        feet = points[:, 27] - points[:, 28]  # left ankle from the right one
        assert np.ptp(feet[:, 1]) > 0.15 * height, k  # whatever the heading, one foot then the other lifts
    assert min(travels) < 0.25 and max(travels) > 0.5  # some come toward the camera or go away, some cross


@pytest.mark.parametrize("seed", [0, 1])
def test_wave_oscillates_above_the_shoulder(clean_clips, seed):
    clip = clean_clips[("gesture", "wave", seed)]
    y = clip.hands[_segment(clip), :, 1]
    hand = int(np.argmin(y.min(0)))  # the raised hand
    size = _height(clip, clip.start)
    assert y[:, hand].min() < _top(clip.frames[clip.start]) + 0.2 * size  # up by the head
    vx = np.diff(clip.hands[_segment(clip), hand, 0])
    turns = np.count_nonzero(np.diff(np.sign(vx[np.abs(vx) > 0.3])))
    assert turns >= 3


def test_photo_directory_and_fallback(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for k in range(2):
        photo = cv2.resize(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8), (200, 150))
        cv2.imwrite(str(tmp_path / f"scene{k}.png"), photo)
    cfg = SynthConfig(backgrounds_dir=tmp_path, n_frames=(24, 24))
    clip = render_clip(cfg, "gesture", "stop", np.random.default_rng(1))
    assert clip.frames.shape[1:] == (cfg.height, cfg.width, 3)

    def offline(dest):
        raise RuntimeError("apt-get download opencv-doc failed: offline")

    monkeypatch.setattr(synth.backgrounds, "fetch_backgrounds", offline)  # where load_photos looks it up
    synth.load_photos.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="procedural"):
            clip = render_clip(SynthConfig(n_frames=(24, 24)), "action", "bow", np.random.default_rng(1))
        assert clip.frames.shape[0] == 24
    finally:
        synth.load_photos.cache_clear()


def _read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_generate_writes_the_dataset_format(tmp_path):
    cfg = SynthConfig(width=96, height=72, n_frames=(24, 28), clips_per_class=2, idle_clips=3,
                      splits=(0.5, 0.5, 0.0), background="procedural", seed=7)
    out = generate(cfg, tmp_path / "a", progress=False)
    with open(out / "manifest.csv", newline="") as f:
        assert f.readline().strip() == "path,task,label,start,end,split,hands,keypoints"
    rows = _read_csv(out / "manifest.csv")
    counts = Counter((r["task"], r["label"]) for r in rows)
    assert counts == {c: (3 if c == ("none", "none") else 2) for c in CLASSES}
    assert Counter(r["split"] for r in rows) == {"train": 16, "val": 15}  # per class 1 + 1, idle 2 + 1
    assert json.loads((out / "labels.json").read_text()) == {"action": HRI_ACTIONS, "gesture": HRI_GESTURES}
    flags = []
    for row in rows:
        assert row["path"] == f"clips/{row['split']}/{row['path'].rsplit('/', 1)[1]}"
        cap = cv2.VideoCapture(str(out / row["path"]))
        frames = []
        while (got := cap.read())[0]:
            frames.append(got[1])
        cap.release()
        hands = _read_csv(out / row["hands"])
        assert len(frames) == len(hands) and 24 <= len(frames) <= 28
        assert np.load(out / row["keypoints"]).shape == (len(frames), 75, 3)  # every frame's landmarks
        assert frames[0].shape == (72, 96, 3)
        assert list(hands[0]) == ["frame", "left_x", "left_y", "left_visible", "right_x", "right_y", "right_visible"]
        assert [int(h["frame"]) for h in hands] == list(range(len(hands)))
        flags += [h["left_visible"] for h in hands] + [h["right_visible"] for h in hands]
        start, end = int(row["start"]), int(row["end"])
        assert 0 <= start < end <= len(frames) and end - start >= 24
    assert set(flags) == {"0", "1"} and flags.count("1") > 0.7 * len(flags)  # small hands (~2 px) too
    again = generate(cfg, tmp_path / "b", progress=False, workers=2)  # same bytes from 2 processes
    for path in sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file()):
        assert (out / path).read_bytes() == (again / path).read_bytes(), path
    val = generate(cfg, tmp_path / "c", progress=False, only=("val",))  # one split: the same clips, alone
    assert _read_csv(val / "manifest.csv") == [r for r in rows if r["split"] == "val"]
    for row in _read_csv(val / "manifest.csv"):
        assert (val / row["path"]).read_bytes() == (out / row["path"]).read_bytes()


def test_cli_writes_dataset_and_preview(tmp_path):
    png = tmp_path / "preview.png"
    argv = ["--out", str(tmp_path / "ds"), "--clips-per-class", "1", "--width", "64", "--height", "48",
            "--frames", "24", "24", "--background", "procedural", "--preview", str(png), "--quiet"]
    assert main(argv) == 0
    assert len(_read_csv(tmp_path / "ds" / "manifest.csv")) == len(CLASSES)
    sheet = cv2.imread(str(png))
    assert sheet is not None and sheet.shape[0] == len(CLASSES) * 144  # one row of 192x144 frames per class
    assert main(["--out", str(tmp_path / "bad"), "--frames", "10", "12"]) == 1
