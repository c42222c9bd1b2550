"""The data set on disk: a plan of every clip (label, split, seed), rendered by one or more processes.

They write clips/<split>/*.mp4, hands/*.csv, manifest.csv and labels.json (the format of `mtl_hri.data.generic`).
"""
from __future__ import annotations

import csv
import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from ..generic import write_hand_csv, write_keypoints
from ..records import NONE, TASKS
from .config import SynthConfig
from .motions import HRI_LABELS
from .mp4 import write_video
from .render import render_clip

SPLITS = ("train", "val", "test")
MANIFEST_COLUMNS = ["path", "task", "label", "start", "end", "split", "hands", "keypoints"]


@dataclass(frozen=True)
class PlannedClip:
    index: int  # seeds the clip's generator: np.random.default_rng([seed, index])
    clip_id: str
    task: str
    label: str
    split: str


def plan(cfg: SynthConfig) -> list[PlannedClip]:
    """Plan every clip of the dataset: `clips_per_class` per non-idle label of each task, then the idle clips.

    Each class is split train/val/test by the ratios (stratified, so every split keeps the balance).
    """
    classes = [(task, label, cfg.clips_per_class) for task in TASKS for label in HRI_LABELS[task][1:]]
    classes.append((NONE, NONE, cfg.idle_clips))
    ratios = np.asarray(cfg.splits, float)
    out: list[PlannedClip] = []
    for task, label, count in classes:
        cuts = np.round(np.cumsum(ratios) / ratios.sum() * count).astype(int)
        for k in range(count):
            split = SPLITS[int(np.searchsorted(cuts, k, side="right"))]
            out.append(PlannedClip(len(out), f"{label}_{k:04d}", task, label, split))
    return out


def _write_clip(cfg: SynthConfig, out_dir: Path, item: PlannedClip) -> list:
    """Render and write one planned clip, and return its manifest row.

    Each clip has its own RNG stream, so the output does not depend on the order or the process that renders it.
    """
    clip = render_clip(cfg, item.task, item.label, np.random.default_rng([cfg.seed, item.index]))
    video = Path("clips") / item.split / f"{item.clip_id}.mp4"
    hands = Path("hands") / f"{item.clip_id}.csv"
    write_video(out_dir / video, clip.frames, cfg.fps)
    keypoints = Path("keypoints") / f"{item.clip_id}.npy"
    write_hand_csv(out_dir / hands, clip.hands, clip.visible)
    write_keypoints(out_dir / keypoints, clip.keypoints)
    return [video.as_posix(), item.task, item.label, clip.start, clip.end, item.split, hands.as_posix(),
            keypoints.as_posix()]


def generate(cfg: SynthConfig, out_dir: Path, progress: bool = True, workers: int = 1,
             only: Sequence[str] = SPLITS) -> Path:
    """Write the dataset (clips/<split>/*.mp4, hands/*.csv, manifest.csv, labels.json) to `out_dir`; return it.

    `workers` > 1 renders in that many processes; the files are the same as with one. `only` writes just
    those splits, clip for clip the same as in the whole set (to evaluate on a held-out split elsewhere).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    items = [item for item in plan(cfg) if item.split in only]
    write = partial(_write_clip, cfg, out_dir)
    bar = partial(tqdm, total=len(items), desc="mtl-hri-synth", unit="clip", disable=not progress)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            rows = list(bar(pool.map(write, items, chunksize=4)))
    else:
        rows = list(bar(map(write, items)))
    with open(out_dir / "manifest.csv", "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(MANIFEST_COLUMNS)
        out.writerows(rows)
    (out_dir / "labels.json").write_text(json.dumps(HRI_LABELS, indent=2) + "\n")
    return out_dir
