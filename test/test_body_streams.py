"""Per-body windows on the camera's one-way pipeline: real front end, real pedestrians (vtest.avi), no engine.

The engine's results are built by hand (the engine is not what is tested here; test_engine.py runs it): what is
tested is that every tracked body gets its own window of square crops around it, that bodies decide and the
scene decides only until some body's window is full, and that a body's window ends with its id.
"""
import cv2
import numpy as np
import pytest

from mtl_hri.model import InputSpec
from mtl_hri.perception.frontend import FrontEnd, FrontEndParams
from mtl_hri.stream.engine import HandEstimate, HeadResult, RecognitionResult, Timings
from mtl_hri.stream.pipeline import ArrayFrame, CameraStream, Outcome
from mtl_hri.stream.preprocess import BODY_PAD, Pixels, prepare_square
from mtl_hri.stream.smoothing import SmoothingParams

SPEC = InputSpec(frames=8, size=64, resize=72, sample_fps=10.0)
LABELS = {"action": ["none", "walk"], "gesture": ["none", "wave"]}


def result() -> RecognitionResult:
    heads = {"action": HeadResult(LABELS["action"], np.array([0.2, 0.8])),
             "gesture": HeadResult(LABELS["gesture"], np.array([0.9, 0.1]))}
    hand = HandEstimate(np.array([[30.0, 30.0]]), np.array([0.5]))
    return RecognitionResult(heads, hand, hand, Timings(0, 1, 0))


def camera(offline: bool = True, stride: int = 1) -> CameraStream:
    s = CameraStream(offline, FrontEnd(FrontEndParams(max_bodies=4, detect_interval=0.5), seed=0))
    s.configure(SPEC, LABELS, 0.0, stride, 0.5, SmoothingParams(), rebuild=True)
    return s


@pytest.fixture(scope="module")
def street(footage) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(footage))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 60)
    return [cap.read()[1] for _ in range(24)]


def test_prepare_square_crops_a_padded_square_and_maps_back():
    rgb = np.zeros((100, 200, 3), np.uint8)
    rgb[20:80, 150:190] = 255  # a 40x60 "person" near the right edge
    crop, g = prepare_square(Pixels(rgb), SPEC, np.array([150.0, 20.0, 190.0, 80.0]))
    assert crop.shape == (64, 64, 3)
    side = round(60 * BODY_PAD)
    assert g.scale == pytest.approx(64 / side)
    corners = g.to_crop(np.array([[149.5, 19.5], [189.5, 79.5]]))  # pixel edges of the box
    assert np.allclose(corners, [[(64 - 40 * g.scale) / 2, (64 - 60 * g.scale) / 2],
                                 [(64 + 40 * g.scale) / 2, (64 + 60 * g.scale) / 2]], atol=0.6)
    assert np.allclose(g.to_source(g.to_crop(np.array([[170.0, 50.0]]))), [[170.0, 50.0]])
    assert crop[32, 32].min() > 200  # the person is in the middle, unstretched: 40 wide of 60 tall
    assert crop[32, 5].max() < 50 and crop[32, 58].max() < 50


def test_each_body_gets_its_window_and_decides_then_the_scene_waits(street):
    s = camera()
    created, dropped, decided = set(), set(), []
    for k, bgr in enumerate(street):
        got = s.ingest(ArrayFrame(Pixels(bgr, cv2.COLOR_BGR2RGB)), k / 10, k, k / 10)
        assert got.outcome is Outcome.SAMPLED and got.fault is None
        created |= set(got.created)
        dropped |= set(got.dropped)
        assert set(s.bodies) <= {b.id for b in s.tracked}
        while s.has_work(streaming=False):
            primary = s.primary
            jobs = s.next_jobs(streaming=False)
            if primary is not None:  # a body is ready and in view: the scene does not decide
                assert all(job.body is not None for job in jobs) and primary in {job.body for job in jobs}
            for job in jobs:
                assert job.frames.shape[1:] == (64, 64, 3)
                assert job.body is None or job.newest.body.id == job.body
                out = s.complete(job, result(), None, job.stamp)
                if out is not None:
                    decided.append(out)
    assert len(created) >= 3 and not dropped & set(s.bodies)
    assert {d.body for d in decided} >= set(list(s.bodies)[:2])
    ready = [b for b in s.tracked if b.seen_now and b.id in s.bodies and s.bodies[b.id].window.full]
    assert ready and s.primary == max(ready, key=lambda b: b.area).id
    for d in (d for d in decided if d.body is not None):  # the crop is the body's: its box maps to its middle
        box = d.newest.body.box
        g = d.newest.geometry
        centre = g.to_crop(np.array([[(box[0] + box[2]) / 2, (box[1] + box[3]) / 2]]))[0]
        assert np.allclose(centre, 32, atol=2)
    assert s.scene.window.full  # the scene still samples, ready for when everyone has left
    plain = sorted(d.stamp for d in decided if d.newest.primary)  # what the plain topics carry
    assert plain == [k / 10 for k in range(SPEC.frames - 1, len(street))]  # one per frame, once the scene is full
    assert any(d.body is not None for d in decided if d.newest.primary)


