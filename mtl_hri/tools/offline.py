"""`mtl-hri-offline`: run the recognizer over a rosbag2 recording (MCAP or sqlite3) or a video file, without DDS.

Every window is processed in order (the node's `offline` mode), so the output depends only on the
input: decisions and hand tracks go to JSON or CSV, and optionally an annotated MP4. As the node does, it tracks
the people in view (`--track-bodies 1`): the decisions describe the primary (largest) body, or the whole frame while
nobody is in view, and every body's decisions, box and skeleton go beside them (JSON: "bodies"; CSV: a second file,
`<out>_bodies.csv`).

    mtl-hri-offline recording.mcap --topic /camera/image_raw --out decisions.json --video-out annotated.mp4
    mtl-hri-offline clip.mp4 --out decisions.csv
"""
from __future__ import annotations

import argparse
import collections
import csv
import json
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator

import cv2
from tqdm import tqdm

from ..data.generic import VIDEO_SUFFIXES
from ..data.synth import Mp4Writer
from ..data.video import VideoError, open_video
from ..paths import bundled_model_dir
from ..perception.frontend import FrontEnd, FrontEndParams
from ..perception.models import FrontEndModelError
from ..perception.runtime import RUNTIMES
from ..ros.image_conv import CompressedFrame, ImageFrame
from ..ros.stamps import stamp_seconds
from ..stream.engine import BACKENDS, create_engine, max_threads
from ..stream.overlay import OverlayInfo, draw_overlay
from ..stream.pipeline import ArrayFrame, CameraStream, Decided, LazyFrame, Outcome, run_jobs, sample_fps_for
from ..stream.preprocess import Pixels
from ..stream.smoothing import NONE, SmoothingParams
from ..stream.window import MAX_FRAME_GAP

SMOOTHING = SmoothingParams()  # the defaults, as the node's parameters have them
FRONT_END = FrontEndParams()


@dataclass
class Frame:
    stamp: float
    frame_id: str
    index: int
    data: LazyFrame  # decoded only when the window samples it


@dataclass
class BodyRow:
    stamp: float
    frame_index: int
    body_id: str
    primary: bool  # the body the decisions describe
    x0: float  # box, source pixels
    y0: float
    x1: float
    y1: float
    confidence: float
    action: str
    action_score: float
    gesture: str
    gesture_score: float
    skeleton: list[list[float]]  # 18 x (x px, y px, confidence), ROS4HRI Skeleton2D order


@dataclass
class DecisionRow:
    stamp: float
    frame_index: int
    frame_id: str
    action: str
    action_score: float
    gesture: str
    gesture_score: float
    left_x: float | None  # None: no hand estimate (a keypoint model, while nobody is tracked)
    left_y: float | None
    left_conf: float | None
    right_x: float | None
    right_y: float | None
    right_conf: float | None


class InputError(ValueError):
    """An input, output or flag that the tool cannot work with; reported in one line, exit code 2."""


BAG_SUFFIXES = {".mcap", ".db3"}


def video_frames(path: Path, frame_id: str) -> Iterator[Frame]:
    """Decode frames stamped from the file's frame rate, starting at 0; InputError when none can be read."""
    try:  # probed quietly first: OpenCV's FFmpeg backend prints its own errors on a broken file
        open_video(path).close()
    except VideoError as exc:
        raise InputError(f"cannot read a frame from {path} (empty, truncated or not a video: {exc})") from None
    capture = cv2.VideoCapture(str(path))
    ok, bgr = capture.read() if capture.isOpened() else (False, None)
    if not ok:
        raise InputError(f"cannot read a frame from {path} (empty, truncated or not a video)")
    fps = capture.get(cv2.CAP_PROP_FPS)
    fps = fps if fps and fps > 0 and fps == fps else 30.0

    def frames() -> Iterator[Frame]:
        index, frame = 0, bgr
        while frame is not None:
            yield Frame(index / fps, frame_id, index, ArrayFrame(Pixels(frame, cv2.COLOR_BGR2RGB)))
            index += 1
            ok, frame = capture.read()
            frame = frame if ok else None
    return frames()


