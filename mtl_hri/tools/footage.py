"""`mtl-hri-eval --footage SEGMENTS.csv`: the whole pipeline on real videos, scored against labelled segments.

The pipeline is the node's: front end, tracking, model, smoothing. Each row of the CSV is
`video,first,last,task,label`: from frame `first` to frame `last` (inclusive, counted from 0), every decision of
`task` should be `label`, for every person tracked then (and for the whole scene while nobody is).
A relative video path is looked up beside the CSV, then in the footage cache (`mtl-hri-fetch-footage`).

Reported per task: the share of decisions that are right (over every decision inside the segments), the share of
segments whose most frequent decision is right, and, in `none` segments, false decisions: a stream (a person, or the
scene) entering another label, per minute of footage and per person-minute. One timeline PNG per video shows
every stream's decisions against the truth.
"""
from __future__ import annotations

import collections
import csv
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from ..data.records import TASKS
from ..paths import cache_dir
from ..perception.frontend import FrontEnd, FrontEndParams
from ..stream.pipeline import CameraStream, sample_fps_for
from ..stream.smoothing import NONE, SmoothingParams
from ..stream.window import MAX_FRAME_GAP
from ..train.plots import plot_timeline
from .offline import BodyRow, DecisionRow, process, video_frames

COLUMNS = ("video", "first", "last", "task", "label")
SCENE = "scene"  # the stream of the whole frame, which decides while nobody is tracked


@dataclass(frozen=True)
class Segment:
    video: Path
    first: int
    last: int
    task: str
    label: str


@dataclass
class Decision:
    """One decision of one stream (a body id, or SCENE) on one frame."""

    stream: str
    frame: int
    labels: dict[str, str]  # task -> label


@dataclass
class TaskScore:
    decisions: int = 0
    correct: int = 0
    segments: int = 0
    segments_correct: int = 0
    none_minutes: float = 0.0  # footage inside `none` segments
    none_person_minutes: float = 0.0  # summed over the streams decided there
    false_decisions: int = 0  # entries into another label inside `none` segments
    confusions: dict[str, int] = field(default_factory=dict)  # wrong label -> decisions

    @property
    def accuracy(self) -> float:
        return self.correct / self.decisions if self.decisions else float("nan")

    @property
    def false_per_minute(self) -> float:
        return self.false_decisions / self.none_minutes if self.none_minutes else float("nan")

    @property
    def false_per_person_minute(self) -> float:
        return self.false_decisions / self.none_person_minutes if self.none_person_minutes else float("nan")


def load_segments(path: Path, tasks: dict[str, list[str]] | None = None) -> list[Segment]:
    """Read and check a segments CSV (against a model's labels, given `tasks`); ValueError naming the row otherwise."""
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{path}: the header must be {','.join(COLUMNS)}, not {','.join(reader.fieldnames or [])}")
        rows = list(reader)
    segments = []
    for n, row in enumerate(rows, start=2):
        where = f"{path} line {n}"
        try:
            first, last = int(row["first"]), int(row["last"])
        except (TypeError, ValueError):
            raise ValueError(f"{where}: first and last must be frame numbers, not {row['first']!r}, {row['last']!r}")
        if not 0 <= first <= last:
            raise ValueError(f"{where}: needs 0 <= first <= last, got {first}, {last}")
        task, label = row["task"], row["label"]
        if tasks is None and task not in TASKS:
            raise ValueError(f"{where}: task must be one of {', '.join(TASKS)}, not {task!r}")
        if tasks is not None and task not in tasks:
            raise ValueError(f"{where}: the model has no task {task!r} (it has {', '.join(tasks)})")
        if tasks is not None and label not in tasks[task]:
            raise ValueError(f"{where}: {label!r} is not a {task} label of the model")
        segments.append(Segment(resolve_video(row["video"], path.parent, where), first, last, task, label))
    if not segments:
        raise ValueError(f"{path}: no segments")
    return segments


def resolve_video(name: str, beside: Path, where: str) -> Path:
    for candidate in (Path(name), beside / name, cache_dir() / name):
        if candidate.is_file():
            return candidate.resolve()
    raise ValueError(f"{where}: no video {name!r} here, beside the CSV or in {cache_dir()} (mtl-hri-fetch-footage)")


def decisions_of(rows: list[DecisionRow], body_rows: list[BodyRow]) -> list[Decision]:
    """Every stream's decisions: each body's, and the scene's (a plain decision that no body made)."""
    by_body = {(r.frame_index) for r in body_rows if r.primary}
    out = [Decision(r.body_id, r.frame_index, {"action": r.action, "gesture": r.gesture}) for r in body_rows]
    out += [Decision(SCENE, r.frame_index, {"action": r.action, "gesture": r.gesture}) for r in rows
            if r.frame_index not in by_body]
    return sorted(out, key=lambda d: (d.stream, d.frame))


