"""`mtl-hri-bench frontend`: the front end's cost per stage, and how well it tracks, without DDS.

Two inputs, each played through one `FrontEnd` frame by frame on its stamps:
- real footage (vtest.avi's pedestrians, 768x576), where only the costs and the bodies found are known;
- a synthetic scene (`mtl_hri.data.synth.scene`, default 1280x720) of people who enter, cross, occlude each other
  and leave, with exact boxes and ids: the share of person-frames whose best body box has IoU >= 0.5 with the
  truth, and the id switches per person per minute.

On the same frames, in the same run, the peer baseline: MediaPipe's own pose and hands solutions on every frame
(`mediapipe_peer.py`, in the MediaPipe environment), which follow one person.
"""
from __future__ import annotations

import argparse
import collections
import json
import subprocess
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from ...data.hand_teacher import find_python
from ...perception.frontend import FrontEnd, FrontEndParams, iou
from ...perception.runtime import RUNTIMES
from ...stream.stats import RollingStats
from .report import print_table

HELP = "the front end without DDS: detector, landmarks and hands ms per frame; tracking on a synthetic scene"
MIN_VISIBLE = 0.5  # person-frames scored: at least this much of the person unoccluded, and fully inside the frame


def _costs(rows: list[dict]) -> dict:
    def stat(key: str, only_run: bool = False) -> dict:
        values = [r[key] for r in rows if not only_run or r[key] > 0]
        s = RollingStats.of(values)
        return {"p50": s.percentile(50), "p99": s.percentile(99), "n": len(values)}

    return {"frame_ms": stat("frame_ms"), "detect_ms": stat("detect_ms", only_run=True),
            "landmarks_ms": stat("landmarks_ms"), "hands_ms": stat("hands_ms"),
            "bodies_mean": float(np.mean([r["bodies"] for r in rows])), "bodies_max": max(r["bodies"] for r in rows)}


def play(front_end: FrontEnd, frames, fps: float, desc: str, truth=None) -> tuple[list[dict], dict]:
    """Run the front end over RGB frames at `fps`; with per-frame truth, also score boxes and ids."""
    rows, hits, scored = [], 0, 0
    ids: dict[int, list[str]] = collections.defaultdict(list)  # person -> matched body id per scored frame
    for k, rgb in enumerate(tqdm(frames, desc=desc, unit="frame")):
        t0 = time.perf_counter()
        out = front_end.process(rgb, k / fps)
        seen = [b for b in out.bodies if b.seen_now]
        rows.append({"frame_ms": (time.perf_counter() - t0) * 1e3, "detect_ms": out.costs.detect_ms,
                     "landmarks_ms": out.costs.landmarks_ms, "hands_ms": out.costs.hands_ms, "bodies": len(seen)})
        if truth is None:
            continue
        h, w = rgb.shape[:2]
        for person in truth[k]:
            x0, y0, x1, y1 = person.box
            if person.visible_fraction < MIN_VISIBLE or x0 <= 0 or y0 <= 0 or x1 >= w or y1 >= h:
                continue
            scored += 1
            best = max(seen, key=lambda b: iou(b.box, np.array(person.box)), default=None)
            if best is not None and iou(best.box, np.array(person.box)) >= 0.5:
                hits += 1
                ids[person.id].append(best.id)
    tracking = {}
    if truth is not None:
        minutes = len(rows) / fps / 60
        switches = {p: sum(a != b for a, b in zip(seq, seq[1:])) for p, seq in ids.items()}
        tracking = {"person_frames": scored, "iou_0.5_share": hits / max(scored, 1),
                    "id_switches": switches, "switches_per_person_minute": max(switches.values(), default=0) / minutes}
    return rows, tracking


