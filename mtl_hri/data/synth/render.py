"""One clip: a random person performs one label over a background, seen by a slightly shaky camera.

Every frame comes with the exact image position and visibility of both hands, and the exact landmarks of the
figure in the front end's topology (`landmarks.py`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...model.keypoints import HAND_POINTS, LEFT_HAND, N_POINTS, RIGHT_HAND
from ..records import NONE
from .backgrounds import background
from .camera import in_frame, photometric, shake
from .config import SynthConfig
from .figure import CHAIRS, Figure, Part, chair, colour, forward_kinematics, sample_body
from .landmarks import figure_landmarks
from .motions import LABELS, Label, chair_at, clip_variant, pose_at, sample_motion
from .painter import Painter, shadow


@dataclass
class Clip:
    frames: np.ndarray  # (T, H, W, 3) uint8 RGB
    hands: np.ndarray  # (T, 2, 2) float64 pixels (x, y); [:, 0] person's left hand, [:, 1] right hand
    visible: np.ndarray  # (T, 2) bool: the hand itself is drawn at its keypoint (in frame, unoccluded)
    keypoints: np.ndarray  # (T, N_POINTS, 3): x, y pixels, present (in the frame; a hand's, if that hand is visible)
    start: int  # labelled segment: frames [start, end)
    end: int
    task: str  # "action", "gesture" or "none" (idle, `none` for both tasks)
    label: str
    skin: tuple[int, int, int]  # RGB of the skin (and so of the hands)


def _label(task: str, label: str) -> Label:
    if task == NONE and label != NONE:
        raise ValueError("idle clips have task 'none' and label 'none'")
    found = LABELS.get(label)
    if found is None or found.task != task:
        raise ValueError(f"unknown {task!r} label {label!r} (idle clips use task 'none')")
    return found


def _timing(cfg: SynthConfig, task: str, rng: np.random.Generator) -> tuple[int, int, int]:
    """Clip length and the labelled segment [start, end); an idle clip is `none` throughout."""
    n = int(rng.integers(cfg.n_frames[0], cfg.n_frames[1] + 1))
    if task == NONE:
        return n, 0, n
    length = int(rng.integers(cfg.min_segment, n + 1))
    start = int(rng.integers(0, n - length + 1))
    return n, start, start + length


def _world_box(figures: list[Figure], props: list[Part]) -> np.ndarray:
    """[[xmin, ymin], [xmax, ymax]] of everything drawn over the clip, heights."""
    parts = [p for f in figures for p in f.parts] + props
    pts = np.concatenate([p.points[:, :2] for p in parts])
    pad = np.concatenate([np.full(len(p.points), p.radius * (2.5 if p.kind == "hand" else 1.0)) for p in parts])
    return np.stack([(pts - pad[:, None]).min(0), (pts + pad[:, None]).max(0)])


def _place(box: np.ndarray, cfg: SynthConfig, height_px: float, rng: np.random.Generator
           ) -> tuple[float, tuple[float, float]]:
    """Pixels per height and the pixel of the world origin, keeping the whole motion inside the frame."""
    margin = 2.0
    (x0, y0), (x1, y1) = box
    scale = min(height_px, (cfg.width - 2 * margin) / (x1 - x0), (cfg.height - 2 * margin) / (y1 - y0))
    lo_u, lo_v = margin - scale * x0, margin + scale * y1
    span_u, span_v = cfg.width - margin - scale * x1 - lo_u, cfg.height - margin + scale * y0 - lo_v
    # max(): when the fit sets the scale the span is zero up to rounding, and may come out a hair negative
    return scale, (lo_u + max(span_u, 0.0) * rng.random(), lo_v + max(span_v, 0.0) * rng.random())


def render_clip(cfg: SynthConfig, task: str, label: str, rng: np.random.Generator) -> Clip:
    """Render one clip of `label` (task "action" or "gesture"; task "none" with label "none" for idle)."""
    spec = _label(task, label)
    n, start, end = _timing(cfg, task, rng)
    body = sample_body(rng)
    height_px = rng.uniform(0.45, 0.9) * cfg.height
    motion = clip_variant(spec, sample_motion(spec, body, rng, cfg.width / height_px), rng, cfg.seated,
                          cfg.talking_idle)
    progress = [min(max((t - start) / max(end - start - 1, 1), 0.0), 1.0) for t in range(n)]
    poses = [pose_at(spec, motion, s, t / cfg.fps) for t, s in enumerate(progress)]
    figures = [forward_kinematics(body, pose) for pose in poses]
    props = []
    seated_at = chair_at(spec, motion)
    if seated_at is not None:
        props = chair(body, pose_at(spec, motion, seated_at, 0.0), colour(CHAIRS, rng))
    scale, origin = _place(_world_box(figures, props), cfg, height_px, rng)
    scene = background(cfg.background, cfg.backgrounds_dir, cfg.width, cfg.height, rng)
    frames = np.empty((n, cfg.height, cfg.width, 3), np.uint8)
    hands = np.empty((n, 2, 2))
    visible = np.empty((n, 2), bool)
    keypoints = np.empty((n, N_POINTS, 3))
    for t, (fig, pose) in enumerate(zip(figures, poses)):
        frame = scene.copy()
        painter = Painter(frame, scale, origin)
        if cfg.background != "plain":  # the shadow belongs to the scene; a plain background stays flat
            shadow(frame, painter.project(fig.ground[None])[0], 0.32 * scale / (1 + 4 * fig.lift))
        for part in sorted(fig.parts + props, key=lambda p: p.depth):
            painter.draw(part)
        hands[t] = painter.project(fig.hands)
        visible[t] = painter.visible(hands[t], body.hand * scale)
        keypoints[t, :, :2] = painter.project(figure_landmarks(body, fig, pose.hands))
        keypoints[t, :, 2] = 1.0
        for side, base in enumerate((LEFT_HAND, RIGHT_HAND)):
            keypoints[t, base:base + HAND_POINTS, 2] = float(visible[t, side])
        frames[t] = frame
    if cfg.shake:
        shake(frames, hands, visible, cfg.fps, rng, keypoints)
    keypoints[..., 2] *= in_frame(keypoints[..., :2], cfg.width, cfg.height)
    if cfg.photometric:
        photometric(frames, rng)
    return Clip(frames, hands, visible, keypoints, start, end, task, label, body.skin)
