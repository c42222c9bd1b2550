"""The one MP4 writer: what it writes decodes frame-exact with mtl_hri.data.video (both backends, after seeks).

It refuses frames OpenCV would drop, and a synthetic sequence's truth indexes its frames.
"""
from __future__ import annotations

import numpy as np
import pytest

from mtl_hri.data import video
from mtl_hri.data.synth import Mp4Writer, SynthConfig, render_clip, write_sequence, write_video
from mtl_hri.data.video import ShortVideoError, read_clip
from test.test_data import coded_frames, frame_ids

NO_PYAV = pytest.mark.skipif(video.default_backend() != "pyav", reason="PyAV not installed")
BACKENDS = ["opencv", pytest.param("pyav", marks=NO_PYAV)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_frames_read_back_exactly(tmp_path, backend):
    path = tmp_path / "deep" / "coded.mp4"  # the writer makes the folders
    write_video(path, coded_frames(60), fps=15.0)
    for indices in ([0, 1, 2], [13, 13, 20], [59], [40, 12, 50], list(range(30, 46))):
        frames, info = read_clip(path, indices, backend)
        assert frame_ids(frames).tolist() == indices
    assert (info.fps, info.frame_count, info.width, info.height) == (pytest.approx(15.0), 60, 64, 48)


def test_writer_refuses_frames_it_cannot_write(tmp_path):
    with Mp4Writer(tmp_path / "a.mp4", 15.0, 64, 48) as writer:
        writer.write(np.zeros((48, 64, 3), np.uint8))
        with pytest.raises(ValueError):
            writer.write(np.zeros((48, 63, 3), np.uint8))
        with pytest.raises(ValueError):
            writer.write(np.zeros((48, 64, 3), np.float32))


def _mae(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b).mean())


def test_sequence_truth_indexes_its_frames(tmp_path):
    cfg = SynthConfig(width=96, height=72, n_frames=(24, 30), background="plain", photometric=False, seed=3)
    order = [("gesture", "wave"), ("none", "none"), ("action", "jump")]
    truths = write_sequence(tmp_path / "seq.mp4", order, cfg)
    clips = [render_clip(cfg, task, label, np.random.default_rng([cfg.seed, i]))  # as write_sequence renders them
             for i, (task, label) in enumerate(order)]
    starts = np.cumsum([0] + [len(c.frames) for c in clips])
    assert [(t.task, t.label, t.start, t.end) for t in truths] == [
        (c.task, c.label, start + c.start, start + c.end) for c, start in zip(clips, starts)]
    rendered = np.concatenate([c.frames for c in clips])
    decoded, _ = read_clip(tmp_path / "seq.mp4", range(len(rendered)))
    with pytest.raises(ShortVideoError):
        read_clip(tmp_path / "seq.mp4", [len(rendered)])
    # Lossy, but frame t is rendered frame t: one frame off in either direction matches worse.
    aligned = _mae(decoded, rendered)
    assert aligned < 3 and aligned < min(_mae(decoded[1:], rendered[:-1]), _mae(decoded[:-1], rendered[1:])) - 0.4
