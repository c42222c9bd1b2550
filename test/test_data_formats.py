"""Each adapter reads a miniature tree in its dataset's real on-disk format (tiny real videos)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from mtl_hri.data.clips import ClipDataset, clip_indices
from mtl_hri.data.generic import HandCSV, load_folders, load_manifest
from mtl_hri.data.isogd import load_isogd
from mtl_hri.data.ntu import NTUSkeleton, hand_track, load_ntu, main_body, parse_skeleton
from mtl_hri.data.nvgesture import load_nvgesture
from mtl_hri.data.records import LabelSpace
from mtl_hri.data.ucf101 import load_ucf101
from mtl_hri.model.config import InputSpec
from test.test_data import RED, SPEC, centroid, dot_track, frame_ids, write_coded, write_hand_csv, write_video


def _labels(task: str, classes: list[str]) -> LabelSpace:
    return LabelSpace({task: ["none", *classes]})


# ------------------------------------------------------------------------------------------------ UCF-101

def _ucf_tree(root: Path) -> None:
    for cls, groups in (("ApplyEyeMakeup", (1, 8)), ("HandstandPushups", (1, 9)), ("YoYo", (2, 25))):
        stem = "HandStandPushups" if cls == "HandstandPushups" else cls  # the release's own spelling
        for g in groups:
            write_coded(root / "UCF-101" / cls / f"v_{stem}_g{g:02d}_c01.avi", 24, "XVID")
    lists = root / "ucfTrainTestlist"
    lists.mkdir()
    # CRLF line endings, as in the release
    (lists / "classInd.txt").write_text("1 ApplyEyeMakeup\r\n2 HandstandPushups\r\n3 YoYo\r\n")
    (lists / "trainlist01.txt").write_text(
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\r\n"
        "HandstandPushups/v_HandStandPushups_g09_c01.avi 2\r\n"
        "YoYo/v_YoYo_g25_c01.avi 3\r\n")
    (lists / "testlist01.txt").write_text(
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\r\n"
        "HandstandPushups/v_HandStandPushups_g01_c01.avi\r\n"
        "YoYo/v_YoYo_g02_c01.avi\r\n")
    (lists / "trainlist02.txt").write_text("YoYo/v_YoYo_g25_c01.avi 1\r\n")  # wrong index


def test_ucf101(tmp_path):
    _ucf_tree(tmp_path)
    train = load_ucf101(tmp_path, "train", fold=1)
    assert train.classes == {"action": ["ApplyEyeMakeup", "HandstandPushups", "YoYo"]}
    assert [(r.label, r.subject, r.task, r.split) for r in train.records] == [
        ("ApplyEyeMakeup", 8, "action", "train"), ("HandstandPushups", 9, "action", "train"),
        ("YoYo", 25, "action", "train")]
    assert train.records[1].path == tmp_path / "UCF-101/HandstandPushups/v_HandStandPushups_g09_c01.avi"
    assert all(r.path.is_file() and (r.start, r.end) == (0, -1) for r in train.records)
    test = load_ucf101(tmp_path, "test", fold=1)
    assert [(r.label, r.subject) for r in test.records] == [("ApplyEyeMakeup", 1), ("HandstandPushups", 1), ("YoYo", 2)]
    with pytest.raises(ValueError, match="is not 'YoYo'"):
        load_ucf101(tmp_path, "train", fold=2)
    with pytest.raises(ValueError, match="folds"):
        load_ucf101(tmp_path, "train", fold=4)
    sample = ClipDataset(test.records, _labels("action", train.classes["action"]), SPEC, train=False)[2]
    assert sample.labels == {"action": 3} and sample.task == 0 and not sample.has_hands
    assert frame_ids(sample.clip.numpy()).tolist() == clip_indices(0, 24, SPEC.frames, 16, None).tolist()


# -------------------------------------------------------------------------------------------------- IsoGD

def test_isogd(tmp_path):
    for split, n in (("train", 1), ("train", 2), ("valid", 1)):
        write_coded(tmp_path / split / "001" / f"M_{n:05d}.avi", 20, "XVID")
    (tmp_path / "train.txt").write_text("train/001/M_00001.avi train/001/K_00001.avi 10\n"
                                        "train/001/M_00002.avi train/001/K_00002.avi 249\n\n")
    (tmp_path / "valid.txt").write_text("valid/001/M_00001.avi valid/001/K_00001.avi 1\n")
    (tmp_path / "test.txt").write_text("test/001/M_00001.avi test/001/K_00001.avi\n")  # unlabelled list
    train = load_isogd(tmp_path, "train")
    assert len(train.classes["gesture"]) == 249 and train.classes["gesture"][:2] == ["1", "2"]
    assert [(r.path.relative_to(tmp_path).as_posix(), r.label, r.task) for r in train.records] == [
        ("train/001/M_00001.avi", "10", "gesture"), ("train/001/M_00002.avi", "249", "gesture")]
    assert [r.label for r in load_isogd(tmp_path, "valid").records] == ["1"]
    with pytest.raises(ValueError, match="<label>"):
        load_isogd(tmp_path, "test")
    sample = ClipDataset(train.records, _labels("gesture", train.classes["gesture"]), SPEC, train=True)[1]
    assert sample.labels == {"gesture": 249} and sample.task == 1


# --------------------------------------------------------------------------------------------- NVGesture

def test_nvgesture(tmp_path):
    lines = []
    for cls, subject, start, end in ((1, 1, 8, 32), (25, 3, 0, 40)):
        clip = f"./Video_data/class_{cls:02d}/subject{subject}_r0"
        write_coded(tmp_path / clip / "sk_color.avi", 40, "MJPG")
        lines.append(f"path:{clip} depth:sk_depth:{start}:{end} color:sk_color:{start}:{end} "
                     f"duo_left:duo_left:{start + 20}:{end + 60} label:{cls}")
    (tmp_path / "nvgesture_train_correct_cvpr2016_v2.lst").write_text("\n".join(lines) + "\n")
    (tmp_path / "nvgesture_test_correct_cvpr2016_v2.lst").write_text(lines[0].replace("label:1", "label:26") + "\n")
    data = load_nvgesture(tmp_path, "train")
    assert data.classes["gesture"][0] == "class_01" and len(data.classes["gesture"]) == 25
    assert [(r.label, r.start, r.end, r.subject) for r in data.records] == [
        ("class_01", 8, 32, 1), ("class_25", 0, 40, 3)]
    assert data.records[0].path == tmp_path / "Video_data/class_01/subject1_r0/sk_color.avi"
    with pytest.raises(ValueError, match="outside"):
        load_nvgesture(tmp_path, "test")
    ds = ClipDataset(data.records, _labels("gesture", data.classes["gesture"]), SPEC, train=True, seed=0)
    for epoch in range(5):
        ds.set_epoch(epoch)
        ids = frame_ids(ds[0].clip.numpy())
        assert ids.min() >= 8 and ids.max() < 32  # the gesture's frames only


# ----------------------------------------------------------------------------------------------- NTU RGB+D

BODY_INFO = "{} 0 1 1 1 1 0 0.01 0.02 2"
LEFT_HAND, RIGHT_HAND = (7, 21, 22), (11, 23, 24)  # 0-based HandLeft/HandTipLeft/ThumbLeft, ...Right


def _body(body_id: int, colour_xy: dict[int, tuple[float, float, int]]) -> list[str]:
    """One body in the .skeleton text format; joints not given sit at (960, 540), tracked."""
    lines = [BODY_INFO.format(body_id), "25"]
    for j in range(25):
        x, y, state = colour_xy.get(j, (960.0, 540.0, 2))
        lines.append(f"0.1 0.2 3.0 250.5 200.5 {x} {y} 1 0 0 0 {state}")
    return lines


def _skeleton_text(frames: list[list[list[str]]]) -> str:
    lines = [str(len(frames))]
    for bodies in frames:
        lines.append(str(len(bodies)))
        for body in bodies:
            lines += body
    return "\n".join(lines) + "\n"


def _hands(left: tuple[float, float], right: tuple[float, float]) -> dict[int, tuple[float, float, int]]:
    """Hand joints spread by ±6 px round each keypoint (their mean)."""
    out = {}
    for joints, (x, y) in ((LEFT_HAND, left), (RIGHT_HAND, right)):
        for j, dx in zip(joints, (-6.0, 0.0, 6.0)):
            out[j] = (x + dx, y, 2)
    return out


def test_ntu_skeleton_hand_keypoints():
    main, other = 72057594037931101, 72057594037931999
    frames = [
        [_body(main, _hands((800.0, 500.0), (1100.0, 510.0)))],
        [_body(other, _hands((10.0, 10.0), (20.0, 20.0))), _body(main, _hands((810.0, 505.0), (1090.0, 512.0)))],
        # left hand: its tip untracked (state 0) -> mean of the other two; right hand off the frame
        [_body(main, {**_hands((820.0, 500.0), (1950.0, 500.0)), 21: (0.0, 0.0, 0)})],
        [],  # nobody
        [_body(main, {j: (900.0, 500.0, 0) for j in LEFT_HAND + RIGHT_HAND})],  # hands not tracked
    ]
    parsed = parse_skeleton(_skeleton_text(frames))
    assert [len(f) for f in parsed] == [1, 2, 1, 0, 1] and parsed[1][0].joints.shape == (25, 12)
    assert main_body(parsed) == main
    track = hand_track(parsed)
    assert np.allclose(track.xy[0], [[800, 500], [1100, 510]]) and np.allclose(track.xy[1], [[810, 505], [1090, 512]])
    assert np.allclose(track.xy[2, 0], [(814 + 826) / 2, 500])
    assert track.visible.tolist() == [[True, True], [True, True], [True, False], [False, False], [False, False]]
    with pytest.raises(ValueError, match="truncated"):
        parse_skeleton(_skeleton_text(frames)[:-200])


def _ntu_tree(root: Path, names: list[str]) -> None:
    for name in names:
        write_coded(root / "nturgb+d_rgb" / f"{name}_rgb.avi", 12, "MJPG")
    (root / "nturgb+d_skeletons").mkdir(parents=True)
    frames = [[_body(1, _hands((800.0, 500.0), (1100.0, 500.0)))]] * 12
    for name in names[1:]:  # the first has no skeleton (as ~300 NTU60 samples)
        (root / "nturgb+d_skeletons" / f"{name}.skeleton").write_text(_skeleton_text(frames))


def test_ntu_splits_and_classes(tmp_path):
    names = [
        "S001C001P001R001A010",  # performer 1: xsub train; camera 1: xview test
        "S001C002P003R002A023",  # performer 3: xsub test; camera 2: xview train
        "S002C003P002R001A001",
        "S018C001P045R001A069",  # NTU120 only (setup 18, class 69); performer 45: NTU120 xsub train
        "S019C002P044R001A120",  # NTU120: odd setup, xsub test
    ]
    _ntu_tree(tmp_path, names)

    def stems(**kw) -> list[str]:
        return [r.path.name.removesuffix("_rgb.avi") for r in load_ntu(tmp_path, **kw).records]

    assert stems(split="train") == [names[0], names[2]]
    assert stems(split="test") == [names[1]]
    assert stems(split="train", protocol="xview") == [names[1], names[2]]
    assert stems(split="test", protocol="xview") == [names[0]]
    assert stems(split="train", variant="ntu120") == [names[0], names[2], names[3]]
    assert stems(split="test", variant="ntu120") == [names[1], names[4]]
    assert stems(split="train", variant="ntu120", protocol="xset") == [names[2], names[3]]  # even setups
    with pytest.raises(ValueError, match="NTU120"):
        load_ntu(tmp_path, protocol="xset")
    data = load_ntu(tmp_path, "train")
    assert data.classes["action"][:2] == ["A001", "A002"] and len(data.classes["action"]) == 60
    first, third = data.records
    assert (first.label, first.subject, first.camera, first.task) == ("A010", 1, 1, "action")
    assert first.hands is None and isinstance(third.hands, NTUSkeleton)
    assert np.allclose(third.hand_track().xy[5], [[800, 500], [1100, 500]])


def test_ntu_hand_targets_follow_the_colour_frame(tmp_path):
    """A full-size (1920x1080) NTU video with a dot at the skeleton's left hand: the target lands on it."""
    n = 6
    name = "S001C001P001R001A023"
    xs = 700.0 + 40 * np.arange(n)
    frames = np.zeros((n, 1080, 1920, 3), np.uint8)
    for frame, x in zip(frames, xs):
        cv2.circle(frame, (int(x * 16), 520 * 16), 40 * 16, RED, -1, cv2.LINE_AA, 4)
    write_video(tmp_path / "nturgb+d_rgb" / f"{name}_rgb.avi", frames, 30.0, "MJPG")
    (tmp_path / "nturgb+d_skeletons").mkdir()
    (tmp_path / "nturgb+d_skeletons" / f"{name}.skeleton").write_text(
        _skeleton_text([[_body(7, _hands((x, 520.0), (1300.0, 520.0)))] for x in xs]))
    data = load_ntu(tmp_path, "train")
    spec = InputSpec(frames=4, size=64, resize=72)
    s = ClipDataset(data.records, _labels("action", data.classes["action"]), spec, train=False)[0]
    assert s.has_hands and s.hand_visible[:, 0].all()
    for t in range(spec.frames):
        dot = (centroid(s.clip[t, 0].numpy().astype(float) - s.clip[t, 2].numpy()) + 0.5) * 2 / spec.size - 1
        assert np.abs(dot - s.hands[t, 0].numpy()).max() < 2 / spec.size


