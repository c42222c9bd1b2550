"""The one MP4 writer: RGB frames -> MPEG-4 Part 2 (OpenCV's mp4v), constant frame rate.

Frame i of what it writes is frame i for `mtl_hri.data.video` (both backends, after seeks), which the
training clips and the demo's per-frame truth rely on.
"""
from __future__ import annotations

from pathlib import Path
from types import TracebackType

import cv2
import numpy as np


class Mp4Writer:
    """Appends RGB uint8 frames of one size to an MP4; use as a context manager (or call close)."""

    def __init__(self, path: Path | str, fps: float, width: int, height: int) -> None:
        self.path, self.size = Path(path), (width, height)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), fps, self.size)
        if not self._writer.isOpened():
            raise RuntimeError(f"cannot open an mp4v writer for {self.path}")

    def write(self, frame: np.ndarray) -> None:
        """One (height, width, 3) uint8 RGB frame (OpenCV would drop a frame of another size silently)."""
        if frame.shape != (self.size[1], self.size[0], 3) or frame.dtype != np.uint8:
            raise ValueError(f"{self.path}: frame {frame.shape} {frame.dtype}, expected "
                             f"({self.size[1]}, {self.size[0]}, 3) uint8")
        self._writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))

    def close(self) -> None:
        self._writer.release()

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def write_video(path: Path | str, frames: np.ndarray, fps: float) -> None:
    """(T, H, W, 3) uint8 RGB frames -> an MP4 at `path`."""
    with Mp4Writer(path, fps, frames.shape[2], frames.shape[1]) as writer:
        for frame in frames:
            writer.write(frame)