def bag_frames(path: Path, topic: str | None) -> Iterator[Frame]:
    """Read sensor_msgs/Image or CompressedImage messages of one topic, stamped by their headers.

    The bag and its topic are checked before the first frame is read; InputError names what is wrong.
    """
    from rosbags.highlevel import AnyReader

    try:
        reader = AnyReader([path])
        reader.open()
    except Exception as exc:  # noqa: BLE001 - rosbags raises its own errors, and OSError, for what is not a bag
        raise InputError(f"cannot read {path} as a rosbag2 recording: {str(exc).splitlines()[0]}") from None
    image_types = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")
    images = [c for c in reader.connections if c.msgtype in image_types]
    chosen = [c for c in images if topic is None or c.topic == topic]
    if not chosen:
        reader.close()
        found = sorted({c.topic for c in images})
        raise InputError(f"no image topic {topic or ''} in {path}; image topics: {found or 'none'}")
    chosen = [c for c in chosen if c.topic == chosen[0].topic]

    def frames() -> Iterator[Frame]:
        try:
            for index, (connection, _, raw) in enumerate(reader.messages(connections=chosen)):
                msg = reader.deserialize(raw, connection.msgtype)
                lazy = CompressedFrame(msg) if connection.msgtype.endswith("CompressedImage") else ImageFrame(msg)
                yield Frame(stamp_seconds(msg.header.stamp), msg.header.frame_id, index, lazy)
        finally:
            reader.close()
    return frames()


def frames_of(source: Path, topic: str | None) -> Iterator[Frame]:
    """Open a video file or a rosbag2 recording (a directory, or an .mcap / .db3 file); InputError otherwise."""
    if not source.exists():
        raise InputError(f"{source} does not exist")
    if source.is_file() and source.suffix.lower() in VIDEO_SUFFIXES:
        return video_frames(source, "video")
    if source.is_dir() or source.suffix.lower() in BAG_SUFFIXES:
        return bag_frames(source, topic)
    raise InputError(f"{source} is neither a video ({', '.join(sorted(VIDEO_SUFFIXES))}) nor a rosbag2 recording "
                     f"(a directory, {', '.join(sorted(BAG_SUFFIXES))})")


def process(frames: Iterator[Frame], engine, stream: CameraStream, video_out: Path | None = None,
            fps_out: float = 15.0, body_rows: list[BodyRow] | None = None) -> tuple[list[DecisionRow], dict[str, int]]:
    """Run the node's frame path, in order and without threads (stamps are the clock).

    Returns the decisions and the counters; a recording that breaks off ends the run with what was decided.
    """
    rows: list[DecisionRow] = []
    counts = collections.Counter()
    writer = None
    frames = iter(frames)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            break
        except Exception as exc:  # noqa: BLE001 - a recording that breaks off: keep what was decided so far
            counts["read_errors"] += 1
            tqdm.write(f"stopped reading after frame {counts['frames']}: {exc}")
            break
        counts["frames"] += 1
        got = stream.ingest(frame.data, frame.stamp, frame, frame.stamp, keep_rgb=video_out is not None)
        if got.outcome is not Outcome.SAMPLED:
            counts[got.outcome.value] += 1
            if got.outcome is Outcome.BAD:
                tqdm.write(f"frame {frame.index}: dropped: {got.error}")
            continue
        while stream.has_work(engine.streaming):
            jobs = stream.next_jobs(engine.streaming)
            for job, (result, state) in zip(jobs, run_jobs(engine, jobs)):
                decided = stream.complete(job, result, state, job.stamp)
                if decided is not None and decided.body is not None and body_rows is not None:
                    body_rows.append(body_row(decided))
                if decided is not None and decided.newest.primary:
                    rows.append(decision_row(decided))
                    if video_out is not None:
                        writer = write_overlay(writer, decided, video_out, fps_out)
    if writer is not None:
        writer.close()
    counts["decisions"] = len(rows)
    return rows, dict(counts)


def decision_row(decided: Decided) -> DecisionRow:
    """Return the CSV / JSON row of one decision: its stamp, frame, labels and hands."""
    src: Frame = decided.newest.source
    result = decided.result
    hands = [(float(t.xy[-1, 0]), float(t.xy[-1, 1]), float(t.confidence[-1])) if t is not None else (None,) * 3
             for t in (result.left, result.right)]
    a, g = decided.decisions.get("action"), decided.decisions.get("gesture")
    return DecisionRow(decided.stamp, src.index, src.frame_id, a.label if a else NONE, a.score if a else 0.0,
                       g.label if g else NONE, g.score if g else 0.0, *hands[0], *hands[1])