# ------------------------------------------------------------------------------------------------ generic

def test_generic_manifest(tmp_path):
    track = dot_track(20)
    write_coded(tmp_path / "clips" / "a.mp4", 20, "mp4v")
    write_coded(tmp_path / "clips" / "b.mp4", 20, "mp4v")
    (tmp_path / "hands").mkdir()
    write_hand_csv(tmp_path / "hands" / "a.csv", track)
    with open(tmp_path / "manifest.csv", "w", newline="") as f:
        csv.writer(f).writerows([
            ["path", "task", "label", "start", "end", "split", "hands"],
            ["clips/a.mp4", "gesture", "wave", "2", "18", "train", "hands/a.csv"],
            ["clips/b.mp4", "action", "walk", "", "", "train", ""],
            ["clips/b.mp4", "none", "none", "0", "10", "test", ""],
        ])
    data = load_manifest(tmp_path, "train")
    assert data.classes == {"action": ["walk"], "gesture": ["wave"]}  # order of appearance without labels.json
    a, b = data.records
    assert (a.task, a.label, a.start, a.end, a.split) == ("gesture", "wave", 2, 18, "train")
    assert (b.start, b.end, b.hands) == (0, -1, None)
    loaded = a.hand_track()
    assert np.allclose(loaded.xy, track.xy, atol=1e-4) and loaded.visible.all()
    assert [r.task for r in load_manifest(tmp_path, "test").records] == ["none"]
    (tmp_path / "labels.json").write_text(json.dumps({"action": ["none", "sit", "walk"], "gesture": ["none", "wave"]}))
    assert load_manifest(tmp_path, "train").classes == {"action": ["sit", "walk"], "gesture": ["wave"]}


