"""`mtl-hri-landmarks SEGMENTS.csv --out DIR`: a keypoint training set from real footage, through the real front end.

Every video of the segments (the CSV of `mtl-hri-eval --footage`) runs through the node's front end (detection,
landmarks, tracking) frame by frame. Each tracked body becomes a keypoint track (`keypoints/<video>_<id>.npy`, as
`mtl-hri-synth` writes them: frames x 75 points x (x px, y px, present)), and each segment it was seen in becomes
a manifest row with the segment's task and label, so a keypoint model trains on the landmarks, errors and all,
that the node will give it on real people.

The last `--val-fraction` of every segment's frames goes to the `val` split, the rest to `train`. Keep footage you
evaluate on out of the CSV (or out of its frames): evaluating on frames trained on says nothing about new people.
"""
from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..data.generic import write_keypoints
from ..model.keypoints import N_POINTS
from ..perception.frontend import FrontEnd, FrontEndParams
from ..stream.body_keypoints import body_points
from .footage import Segment, load_segments
from .offline import InputError, video_frames

MIN_FRAMES = 8  # frames a body must be seen in, in one split of a segment, to make a clip
MANIFEST_COLUMNS = ("path", "task", "label", "start", "end", "split", "keypoints")


@dataclass
class Row:
    """One manifest row: a body's frames [start, end) of a segment, in one split."""

    video: Path
    task: str
    label: str
    start: int
    end: int
    split: str
    keypoints: Path  # relative to the output directory


def track_bodies(video: Path, last: int, params: FrontEndParams) -> dict[str, np.ndarray]:
    """Run the front end over frames 0 to `last` of `video`; return each body id's (frames, N_POINTS, 3) track.

    Tracks start at frame 0; a frame where the body was not seen has no point present.
    """
    front_end = FrontEnd(params, seed=0)
    seen: dict[str, dict[int, np.ndarray]] = {}
    try:
        for frame in tqdm(video_frames(video, video.stem), desc=video.name, unit="frame", total=last + 1):
            if frame.index > last:
                break
            perceived = front_end.process(frame.data.pixels().rgb(), frame.stamp)
            for body in perceived.bodies:
                if body.seen_now:
                    xy, _, present = body_points(body)
                    seen.setdefault(body.id, {})[frame.index] = np.c_[xy, present].astype(np.float32)
    finally:
        front_end.close()
    tracks = {}
    for body_id, frames in seen.items():
        track = np.zeros((max(frames) + 1, N_POINTS, 3), np.float32)
        for index, points in frames.items():
            track[index] = points
        tracks[body_id] = track
    return tracks


def segment_rows(segment: Segment, tracks: dict[str, np.ndarray], files: dict[str, Path], val_fraction: float
                 ) -> list[Row]:
    """Cut every body's track to the segment, train then val by time; keep the parts seen on MIN_FRAMES frames."""
    boundary = segment.first + int(round((1 - val_fraction) * (segment.last - segment.first + 1)))
    rows = []
    for body_id, track in tracks.items():
        seen = np.flatnonzero(track[:, :, 2].any(axis=1))
        for split, lo, hi in (("train", segment.first, boundary), ("val", boundary, segment.last + 1)):
            inside = seen[(seen >= lo) & (seen < hi)]
            if len(inside) >= MIN_FRAMES:
                rows.append(Row(segment.video, segment.task, segment.label, int(inside[0]), int(inside[-1]) + 1,
                                split, files[body_id]))
    return rows


def extract(csv_path: Path, out: Path, params: FrontEndParams | None = None, val_fraction: float = 0.2) -> list[Row]:
    """Write the keypoint tracks and `manifest.csv` of the segments' footage into `out`; return the rows."""
    segments = load_segments(csv_path)
    rows: list[Row] = []
    for video in dict.fromkeys(s.video for s in segments):
        tracks = track_bodies(video, max(s.last for s in segments if s.video == video), params or FrontEndParams())
        files = {body_id: Path("keypoints") / f"{video.stem}_{body_id}.npy" for body_id in tracks}
        for body_id, track in tracks.items():
            write_keypoints(out / files[body_id], track)
        for segment in (s for s in segments if s.video == video):
            rows += segment_rows(segment, tracks, files, val_fraction)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "manifest.csv").open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(MANIFEST_COLUMNS)
        for r in rows:
            writer.writerow([video_path(r.video, out), r.task, r.label, r.start, r.end, r.split,
                             r.keypoints.as_posix()])
    return rows


def video_path(video: Path, out: Path) -> str:
    """Return the video's path as the manifest gives it: relative to `out` when inside it, else absolute."""
    video, out = video.resolve(), out.resolve()
    return video.relative_to(out).as_posix() if video.is_relative_to(out) else str(video)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0].split(": ", 1)[1])
    parser.add_argument("segments", type=Path, help="video,first,last,task,label CSV (as mtl-hri-eval --footage)")
    parser.add_argument("--out", type=Path, required=True, help="the dataset directory (a manifest source)")
    parser.add_argument("--val-fraction", type=float, default=0.2, help="the last share of each segment for val")
    args = parser.parse_args(argv)
    if not 0.0 <= args.val_fraction < 1.0:
        parser.error(f"--val-fraction must be in [0, 1), not {args.val_fraction}")
    try:
        rows = extract(args.segments, args.out, val_fraction=args.val_fraction)
    except (ValueError, InputError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for split in ("train", "val"):
        part = [r for r in rows if r.split == split]
        print(f"{split}: {len(part)} clips, {sum(r.end - r.start for r in part)} frames")
    print(f"wrote {args.out / 'manifest.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