def peer(frames: list[np.ndarray], python: str) -> dict:
    """Run MediaPipe pose + hands on every one of `frames` in the MediaPipe environment; their costs and finds."""
    with tempfile.TemporaryDirectory(prefix="mtl_hri_peer_") as tmp:
        path = Path(tmp) / "frames.npy"
        np.save(path, np.stack(frames))
        out = subprocess.run([python, str(Path(__file__).with_name("mediapipe_peer.py")), str(path)],
                             capture_output=True, text=True, check=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if len(rows) != len(frames):
        raise RuntimeError(f"the MediaPipe peer answered {len(rows)} of {len(frames)} frames")
    for r in rows:
        r["frame_ms"] = r["pose_ms"] + r["hands_ms"]

    def stat(key: str) -> dict:
        s = RollingStats.of([r[key] for r in rows])
        return {"p50": s.percentile(50), "p99": s.percentile(99), "n": len(rows)}

    return {"frame_ms": stat("frame_ms"), "pose_ms": stat("pose_ms"), "hands_ms": stat("hands_ms"),
            "pose_found_share": float(np.mean([r["pose"] for r in rows])),
            "hands_mean": float(np.mean([r["hands"] for r in rows]))}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--video", type=Path, help="real footage (default: vtest.avi, fetched if needed)")
    parser.add_argument("--frames", type=int, default=200, help="frames of the footage (default 200)")
    parser.add_argument("--fps", type=float, default=10.0, help="the frames' rate, for the tracker (default 10)")
    parser.add_argument("--people", type=int, default=4, help="people in the synthetic scene (1-4, default 4)")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4], help="the synthetic scenes' seeds")
    parser.add_argument("--max-bodies", type=int, default=FrontEndParams().max_bodies)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of each model (default 1)")
    parser.add_argument("--runtime", default=FrontEndParams().runtime, choices=RUNTIMES,
                        help="litert (default) or onnxruntime (the ONNX conversions; on a GPU with onnxruntime-gpu)")
    parser.add_argument("--no-peer", action="store_true", help="skip the MediaPipe baseline")
    parser.add_argument("--mediapipe-python", help="the MediaPipe environment's interpreter (default: .venv-mediapipe)")


def run(args: argparse.Namespace) -> dict:
    from ...data.synth.scene import SceneConfig, min_seconds, render_scene
    from ..fetch_footage import default_cache, fetch

    params = FrontEndParams(max_bodies=args.max_bodies, threads=args.threads, runtime=args.runtime)
    cap = cv2.VideoCapture(str(args.video or fetch(default_cache())))
    footage = []
    while len(footage) < args.frames:
        ok, bgr = cap.read()
        if not ok:
            break
        footage.append(np.ascontiguousarray(bgr[..., ::-1]))
    real, _ = play(FrontEnd(params, seed=0), footage, args.fps, "footage")
    synth, tracking, scenes = [], {}, []
    for seed in args.seeds:  # several scenes: one seed's crossings say little
        cfg = SceneConfig(width=args.width, height=args.height, fps=args.fps, people=args.people, seed=seed,
                          seconds=min_seconds(args.width, args.height, args.people, args.fps) + 1.0)
        scene = render_scene(cfg, progress=True)
        scenes.append([np.ascontiguousarray(f) for f in scene.frames])
        rows, tracking[seed] = play(FrontEnd(params, seed=0), scenes[-1], args.fps, f"scene {seed}", scene.truth)
        synth += rows
    results = {"footage": _costs(real), "scene": {**_costs(synth), "tracking": tracking,
                                                  "size": f"{args.width}x{args.height}", "people": args.people}}
    if not args.no_peer:
        python = find_python(args.mediapipe_python)
        results["peer"] = {"footage": peer(footage, python), "scene": peer([f for s in scenes for f in s], python)}
    head = f"{'input':<24} {'frame ms p50/p99':>17} {'detect':>13} {'landmarks':>13} {'hands':>13} {'bodies':>10}"
    lines = []
    for name, r in (("vtest.avi 768x576", results["footage"]),
                    (f"scene {args.width}x{args.height} x{args.people}", results["scene"])):
        cell = lambda k: f"{r[k]['p50']:5.1f} / {r[k]['p99']:5.1f}"  # noqa: E731
        lines.append(f"{name:<24} {cell('frame_ms'):>17} {cell('detect_ms'):>13} {cell('landmarks_ms'):>13} "
                     f"{cell('hands_ms'):>13} {r['bodies_mean']:4.1f} / {r['bodies_max']:2d}")
    for name, r in (results.get("peer") or {}).items():
        cell = lambda k: f"{r[k]['p50']:5.1f} / {r[k]['p99']:5.1f}"  # noqa: E731
        lines.append(f"{'MediaPipe peer, ' + name:<24} {cell('frame_ms'):>17} {'-':>13} {cell('pose_ms'):>13} "
                     f"{cell('hands_ms'):>13} {r['pose_found_share']:4.2f} found")
    print_table(head, lines)
    for seed, t in tracking.items():
        print(f"scene seed {seed}: box IoU >= 0.5 on {t['iou_0.5_share']:.1%} of {t['person_frames']} person-frames "
              f"(>= {MIN_VISIBLE:g} visible, inside the frame); id switches per person {t['id_switches']}, at most "
              f"{t['switches_per_person_minute']:.1f} per person-minute")
    return results