def test_hand_csv_with_gaps(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("frame,left_x,left_y,left_visible,right_x,right_y,right_visible\n"
                    "5,10.5,20.5,1,30,40,0\n"
                    "7,11.5,21.5,1,31,41,1\n")
    track = HandCSV(path).load()
    assert track.first_frame == 5 and track.xy.shape == (3, 2, 2)
    xy, visible = track.at(np.array([4, 5, 6, 7, 8]))
    assert visible.tolist() == [[False, False], [True, False], [False, False], [True, True], [False, False]]
    assert np.allclose(xy[3], [[11.5, 21.5], [31, 41]])


def test_generic_folders(tmp_path):
    for rel in ("train/gesture/wave/1.mp4", "train/gesture/stop/2.avi", "train/action/walk/3.mp4",
                "train/none/4.mp4", "val/gesture/beckon/5.mp4"):
        write_coded(tmp_path / rel, 6, "mp4v" if rel.endswith("mp4") else "MJPG")
    data = load_folders(tmp_path, "train")
    assert data.classes == {"action": ["walk"], "gesture": ["beckon", "stop", "wave"]}  # every split's classes
    assert sorted((r.task, r.label, r.path.name) for r in data.records) == [
        ("action", "walk", "3.mp4"), ("gesture", "stop", "2.avi"), ("gesture", "wave", "1.mp4"),
        ("none", "none", "4.mp4")]
    assert [r.label for r in load_folders(tmp_path, "val").records] == ["beckon"]