def body_row(decided: Decided) -> BodyRow:
    """Return the row of one body's decision: which body, where, and what it does."""
    body, src = decided.newest.body, decided.newest.source
    a, g = decided.decisions.get("action"), decided.decisions.get("gesture")
    return BodyRow(decided.stamp, src.index, body.id, decided.newest.primary, *(float(v) for v in body.box),
                   float(body.confidence), a.label if a else NONE, a.score if a else 0.0, g.label if g else NONE,
                   g.score if g else 0.0, [[round(float(v), 2) for v in point] for point in body.skeleton])


def write_overlay(writer: Mp4Writer | None, decided: Decided, path: Path, fps: float) -> Mp4Writer:
    """Draw one decision over its source frame and append it to the video (made at the first frame)."""
    result, src = decided.result, decided.newest.source
    info = OverlayInfo({t: (d.label, d.score) for t, d in decided.decisions.items()},
                       {t: (h.labels, h.probs) for t, h in result.heads.items()},
                       decided.trails, [f"t={decided.stamp:.2f}s frame {src.index}"])
    image = draw_overlay(decided.newest.rgb, info)
    if writer is None:
        writer = Mp4Writer(path, fps, image.shape[1], image.shape[0])
    if image.shape[1::-1] != writer.size:  # the source changed size: keep the video's
        image = cv2.resize(image, writer.size, interpolation=cv2.INTER_AREA)
    writer.write(image)
    return writer


def bodies_csv(path: Path) -> Path:
    return path.with_name(f"{path.stem}_bodies.csv")


