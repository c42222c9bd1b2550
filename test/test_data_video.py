"""Video decoding: exactly the requested frames (after seeks into later GOPs), with both backends; clear errors."""
from __future__ import annotations

import numpy as np
import pytest

from mtl_hri.data import video
from mtl_hri.data.video import ShortVideoError, VideoError, open_video, read_clip
from test.test_data import frame_ids, write_coded

BACKENDS = ["opencv", pytest.param("pyav", marks=pytest.mark.skipif(video.default_backend() != "pyav",
                                                                     reason="PyAV not installed"))]
# OpenCV writes a keyframe every 12 frames for these codecs (MJPG: every frame; FFV1 is lossless)
FORMATS = [("mp4", "mp4v"), ("avi", "XVID"), ("avi", "MJPG"), ("mkv", "FFV1")]
REQUESTS = [[0, 1, 2], [13, 13, 20], [25, 27, 29, 31], [59], [40, 12, 50], list(range(30, 46))]


@pytest.fixture(scope="module", params=FORMATS, ids=lambda f: f"{f[1]}.{f[0]}")
def coded(request, tmp_path_factory):
    ext, fourcc = request.param
    return write_coded(tmp_path_factory.mktemp("video") / f"coded.{ext}", 60, fourcc, fps=25.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_reads_exactly_the_requested_frames(coded, backend):
    reader = open_video(coded, backend)
    try:
        assert reader.info.fps == pytest.approx(25.0) and reader.info.frame_count == 60
        assert (reader.info.width, reader.info.height) == (64, 48)
        for indices in REQUESTS:  # one reader: later reads seek backwards as well as forwards
            frames = reader.read(indices)
            assert frames.dtype == np.uint8 and frames.shape == (len(indices), 48, 64, 3)
            assert frame_ids(frames).tolist() == indices
    finally:
        reader.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_decodes_from_near_the_first_needed_frame(coded, backend, monkeypatch):
    """A late clip is reached by seeking, not by decoding the video from its start."""
    if backend == "opencv":
        import cv2

        grabs = []
        real = cv2.VideoCapture

        class Counting:
            def __init__(self, *args):
                self._cap = real(*args)

            def __getattr__(self, name):
                return getattr(self._cap, name)

            def grab(self):
                grabs.append(1)
                return self._cap.grab()

        monkeypatch.setattr(video.cv2, "VideoCapture", Counting)
        frames, _ = read_clip(coded, [48, 50], backend)
        assert len(grabs) == 1  # frame 49 only
    else:
        monkeypatch.setattr(video.PyAVReader, "_counted_frames", lambda self: pytest.fail("decoded from the start"))
        frames, _ = read_clip(coded, [48, 50], backend)
    assert frame_ids(frames).tolist() == [48, 50]


@pytest.mark.parametrize("backend", BACKENDS)
def test_errors_are_clear(tmp_path, backend):
    short = write_coded(tmp_path / "short.avi", 10)
    with pytest.raises(ShortVideoError) as info:
        read_clip(short, [8, 9, 10, 11], backend)
    assert info.value.available == 10 and "ends after 10 frames" in str(info.value)
    (tmp_path / "corrupt.avi").write_bytes(b"RIFF" + bytes(range(256)) * 8)
    with pytest.raises(VideoError, match="corrupt.avi"):
        read_clip(tmp_path / "corrupt.avi", [0], backend)
    with pytest.raises(VideoError, match="no such file"):
        read_clip(tmp_path / "missing.avi", [0], backend)
    with pytest.raises(VideoError, match="negative"):
        read_clip(short, [-1], backend)
