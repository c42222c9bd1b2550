"""`mtl-hri-landmarks SEGMENTS.csv --out DIR`: a keypoint training set from real footage, through the real front end.

Every video of the segments (the CSV of `mtl-hri-eval --footage`) runs through the node's front end (detection,
landmarks, tracking) frame by frame. Each tracked body becomes a keypoint track (`keypoints/<video>_<id>.npy`, as
`mtl-hri-synth` writes them: frames x 75 points x (x px, y px, present)), and each segment it was seen in becomes
a manifest row with the segment's task and label, so a keypoint model trains on the landmarks, errors and all,
that the node will give it on real people.

The last `--val-fraction` of every segment's frames goes to the `val` split, the rest to `train`. Keep footage you
evaluate on out of the CSV (or out of its frames): evaluating on frames trained on says nothing about new people.

It also prints what the front end did to those people's landmarks (`FrontEndErrors`), in the units of
`mtl_hri.data.keypoint_clips.KeypointNoise`, the errors a keypoint model is trained with.
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
from ..data.keypoint_clips import body_region
from ..model.keypoints import BODY_POINTS, HAND_POINTS, LEFT_HAND, N_POINTS, RIGHT_HAND
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


def track_bodies(video: Path, last: int, params: FrontEndParams) -> tuple[dict[str, np.ndarray], tuple[int, int]]:
    """Run the front end over frames 0 to `last` of `video`.

    Return each body id's (frames, N_POINTS, 3) track, and the video's (width, height). Tracks start at frame 0; a
    frame where the body was not seen has no point present.
    """
    front_end = FrontEnd(params, seed=0)
    seen: dict[str, dict[int, np.ndarray]] = {}
    size = (0, 0)
    try:
        for frame in tqdm(video_frames(video, video.stem), desc=video.name, unit="frame", total=last + 1):
            if frame.index > last:
                break
            pixels = frame.data.pixels()
            size = pixels.size
            perceived = front_end.process(pixels.rgb(), frame.stamp)
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
    return tracks, size


@dataclass
class FrontEndErrors:
    """What the front end did to tracked people's landmarks, as KeypointNoise counts it."""

    tracks: int
    frames: int  # from each track's first sighting to its last
    drop_frame: float  # frames lost within a track
    drop_point: float  # body points not seen on a frame the body was seen on
    no_hand: float  # seen frames without either hand
    jitter: float  # s.d. of a body point's position, in units of the body's region; an upper bound (see below)


def front_end_errors(tracks: dict[str, np.ndarray], width: int, height: int) -> FrontEndErrors:
    """Measure a front end's errors on `tracks` (as `track_bodies` returns them) of a width x height video.

    The jitter is the robust s.d. of the second differences of points seen on three frames in a row, divided by
    sqrt(6) (a white noise's second difference has sqrt(6) times its s.d.), in units of the body's square region (the
    region keypoints are normalised to). A real motion's acceleration adds to it, so it bounds the jitter from above.
    """
    spans, steps = [], []
    for track in tracks.values():
        seen = np.flatnonzero(track[:, :BODY_POINTS, 2].any(axis=1))
        if len(seen) == 0:
            continue
        span = track[seen[0]:seen[-1] + 1]
        spans.append(span)
        body = span[:, :BODY_POINTS]
        for t in range(1, len(span) - 1):
            present = (body[t - 1:t + 2, :, 2] > 0).all(axis=0)
            if present.sum() < 4:
                continue
            _, _, side = body_region(body[t, present, :2], width, height)
            xy = body[t - 1:t + 2, present, :2]
            steps.append((xy[0] - 2 * xy[1] + xy[2]).ravel() / side)
    if not spans:
        return FrontEndErrors(0, 0, 0.0, 0.0, 0.0, 0.0)
    frames = np.concatenate(spans)
    seen = frames[frames[:, :BODY_POINTS, 2].any(axis=1)]
    hands = [seen[:, base:base + HAND_POINTS, 2].any(axis=1) for base in (LEFT_HAND, RIGHT_HAND)]
    second = np.concatenate(steps) if steps else np.zeros(1)
    mad = np.median(np.abs(second - np.median(second)))
    return FrontEndErrors(len(spans), len(frames), 1 - len(seen) / len(frames),
                          1 - float(seen[:, :BODY_POINTS, 2].mean()), float(np.mean(~(hands[0] | hands[1]))),
                          float(1.4826 * mad / np.sqrt(6)))


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


def extract(csv_path: Path, out: Path, params: FrontEndParams | None = None, val_fraction: float = 0.2
            ) -> tuple[list[Row], dict[str, FrontEndErrors]]:
    """Write the keypoint tracks and `manifest.csv` of the segments' footage into `out`.

    Return the rows, and the front end's errors on each video's people.
    """
    segments = load_segments(csv_path)
    rows: list[Row] = []
    errors: dict[str, FrontEndErrors] = {}
    for video in dict.fromkeys(s.video for s in segments):
        tracks, size = track_bodies(video, max(s.last for s in segments if s.video == video),
                                    params or FrontEndParams())
        errors[video.name] = front_end_errors(tracks, *size)
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
    return rows, errors


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
        rows, errors = extract(args.segments, args.out, val_fraction=args.val_fraction)
    except (ValueError, InputError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for split in ("train", "val"):
        part = [r for r in rows if r.split == split]
        print(f"{split}: {len(part)} clips, {sum(r.end - r.start for r in part)} frames")
    for video, e in errors.items():
        print(f"{video}: the front end on {e.tracks} people, {e.frames} frames: frames lost {e.drop_frame:.3f}, body "
              f"points unseen {e.drop_point:.3f}, frames without a hand {e.no_hand:.3f}, jitter <= {e.jitter:.4f} of "
              f"the region")
    print(f"wrote {args.out / 'manifest.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