def write_rows(rows: list[DecisionRow], path: Path, meta: dict, body_rows: list[BodyRow] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        tables = [(path, DecisionRow, [asdict(r) for r in rows])]
        if body_rows is not None:
            tables.append((bodies_csv(path), BodyRow,
                           [{**asdict(r), "skeleton": json.dumps(r.skeleton)} for r in body_rows]))
        for file, kind, dicts in tables:
            with open(file, "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(kind.__dataclass_fields__))
                writer.writeheader()
                writer.writerows(dicts)
    else:
        bodies = {} if body_rows is None else {"bodies": [asdict(r) for r in body_rows]}
        path.write_text(json.dumps({**meta, "decisions": [asdict(r) for r in rows], **bodies}, indent=1))


def check_output(path: Path, suffixes: tuple[str, ...]) -> None:
    """Refuse an output path that could not be written, before any work is done."""
    if path.is_dir():
        raise InputError(f"{path} is a directory; give a file name ending in {' or '.join(suffixes)}")
    if path.suffix.lower() not in suffixes:
        raise InputError(f"{path}: the output must end in {' or '.join(suffixes)}")
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a"):
            pass
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    if not existed:
        path.unlink()


def check_flags(args: argparse.Namespace) -> SmoothingParams:
    """Check the flags as the node checks its parameters; InputError names the first bad one."""
    for name in ("sample_fps", "smoothing", "enter_threshold", "exit_threshold", "min_duration", "max_frame_gap"):
        if not math.isfinite(getattr(args, name)):
            raise InputError(f"--{name.replace('_', '-')} must be a finite number, not {getattr(args, name)}")
    if args.sample_fps < 0 and args.sample_fps != -1:
        raise InputError("--sample-fps must be -1 (the model card's rate), 0 (every frame) or positive")
    if not 1 <= args.stride <= 64:
        raise InputError(f"--stride must be 1 to 64, not {args.stride}")
    if args.max_frame_gap <= 0:
        raise InputError(f"--max-frame-gap must be positive, not {args.max_frame_gap}")
    smoothing = SmoothingParams(args.smoothing, args.enter_threshold, args.exit_threshold, args.min_duration)
    try:
        smoothing.validate()
    except ValueError as exc:
        raise InputError(f"smoothing flags: {exc}") from None
    problem = front_end_params(args).problem()
    if problem:
        raise InputError(f"--{problem.replace('_', '-')}")
    return smoothing


def front_end_params(args: argparse.Namespace) -> FrontEndParams:
    return FrontEndParams(max_bodies=args.max_bodies, body_timeout=args.body_timeout,
                          detect_interval=args.detect_interval, threads=max_threads(), runtime=args.front_end_runtime)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path, help="a rosbag2 directory or .mcap/.db3 file, or a video file")
    parser.add_argument("--topic", help="image topic in the bag (default: the first image topic)")
    parser.add_argument("--model", default="", help="model directory (default: the bundled model)")
    parser.add_argument("--backend", default="auto", choices=BACKENDS)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--streaming", type=int, default=1, choices=(0, 1))
    parser.add_argument("--sample-fps", type=float, default=-1.0, help="-1: the model card's rate; 0: every frame")
    parser.add_argument("--stride", type=int, default=1)
    parser.add_argument("--smoothing", type=float, default=SMOOTHING.smoothing)
    parser.add_argument("--enter-threshold", type=float, default=SMOOTHING.enter_threshold)
    parser.add_argument("--exit-threshold", type=float, default=SMOOTHING.exit_threshold)
    parser.add_argument("--min-duration", type=float, default=SMOOTHING.min_duration)
    parser.add_argument("--max-frame-gap", type=float, default=MAX_FRAME_GAP)
    parser.add_argument("--track-bodies", type=int, default=1, choices=(0, 1),
                        help="track each person and decide per body (1, default), or the whole frame only (0)")
    parser.add_argument("--max-bodies", type=int, default=FRONT_END.max_bodies)
    parser.add_argument("--body-timeout", type=float, default=FRONT_END.body_timeout)
    parser.add_argument("--detect-interval", type=float, default=FRONT_END.detect_interval)
    parser.add_argument("--front-end-runtime", default=FRONT_END.runtime, choices=RUNTIMES,
                        help="litert (default) or onnxruntime (the front end's ONNX conversions, e.g. on a GPU)")
    parser.add_argument("--out", type=Path, default=Path("decisions.json"), help=".json or .csv")
    parser.add_argument("--video-out", type=Path, help="write an annotated MP4 here")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        smoothing = check_flags(args)
        check_output(args.out, (".json", ".csv"))
        if args.video_out is not None:
            check_output(args.video_out, (".mp4",))
        frames = frames_of(args.input, args.topic)
    except InputError as exc:
        print(f"mtl-hri-offline: error: {exc}", file=sys.stderr)
        return 2
    model = Path(args.model) if args.model else bundled_model_dir()
    try:
        engine = create_engine(model, args.backend, device=args.device, streaming=bool(args.streaming))
    except Exception as exc:  # noqa: BLE001 - a missing or corrupt model, or an unusable device, in one line
        print(f"mtl-hri-offline: error: cannot load model {model}: {exc}", file=sys.stderr)
        return 2
    try:
        front_end = FrontEnd(front_end_params(args), seed=0) if args.track_bodies else None
    except FrontEndModelError as exc:
        print(f"mtl-hri-offline: error: cannot track bodies: {exc} (or pass --track-bodies 0)", file=sys.stderr)
        return 2
    stream = CameraStream(offline=True, front_end=front_end)
    stream.configure(engine.spec, engine.labels, sample_fps_for(engine, args.sample_fps), args.stride,
                     args.max_frame_gap, smoothing, rebuild=True)
    fps_out = sample_fps_for(engine, args.sample_fps) / args.stride or 15.0
    body_rows: list[BodyRow] | None = [] if front_end else None
    rows, counts = process(tqdm(frames, desc=args.input.name, unit="frame"), engine, stream, args.video_out, fps_out,
                           body_rows)
    meta = {"input": str(args.input), "model": engine.card.name, "trained": engine.card.provenance.trained,
            "backend": engine.backend, "streaming": engine.streaming, "counts": counts,
            "bodies_tracked": stream.stats.bodies_created}
    write_rows(rows, args.out, meta, body_rows)
    print(f"{counts.get('frames', 0)} frames, {len(rows)} decisions -> {args.out}"
          + (f", video -> {args.video_out}" if args.video_out else ""))
    if counts.get("read_errors"):
        print("mtl-hri-offline: error: the input broke off; the decisions up to there are written", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
