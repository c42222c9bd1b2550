"""The label registry: its label sets are the bundled model's, its mirror pairs the synthetic configs' flips.

It refuses inconsistent entries, and a new label needs nothing but its entry to render.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from mtl_hri.data import labels
from mtl_hri.data.composite import load_composite_config
from mtl_hri.data.records import LabelSpace
from mtl_hri.data.synth import LABELS, REGISTRY, Label, SynthConfig, motions, render_clip
from mtl_hri.data.synth.motions import HRI_FLIP, check_registry, label_sets

ROOT = Path(__file__).resolve().parents[1]


def test_label_sets_are_the_bundled_models():
    card = json.loads((ROOT / "models" / "default" / "model.json").read_text())
    assert labels.HRI_LABELS == card["labels"]
    assert labels.HRI_LABELS is motions.HRI_LABELS  # derived from the registry, not a second table
    assert labels.HRI_ACTIONS is labels.HRI_LABELS["action"] and labels.HRI_GESTURES is labels.HRI_LABELS["gesture"]


@pytest.mark.parametrize("config", sorted(ROOT.glob("config/data/synthetic*.yaml")), ids=lambda p: p.stem)
def test_mirror_pairs_are_the_synthetic_configs_flips(config):
    flip = load_composite_config(config).flip
    assert LabelSpace(labels.HRI_LABELS, flip).flip == HRI_FLIP == labels.HRI_FLIP
    assert HRI_FLIP == {"point_left": "point_right", "point_right": "point_left",
                        "swipe_left": "swipe_right", "swipe_right": "swipe_left"}


def _still(s, m, p) -> None:
    pass


@pytest.mark.parametrize("bad", [
    (*REGISTRY, Label("wave", "gesture", _still)),  # a repeated name
    REGISTRY[1:],  # no idle label first
    (*REGISTRY, Label("none", "gesture", _still)),  # `none` is class 0, never a registered gesture
    (*REGISTRY, Label("run", "movement", _still)),  # not a classified task
    (*REGISTRY, Label("clap", "gesture", _still, mirror="walk")),  # a mirror in another task
    (*REGISTRY, Label("clap", "gesture", _still, mirror="stop")),  # stop's mirror is not clap
], ids=["repeat", "no-idle", "none-gesture", "task", "mirror-task", "one-way-mirror"])
def test_inconsistent_registries_are_refused(bad):
    with pytest.raises(ValueError):
        check_registry(bad)


def _hands_up(s, m, p) -> None:
    p.arms[:, 1] = 170 * s  # both arms swing forward and up over the head


def test_a_new_label_is_one_registry_entry(monkeypatch):
    extended = (*REGISTRY, Label("hands_up", "gesture", _hands_up))
    check_registry(extended)
    sets = label_sets(extended)
    assert sets["gesture"] == [*labels.HRI_GESTURES, "hands_up"] and sets["action"] == labels.HRI_ACTIONS
    monkeypatch.setitem(LABELS, "hands_up", extended[-1])  # what the renderer looks labels up in
    clip = render_clip(SynthConfig(background="plain", photometric=False, shake=False), "gesture", "hands_up",
                       np.random.default_rng(0))
    start, end = clip.hands[clip.start, :, 1], clip.hands[clip.end - 1, :, 1]
    assert (start - end > 0.1 * SynthConfig().height).all()  # both hands end well above where they began


def test_rendering_is_pinned_to_its_bytes():
    """Every label at a small size, shake and photometric effects on: a change of any random draw or drawing call shows.

    A digest changes only on purpose. The bundled model's clips were rendered before walks took any heading (at
    619cd8c, digest f6d35edf...); since then a walk may come toward the camera or go away from it.
    """
    classes = [(task, name) for task in ("action", "gesture") for name in labels.HRI_LABELS[task][1:]]
    cfg = SynthConfig(width=64, height=48, n_frames=(24, 26), background="procedural")
    digest = hashlib.sha256()
    for i, (task, name) in enumerate([*classes, ("none", "none")]):
        clip = render_clip(cfg, task, name, np.random.default_rng([11, i]))
        for array in (clip.frames, clip.hands, clip.visible, np.array([clip.start, clip.end], np.int64)):
            digest.update(np.ascontiguousarray(array).tobytes())
    assert digest.hexdigest() == "8546d766e8a91dc56d25cd600fecf6ce3c644fb5ffc92b60b924bf0f16c6002c"
