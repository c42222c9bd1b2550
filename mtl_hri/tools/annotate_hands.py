"""`mtl-hri-annotate-hands`: hand tracks for videos from MediaPipe Hands (the teacher), as hand CSVs.

    mtl-hri-annotate-hands clip1.mp4 clip2.mp4 --out hands/          # hands/clip1.csv, hands/clip2.csv
    mtl-hri-annotate-hands --manifest data/mine/manifest.csv          # fills the manifest's `hands` column

MediaPipe runs in its own environment (`make mediapipe`: .venv-mediapipe); pass --python or set
MTL_HRI_MEDIAPIPE_PYTHON to use another. Points are palm centres in pixels, the person's left hand
first; for selfie-style (mirrored) video add --mirrored.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import cv2
from tqdm import tqdm

from ..data.generic import write_hand_csv
from ..data.hand_teacher import find_python, run_teacher
from .sheets import SheetRow, keypoint_sheet


def frame_count(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    return max(n, 0)


def _jobs_from_manifest(manifest: Path, overwrite: bool) -> tuple[list[dict[str, str]], list[int], list[str]]:
    """Read the manifest's rows, the indices of those to annotate, and its columns (plus `hands`)."""
    with open(manifest, newline="") as f:
        reader = csv.DictReader(f)
        rows, columns = list(reader), list(reader.fieldnames or [])
    if "hands" not in columns:
        columns.append("hands")
    todo = [i for i, row in enumerate(rows) if overwrite or not row.get("hands")]
    return rows, todo, columns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="*", type=Path, help="videos to annotate (or --manifest)")
    parser.add_argument("--out", type=Path, help="directory for <video stem>.csv (with videos)")
    parser.add_argument("--manifest", type=Path, help="a generic-format manifest: annotate its clips without hands, "
                        "write <root>/hands/<stem>.csv and fill its `hands` column")
    parser.add_argument("--overwrite", action="store_true", help="with --manifest: also clips that have hands")
    parser.add_argument("--python", help="interpreter of the MediaPipe environment")
    parser.add_argument("--min-confidence", type=float, default=0.5, help="MediaPipe detection/tracking confidence")
    parser.add_argument("--mirrored", action="store_true", help="the videos are mirrored (selfie view)")
    parser.add_argument("--preview", type=Path, help="also write a PNG of the first clips with their hands drawn")
    args = parser.parse_args(argv)
    if bool(args.videos) == bool(args.manifest) or (args.videos and not args.out):
        parser.error("give videos with --out, or --manifest")
    try:
        python = find_python(args.python)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    if args.manifest:
        root = args.manifest.parent
        rows, todo, columns = _jobs_from_manifest(args.manifest, args.overwrite)
        videos = [root / rows[i]["path"] for i in todo]
        outputs = [root / "hands" / f"{Path(rows[i]['path']).stem}.csv" for i in todo]
    else:
        videos, outputs = args.videos, [args.out / f"{v.stem}.csv" for v in args.videos]
    if len(set(outputs)) != len(outputs):
        print("error: two videos share a file name stem; their hand CSVs would collide", file=sys.stderr)
        return 1

    written, failed = [], 0
    with tqdm(total=sum(frame_count(v) for v in videos), desc="mtl-hri-annotate-hands", unit="frame") as bar:
        tracks = run_teacher(videos, python, args.min_confidence, args.mirrored, on_frame=lambda: bar.update())
        try:
            for k, track in enumerate(tracks):
                if track.error:
                    tqdm.write(f"warning: {track.error}: skipped")
                    failed += 1
                    continue
                write_hand_csv(outputs[k], track.xy, track.visible)
                written.append((k, track))
                if args.manifest:
                    rows[todo[k]]["hands"] = outputs[k].relative_to(root).as_posix()
        except RuntimeError as exc:  # the worker died: keep what was written, say why
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
    if args.manifest:
        with open(args.manifest, "w", newline="") as f:
            out = csv.DictWriter(f, columns, lineterminator="\n")
            out.writeheader()
            out.writerows(rows)
    for k, track in written:
        share = track.visible.mean(axis=0) if len(track.visible) else (0.0, 0.0)
        print(f"{outputs[k]}: {len(track.xy)} frames, left hand in {share[0]:.0%}, right hand in {share[1]:.0%}")
    if args.preview and written:
        sheet = keypoint_sheet([SheetRow([videos[k].name[:16]], videos[k], outputs[k]) for k, _ in written[:8]])
        args.preview.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(args.preview), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
        print(f"preview: {args.preview}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
