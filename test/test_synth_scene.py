"""Multi-person scenes: determinism, boxes exactly each person's pixels, visibility, entering, crossing, leaving."""
from __future__ import annotations

import json
from dataclasses import replace

import cv2
import numpy as np
import pytest

from mtl_hri.data.synth import PLAIN_RGB
from mtl_hri.data.synth.scene import SCENE_LABELS, Scene, SceneConfig, min_seconds, render_scene
from mtl_hri.tools.synth import main

W, H = 192, 108  # 16:9 as the default 1280x720, small enough to be quick
# The default scene (15 fps, 30 s, shake and photometric effects) at a small size, on a procedural background
# (no network); and a flat one without effects, where a person's pixels are exactly what differs from PLAIN_RGB.
DEFAULT = SceneConfig(width=W, height=H, background="procedural")
FLAT = SceneConfig(width=W, height=H, fps=4, seconds=24, background="plain", shake=False, photometric=False)


@pytest.fixture(scope="module", params=[3, 4])
def default_scene(request: pytest.FixtureRequest) -> Scene:
    return render_scene(replace(DEFAULT, people=request.param))


def _pixels(frame: np.ndarray) -> np.ndarray:
    return (frame != PLAIN_RGB).any(-1)


def _box(mask: np.ndarray) -> tuple[float, float, float, float]:
    rows, cols = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
    return float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)


def _by_id(scene: Scene) -> dict[int, dict[int, object]]:
    """Id -> {frame: PersonTruth}."""
    out: dict[int, dict[int, object]] = {p.id: {} for p in scene.people}
    for t, frame in enumerate(scene.truth):
        for p in frame:
            out[p.id][t] = p
    return out


def test_same_seed_same_bytes_other_seed_differs():
    cfg = replace(DEFAULT, fps=3, seconds=24)
    a, b, c = render_scene(cfg), render_scene(cfg), render_scene(replace(cfg, seed=1))
    assert np.array_equal(a.frames, b.frames) and a.to_json() == b.to_json()
    assert not np.array_equal(a.frames, c.frames) and a.to_json() != c.to_json()


def test_boxes_hold_exactly_each_persons_pixels_and_visibility_follows_depth():
    scene = render_scene(FLAT)
    alone = {p.id: np.stack([_pixels(f) for f in render_scene(FLAT, only=[p.id]).frames]) for p in scene.people}
    # The scene shows its people and nothing else.
    assert np.array_equal(np.stack([_pixels(f) for f in scene.frames]), np.any(list(alone.values()), axis=0))
    near_first = sorted(scene.people, key=lambda p: -p.depth)
    for t, frame in enumerate(scene.truth):
        assert [p.id for p in frame] == [i for i, m in alone.items() if m[t].any()]
        for p in frame:
            assert p.box == _box(alone[p.id][t])
            nearer = [alone[q.id][t] for q in near_first if q.depth > scene.people[p.id].depth]
            covered = np.any(nearer, axis=0) if nearer else np.zeros((H, W), bool)
            assert p.visible_fraction == pytest.approx((alone[p.id][t] & ~covered).sum() / alone[p.id][t].sum())
            for (x, y), seen in zip(p.hands, p.hands_visible):
                if seen:  # a visible palm centre is one of the person's own unoccluded pixels
                    assert alone[p.id][t][round(y), round(x)] and not covered[round(y), round(x)]


def test_shaken_boxes_follow_the_frame():
    cfg = replace(FLAT, shake=True)
    scene = render_scene(cfg)
    for p in scene.people[:2]:
        frames = render_scene(cfg, only=[p.id]).frames
        for t, frame in enumerate(scene.truth):
            mine = [q for q in frame if q.id == p.id]
            if not _pixels(frames[t]).any():
                continue
            x0, y0, x1, y1 = _box(_pixels(frames[t]))
            (truth,) = mine
            # The truth counts every pixel the person's pixels weigh in, even where the blend rounds to the backdrop.
            assert truth.box[0] <= x0 <= truth.box[0] + 1 and truth.box[1] <= y0 <= truth.box[1] + 1
            assert truth.box[2] - 1 <= x1 <= truth.box[2] and truth.box[3] - 1 <= y1 <= truth.box[3]


def test_people_enter_cross_occlude_and_leave(default_scene: Scene):
    scene, n = default_scene, len(default_scene.people)
    assert scene.frames.shape == (DEFAULT.n_frames, H, W, 3) and len(scene.truth) == DEFAULT.n_frames
    assert scene.truth[0] == [] and scene.truth[-1] == []  # everyone comes in from outside and goes out again
    assert len({p.enter for p in scene.people}) == n  # one after another
    assert sorted(p.depth for p in scene.people) == list(range(n))
    by_depth = sorted(scene.people, key=lambda p: p.depth)
    assert all(a.height_px < b.height_px for a, b in zip(by_depth, by_depth[1:]))  # nearer is larger
    assert all(0.4 * H <= p.height_px <= 0.8 * H for p in scene.people)
    assert max(len(frame) for frame in scene.truth) >= 3
    assert min(p.visible_fraction for frame in scene.truth for p in frame) < 0.7
    for pid, seen in _by_id(scene).items():
        person = scene.people[pid]
        frames = sorted(seen)
        assert set(range(person.arrive, person.leave)) <= set(frames)  # in view (if hidden) all the while they stand
        for a, b in zip(frames, frames[1:]):  # only a swinging limb at the edge may drop out and come back
            assert b == a + 1 or all(seen[t].box[0] == 0 or seen[t].box[2] == W for t in (a, b)), (pid, a, b)
        assert person.enter <= frames[0] < person.arrive and person.leave <= frames[-1] < person.gone
        first, last = seen[frames[0]], seen[frames[-1]]
        # In through one side, out through the other: every path crosses the whole frame.
        edges = (first.box[0], last.box[2]) if person.direction > 0 else (W - first.box[2], W - last.box[0])
        assert edges == (0, W)
        assert all(0 <= p.box[0] < p.box[2] <= W and 0 <= p.box[1] < p.box[3] <= H for p in seen.values())
        assert first.label == last.label == "walk" and person.label in SCENE_LABELS
        assert [t for t, p in seen.items() if p.label == person.label] == list(range(person.start, person.end))


def test_config_is_checked():
    with pytest.raises(ValueError, match="people"):
        SceneConfig(people=5)
    with pytest.raises(ValueError, match="seconds"):
        SceneConfig(seconds=min_seconds(1280, 720, 3, 15.0) - 1)


def test_cli_writes_the_video_and_its_truth(tmp_path):
    args = ["--width", str(W), "--height", str(H), "--fps", "4", "--seconds", "24", "--background", "plain", "--quiet"]
    assert main(["scene", "--out", str(tmp_path), *args]) == 0
    truth = json.loads((tmp_path / "scene.json").read_text())
    video = cv2.VideoCapture(str(tmp_path / "scene.mp4"))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == truth["frames"] == len(truth["truth"]) == 96
    assert (truth["width"], truth["height"], len(truth["people"])) == (W, H, 3)
    assert max(len(frame) for frame in truth["truth"]) >= 3
    assert main(["scene", "--out", str(tmp_path), "--people", "5", "--quiet"]) == 1
