"""The training recipe as data: one YAML file selects every trunk, sharing strategy and weighting."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import schema
from ..model.config import ArchConfig, InputSpec
from .losses import LossConfig


@dataclass
class OptimConfig:
    """The optimiser recipe, by default SGD + Nesterov, wd 5e-4, triangular cyclic LR 5e-4..5e-3.

    The default is the recipe of Kapidis et al., "Multitask Learning to Improve Egocentric Action Recognition" (ICCV
    Workshops 2019).
    """

    name: str = "sgd"  # sgd | adamw
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    lr_min: float = 5e-4
    lr_max: float = 5e-3
    cycle_epochs: float = 20.0  # a full triangle (up and down)
    cross_stitch_lr_mult: float = 10.0  # α learns faster than the columns (Misra et al.)
    grad_clip: float = 0.0  # 0 disables


@dataclass
class WeightingConfig:
    name: str = "average"  # average | dwa | uncertainty
    temperature: float = 2.0  # DWA


@dataclass
class NESConfig:
    """LWS only: assignments sampled per step and the NES step size on the logits."""

    samples: int = 2
    lr: float = 0.1


@dataclass
class TrainConfig:
    name: str
    data: str  # a data YAML (see config/data/)
    arch: ArchConfig = field(default_factory=ArchConfig)
    input: InputSpec = field(default_factory=InputSpec)
    tasks: list[str] = field(default_factory=lambda: ["action", "gesture"])  # one task = an STL baseline
    hands: bool = True  # train the hand head (needs hand labels)
    optim: OptimConfig = field(default_factory=OptimConfig)
    weighting: WeightingConfig = field(default_factory=WeightingConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    nes: NESConfig = field(default_factory=NESConfig)
    epochs: int = 60
    batch_size: int = 8
    amp: bool = True  # bf16 autocast on CUDA; ignored on the CPU
    seed: int = 0
    workers: int = 2
    max_steps_per_epoch: int = 0  # 0: the whole training set
    out: str = "runs/default"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Load a TrainConfig from YAML, checked as data; a relative `data` is resolved against the YAML's directory.

    `overrides` map dotted keys ("optim.lr_max") to values that replace or add to the YAML's.
    """
    path = Path(path)
    where = f"train config {path}"
    values = yaml.safe_load(path.read_text()) or {}
    for dotted, value in (overrides or {}).items():
        node = values
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {}) if isinstance(node, dict) else node
        if not isinstance(node, dict):  # a YAML list or scalar where the override expects a mapping
            raise ValueError(f"{where}: override {dotted}: a value on that path is not a mapping")
        node[leaf] = value
    cfg = schema.from_dict(TrainConfig, values, where)
    cfg.arch.validate(where, "arch.")
    cfg.input.validate(where, "input.")  # the card written after training must load
    if cfg.arch.modality == "keypoints" and cfg.hands:
        raise ValueError(f"{where}: hands: a keypoint model has no hand head (its hands come from the front end): "
                         f"set hands: false")
    if cfg.input.modality != cfg.arch.modality:
        raise ValueError(f"{where}: input.modality: must be {cfg.arch.modality!r}, what the trunk "
                         f"{cfg.arch.trunk!r} takes, got {cfg.input.modality!r}")
    if not Path(cfg.data).is_absolute() and not Path(cfg.data).exists():
        cfg.data = str((path.parent / cfg.data).resolve())
    return cfg
