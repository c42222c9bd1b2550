"""`mtl-hri-eval --compare`: runs that differ only in their seed are one setting, reported as mean ± std."""
from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from mtl_hri.tools.evaluate import compare


def write_run(root: Path, name: str, tasks: dict[str, float], seed: int) -> Path:
    run = root / name
    (run / "eval").mkdir(parents=True)
    config = {"name": name, "out": str(run), "seed": seed, "tasks": list(tasks), "epochs": 4}
    (run / "config.json").write_text(json.dumps(config))
    report = {"tasks": {t: {"top1": v} for t, v in tasks.items()}, "hands": None}
    (run / "eval" / "eval.json").write_text(json.dumps(report))
    return run


def row(table: str, label: str) -> list[str]:
    (line,) = [line for line in table.splitlines() if line.startswith(label + " ")]
    return line.split()


def test_seeds_of_one_setting_become_one_row_with_mean_and_std(tmp_path):
    action, gesture = [0.90, 0.94, 0.95], [0.80, 0.86, 0.83]
    runs = [write_run(tmp_path, f"kp_mtl_seed{s}", {"action": a, "gesture": g}, s)
            for s, a, g in zip((0, 1, 2), action, gesture)]
    runs += [write_run(tmp_path, f"kp_stl_action_seed{s}", {"action": a}, s)
             for s, a in zip((0, 1, 2), (0.9, 0.8, 0.85))]
    runs.append(write_run(tmp_path, "kp_stl_gesture_seed0", {"gesture": 0.7}, 0))
    table = compare(runs)
    assert len(table.splitlines()) == 2 + 3, "three settings"
    mtl = row(table, "kp_mtl_seed")
    assert mtl[:3] == ["kp_mtl_seed", "MTL", "3"]
    mean, std = statistics.mean(action) * 100, statistics.stdev(action) * 100
    assert mtl[3:6] == [f"{mean:.1f}", "±", f"{std:.1f}%"]
    assert mtl[6:9] == [f"{statistics.mean(gesture) * 100:.1f}", "±", f"{statistics.stdev(gesture) * 100:.1f}%"]
    stl = row(table, "kp_stl_action_seed")
    assert stl[:3] == ["kp_stl_action_seed", "STL", "3"] and stl[-2] == "-", "no gesture column for an action run"
    assert row(table, "kp_stl_gesture_seed0")[:5] == ["kp_stl_gesture_seed0", "STL", "1", "-", "70.0%"]
    plotted = compare(runs, tmp_path / "compare.png")
    assert plotted.splitlines()[:-1] == table.splitlines() and plotted.endswith(f"plot: {tmp_path / 'compare.png'}")
    assert (tmp_path / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_runs_that_differ_in_more_than_the_seed_stay_apart(tmp_path):
    a = write_run(tmp_path, "a", {"action": 0.5}, 0)
    b = write_run(tmp_path, "b", {"action": 0.6}, 1)
    config = json.loads((b / "config.json").read_text())
    (b / "config.json").write_text(json.dumps({**config, "epochs": 8}))
    table = compare([a, b])
    assert row(table, "a")[2:4] == ["1", "50.0%"] and row(table, "b")[2:4] == ["1", "60.0%"]


def test_a_run_without_an_eval_names_the_fix(tmp_path):
    (tmp_path / "x").mkdir()
    with pytest.raises(FileNotFoundError, match="mtl-hri-eval --out"):
        compare([tmp_path / "x"])
