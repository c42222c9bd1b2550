"""Training on a tiny synthetic set: the loss falls and accuracy beats chance.

Resuming reproduces an uninterrupted run exactly; a 2-process DDP (gloo) run completes; STL configs train one head.
"""
import json
import math
import os
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from mtl_hri.data.synth import SynthConfig, generate
from mtl_hri.model import build_model, load_card, load_model_dir, save_model_dir
from mtl_hri.train.config import OptimConfig, load_config
from mtl_hri.train.evaluate import EvalReport
from mtl_hri.train.metrics import classification_metrics
from mtl_hri.train.trainer import _card, train, triangular_lr

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory):
    """Make a tiny synthetic set (2 clips per class, 96x72) and a recipe for a small, fast model."""
    d = tmp_path_factory.mktemp("tiny")
    generate(SynthConfig(width=96, height=72, n_frames=(24, 28), min_segment=24, clips_per_class=3, idle_clips=3,
                         splits=(0.67, 0.33, 0.0), background="procedural", seed=3), d / "synth", progress=False)
    data = d / "data.yaml"
    data.write_text(yaml.safe_dump({"name": "tiny", "sampling": {"by_time": True}, "augment": {"flip": 0.0},
                                    "flip": {"point_left": "point_right", "swipe_left": "swipe_right"},
                                    "sources": [{"name": "synth", "type": "manifest", "root": str(d / "synth")}]}))
    recipe = d / "recipe.yaml"
    recipe.write_text(yaml.safe_dump({
        "name": "tiny", "data": str(data), "input": {"frames": 4, "size": 64, "resize": 72, "sample_fps": 3.75},
        "optim": {"name": "adamw", "lr_min": 1e-3, "lr_max": 1e-3, "weight_decay": 0.0},
        "loss": {"cross_task_negatives": 0.3}, "epochs": 2, "batch_size": 4, "workers": 0, "seed": 0,
        "out": str(d / "run")}))
    return recipe


