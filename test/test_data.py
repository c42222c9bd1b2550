"""Clips: sampling, scale/crop/flip with hand targets, determinism, collation into the MTL losses; composite sets.

Videos are tiny and written here with cv2.VideoWriter. "Coded" frames carry their index as a flat colour
(robust to lossy codecs, scaling, cropping and flipping); "dot" videos are black with a red dot on the
left hand and a blue one on the right (lossless FFV1), so hand targets can be checked against pixels.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import yaml
from torch.utils.data import DataLoader

from mtl_hri.data.clips import (
    AugmentConfig,
    ClipDataset,
    SamplingConfig,
    clip_indices,
    collate,
    crop_frames,
    crop_hands,
    random_geometry,
    window_length,
)
from mtl_hri.data.composite import CompositeConfig, CompositeMTLDataset, load_composite_config, load_datasets
from mtl_hri.data.records import ClipRecord, HandTrack, LabelSpace
from mtl_hri.data.targets import Targets
from mtl_hri.data.video import ShortVideoError, VideoInfo
from mtl_hri.model.config import InputSpec
from mtl_hri.model.network import MTLOutput
from mtl_hri.stream.preprocess import geometry_for, resize_crop
from mtl_hri.train.losses import LossConfig, mtl_losses

SPEC = InputSpec(frames=8, size=48, resize=56)  # small, so the tests stay fast
LABELS = LabelSpace({"action": ["none", "walk"], "gesture": ["none", "wave", "swipe_left", "swipe_right"]},
                    {"swipe_left": "swipe_right"})
RED, BLUE = (255, 0, 0), (0, 0, 255)


# ----------------------------------------------------------------------------------------------- helpers

def write_video(path: Path, frames: np.ndarray, fps: float = 25.0, fourcc: str = "MJPG") -> Path:
    """RGB frames -> a video file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    assert writer.isOpened(), f"no {fourcc} writer"
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def coded_frames(n: int, width: int = 64, height: int = 48) -> np.ndarray:
    """Frame i is a flat colour coding i, with a moving textured strip so codecs make real P-frames."""
    texture = np.random.default_rng(0).integers(0, 256, (8, width, 3), dtype=np.uint8)
    frames = np.empty((n, height, width, 3), np.uint8)
    for i in range(n):
        frames[i] = (16 * (i % 16) + 8, 16 * (i // 16) + 8, 128)
        frames[i, -8:] = np.roll(texture, 3 * i, axis=1)
    return frames


def frame_ids(frames: np.ndarray) -> np.ndarray:
    """Decode the indices coded by `coded_frames`, from (n, H, W, 3) or (n, 3, H, W) frames of any crop."""
    if frames.shape[1] == 3:
        frames = frames.transpose(0, 2, 3, 1)
    med = np.median(frames.reshape(len(frames), -1, 3), axis=1)
    return (np.round((med[:, 0] - 8) / 16) + 16 * np.round((med[:, 1] - 8) / 16)).astype(int)


def write_coded(path: Path, n: int, fourcc: str = "MJPG", fps: float = 25.0, size: tuple[int, int] = (64, 48)) -> Path:
    return write_video(path, coded_frames(n, *size), fps, fourcc)


def dot_track(n: int, width: int = 64, height: int = 48) -> HandTrack:
    """Left hand wanders round the middle; the right one stays at the left border (outside centre crops)."""
    t = np.arange(n)
    left = np.stack([width / 2 + 9 * np.sin(t * 0.7) + 0.3, height / 2 + 6 * np.cos(t * 0.5) + 0.2], -1)
    right = np.stack([np.full(n, 1.0), height / 2 + 4 * np.sin(t * 0.3)], -1)
    return HandTrack(np.stack([left, right], 1), np.ones((n, 2), bool))


def dot_frames(track: HandTrack, width: int = 64, height: int = 48) -> np.ndarray:
    frames = np.zeros((len(track.xy), height, width, 3), np.uint8)
    for frame, (left, right) in zip(frames, track.xy):
        for (x, y), colour in ((left, RED), (right, BLUE)):
            cv2.circle(frame, (int(round(x * 16)), int(round(y * 16))), 2 * 16, colour, -1, cv2.LINE_AA, 4)
    return frames


def write_hand_csv(path: Path, track: HandTrack) -> Path:
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["frame", "left_x", "left_y", "left_visible", "right_x", "right_y", "right_visible"])
        for t, ((left, right), (lv, rv)) in enumerate(zip(track.xy, track.visible)):
            out.writerow([t + track.first_frame, left[0], left[1], int(lv), right[0], right[1], int(rv)])
    return path


def centroid(channel: np.ndarray) -> np.ndarray:
    """Intensity-weighted (x, y) of a (H, W) channel, in pixel-index coordinates."""
    w = channel.astype(np.float64)
    ys, xs = np.mgrid[: w.shape[0], : w.shape[1]]
    return np.array([(w * xs).sum(), (w * ys).sum()]) / w.sum()


def fake_output(b: int, t: int, labels: LabelSpace) -> MTLOutput:
    s, h, w = t // 2, 6, 6
    heat = torch.randn(b, s, 2, h, w, requires_grad=True)
    maps = heat.flatten(-2).softmax(-1).view(b, s, 2, h, w)
    return MTLOutput(
        logits={task: torch.randn(b, len(names), requires_grad=True) for task, names in labels.classes.items()},
        hand_heatmaps=maps, hand_coords=torch.zeros(b, s, 2, 2), hand_visibility=torch.randn(b, s, 2),
    )


# --------------------------------------------------------------------------------------------- sampling

def test_window_length_follows_the_ratio_or_the_sample_rate():
    spec = InputSpec(frames=16, sample_fps=15.0)
    assert window_length(spec, 25.0, SamplingConfig()) == 32
    assert window_length(spec, 25.0, SamplingConfig(window_ratio=1.5)) == 24
    assert window_length(spec, 30.0, SamplingConfig(by_time=True)) == 32  # frames 1/15 s apart
    assert window_length(spec, 15.0, SamplingConfig(by_time=True)) == 16
    assert window_length(spec, 0.0, SamplingConfig(by_time=True)) == 32  # unknown fps: the ratio


def test_train_sampling_stays_in_the_segment_and_eval_takes_the_centre():
    rng = np.random.default_rng(0)
    firsts = set()
    for _ in range(300):
        idx = clip_indices(10, 60, 16, 32, rng)
        assert idx.min() >= 10 and idx.max() < 60
        assert np.array_equal(np.diff(idx), np.full(15, 2))  # uniform over the 32-frame window
        firsts.add(int(idx[0]) - 1)
    assert firsts == set(range(10, 60 - 32 + 1))  # every window start inside the segment is drawn
    centre = clip_indices(10, 60, 16, 32, None)
    assert np.array_equal(centre, np.arange(20, 51, 2))  # the window [19, 51): 9 frames spare on each side


def test_short_segments_are_spread_with_repeats():
    idx = clip_indices(5, 11, 16, 32, np.random.default_rng(1))  # 6 frames for 16 slots
    assert idx.min() == 5 and idx.max() == 10 and np.all(np.diff(idx) >= 0)
    assert set(idx) == set(range(5, 11))
    assert np.array_equal(clip_indices(5, 11, 16, 32, None), idx)  # nothing left to randomise


@pytest.mark.parametrize("backend", ["auto", "opencv"])
def test_clip_frames_come_from_the_sampled_indices(tmp_path, backend):
    video = write_coded(tmp_path / "v.avi", 60)
    record = ClipRecord(video, "action", "walk", 10, 50)
    train = ClipDataset([record] * 3, LABELS, SPEC, train=True, seed=7, backend=backend)
    train.set_epoch(2)
    for i in range(3):
        expected = clip_indices(10, 50, SPEC.frames, 2 * SPEC.frames, np.random.default_rng([7, 2, i]))
        assert np.array_equal(frame_ids(train[i].clip.numpy()), expected)
    ev = ClipDataset([record], LABELS, SPEC, train=False, backend=backend)
    assert np.array_equal(frame_ids(ev[0].clip.numpy()), clip_indices(10, 50, SPEC.frames, 16, None))
    to_end = ClipDataset([ClipRecord(video, "action", "walk", 40, -1)], LABELS, SPEC, train=False, backend=backend)[0]
    assert np.array_equal(frame_ids(to_end.clip.numpy()), clip_indices(40, 60, SPEC.frames, 16, None))


def test_a_header_that_overstates_the_length_is_resampled(tmp_path, monkeypatch):
    class Stub:  # says 100 frames, has 30
        info = VideoInfo(25.0, 100, 64, 48)

        def read(self, indices):
            if max(indices) >= 30:
                raise ShortVideoError("stub", max(indices), 30)
            return coded_frames(30)[np.asarray(indices)]

        def close(self):
            pass

    monkeypatch.setattr("mtl_hri.data.clips.open_video", lambda path, backend: Stub())
    sample = ClipDataset([ClipRecord(tmp_path / "x.avi", "action", "walk")], LABELS, SPEC, train=False)[0]
    assert np.array_equal(frame_ids(sample.clip.numpy()), clip_indices(0, 30, SPEC.frames, 16, None))


# ------------------------------------------------------------------------------------ geometry and hands

def test_eval_crop_is_the_inference_crop():
    frame = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    geometry = geometry_for(64, 48, SPEC)
    assert np.array_equal(crop_frames(frame[None], geometry, SPEC, False)[0], resize_crop(frame, SPEC)[0])


def test_hand_transform_inverts_to_the_source_and_flips():
    rng = np.random.default_rng(3)
    g = random_geometry(64, 48, SPEC, (0.875, 1.25), rng)
    xy = np.array([[[30.0, 20.0], [33.0, 25.0]]])
    norm, vis = crop_hands(xy, np.ones((1, 2), bool), g, SPEC.size, flip=False)
    u = (norm + 1) * SPEC.size / 2
    assert np.allclose(g.to_source(u), xy, atol=1e-4)
    flipped, vis_f = crop_hands(xy, np.array([[True, False]]), g, SPEC.size, flip=True)
    assert np.allclose(flipped[0, 1], norm[0, 0] * [-1, 1], atol=1e-6)  # the left hand is now the right one
    assert vis_f.tolist() == [[False, True]]
    far, vis_far = crop_hands(np.array([[[500.0, 20.0], [np.nan, np.nan]]]), np.ones((1, 2), bool), g, SPEC.size,
                              False)
    assert not vis_far.any() and not far.any()  # outside the crop, or unknown: invisible


@pytest.mark.parametrize("train", [False, True])
def test_hand_targets_land_on_the_drawn_dots(tmp_path, train):
    track = dot_track(40)
    video = write_video(tmp_path / "dots.avi", dot_frames(track), fourcc="FFV1")
    records = [ClipRecord(video, "gesture", "swipe_left", 4, 36, hands=track)] * 12
    ds = ClipDataset(records, LABELS, SPEC, train=train, seed=1, augment=AugmentConfig(scale=(0.9, 1.6)))
    flips, checked = set(), 0
    for i in range(len(ds) if train else 1):
        s = ds[i]
        assert s.has_hands and s.task == 1
        flipped = s.labels["gesture"] == LABELS.index("gesture", "swipe_right")
        flips.add(flipped)
        assert s.labels["action"] == -1
        clip = s.clip.numpy().transpose(0, 2, 3, 1)
        for t in range(SPEC.frames):
            for hand in range(2):
                colour = (RED, BLUE)[1 - hand if flipped else hand]
                channel = clip[t, ..., colour.index(255)].astype(float) - clip[t, ..., colour.index(0)]
                xy = s.hands[t, hand].numpy()
                if not s.hand_visible[t, hand]:
                    assert np.all(xy == 0)
                    continue
                if np.abs(xy).max() > 0.8:  # the dot may be cut by the crop border
                    continue
                dot = (centroid(np.clip(channel, 0, None)) + 0.5) * 2 / SPEC.size - 1
                assert np.abs(dot - xy).max() < 2 / SPEC.size, (i, t, hand, dot, xy)  # within one crop pixel
                checked += 1
    assert checked >= (SPEC.frames if not train else 50)
    if train:
        assert flips == {False, True}
    else:  # the right hand sits at the border, outside the centre crop
        assert s.hand_visible[:, 0].all() and not s.hand_visible[:, 1].any()


def test_flip_mirrors_frames_labels_and_hands(tmp_path):
    track = dot_track(20)
    video = write_video(tmp_path / "dots.avi", dot_frames(track), fourcc="FFV1")
    record = ClipRecord(video, "gesture", "swipe_left", hands=track)
    never = ClipDataset([record], LABELS, SPEC, train=True, seed=0, augment=AugmentConfig(scale=(1, 1), flip=0.0))
    always = ClipDataset([record], LABELS, SPEC, train=True, seed=0, augment=AugmentConfig(scale=(1, 1), flip=1.0))
    a, b = never[0], always[0]  # same rng draws: the same window and crop
    assert a.labels["gesture"] == LABELS.index("gesture", "swipe_left")
    assert b.labels["gesture"] == LABELS.index("gesture", "swipe_right")
    assert torch.equal(b.clip, a.clip.flip(-1))
    assert torch.equal(b.hand_visible, a.hand_visible.flip(-1))
    both = (a.hand_visible.flip(-1) > 0) & (b.hand_visible > 0)
    mirrored = a.hands.flip(1) * torch.tensor([-1.0, 1.0])
    assert torch.allclose(b.hands[both], mirrored[both], atol=1e-6)


def test_samples_are_deterministic_per_seed_epoch_and_index(tmp_path):
    track = dot_track(40)
    video = write_video(tmp_path / "dots.avi", dot_frames(track), fourcc="FFV1")
    records = [ClipRecord(video, "gesture", "swipe_left", hands=track)] * 4

    def draw(seed: int, epoch: int, index: int, train: bool = True):
        ds = ClipDataset(records, LABELS, SPEC, train=train, seed=seed)
        ds.set_epoch(epoch)
        return ds[index]

    def same(a, b) -> bool:
        return torch.equal(a.clip, b.clip) and torch.equal(a.hands, b.hands) and a.labels == b.labels

    assert same(draw(3, 1, 2), draw(3, 1, 2))
    assert not all(same(draw(3, 1, i), draw(3, 2, i)) for i in range(4))
    assert not all(same(draw(3, 1, i), draw(4, 1, i)) for i in range(4))
    assert not all(same(draw(3, 1, 0), draw(3, 1, i)) for i in range(1, 4))
    assert same(draw(3, 1, 0, train=False), draw(9, 5, 0, train=False))  # evaluation has no randomness


def test_unknown_labels_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="label space lacks"):
        ClipDataset([ClipRecord(tmp_path / "v.avi", "gesture", "jump")], LABELS, SPEC, train=True)


