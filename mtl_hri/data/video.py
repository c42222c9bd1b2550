"""Decode only the frames a clip needs, as RGB uint8: PyAV when installed, else OpenCV.

Frame i is the i-th frame in presentation order. After a seek, both backends locate frames by
timestamp, which is exact for the constant-frame-rate videos of the datasets here; a backend that
cannot trust its seek decodes from the start and counts instead.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import cv2
import numpy as np

BACKENDS = ("auto", "pyav", "opencv")


class VideoError(RuntimeError):
    """A video that cannot be opened or decoded."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)


class ShortVideoError(VideoError):
    """The video ended before a requested frame: only frames [0, available) can be decoded.

    Container headers may overstate the frame count; a caller can resample within `available`.
    """

    def __init__(self, path: Path | str, wanted: int, available: int) -> None:
        super().__init__(path, f"frame {wanted} requested, the video ends after {available} frames")
        self.available = available


@dataclass(frozen=True)
class VideoInfo:
    fps: float  # 0 when the container does not say
    frame_count: int  # from the container; may overstate what decodes (see ShortVideoError)
    width: int
    height: int


class VideoReader(Protocol):
    info: VideoInfo

    def read(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Frames at `indices` (any order, repeats allowed) -> (n, H, W, 3) uint8 RGB in that order."""
        ...

    def close(self) -> None: ...


def _plan(path: Path, indices: Sequence[int] | np.ndarray) -> tuple[np.ndarray, set[int]]:
    want = np.asarray(indices, dtype=np.int64).reshape(-1)
    if want.size == 0:
        raise ValueError("no frames requested")
    if want.min() < 0:
        raise VideoError(path, f"negative frame index {int(want.min())}")
    return want, {int(i) for i in want}


def _gather(path: Path, want: np.ndarray, got: dict[int, np.ndarray], seen: int) -> np.ndarray:
    """Frames in the requested order; a missing one means the video ended after `seen` frames."""
    missing = [int(i) for i in want if int(i) not in got]
    if missing:
        raise ShortVideoError(path, min(missing), seen)
    return np.stack([got[int(i)] for i in want])


class PyAVReader:
    def __init__(self, path: Path) -> None:
        import av
        import av.logging

        av.logging.set_level(av.logging.PANIC)  # a broken file is reported as VideoError, not by libav on stderr
        self._av = av
        self.path = path
        self._container = self._open()
        stream = self._container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 0.0
        count = stream.frames
        if not count and fps:  # e.g. Matroska keeps no frame count: estimate it from the duration
            if stream.duration:
                seconds = float(stream.duration * stream.time_base)
            else:
                seconds = (self._container.duration or 0) / 1e6  # AV_TIME_BASE units
            count = round(seconds * fps)
        self.info = VideoInfo(fps, int(count), stream.codec_context.width, stream.codec_context.height)
        self._time_base = stream.time_base
        self._start = stream.start_time or 0
        self._fresh = True  # nothing decoded since opening

    def _open(self):
        try:
            container = self._av.open(str(self.path))
        except (self._av.FFmpegError, OSError) as exc:
            raise VideoError(self.path, f"cannot open: {exc}") from exc
        if not container.streams.video:
            container.close()
            raise VideoError(self.path, "no video stream")
        container.streams.video[0].thread_type = "AUTO"
        return container

    def _index(self, pts: int) -> int:
        return round(float((pts - self._start) * self._time_base) * self.info.fps)

    def _seek_frames(self, first: int):
        """(index, frame) from a keyframe at or before `first`, or None when the seek cannot be trusted."""
        if self._time_base is None or self.info.fps <= 0:
            return None
        self._fresh = False
        stream = self._container.streams.video[0]
        target = self._start + int(first / self.info.fps / self._time_base)
        self._container.seek(target, stream=stream, backward=True, any_frame=False)
        frames = self._container.decode(stream)
        head = next(frames, None)
        if head is None or head.pts is None or self._index(head.pts) > first:
            return None

        def indexed():
            yield self._index(head.pts), head
            for frame in frames:
                if frame.pts is None:
                    raise VideoError(self.path, "a frame without a timestamp after seeking")
                yield self._index(frame.pts), frame

        return indexed()

    def _counted_frames(self):
        if not self._fresh:
            self._container.close()
            self._container = self._open()
        self._fresh = False
        return enumerate(self._container.decode(self._container.streams.video[0]))

    def read(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        want, needed = _plan(self.path, indices)
        first, last = int(want.min()), int(want.max())
        got: dict[int, np.ndarray] = {}
        seen = 0
        try:
            frames = (self._seek_frames(first) if first > 0 else None) or self._counted_frames()
            for index, frame in frames:
                seen = index + 1
                if index in needed:
                    got[index] = frame.to_ndarray(format="rgb24")
                if index >= last:
                    break
        except self._av.FFmpegError as exc:
            raise VideoError(self.path, f"decoding failed: {exc}") from exc
        return _gather(self.path, want, got, seen)

    def close(self) -> None:
        self._container.close()


class OpenCVReader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._cap = self._open()
        c = self._cap
        self.info = VideoInfo(
            float(c.get(cv2.CAP_PROP_FPS)), int(c.get(cv2.CAP_PROP_FRAME_COUNT)),
            int(c.get(cv2.CAP_PROP_FRAME_WIDTH)), int(c.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )

    def _open(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        if not cap.isOpened():
            raise VideoError(self.path, "cannot open")
        return cap

    def _position_at(self, first: int) -> None:
        """Seek to `first`; if the backend reports another position, reopen and skip frames instead."""
        if first > 0 and self._cap.set(cv2.CAP_PROP_POS_FRAMES, first):
            if int(self._cap.get(cv2.CAP_PROP_POS_FRAMES)) == first:
                return
        if int(self._cap.get(cv2.CAP_PROP_POS_FRAMES)) != 0:
            self._cap.release()
            self._cap = self._open()
        for skipped in range(first):
            if not self._cap.grab():
                raise ShortVideoError(self.path, first, skipped)

    def read(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        want, needed = _plan(self.path, indices)
        first, last = int(want.min()), int(want.max())
        self._position_at(first)
        got: dict[int, np.ndarray] = {}
        seen = first
        for index in range(first, last + 1):
            if index in needed:
                ok, bgr = self._cap.read()
                if ok:
                    got[index] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            else:
                ok = self._cap.grab()
            if not ok:
                break
            seen = index + 1
        return _gather(self.path, want, got, seen)

    def close(self) -> None:
        self._cap.release()


def default_backend() -> str:
    return "pyav" if importlib.util.find_spec("av") is not None else "opencv"


def open_video(path: Path | str, backend: str = "auto") -> VideoReader:
    """Open a reader for `path`; close it (or use `read_clip`). Raises VideoError if it cannot be opened."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    path = Path(path)
    if not path.is_file():
        raise VideoError(path, "no such file")
    backend = default_backend() if backend == "auto" else backend
    reader: VideoReader = PyAVReader(path) if backend == "pyav" else OpenCVReader(path)
    if reader.info.width <= 0 or reader.info.height <= 0:
        reader.close()
        raise VideoError(path, "no frame size (corrupt header?)")
    return reader


def read_clip(
    path: Path | str, indices: Sequence[int] | np.ndarray, backend: str = "auto"
) -> tuple[np.ndarray, VideoInfo]:
    """Frames at `indices` -> ((n, H, W, 3) uint8 RGB, the video's info)."""
    reader = open_video(path, backend)
    try:
        return reader.read(indices), reader.info
    finally:
        reader.close()
