"""`mtl-hri-synth`: generate a labelled synthetic HRI dataset (clips, hand keypoints, manifest).

Writes OUT/clips/<split>/<id>.mp4, OUT/hands/<id>.csv, OUT/manifest.csv and OUT/labels.json; with
--preview, also a PNG contact sheet (one row per class, keypoints drawn: red = left hand, blue = right)
made from the files as written, to check labels and keypoints by eye.

`mtl-hri-synth scene --out DIR` instead renders one multi-person scene (people walking in, crossing, occluding each
other, performing, leaving) for person detection and tracking: DIR/scene.mp4 and DIR/scene.json, the exact boxes,
visibility, labels and hand points of every person in every frame (`mtl_hri.data.synth.scene`).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from ..data.synth import BACKGROUND_MODES, SPLITS, Mp4Writer, SynthConfig, generate
from ..data.synth.scene import SceneConfig, render_scene
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


def scene_main(argv: list[str]) -> int:
    """`mtl-hri-synth scene`: write one multi-person scene, OUT/scene.mp4 and its truth, OUT/scene.json."""
    d = SceneConfig()
    parser = argparse.ArgumentParser(prog="mtl-hri-synth scene",
                                     description="Write one multi-person scene (people cross and occlude each other) "
                                                 "and its per-frame truth.")
    parser.add_argument("--out", type=Path, required=True, help="directory to write scene.mp4 and scene.json to")
    parser.add_argument("--seconds", type=float, default=d.seconds, help="scene length")
    parser.add_argument("--people", type=int, default=d.people, help="people in the scene, 1 to 4")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--width", type=int, default=d.width)
    parser.add_argument("--height", type=int, default=d.height)
    parser.add_argument("--fps", type=float, default=d.fps)
    parser.add_argument("--backgrounds", type=Path, help="directory of background photos (default: opencv-doc's)")
    parser.add_argument("--background", choices=BACKGROUND_MODES, default="photo",
                        help="photo (procedural if no photos can be had), procedural, or plain")
    parser.add_argument("--no-shake", action="store_true", help="a still camera")
    parser.add_argument("--no-photometric", action="store_true", help="no lighting drift, blur or noise")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    try:
        cfg = SceneConfig(width=args.width, height=args.height, fps=args.fps, seconds=args.seconds, people=args.people,
                          seed=args.seed, background=args.background, backgrounds_dir=args.backgrounds,
                          shake=not args.no_shake, photometric=not args.no_photometric)
        scene = render_scene(cfg, progress=not args.quiet)
        with Mp4Writer(args.out / "scene.mp4", cfg.fps, cfg.width, cfg.height) as writer:
            for frame in tqdm(scene.frames, desc="scene.mp4", unit="frame", disable=args.quiet):
                writer.write(frame)
        (args.out / "scene.json").write_text(json.dumps(scene.to_json()) + "\n")
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(args.out)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["scene"]:  # the one sub-command; without it, the data set as ever
        return scene_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="mtl-hri-synth scene --help: a multi-person scene with its truth instead")
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
    parser.add_argument("--seated", type=float, default=0.0, help="share of idle and gesture clips seated on a chair")
    parser.add_argument("--talking-idle", type=float, default=0.0,
                        help="share of idle clips moving the hands as a talker does")
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
            seated=args.seated, talking_idle=args.talking_idle,
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