def test_label_space_validates_and_mirrors():
    assert LABELS.index("gesture", "swipe_right") == 3 and LABELS.mirrored("swipe_right") == "swipe_left"
    assert LABELS.mirrored("wave") == "wave"
    with pytest.raises(ValueError, match="start with"):
        LabelSpace({"gesture": ["wave", "none"]})
    with pytest.raises(ValueError, match="lacks"):
        LabelSpace({"gesture": ["none", "swipe_left"]}, {"swipe_left": "swipe_right"})
    with pytest.raises(KeyError, match="no class"):
        LABELS.index("action", "wave")


# ------------------------------------------------------------------------------------- batches and losses

def test_collate_builds_targets_the_losses_accept(tmp_path):
    track = dot_track(30)
    dots = write_video(tmp_path / "dots.avi", dot_frames(track), fourcc="FFV1")
    coded = write_coded(tmp_path / "coded.avi", 30)
    records = [
        ClipRecord(dots, "gesture", "wave", hands=track),
        ClipRecord(coded, "action", "walk"),
        ClipRecord(coded, "none", "none"),
        ClipRecord(dots, "gesture", "swipe_right", 2, 20, hands=track),
    ]
    ds = ClipDataset(records, LABELS, SPEC, train=True, seed=0)
    clips, targets = next(iter(DataLoader(ds, batch_size=4, collate_fn=collate)))
    assert clips.dtype == torch.uint8 and clips.shape == (4, SPEC.frames, 3, SPEC.size, SPEC.size)
    assert isinstance(targets, Targets)
    assert targets.labels["action"].tolist() == [-1, 1, 0, -1]
    assert targets.labels["gesture"][[0, 1, 2]].tolist() == [1, -1, 0]
    assert targets.labels["gesture"][3] in (2, 3)  # swipe_right, or swipe_left when flipped
    assert targets.task.tolist() == [1, 0, 2, 1] and targets.has_hands.tolist() == [True, False, False, True]
    assert targets.hands.shape == (4, SPEC.frames, 2, 2) and targets.hands.dtype == torch.float32
    assert targets.hand_visible.shape == (4, SPEC.frames, 2) and not targets.hand_visible[1:3].any()
    out = fake_output(4, SPEC.frames, LABELS)
    losses = mtl_losses(out, targets, LossConfig(cross_task_negatives=0.3))
    assert set(losses) == {"action", "gesture", "hands"} and all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()