def score(segments: list[Segment], decided: dict[Path, list[Decision]], fps: dict[Path, float]
          ) -> dict[str, TaskScore]:
    """Score every task over the segments (pure: the decisions are given)."""
    scores: dict[str, TaskScore] = {}
    for seg in segments:
        s = scores.setdefault(seg.task, TaskScore())
        inside = [d for d in decided[seg.video] if seg.first <= d.frame <= seg.last and seg.task in d.labels]
        labels = [d.labels[seg.task] for d in inside]
        s.decisions += len(labels)
        s.correct += sum(label == seg.label for label in labels)
        for label in labels:
            if label != seg.label:
                s.confusions[label] = s.confusions.get(label, 0) + 1
        s.segments += 1
        if labels and collections.Counter(labels).most_common(1)[0][0] == seg.label:
            s.segments_correct += 1
        if seg.label == NONE:
            period = 1.0 / fps[seg.video]
            s.none_minutes += (seg.last - seg.first + 1) * period / 60
            streams: dict[str, list[Decision]] = collections.defaultdict(list)
            for d in inside:
                streams[d.stream].append(d)
            for ds in streams.values():
                s.none_person_minutes += (ds[-1].frame - ds[0].frame + 1) * period / 60
                previous = NONE
                for d in ds:
                    label = d.labels[seg.task]
                    s.false_decisions += label != NONE and label != previous
                    previous = label
    return scores


def summary(s: TaskScore) -> dict:
    return {**asdict(s), "accuracy": s.accuracy, "false_per_minute": s.false_per_minute,
            "false_per_person_minute": s.false_per_person_minute}


def run_video(video: Path, engine, front_end_params: FrontEndParams, smoothing: SmoothingParams
              ) -> tuple[list[Decision], float]:
    """Run the pipeline over one whole video as `mtl-hri-offline` does; return every stream's decisions and the fps."""
    stream = CameraStream(offline=True, front_end=FrontEnd(front_end_params, seed=0))
    stream.configure(engine.spec, engine.labels, sample_fps_for(engine, -1.0), 1, MAX_FRAME_GAP, smoothing,
                     rebuild=True)
    frames = list(video_frames(video, video.stem))
    fps = 1.0 / (frames[1].stamp - frames[0].stamp) if len(frames) > 1 else 1.0
    body_rows: list[BodyRow] = []
    rows, _ = process(tqdm(frames, desc=video.name, unit="frame"), engine, stream, body_rows=body_rows)
    stream.front_end.close()
    return decisions_of(rows, body_rows), fps


def evaluate_footage(csv_path: Path, engine, out: Path, front_end_params: FrontEndParams | None = None,
                     smoothing: SmoothingParams | None = None) -> dict:
    """Run the pipeline over every video of the segments, score it, plot a timeline per video; return the report."""
    segments = load_segments(csv_path, engine.labels)
    decided, fps = {}, {}
    for video in dict.fromkeys(s.video for s in segments):
        decided[video], fps[video] = run_video(video, engine, front_end_params or FrontEndParams(),
                                               smoothing or SmoothingParams())
    scores = score(segments, decided, fps)
    out.mkdir(parents=True, exist_ok=True)
    plots = []
    for video, decisions in decided.items():
        streams: dict[str, list[tuple[int, dict[str, str]]]] = collections.defaultdict(list)
        for d in decisions:
            streams[d.stream].append((d.frame, d.labels))
        truth = [(s.first, s.last, s.task, s.label) for s in segments if s.video == video]
        plots.append(str(plot_timeline(streams, truth, engine.labels, f"{engine.card.name} on {video.name}",
                                       out / f"timeline_{video.stem}.png")))
    rows = [{**asdict(seg), "video": seg.video.name, **summary(score([seg], decided, fps)[seg.task])}
            for seg in segments]
    report = {
        "segments": str(csv_path), "model": engine.card.name, "backend": engine.backend, "per_segment": rows,
        "videos": {str(v): {"fps": fps[v], "decisions": len(decided[v]),
                            "streams": len({d.stream for d in decided[v]})} for v in decided},
        "tasks": {task: summary(s) for task, s in scores.items()},
        "plots": plots,
    }
    return report


def print_footage_report(report: dict) -> None:
    print(f"{report['model']} on the segments of {report['segments']}")
    print(f"{'task':<8} {'decisions':>9} {'right':>7} {'segments right':>14} {'false/min':>9} {'false/person-min':>16}")
    for task, s in report["tasks"].items():
        print(f"{task:<8} {s['decisions']:9d} {s['accuracy'] * 100:6.1f}% {s['segments_correct']:>7d} of "
              f"{s['segments']:<4d} {s['false_per_minute']:9.2f} {s['false_per_person_minute']:16.2f}")
        wrong = sorted(s["confusions"].items(), key=lambda kv: -kv[1])[:4]
        if wrong:
            print(f"         most frequent wrong decisions: {', '.join(f'{k} ({v})' for k, v in wrong)}")
    print(f"{'segment':<34} {'decisions':>9} {'right':>7} {'false/min':>9}")
    for r in report["per_segment"]:
        name = f"{r['video']} {r['first']}-{r['last']} {r['task']}={r['label']}"
        print(f"{name:<34} {r['decisions']:9d} {r['accuracy'] * 100:6.1f}% {r['false_per_minute']:9.2f}")
    for plot in report["plots"]:
        print(f"plot: {plot}")
