"""`mtl-hri-eval`: score a model directory on a data split, with PNG plots and a JSON report; or compare runs.

Runs (STL vs MTL) are compared in the layout of the tables of Spathis, Kardaris and Maragos, "Multi-task Learning For
Joint Action and Gesture Recognition" (2025).

    mtl-hri-eval --model runs/x/best --data config/data/synthetic.yaml --split test --out runs/x/eval
    mtl-hri-eval --compare runs/gesture_only runs/action_only runs/joint --plot compare.png   # seeds pooled
    mtl-hri-eval --footage config/footage/opencv_doc.csv --out eval_footage   # real videos (tools/footage.py)
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from ..data.clips import collate
from ..data.composite import CompositeMTLDataset, load_composite_config
from ..model import ModelLoadError, load_model_dir
from ..stream.engine import BACKENDS
from ..train.evaluate import evaluate
from ..train.plots import plot_compare, plot_confusion, plot_curves


def evaluate_model_dir(model_dir: Path, data: Path, split: str, out: Path, batch_size: int, workers: int) -> dict:
    model, card = load_model_dir(model_dir)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dataset = CompositeMTLDataset(load_composite_config(data), split, card.input, train=False)
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers, collate_fn=collate)
    report = evaluate(model.to(device), loader, card.input, device, amp=device.type == "cuda",
                      progress=lambda it: tqdm(it, desc=f"eval {split}", unit="batch"))
    out.mkdir(parents=True, exist_ok=True)
    result = {"model": str(model_dir), "model_name": card.name, "data": str(data), "split": split,
              "clips": len(dataset), **report.to_dict()}
    for task, metrics in report.tasks.items():
        if metrics.n:
            result.setdefault("plots", []).append(str(plot_confusion(
                metrics.confusion, card.labels[task], f"{card.name}: {task} ({split})", out / f"confusion_{task}.png")))
    curves = plot_curves(Path(model_dir).parent, out / "training_curves.png")
    if curves:
        result.setdefault("plots", []).append(str(curves))
    (out / "eval.json").write_text(json.dumps(result, indent=2))
    return result


def print_report(result: dict) -> None:
    print(f"{result['model_name']} on {result['split']} ({result['clips']} clips)")
    print(f"{'task':<10} {'top-1':>7} {'top-5':>7} {'mean cls':>8} {'prec':>7} {'recall':>7} {'F1':>7} {'n':>5}")
    for task, m in result["tasks"].items():
        print(f"{task:<10} {m['top1']:7.3f} {m['top5']:7.3f} {m['mean_class_accuracy']:8.3f} {m['precision']:7.3f} "
              f"{m['recall']:7.3f} {m['f1']:7.3f} {m['n']:5d}")
    if result.get("hands"):
        h = result["hands"]
        print(f"hands: mean error {h['mean_error_fraction'] * 100:.2f} % of the crop width "
              f"({h['mean_error_px']:.2f} px at the model's input), PCK@0.1 {h['pck_01']:.3f}, {h['n_points']} points")
    for plot in result.get("plots", []):
        print(f"plot: {plot}")


def _run_report(run: Path) -> tuple[str, dict, dict]:
    """(name, eval report, training config) of a run directory or an eval.json; the config is {} when absent."""
    candidates = (run / "eval" / "eval.json", run / "best" / "eval.json")
    path = run if run.suffix == ".json" else next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise FileNotFoundError(f"no eval.json for {run} (run mtl-hri-eval --out {run}/eval first)")
    directory = run.parent if run.suffix == ".json" else run
    config_path = next((p for p in (directory / "config.json", directory.parent / "config.json") if p.is_file()), None)
    config = json.loads(config_path.read_text()) if config_path else {}
    return directory.name, json.loads(path.read_text()), config


@dataclass
class CompareRow:
    """One setting of a comparison: the runs that differ only in their seed."""

    label: str
    setting: str  # "MTL" or "STL"
    seeds: int
    top1: dict[str, list[float]]  # task -> one top-1 per run; tasks the setting did not learn are absent
    hand_error: float | None  # mean error fraction of the runs with a hand head


def compare_rows(runs: list[Path]) -> list[CompareRow]:
    """Group runs into settings: runs whose training configs differ only in the seed (and where they were written).

    A run without a config.json (an eval.json given alone) is a setting of its own.
    """
    groups: dict[str, list[tuple[str, dict]]] = {}
    for run in runs:
        name, report, config = _run_report(run)
        key = json.dumps({k: v for k, v in config.items() if k not in ("seed", "out", "name")}, sort_keys=True) \
            if config else name
        groups.setdefault(key, []).append((name, report))
    rows = []
    for members in groups.values():
        names = [n for n, _ in members]
        label = names[0] if len(names) == 1 else os.path.commonprefix(names).rstrip("_-") or names[0]
        tasks = members[0][1]["tasks"]
        hands = [r["hands"]["mean_error_fraction"] for _, r in members if (r.get("hands") or {}).get("n_points")]
        rows.append(CompareRow(label, "MTL" if len(tasks) > 1 else "STL", len(members),
                               {t: [r["tasks"][t]["top1"] for _, r in members] for t in tasks},
                               statistics.mean(hands) if hands else None))
    return rows


def _mean_std(values: list[float]) -> str:
    if len(values) == 1:
        return f" {values[0] * 100:13.1f}%"
    mean, std = statistics.mean(values) * 100, statistics.stdev(values) * 100  # sample std over the seeds
    return f" {mean:6.1f} ±{std:5.1f}%"


def compare(runs: list[Path], plot: Path | None = None) -> str:
    """Tabulate runs: one row per setting, one top-1 column per task, like Spathis et al.'s tables.

    A setting of several seeds gives the mean ± sample standard deviation over them; a task missing from a row is
    one its runs did not learn. `plot` also draws the table as grouped bars with the deviations (PNG).
    """
    rows = compare_rows(runs)
    tasks = sorted({t for row in rows for t in row.top1})
    head = f"{'run':<28} {'setting':<8} {'seeds':>5}" + "".join(f" {t + ' top-1':>14}" for t in tasks) \
        + f" {'hand err %':>11}"
    lines = [head, "-" * len(head)]
    for row in rows:
        cells = "".join(_mean_std(row.top1[t]) if t in row.top1 else f" {'-':>14}" for t in tasks)
        err = f"{row.hand_error * 100:10.2f}%" if row.hand_error is not None else f"{'-':>11}"
        lines.append(f"{row.label:<28} {row.setting:<8} {row.seeds:>5}{cells} {err}")
    if plot is not None:
        lines.append(f"plot: {plot_compare([(r.label, r.top1) for r in rows], tasks, plot)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model directory (model.json + model.safetensors)")
    parser.add_argument("--data", type=Path, help="data YAML (config/data/...)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--out", type=Path, help="where plots and eval.json go (default: <model>/../eval)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--compare", type=Path, nargs="+", help="runs (or eval.json files) to tabulate")
    parser.add_argument("--plot", type=Path, help="with --compare: also draw the table as a PNG")
    parser.add_argument("--footage", type=Path, help="a segments CSV (video,first,last,task,label): run the whole "
                        "pipeline over its videos and score it (default model: the bundled one)")
    parser.add_argument("--backend", default="auto", choices=BACKENDS, help="the engine, with --footage")
    args = parser.parse_args(argv)
    if args.compare:
        print(compare(args.compare, args.plot))
        return 0
    if args.footage:
        return footage_main(args)
    if not (args.model and args.data):
        parser.error("--model and --data are required (or --compare)")
    result = evaluate_model_dir(args.model, args.data, args.split, args.out or args.model.parent / "eval",
                                args.batch_size, args.workers)
    print_report(result)
    return 0


def footage_main(args: argparse.Namespace) -> int:
    from ..paths import bundled_model_dir
    from ..stream.engine import create_engine
    from .footage import evaluate_footage, print_footage_report

    model = args.model or bundled_model_dir()
    out = args.out or Path("eval_footage")
    try:
        engine = create_engine(model, args.backend, device="auto")
        report = evaluate_footage(args.footage, engine, out)
    except (ValueError, OSError, ModelLoadError) as exc:
        print(f"mtl-hri-eval: error: {exc}", file=sys.stderr)
        return 2
    (out / "footage.json").write_text(json.dumps(report, indent=2))
    print_footage_report(report)
    print(f"report: {out / 'footage.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