# ----------------------------------------------------------------------------------------- composite sets

def _mini_set1(root: Path) -> dict:
    """Miniature UCF-101 and IsoGD trees, and a Set-1 style data config pointing at them."""
    ucf = root / "UCF101"
    for cls, group in (("ApplyEyeMakeup", 8), ("ApplyEyeMakeup", 1), ("YoYo", 9), ("YoYo", 2)):
        write_coded(ucf / "UCF-101" / cls / f"v_{cls}_g{group:02d}_c01.avi", 24)
    lists = ucf / "ucfTrainTestlist"
    lists.mkdir()
    (lists / "classInd.txt").write_text("1 ApplyEyeMakeup\r\n2 YoYo\r\n")
    (lists / "trainlist01.txt").write_text("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\r\n"
                                           "YoYo/v_YoYo_g09_c01.avi 2\r\n")
    (lists / "testlist01.txt").write_text("ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\r\nYoYo/v_YoYo_g02_c01.avi\r\n")
    iso = root / "IsoGD"
    for split, n, label in (("train", 1, 10), ("train", 2, 249), ("valid", 1, 3)):
        write_coded(iso / split / "001" / f"M_{n:05d}.avi", 20)
    (iso / "train.txt").write_text("train/001/M_00001.avi train/001/K_00001.avi 10\n"
                                   "train/001/M_00002.avi train/001/K_00002.avi 249\n")
    (iso / "valid.txt").write_text("valid/001/M_00001.avi valid/001/K_00001.avi 3\n")
    return {
        "name": "mini_set1",
        "sources": [
            {"type": "ucf101", "root": "UCF101", "task": "action", "options": {"fold": 1},
             "splits": {"val": "test"}},
            {"type": "isogd", "root": "IsoGD", "task": "gesture", "splits": {"val": "valid"}},
        ],
    }


