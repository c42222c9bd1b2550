"""The rendered figure's exact landmarks: BlazePose's body points and articulated hands in MediaPipe's topology."""
import numpy as np
import pytest

from mtl_hri.data.synth.figure import LEFT, RIGHT, Pose, forward_kinematics, sample_body
from mtl_hri.data.synth.landmarks import SHAPES, figure_landmarks, hand_landmarks
from mtl_hri.model.keypoints import HAND_POINTS, LEFT_HAND, N_POINTS, RIGHT_HAND

TIPS, KNUCKLES = (8, 12, 16, 20), (5, 9, 13, 17)  # index to pinky
BODY = sample_body(np.random.default_rng(0))


def hand(shape: str, side: int = RIGHT, yaw: float = 0.0) -> np.ndarray:
    """One hand of a figure facing `yaw`, its forearm held forward and up (as for a gesture)."""
    pose = Pose(yaw=yaw)
    pose.arms[side] = [20, 30, 15, 90]
    fig = forward_kinematics(BODY, pose)
    return hand_landmarks(side, fig.joints[f"wrist{side}"], fig.joints[f"hand{side}"], SHAPES[shape], fig.axes,
                          BODY.hand)


def extension(points: np.ndarray) -> np.ndarray:
    """Each finger's tip distance from the wrist over its knuckle's: > 1.5 straight, about 1 curled."""
    wrist = points[0]
    return np.array([np.linalg.norm(points[t] - wrist) / np.linalg.norm(points[k] - wrist)
                     for t, k in zip(TIPS, KNUCKLES)])


def thumb_out(points: np.ndarray) -> float:
    """Return the thumb tip's distance from the index knuckle, in palm radii: far when the thumb is out."""
    return float(np.linalg.norm(points[4] - points[5]) / BODY.hand)


@pytest.mark.parametrize("shape, fingers, thumb", [
    ("fist", (0, 0, 0, 0), False), ("open", (1, 1, 1, 1), True), ("palm", (1, 1, 1, 1), True),
    ("point", (1, 0, 0, 0), False), ("point_up", (1, 0, 0, 0), False), ("victory", (1, 1, 0, 0), False),
    ("love", (1, 0, 0, 1), True), ("thumb", (0, 0, 0, 0), True), ("thumb_down", (0, 0, 0, 0), True)])
def test_each_shape_extends_the_fingers_it_names(shape, fingers, thumb):
    points = hand(shape)
    assert points.shape == (HAND_POINTS, 3)
    ext = extension(points)
    assert all((e > 1.6) if out else (e < 1.25) for e, out in zip(ext, fingers)), (shape, ext)
    assert (thumb_out(points) > 1.4) == thumb, (shape, thumb_out(points))


def test_a_thumb_up_points_up_and_a_thumb_down_points_down():
    up, down = hand("thumb"), hand("thumb_down")
    assert up[4, 1] == up[:, 1].max() and up[4, 1] - up[0, 1] > 1.5 * BODY.hand
    assert down[4, 1] == down[:, 1].min() and down[0, 1] - down[4, 1] > 1.5 * BODY.hand


def test_an_open_palm_faces_the_camera_fingers_up_thumb_toward_the_midline():
    for side in (LEFT, RIGHT):
        p = hand("palm", side)
        assert all(p[t, 1] > p[k, 1] + BODY.hand for t, k in zip(TIPS, KNUCKLES))  # fingers up
        assert np.ptp(p[[0, 5, 9, 13, 17], 2]) < 0.3 * BODY.hand  # a flat palm, square to the camera (z)
        # facing the camera, the person's right hand is on the image left and its thumb toward the image right
        assert (p[4, 0] > p[20, 0]) == (side == RIGHT)
    v = hand("victory")
    assert np.linalg.norm(v[8] - v[12]) > 1.5 * np.linalg.norm(v[5] - v[9])  # the V opens


def test_the_figure_s_landmarks_are_its_joints_and_mirror_between_its_sides():
    fig = forward_kinematics(BODY, Pose())
    points = figure_landmarks(BODY, fig, ["open", "open"])
    assert points.shape == (N_POINTS, 3) and np.isfinite(points).all()
    for index, joint in ((11, "shoulder0"), (12, "shoulder1"), (15, "wrist0"), (16, "wrist1"), (23, "hip0"),
                         (28, "ankle1")):
        assert np.array_equal(points[index], fig.joints[joint])
    assert points[11, 0] > points[12, 0]  # facing the camera, the person's left is the image right
    assert points[0, 2] > fig.joints["head"][2]  # the nose is in front of the head's centre
    assert points[0, 1] > points[11, 1] > points[23, 1] > points[27, 1]  # nose, shoulders, hips, ankles
    assert np.array_equal(points[LEFT_HAND], fig.joints["wrist0"])
    assert np.array_equal(points[RIGHT_HAND], fig.joints["wrist1"])
    mirror = {a: b for a, b in [(1, 4), (2, 5), (3, 6), (7, 8), (9, 10)] + [(i, i + 1) for i in range(11, 33, 2)]}
    for a, b in mirror.items():  # the idle pose is symmetric: x flips, y and z stay
        assert np.allclose(points[a] * [-1, 1, 1], points[b], atol=1e-9), (a, b)
    hands = points[LEFT_HAND:RIGHT_HAND], points[RIGHT_HAND:]
    assert np.allclose(hands[0] * [-1, 1, 1], hands[1], atol=1e-9)


