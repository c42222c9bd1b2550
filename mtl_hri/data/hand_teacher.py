"""Hand labels from a teacher: MediaPipe Hands run over videos in its own environment.

A pretrained hand detector as teacher is how Kapidis et al., "Multitask Learning to Improve Egocentric Action
Recognition" (ICCV Workshops 2019) made their hand labels.

MediaPipe 0.10.21 pins numpy<2, so it runs in a separate interpreter (`.venv-mediapipe`, made by
`make mediapipe`) as a worker process (`mediapipe_hands.py`) that streams JSON lines; this side turns
them into hand tracks in the generic hand-CSV format: the person's left hand first.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WORKER = Path(__file__).with_name("mediapipe_hands.py")
PYTHON_ENV = "MTL_HRI_MEDIAPIPE_PYTHON"
DEFAULT_VENV = Path(".venv-mediapipe")


@dataclass(frozen=True)
class Detection:
    label: str  # MediaPipe's handedness, "Left" or "Right", as if the image were mirrored
    score: float
    x: float  # palm centre, pixels
    y: float


def assign_sides(hands: Sequence[Detection], mirrored: bool) -> tuple[np.ndarray, np.ndarray]:
    """(2, 2) xy and (2,) visible of the person's left and right hand.

    MediaPipe labels handedness as if the image were mirrored (a selfie view); in an ordinary camera's
    view its "Right" is the person's left hand. Two hands with the same label: the more confident one
    keeps it and the other takes the free side; more than two: the two most confident.
    """
    xy, visible = np.zeros((2, 2), np.float32), np.zeros(2, bool)
    for hand in sorted(hands, key=lambda h: -h.score):
        side = 0 if (hand.label == "Left") == mirrored else 1
        if visible[side]:
            side = 1 - side
        if visible[side]:
            break
        xy[side], visible[side] = (hand.x, hand.y), True
    return xy, visible


@dataclass
class TeacherTrack:
    video: Path
    xy: np.ndarray  # (T, 2, 2) pixels, person's left hand first
    visible: np.ndarray  # (T, 2)
    error: str = ""  # the video could not be read: no track


def find_python(explicit: str | None = None) -> str:
    """Find the MediaPipe environment's interpreter: explicit, $MTL_HRI_MEDIAPIPE_PYTHON, or .venv-mediapipe."""
    python = explicit or os.environ.get(PYTHON_ENV) or str(DEFAULT_VENV / "bin" / "python")
    if not Path(python).is_file():
        raise FileNotFoundError(
            f"no MediaPipe environment at {python}: run `make mediapipe` (or `python3.11 -m venv .venv-mediapipe && "
            ".venv-mediapipe/bin/pip install --no-deps -r requirements-mediapipe.txt`), or pass --python / set "
            f"{PYTHON_ENV}")
    return python


def run_teacher(videos: Sequence[Path], python: str, min_confidence: float = 0.5, mirrored: bool = False,
                on_frame=None) -> Iterator[TeacherTrack]:
    """Yield the tracks of `videos` in order, as the worker finishes each; `on_frame()` is called once per frame.

    An unreadable video gives a track with `error` set, and the others go on.
    """
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen([python, str(WORKER), "--min-confidence", str(min_confidence), *map(str, videos)],
                                stdout=subprocess.PIPE, stderr=log, text=True)
        frames: list[tuple[np.ndarray, np.ndarray]] = []
        try:
            for line in proc.stdout:
                msg = json.loads(line)
                video = Path(videos[msg["video"]])
                if "error" in msg:
                    yield TeacherTrack(video, np.zeros((0, 2, 2), np.float32), np.zeros((0, 2), bool), msg["error"])
                    continue
                if "frames" in msg:
                    xy = np.stack([f[0] for f in frames]) if frames else np.zeros((0, 2, 2), np.float32)
                    visible = np.stack([f[1] for f in frames]) if frames else np.zeros((0, 2), bool)
                    frames = []
                    yield TeacherTrack(video, xy, visible)
                    continue
                frames.append(assign_sides([Detection(*hand) for hand in msg["hands"]], mirrored))
                if on_frame:
                    on_frame()
        finally:
            proc.stdout.close()
            if proc.poll() is None:
                proc.kill()
            code = proc.wait()
        if code != 0:
            log.seek(0)
            raise RuntimeError(f"MediaPipe worker exited with {code}:\n{log.read()[-3000:]}")