def history(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_triangular_lr_follows_the_cycle():
    cfg = load_config(ROOT / "config" / "train" / "default.yaml").optim
    assert triangular_lr(0, cfg) == pytest.approx(cfg.lr_min)
    assert triangular_lr(cfg.cycle_epochs / 2, cfg) == pytest.approx(cfg.lr_max)
    assert triangular_lr(cfg.cycle_epochs, cfg) == pytest.approx(cfg.lr_min)


def test_default_recipe_is_the_papers(tmp_path):
    # Kapidis et al. (ICCV Workshops 2019): SGD + Nesterov 0.9, wd 5e-4, triangular 5e-4 -> 5e-3 over 20 epochs
    paper = OptimConfig()
    assert paper.name == "sgd" and paper.nesterov and paper.momentum == 0.9 and paper.weight_decay == 5e-4
    assert (paper.lr_min, paper.lr_max, paper.cycle_epochs) == (5e-4, 5e-3, 20.0)
    cfg = load_config(ROOT / "config" / "train" / "default.yaml")  # the bundled model's: the same optimiser
    assert cfg.optim.name == "sgd" and cfg.optim.nesterov and cfg.optim.momentum == 0.9
    assert cfg.optim.weight_decay == 5e-4 and cfg.batch_size == 32
    assert Path(cfg.data).is_file()
    with pytest.raises(ValueError, match="unknown"):
        load_config(ROOT / "config" / "train" / "default.yaml", {"optim.nesterv": True})


def test_recipe_mistakes_name_the_field(tmp_path):
    default = ROOT / "config" / "train" / "default.yaml"
    cfg = load_config(default, {"optim.lr_max": 0.02, "arch.sharing": "lws", "tasks": ["gesture"]})
    assert cfg.optim.lr_max == 0.02 and cfg.arch.sharing == "lws" and cfg.tasks == ["gesture"]
    where = f"train config {default}"
    for overrides, problem in [
        ({"input.frames": "four"}, "input.frames: expected int, got str 'four'"),
        ({"input.size": 256}, "input.size: needs 16 <= size <= resize <= 1024, got (256, 128)"),
        ({"arch.trunk": "vit"}, "arch.trunk: unknown trunk 'vit'"),
        ({"arch.trunk": "kp_stgcn", "arch.hand_head": False}, "hands: a keypoint model has no hand head"),
        ({"arch.trunk": "kp_stgcn", "arch.hand_head": False, "hands": False},
         "input.modality: must be 'keypoints', what the trunk"),
        ({"optim.lr_max": float("nan")}, "optim.lr_max: expected a finite float, got nan"),
        ({"epochs": True}, "epochs: expected int, got bool True"),
        ({"optim.lr_max.x": 1}, "override optim.lr_max.x: a value on that path is not a mapping"),
    ]:
        with pytest.raises(ValueError) as info:
            load_config(default, overrides)
        assert str(info.value).startswith(f"{where}: {problem}"), str(info.value)
    listed = tmp_path / "listed.yaml"
    listed.write_text("- name: x\n")
    with pytest.raises(ValueError, match=r"listed.yaml: expected a mapping \(a JSON object / YAML mapping\)"):
        load_config(listed)


def test_a_metric_with_nothing_to_measure_is_null_in_the_card(tmp_path):
    """An empty validation task gives NaN metrics, which JSON cannot hold; the card must still save and load."""
    cfg = load_config(ROOT / "config" / "train" / "default.yaml")
    labels = {"action": ["none", "walk"], "gesture": ["none", "wave"]}
    empty = classification_metrics(np.zeros((0, 2)), np.zeros(0, np.int64))
    report = EvalReport({"action": empty, "gesture": empty}, None)
    assert math.isnan(report.summary()["action/top1"])
    model = build_model(cfg.arch, labels, pretrained=False, window_frames=cfg.input.frames)
    save_model_dir(model, _card(cfg, labels, report, 0), tmp_path / "m")
    card = load_card(tmp_path / "m")
    assert card.metrics["action/top1"] is None and card.provenance.trained


def test_loss_falls_and_accuracy_beats_chance(tiny_set):
    cfg = load_config(tiny_set, {"epochs": 8, "out": str(tiny_set.parent / "learn")})
    run = train(cfg)
    h = history(run)
    assert h[-1]["train/total"] < 0.8 * h[0]["train/total"], [r["train/total"] for r in h]
    # memorising a handful of clips: well above chance (1/7 actions, 1/9 gestures) on the training clips
    from torch.utils.data import DataLoader

    from mtl_hri.data.clips import collate
    from mtl_hri.data.composite import CompositeMTLDataset, load_composite_config
    from mtl_hri.train.evaluate import evaluate

    model, card = load_model_dir(run / "last")
    assert card.provenance.trained and "tiny" in card.provenance.training and card.metrics
    data = CompositeMTLDataset(load_composite_config(cfg.data), "train", card.input, train=False)
    report = evaluate(model, DataLoader(data, batch_size=4, collate_fn=collate), card.input, torch.device("cpu"))
    assert report.tasks["gesture"].top1 > 2 / 9 and report.tasks["action"].top1 > 2 / 7, report.summary()


def test_resume_reproduces_an_uninterrupted_run(tiny_set):
    straight = train(load_config(tiny_set, {"out": str(tiny_set.parent / "straight")}))
    half = load_config(tiny_set, {"out": str(tiny_set.parent / "resumed"), "epochs": 1})
    train(half)
    resumed = train(replace(half, epochs=2), resume=True)
    a, _ = load_model_dir(straight / "last")
    b, _ = load_model_dir(resumed / "last")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name
    assert [r["train/total"] for r in history(straight)] == [r["train/total"] for r in history(resumed)]


def test_single_task_baseline_trains_one_head(tiny_set):
    run = train(load_config(tiny_set, {"out": str(tiny_set.parent / "stl"), "epochs": 1, "tasks": ["gesture"]}))
    model, card = load_model_dir(run / "last")
    assert list(card.labels) == ["gesture"] and model.tasks == ["gesture"]


def test_ddp_two_processes_with_gloo(tiny_set):
    out = tiny_set.parent / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    with socket.socket() as s:  # a free loopback port for the rendezvous
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
         f"--master_port={port}", "-m", "mtl_hri.tools.train", "--config", str(tiny_set),
         "--set", f"out={out}", "epochs=1"],
        env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / "last" / "model.json").is_file() and len(history(out)) == 1