def test_composite_set_builds_from_yaml_with_task_masks(tmp_path):
    (tmp_path / "data.yaml").write_text(yaml.safe_dump(_mini_set1(tmp_path)))
    config = load_composite_config(tmp_path / "data.yaml", base=tmp_path)
    train = CompositeMTLDataset(config, "train", SPEC, train=True, seed=0)
    assert train.labels.classes["action"] == ["none", "ApplyEyeMakeup", "YoYo"]
    assert train.labels.classes["gesture"] == ["none", *map(str, range(1, 250))]
    assert [r.source for r in train.records] == ["ucf101", "ucf101", "isogd", "isogd"]
    clips, targets = collate([train[i] for i in range(len(train))])
    assert targets.labels["action"].tolist() == [1, 2, -1, -1]
    assert targets.labels["gesture"].tolist() == [-1, -1, 10, 249]
    assert targets.task.tolist() == [0, 0, 1, 1]
    val = CompositeMTLDataset(config, "val", SPEC, train=False)
    assert val.labels == train.labels and [r.split for r in val.records] == ["test", "test", "valid"]


def test_load_datasets_gives_the_trainer_its_four_things(tmp_path, monkeypatch):
    (tmp_path / "data.yaml").write_text(yaml.safe_dump(_mini_set1(tmp_path)))
    monkeypatch.chdir(tmp_path)  # relative roots are relative to the working directory
    train, val, labels, collate_fn = load_datasets("data.yaml", SPEC, seed=0)
    assert train.train and not val.train and labels is train.labels and collate_fn is collate
    assert len(train) == 4 and len(val) == 3


