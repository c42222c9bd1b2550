"""SynthConfig: the frame format, clip lengths, dataset size and splits, and which effects are on."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .backgrounds import BACKGROUND_MODES


@dataclass
class SynthConfig:
    width: int = 320
    height: int = 240
    fps: float = 15.0
    n_frames: tuple[int, int] = (32, 48)  # inclusive range of clip lengths
    min_segment: int = 24  # shortest labelled segment, frames
    clips_per_class: int = 10
    idle_clips: int = 10  # `none` clips, shared by both tasks
    splits: tuple[float, float, float] = (0.8, 0.1, 0.1)  # train, val, test
    seed: int = 0
    background: str = "photo"  # "photo", "procedural" or "plain" (flat PLAIN_RGB, for exact checks)
    backgrounds_dir: Path | None = None  # photos to use; None: opencv-doc's, procedural if unavailable
    shake: bool = True  # per-frame camera jitter (geometric: the keypoints follow it)
    photometric: bool = True  # lighting drift, blur, noise
    seated: float = 0.0  # share of the `none` and gesture clips sitting on a chair (motions.clip_variant)
    talking_idle: float = 0.0  # share of the `none` clips moving the hands as a talker does

    def __post_init__(self) -> None:
        lo, hi = self.n_frames
        if not self.min_segment <= lo <= hi:
            raise ValueError(f"need min_segment <= n_frames[0] <= n_frames[1], got {self.min_segment}, {self.n_frames}")
        if self.background not in BACKGROUND_MODES:
            raise ValueError(f"background must be one of {BACKGROUND_MODES}, got {self.background!r}")
        if len(self.splits) != 3 or min(self.splits) < 0 or sum(self.splits) <= 0:
            raise ValueError(f"splits must be three non-negative ratios, got {self.splits}")
        if not (0 <= self.seated <= 1 and 0 <= self.talking_idle <= 1):
            raise ValueError(f"seated and talking_idle are shares in [0, 1], got {self.seated}, "
                             f"{self.talking_idle}")
        if self.width < 32 or self.height < 32:
            raise ValueError("frames must be at least 32x32")
