"""A camera's view of one person doing one thing after another: clips rendered back to back into one MP4.

It comes with the truth of every labelled segment (what `mtl-hri-demo --synthetic` plays and scores).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from .config import SynthConfig
from .mp4 import Mp4Writer
from .render import render_clip


@dataclass
class SequenceClip:
    task: str
    label: str
    start: int  # the labelled segment, in frames of the whole sequence
    end: int


def write_sequence(path: Path, order: Sequence[tuple[str, str]], cfg: SynthConfig) -> list[SequenceClip]:
    """Render the (task, label) clips of `order` back to back into one MP4, clip i with RNG [cfg.seed, i]."""
    truths, offset = [], 0
    with Mp4Writer(path, cfg.fps, cfg.width, cfg.height) as writer:
        for i, (task, label) in enumerate(order):
            clip = render_clip(cfg, task, label, np.random.default_rng([cfg.seed, i]))
            for frame in clip.frames:
                writer.write(frame)
            truths.append(SequenceClip(task, label, offset + clip.start, offset + clip.end))
            offset += len(clip.frames)
    return truths