def test_sources_route_class_subsets_to_tasks(tmp_path):
    """Set-3/4 style: one dataset, two class subsets feeding two tasks, classes renamed on the way."""
    root = tmp_path / "synth"
    rows = [["path", "task", "label", "start", "end", "split", "hands"]]
    for i, label in enumerate(["walk", "jump", "wave", "walk"]):
        write_coded(root / f"clip{i}.avi", 20)
        rows.append([f"clip{i}.avi", "action", label, 2, 18, "train", ""])
    with open(root / "manifest.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    config = CompositeConfig.from_dict({
        "name": "routed", "flip": {},
        "sources": [
            {"name": "acts", "type": "manifest", "root": str(root), "classes": ["walk", "jump"]},
            {"name": "gests", "type": "manifest", "root": str(root), "task": "gesture", "classes": {"wave": "hello"}},
        ],
    })
    records, labels = config.records("train")
    assert labels.classes == {"action": ["none", "walk", "jump"], "gesture": ["none", "hello"]}
    assert [(r.source, r.task, r.label) for r in records] == [
        ("acts", "action", "walk"), ("acts", "action", "jump"), ("acts", "action", "walk"),
        ("gests", "gesture", "hello"),
    ]
    with pytest.raises(ValueError, match="no classes"):
        CompositeConfig.from_dict({"name": "bad", "sources": [
            {"type": "manifest", "root": str(root), "classes": ["fly"]}]}).records("train")