def test_the_scene_decides_when_nobody_is_in_view():
    s = camera(offline=False)
    blank = np.full((240, 320, 3), 90, np.uint8)
    for k in range(10):
        s.ingest(ArrayFrame(Pixels(blank)), k / 10, k, k / 10)
    assert not s.bodies and not s.tracked and s.primary is None
    (job,) = s.next_jobs(streaming=False)
    assert job.body is None and s.complete(job, result(), None, 1.0).body is None


def test_a_restart_drops_every_body_and_says_which(street):
    s = camera(offline=False)
    for k, bgr in enumerate(street[:12]):
        s.ingest(ArrayFrame(Pixels(bgr, cv2.COLOR_BGR2RGB)), k / 10, k, k / 10)
    jobs = s.next_jobs(streaming=False)
    ids = set(s.bodies)
    assert ids and jobs
    got = s.ingest(ArrayFrame(Pixels(street[12], cv2.COLOR_BGR2RGB)), 5.0, 12, 5.0)  # a 3.9 s gap
    assert "gap" in got.reset and ids <= set(got.dropped)
    assert all(s.complete(job, result(), None, 5.0) is None for job in jobs if job.body not in s.bodies)
    assert s.check_silence(20.0) is not None and not s.bodies and not s.tracked


def test_bodies_decide_on_the_cameras_cadence(street):
    s = camera(stride=3)
    plain, bodies = [], set()
    for k, bgr in enumerate(street):
        s.ingest(ArrayFrame(Pixels(bgr, cv2.COLOR_BGR2RGB)), k / 10, k, k / 10)
        while s.has_work(streaming=False):
            for job in s.next_jobs(streaming=False):
                out = s.complete(job, result(), None, job.stamp)
                if out is not None:
                    bodies.add(out.body)
                    if out.newest.primary:
                        plain.append(out.stamp)
    assert plain == [k / 10 for k in range(SPEC.frames - 1, len(street), 3)]  # one per 3 sampled frames, still
    assert len(bodies - {None}) >= 2


def keypoint_model(directory):
    """Make a keypoint model directory (random weights) with its ONNX export, as `mtl-hri-export` leaves it."""
    import torch

    from mtl_hri.model import ArchConfig, ModelCard, build_model, save_model_dir
    from mtl_hri.model.export import export_onnx

    torch.manual_seed(0)
    arch = ArchConfig(trunk="kp_stgcn", hand_head=False)
    spec = InputSpec(frames=8, sample_fps=10.0, modality="keypoints")
    model = build_model(arch, LABELS, pretrained=False, window_frames=spec.frames).eval()
    card = ModelCard("kp_test", arch, LABELS, input=spec)
    save_model_dir(model, card, directory)
    export_onnx(model, card, directory)
    return directory


@pytest.mark.parametrize("backend, streaming", [("torch", False), ("onnxruntime", True)])
def test_a_keypoint_model_decides_per_body_on_landmarks_and_takes_its_hands_from_them(street, tmp_path, backend,
                                                                                       streaming):
    from mtl_hri.model.keypoints import BODY_POINTS, N_CHANNELS, N_POINTS
    from mtl_hri.stream.body_keypoints import MIN_VISIBLE, landmark_hands
    from mtl_hri.stream.engine import create_engine
    from mtl_hri.stream.pipeline import run_jobs
    from mtl_hri.stream.preprocess import body_square

    engine = create_engine(keypoint_model(tmp_path), backend, device="cpu", streaming=streaming)
    s = CameraStream(True, FrontEnd(FrontEndParams(max_bodies=4, detect_interval=0.5), seed=0))
    s.configure(engine.spec, engine.labels, 0.0, 1, 0.5, SmoothingParams(), rebuild=True)
    decided = []
    for k, bgr in enumerate(street):
        assert s.ingest(ArrayFrame(Pixels(bgr, cv2.COLOR_BGR2RGB)), k / 10, k, k / 10).outcome is Outcome.SAMPLED
        for body in (b for b in s.tracked if b.seen_now and b.id in s.bodies):  # its newest frame: its landmarks
            keypoints = s.bodies[body.id].window.newest(1)[0][0]
            assert keypoints.shape == (N_POINTS, N_CHANNELS) and keypoints.dtype == np.float32
            left, top, side = body_square(body.box)
            seen = body.landmarks.visibility >= MIN_VISIBLE
            assert np.array_equal(keypoints[:BODY_POINTS, 3] == 1, seen)
            back = keypoints[:BODY_POINTS, :2] * side + [left + side / 2, top + side / 2]
            assert np.allclose(back[seen], body.landmarks.points[seen, :2], atol=1e-3)
        assert not s.scene.window.newest(1)[0].any()  # the scene is nobody's keypoints
        while s.has_work(streaming):
            jobs = s.next_jobs(streaming)
            for job, (got, state) in zip(jobs, run_jobs(engine, jobs)):
                assert got.left is None  # the model has no hand head
                out = s.complete(job, got, state, job.stamp)
                if out is not None:
                    decided.append(out)
    bodies = [d for d in decided if d.body is not None]
    assert len({d.body for d in bodies}) >= 2
    for d in bodies:
        assert set(d.decisions) == set(LABELS)
        left, right = landmark_hands(d.newest.body)
        assert np.array_equal(d.result.left.xy, left.xy) and np.array_equal(d.result.right.xy, right.xy)
    assert all(d.result.left is None for d in decided if d.body is None)
