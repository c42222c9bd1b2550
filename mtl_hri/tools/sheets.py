"""Contact sheets of clips with their hand keypoints drawn, to check labels by eye (PNG in the tools).

Red = the person's left hand, blue = the right; a ring and a dot where visible, a cross where not; the
frame's border is green inside the labelled segment and grey outside.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..data.generic import HandCSV

LEFT_RGB, RIGHT_RGB = (255, 0, 0), (0, 80, 255)
LABEL_WIDTH = 120  # pixels of the text column


@dataclass
class SheetRow:
    lines: list[str]  # text beside the frames
    video: Path
    hands: Path  # a hand CSV (generic format)
    start: int = 0  # labelled segment [start, end); end -1: to the last frame
    end: int = -1


def read_video(path: Path) -> np.ndarray:
    """Every frame, RGB."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    cap.release()
    if not frames:
        raise RuntimeError(f"cannot read {path}")
    return np.stack(frames)


def thumbnail(frame: np.ndarray, xy: np.ndarray, visible: np.ndarray, inside: bool, width: int) -> np.ndarray:
    """`frame` scaled to `width` with both keypoints ((2, 2) pixels, (2,) visible) and the segment border."""
    scale = width / frame.shape[1]
    thumb = cv2.resize(frame, (width, int(round(frame.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    for (x, y), vis, colour in zip(xy, visible, (LEFT_RGB, RIGHT_RGB)):
        centre = (int(round(x * scale)), int(round(y * scale)))
        if vis:  # a ring keeps the hand itself visible
            cv2.circle(thumb, centre, 6, colour, 1, cv2.LINE_AA)
            cv2.circle(thumb, centre, 1, colour, -1, cv2.LINE_AA)
        else:
            cv2.drawMarker(thumb, centre, colour, cv2.MARKER_TILTED_CROSS, 8, 1, cv2.LINE_AA)
    border = (0, 200, 0) if inside else (150, 150, 150)
    return cv2.copyMakeBorder(thumb[2:-2, 2:-2], 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=border)


def keypoint_sheet(rows: list[SheetRow], frames_per_clip: int = 8, width: int = 192) -> np.ndarray:
    """RGB image, one line per row: its text, then `frames_per_clip` frames spread over the clip."""
    lines = []
    for row in rows:
        video, track = read_video(row.video), HandCSV(row.hands).load()
        end = len(video) if row.end < 0 else row.end
        picks = np.linspace(0, len(video) - 1, frames_per_clip).round().astype(int)
        thumbs = []
        for t in picks:
            k = t - track.first_frame
            known = 0 <= k < len(track.xy)
            xy, vis = (track.xy[k], track.visible[k]) if known else (np.zeros((2, 2)), np.zeros(2, bool))
            thumbs.append(thumbnail(video[t], xy, vis, row.start <= t < end, width))
        text = np.full((thumbs[0].shape[0], LABEL_WIDTH, 3), 255, np.uint8)
        for k, line in enumerate([*row.lines, f"[{row.start},{end}) of {len(video)}"]):
            cv2.putText(text, line, (4, 20 + 18 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        lines.append(np.hstack([text, *thumbs]))
    width_max = max(line.shape[1] for line in lines)
    return np.vstack([cv2.copyMakeBorder(line, 0, 0, 0, width_max - line.shape[1], cv2.BORDER_CONSTANT,
                                         value=(255, 255, 255)) for line in lines])
