"""PNG plots a person would rather look at than read: confusion matrices, training curves, run comparisons."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_confusion(confusion: list[list[int]], labels: list[str], title: str, path: str | Path) -> Path:
    """Row-normalised confusion matrix (rows: truth), with counts in the cells."""
    cm = np.asarray(confusion, dtype=float)
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * len(labels), 0.8 + 0.5 * len(labels)))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if cm[i, j]:
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if norm[i, j] > 0.5 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_compare(rows: list[tuple[str, dict[str, list[float]]]], tasks: list[str], path: str | Path) -> Path:
    """Draw top-1 per task as grouped bars, one per setting (mean over its runs; whiskers: sample std)."""
    fig, ax = plt.subplots(figsize=(3.0 + 1.2 * len(tasks), 3.6))
    width = 0.8 / max(1, len(rows))
    for k, (label, top1) in enumerate(rows):
        learned = [i for i, t in enumerate(tasks) if t in top1]
        values = [np.asarray(top1[tasks[i]]) * 100 for i in learned]
        means = [v.mean() for v in values]
        stds = [v.std(ddof=1) if len(v) > 1 else 0.0 for v in values]
        runs = len(values[0])
        bars = ax.bar([i + (k - (len(rows) - 1) / 2) * width for i in learned], means, width, yerr=stds, capsize=3,
                      label=f"{label} ({runs} run{'s' if runs > 1 else ''})")
        ax.bar_label(bars, [f"{m:.1f}" for m in means], fontsize=7, padding=2)
    ax.set_xticks(range(len(tasks)), [f"{t} top-1" for t in tasks])
    ax.set_ylabel("%")
    ax.set_ylim(0, 125)  # room for the legend above the bars
    ax.set_yticks(range(0, 101, 20))
    ax.legend(fontsize=7, loc="upper center", ncol=min(3, len(rows)))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def read_history(run_dir: str | Path) -> list[dict]:
    path = Path(run_dir) / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []


def plot_curves(run_dir: str | Path, path: str | Path) -> Path | None:
    """Training losses and validation scores per epoch, from the run's metrics.jsonl."""
    history = read_history(run_dir)
    if not history:
        return None
    epochs = [h["epoch"] for h in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for key in sorted(k for k in history[0] if k.startswith("train/")):
        left.plot(epochs, [h.get(key, np.nan) for h in history], label=key[6:])
    left.set_title("training loss")
    left.set_xlabel("epoch")
    left.set_yscale("log")
    left.legend()
    for key in sorted(k for k in history[0] if k.startswith("val/") and ("top1" in k or "pck" in k)):
        right.plot(epochs, [h.get(key, np.nan) for h in history], label=key[4:])
    right.set_title("validation")
    right.set_xlabel("epoch")
    right.set_ylim(0, 1)
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_timeline(streams: dict[str, list[tuple[int, dict[str, str]]]], truth: list[tuple[int, int, str, str]],
                  labels: dict[str, list[str]], title: str, path: str | Path) -> Path:
    """Decisions against the truth over a video: per task, a row of truth then one row per stream (person).

    `streams`: stream -> [(frame, {task: label})]; `truth`: (first, last, task, label) segments. Colours are the
    labels' (grey for `none`).
    """
    tasks = list(labels)
    order = sorted(streams, key=lambda k: (streams[k][0][0] if streams[k] else 0, k))
    colours = {task: {label: ("0.85" if i == 0 else plt.get_cmap("tab20")((i - 1) % 20))
                      for i, label in enumerate(classes)} for task, classes in labels.items()}
    rows = len(order) + 1
    fig, axes = plt.subplots(len(tasks), 1, figsize=(11, 0.8 + len(tasks) * (0.6 + 0.16 * rows)), squeeze=False)
    for ax, task in zip(axes[:, 0], tasks):
        for first, last, t, label in truth:
            if t == task:
                ax.barh(0, last - first + 1, left=first, height=0.8, color=colours[task][label], edgecolor="black")
        seen = set()
        for row, stream in enumerate(order, start=1):
            runs: dict[str, list[tuple[int, int]]] = {}  # label -> (start, length) of consecutive decisions
            last = None
            for f, ls in streams[stream]:
                if task not in ls:
                    continue
                label = ls[task]
                spans = runs.setdefault(label, [])
                if last == (label, f - 1):
                    spans[-1] = (spans[-1][0], spans[-1][1] + 1)
                else:
                    spans.append((f, 1))
                last = (label, f)
            for label, spans in runs.items():
                seen.add(label)
                ax.broken_barh(spans, (row - 0.4, 0.8), color=colours[task][label], linewidth=0)
        ax.set_yticks(range(rows), ["truth", *order], fontsize=6)
        ax.invert_yaxis()
        ax.set_title(f"{title}: {task}", fontsize=9)
        ax.set_xlabel("frame")
        shown = [label for label in labels[task] if label in seen or any(t == task and lb == label
                                                                          for *_, t, lb in truth)]
        ax.legend(handles=[plt.Rectangle((0, 0), 1, 1, color=colours[task][lb]) for lb in shown], labels=shown,
                  fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
