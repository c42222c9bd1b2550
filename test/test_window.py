import numpy as np
import pytest

from mtl_hri.stream.window import FrameWindow, Push


def frame(value: int) -> np.ndarray:
    return np.full((4, 4, 3), value, np.uint8)


def feed(window: FrameWindow, stamps) -> list[tuple[Push, bool]]:
    return [window.push(t, frame(i % 256), i) for i, t in enumerate(stamps)]


@pytest.mark.parametrize("camera_fps, expected_per_s", [(30, 15), (60, 15), (25, 15), (15, 15), (10, 10)])
def test_sampling_follows_stamps_not_camera_rate(camera_fps, expected_per_s):
    w = FrameWindow(16, (4, 4, 3), sample_fps=15, max_frame_gap=1.0)
    stamps = 100.0 + np.arange(camera_fps * 4) / camera_fps  # 4 s of video
    out = feed(w, stamps)
    sampled = [t for t, (kind, _) in zip(stamps, out) if kind is Push.SAMPLED]
    assert len(sampled) == pytest.approx(expected_per_s * 4, abs=1)
    assert np.all(np.diff(sampled) >= 1 / 15 - 1 / camera_fps - 1e-9)  # never two samples within one sample period


def test_sampling_tolerates_jitter():
    rng = np.random.default_rng(0)
    stamps = np.arange(120) / 30 + rng.uniform(-0.004, 0.004, 120)
    w = FrameWindow(16, (4, 4, 3), sample_fps=15)
    out = feed(w, np.sort(stamps))
    assert sum(kind is Push.SAMPLED for kind, _ in out) == pytest.approx(60, abs=2)


def test_every_frame_when_sample_fps_zero_and_stride():
    w = FrameWindow(4, (4, 4, 3), sample_fps=0, stride=2)
    out = feed(w, np.arange(10) * 0.01)
    assert all(kind is Push.SAMPLED for kind, _ in out)
    # full at the 4th frame, then due every 2nd sampled frame
    assert [due for _, due in out] == [False, False, False, True, False, True, False, True, False, True]
    assert w.decisions_due == 4


def test_snapshot_is_chronological_copy():
    w = FrameWindow(3, (4, 4, 3), sample_fps=0)
    feed(w, [0.0, 0.1, 0.2, 0.3, 0.4])
    snap = w.snapshot()
    assert snap.stamps.tolist() == pytest.approx([0.2, 0.3, 0.4])
    assert [int(f[0, 0, 0]) for f in snap.frames] == [2, 3, 4]
    assert snap.metas == [2, 3, 4]
    snap.frames[:] = 0
    assert w.snapshot().frames[-1, 0, 0, 0] == 4


def test_backwards_and_repeated_stamps_are_rejected_and_counted():
    w = FrameWindow(4, (4, 4, 3), sample_fps=0)
    feed(w, [1.0, 1.1])
    assert w.push(1.05, frame(9))[0] is Push.BACKWARDS
    assert w.push(1.1, frame(9))[0] is Push.BACKWARDS
    assert w.rejected_backwards == 2
    assert w.count == 2
    assert w.push(1.2, frame(9))[0] is Push.SAMPLED


def test_gap_resets_window_and_restarts_grid():
    w = FrameWindow(4, (4, 4, 3), sample_fps=10, max_frame_gap=0.5)
    feed(w, [0.0, 0.1, 0.2, 0.3])
    assert w.full
    assert not w.check_gap(0.7)  # 0.4 s gap: fine
    w.push(0.7, frame(1))
    assert w.check_gap(1.3)  # 0.6 s gap: reset
    assert w.count == 0 and w.resets == 1
    kind, due = w.push(1.3, frame(2))
    assert kind is Push.SAMPLED and not due and w.count == 1
    assert w.snapshot().stamps.tolist() == [1.3]