def test_example_configs_parse():
    configs = sorted(Path(__file__).parents[1].glob("config/data/*.yaml"))
    assert {p.stem for p in configs} >= {"set1", "set2", "set3", "set4", "synthetic"}
    for path in configs:
        config = load_composite_config(path)
        assert config.sources and config.name == path.stem
        LabelSpace({"gesture": ["none", *config.flip, *config.flip.values()]}, config.flip)  # pairs are valid


def test_synthetic_manifest_with_hands_and_labels_json(tmp_path):
    """The generic format as mtl-hri-synth writes it: clips/<split>/*.mp4, hands/*.csv, labels.json."""
    root = tmp_path / "synth"
    track = dot_track(30)
    write_video(root / "clips" / "train" / "wave_0000.mp4", dot_frames(track), 15.0, "mp4v")
    write_coded(root / "clips" / "val" / "none_0000.mp4", 30, "mp4v", 15.0)
    (root / "hands").mkdir()
    write_hand_csv(root / "hands" / "wave_0000.csv", track)
    with open(root / "manifest.csv", "w", newline="") as f:
        csv.writer(f).writerows([["path", "task", "label", "start", "end", "split", "hands"],
                                 ["clips/train/wave_0000.mp4", "gesture", "wave", 3, 27, "train",
                                  "hands/wave_0000.csv"],
                                 ["clips/val/none_0000.mp4", "none", "none", 0, 30, "val", ""]])
    (root / "labels.json").write_text(json.dumps({"action": ["none", "walk"], "gesture": ["none", "wave", "stop"]}))
    config = CompositeConfig.from_dict({"name": "synthetic", "sampling": {"by_time": True}, "augment": {"flip": 0.0},
                                         "sources": [{"type": "manifest", "root": str(root)}]})
    train = CompositeMTLDataset(config, "train", InputSpec(frames=8, size=48, resize=56, sample_fps=15.0), True)
    assert train.labels.classes == {"action": ["none", "walk"], "gesture": ["none", "wave", "stop"]}
    s = train[0]
    assert s.has_hands and s.hand_visible[:, 0].all() and s.labels == {"action": -1, "gesture": 1}
    val = CompositeMTLDataset(config, "val", SPEC, False)
    assert val[0].labels == {"action": 0, "gesture": 0} and val[0].task == 2 and not val[0].has_hands
