"""`mtl-hri-synth`: generate a labelled synthetic HRI dataset (clips, hand keypoints, manifest).

Writes OUT/clips/<split>/<id>.mp4, OUT/hands/<id>.csv, OUT/manifest.csv and OUT/labels.json; with
--preview, also a PNG contact sheet (one row per class, keypoints drawn: red = left hand, blue = right)
made from the files as written, to check labels and keypoints by eye.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import cv2
import numpy as np

from ..data.synth import BACKGROUND_MODES, SPLITS, SynthConfig, generate
from .sheets import SheetRow, keypoint_sheet


def contact_sheet(out_dir: Path, frames_per_clip: int = 8, width: int = 192) -> np.ndarray:
    """RGB image: for the first clip of each class, `frames_per_clip` frames spread over the clip."""
    with open(out_dir / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    firsts: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows:
        firsts.setdefault((row["task"], row["label"]), row)
    return keypoint_sheet([SheetRow([task, label], out_dir / row["path"], out_dir / row["hands"], int(row["start"]),
                                    int(row["end"])) for (task, label), row in firsts.items()], frames_per_clip, width)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="dataset directory to write")
    parser.add_argument("--clips-per-class", type=int, default=10, help="clips per non-idle label of each task")
    parser.add_argument("--idle-clips", type=int, help="idle (`none`) clips (default: --clips-per-class)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=float, default=15.0)
    parser.add_argument("--frames", type=int, nargs=2, default=(32, 48), metavar=("MIN", "MAX"),
                        help="clip length range in frames")
    parser.add_argument("--splits", type=float, nargs=3, default=(0.8, 0.1, 0.1), metavar=("TRAIN", "VAL", "TEST"))
    parser.add_argument("--backgrounds", type=Path, help="directory of background photos (default: opencv-doc's)")
    parser.add_argument("--background", choices=BACKGROUND_MODES, default="photo",
                        help="photo (procedural if no photos can be had), procedural, or plain")
    parser.add_argument("--preview", type=Path, help="also write a PNG contact sheet here")
    parser.add_argument("--only", nargs="+", choices=SPLITS, default=SPLITS,
                        help="write only these splits (the same clips as in the whole set)")
    parser.add_argument("--workers", type=int, default=1, help="render in this many processes (same output)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        cfg = SynthConfig(
            width=args.width, height=args.height, fps=args.fps, n_frames=tuple(args.frames),
            clips_per_class=args.clips_per_class,
            idle_clips=args.clips_per_class if args.idle_clips is None else args.idle_clips,
            splits=tuple(args.splits), seed=args.seed, background=args.background, backgrounds_dir=args.backgrounds,
        )
        out = generate(cfg, args.out, progress=not args.quiet, workers=args.workers, only=args.only)
        if args.preview:
            args.preview.parent.mkdir(parents=True, exist_ok=True)
            if not cv2.imwrite(str(args.preview), cv2.cvtColor(contact_sheet(out), cv2.COLOR_RGB2BGR)):
                raise RuntimeError(f"cannot write {args.preview}")
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