@pytest.mark.parametrize("shake", [False, True])
def test_a_rendered_clip_carries_its_landmarks_in_pixels_and_they_follow_the_camera(shake):
    from mtl_hri.data.synth import SynthConfig, render_clip

    cfg = SynthConfig(background="plain", photometric=False, shake=shake)
    clip = render_clip(cfg, "gesture", "wave", np.random.default_rng(5))
    n = len(clip.frames)
    assert clip.keypoints.shape == (n, N_POINTS, 3)
    present = clip.keypoints[..., 2] == 1
    xy = clip.keypoints[..., :2]
    inside = (xy >= 0).all(-1) & (xy[..., 0] <= cfg.width - 1) & (xy[..., 1] <= cfg.height - 1)
    assert present.any() and not (present & ~inside).any()
    for side, base in enumerate((LEFT_HAND, RIGHT_HAND)):
        points = clip.keypoints[:, base:base + HAND_POINTS]
        hidden = ~clip.visible[:, side]
        assert not points[hidden, :, 2].any()  # a hand not seen has no points present
        # a visible hand's points lie around the hand's keypoint (the palm centre), shaken alike
        seen = clip.visible[:, side]
        spread = np.linalg.norm(points[seen, :, :2].mean(1) - clip.hands[seen, side], axis=-1)
        assert seen.any() and spread.max() < 0.05 * cfg.height


def test_a_synthetic_set_trains_a_keypoint_model_from_its_landmarks(tmp_path):
    """mtl-hri-synth writes each clip's landmarks; the keypoint dataset reads them as the node's front end would."""
    import torch

    from mtl_hri.data.clips import ClipDataset
    from mtl_hri.data.generic import load_manifest
    from mtl_hri.data.keypoint_clips import keypoint_clip, mirror
    from mtl_hri.data.records import LabelSpace
    from mtl_hri.data.synth import SynthConfig, generate
    from mtl_hri.model import InputSpec
    from mtl_hri.model.keypoints import N_CHANNELS

    cfg = SynthConfig(clips_per_class=1, idle_clips=1, splits=(1, 0, 0), background="plain", photometric=False)
    root = generate(cfg, tmp_path / "synth", progress=False)
    data = load_manifest(root, "train")
    assert all(r.keypoints is not None for r in data.records)
    spec = InputSpec(frames=8, sample_fps=7.5, modality="keypoints")
    space = LabelSpace({t: ["none", *c] for t, c in data.classes.items()}, {"point_left": "point_right"})
    exact = ClipDataset(data.records, space, spec, train=False)
    noisy = ClipDataset(data.records, space, spec, train=True, seed=1)
    sample = exact[0]
    assert sample.clip.shape == (8, N_POINTS, N_CHANNELS) and sample.clip.dtype == torch.float32
    assert not sample.has_hands
    present = sample.clip[..., 3] == 1
    assert present[:, :33].all()  # the whole rendered figure is in view
    assert sample.clip[..., :2].abs().max() < 0.5  # inside the person's square region
    assert set(sample.clip[..., 2][present].tolist()) == {1.0}  # exact: full confidence
    changed = noisy[0].clip
    assert changed.shape == sample.clip.shape and not torch.equal(changed, sample.clip)
    from mtl_hri.data.keypoint_clips import KeypointNoise

    nobody = ClipDataset(data.records, space, spec, train=True, noise=KeypointNoise(empty=1.0))
    waving = next(i for i, r in enumerate(data.records) if r.label == "wave")
    empty = nobody[waving]  # what the scene sees while nobody is tracked: `none` for every task
    assert not empty.clip.any() and set(empty.labels.values()) == {0}
    # the mirror image of the landmarks is the landmarks of the mirror image: flipping twice is the identity
    track = data.records[0].keypoints.load().points[:4]
    assert np.allclose(mirror(mirror(track, cfg.width), cfg.width), track)
    left_wrist, right_wrist = keypoint_clip(track, cfg.width, cfg.height)[:, [15, 16], 0].T
    flipped = keypoint_clip(mirror(track, cfg.width), cfg.width, cfg.height)
    assert np.allclose(flipped[:, 16, 0], -left_wrist, atol=0.02) and np.allclose(flipped[:, 15, 0], -right_wrist,
                                                                                   atol=0.02)
