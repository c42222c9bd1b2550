"""Model configuration and the model card, as data (serialised to model.json)."""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any

from .. import schema
from .keypoints import N_CHANNELS, N_POINTS
from .ros4hri_labels import OTHER, card_map, check_card_map

NONE = "none"  # class 0 of every task: nobody is doing anything of it
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# What a card may name. The factory builds each (test_model checks that the two agree); the names live here so
# that a card is checked without importing torch.
TRUNK_NAMES = ("kp_stgcn", "mc3_18", "mfnet3d", "r2plus1d_18", "r3d_18", "tsm_mobilenet_v2")
SHARING_NAMES = ("cross_stitch", "hard", "lws")
KEYPOINT_TRUNKS = ("kp_stgcn",)  # trunks over keypoint sequences (keypoints.py); the others take RGB clips
MODALITIES = ("rgb", "keypoints")


@dataclass
class ArchConfig:
    """What `build_model` builds: a trunk, a sharing strategy across tasks, and heads."""

    trunk: str = "tsm_mobilenet_v2"
    sharing: str = "hard"
    # "" = the trunk's default init (TSM: ImageNet if installed offline; others: random); a name of the trunk's
    # (kinetics400 for the video ResNets, imagenet for TSM), or a local .pth / .safetensors state dict
    trunk_weights: str = ""
    shift_fold_div: int = 8  # TSM: 1/fold_div of the channels see the previous frame
    hand_head: bool = True
    hand_task: str = "gesture"  # the task column the hand head reads when columns differ
    gate_head: bool = False
    dropout: float = 0.2
    cross_stitch_stages: list[int] = field(default_factory=list)  # empty: after every stage but the last
    cross_stitch_init: tuple[float, float] = (0.9, 0.1)  # (self, other) weight of the units at start
    lws_pool_size: int = 0  # candidate modules per layer; 0: one per task

    @property
    def modality(self) -> str:
        """What the trunk takes: one of MODALITIES."""
        return "keypoints" if self.trunk in KEYPOINT_TRUNKS else "rgb"

    def validate(self, where: str, prefix: str = "") -> None:
        if self.trunk not in TRUNK_NAMES:
            raise ValueError(f"{where}: {prefix}trunk: unknown trunk {self.trunk!r} "
                             f"(available: {', '.join(TRUNK_NAMES)})")
        if self.sharing not in SHARING_NAMES:
            raise ValueError(f"{where}: {prefix}sharing: unknown sharing {self.sharing!r} "
                             f"(available: {', '.join(SHARING_NAMES)})")
        _check(not (self.hand_head and self.modality == "keypoints"), where, f"{prefix}hand_head",
               "needs an RGB trunk (keypoint models take the hands from the front end)", self.hand_head)
        _check(self.shift_fold_div >= 1, where, f"{prefix}shift_fold_div", "must be >= 1", self.shift_fold_div)
        _check(0 <= self.dropout < 1, where, f"{prefix}dropout", "must be in [0, 1)", self.dropout)
        _check(self.lws_pool_size >= 0, where, f"{prefix}lws_pool_size", "must be >= 0", self.lws_pool_size)


@dataclass
class InputSpec:
    """How frames must be prepared for the model."""

    frames: int = 16
    size: int = 112  # square crop fed to the network
    resize: int = 128  # shorter side after scaling, before the centre crop
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    sample_fps: float = 15.0
    modality: str = "rgb"  # one of MODALITIES; keypoints: size, resize, mean and std do not apply

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """One frame as the network takes it: (3, size, size), or (N_POINTS, N_CHANNELS) of keypoints.py."""
        return (N_POINTS, N_CHANNELS) if self.modality == "keypoints" else (3, self.size, self.size)

    def validate(self, where: str, prefix: str = "") -> None:
        _check(self.modality in MODALITIES, where, f"{prefix}modality", f"must be one of {', '.join(MODALITIES)}",
               self.modality)
        _check(self.frames >= 1, where, f"{prefix}frames", "must be >= 1", self.frames)
        _check(16 <= self.size <= self.resize <= 1024, where, f"{prefix}size",
               "needs 16 <= size <= resize <= 1024", (self.size, self.resize))
        _check(all(math.isfinite(m) and 0 <= m <= 1 for m in self.mean), where, f"{prefix}mean",
               "must be in [0, 1] (of the pixel range)", self.mean)
        _check(all(math.isfinite(s) and s > 0 for s in self.std), where, f"{prefix}std", "must be finite and > 0",
               self.std)
        _check(math.isfinite(self.sample_fps) and self.sample_fps > 0, where, f"{prefix}sample_fps",
               "must be finite and > 0", self.sample_fps)


def _check(ok: bool, where: str, path: str, rule: str, value: Any) -> None:
    if not ok:
        raise ValueError(f"{where}: {path}: {rule}, got {value!r}")


@dataclass
class Provenance:
    """Where the weights came from; stated honestly in every card."""

    trained: bool = False
    init: str = ""
    training: str = ""
    notes: str = ""


@dataclass
class ModelCard:
    name: str
    arch: ArchConfig
    labels: dict[str, list[str]]  # task -> classes, index 0 is always "none"
    input: InputSpec = field(default_factory=InputSpec)
    provenance: Provenance = field(default_factory=Provenance)
    metrics: dict[str, Any] = field(default_factory=dict)
    weights_sha256: str = ""
    exports: dict[str, str] = field(default_factory=dict)  # exported graph file -> its sha256 (mtl-hri-export)
    format_version: int = 1
    # task -> label -> the hri_msgs constant (Gesture, BodyPosture) it is published as; a card without one gets
    # the default tables' (ros4hri_labels.card_map)
    ros4hri: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.ros4hri:
            self.ros4hri = card_map(self.labels) if isinstance(self.labels, dict) else {}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def ros4hri_constant(self, task: str, label: str) -> str:
        """Return the name of the hri_msgs constant that `label` of `task` is published as (OTHER if unmapped)."""
        return self.ros4hri.get(task, {}).get(label, OTHER)

    @property
    def hands_source(self) -> str:
        """Where the `hands` outputs come from: `model` (its DSNT head), or `front_end` (its hand landmarks)."""
        return "model" if self.arch.hand_head else "front_end"

    @classmethod
    def from_dict(cls, values: Any, where: str = "model card") -> ModelCard:
        """Build a card from parsed JSON, its types and ranges checked; ValueError naming the field otherwise."""
        card = schema.from_dict(cls, values, where)
        card.validate(where)
        return card

    def validate(self, where: str = "model card") -> None:
        """Ranges the types cannot say; ValueError "`where`: field: problem"."""
        if self.format_version != 1:
            raise ValueError(f"{where}: format_version: unsupported version {self.format_version} (this code reads 1)")
        if not self.labels:
            raise ValueError(f"{where}: labels: no task")
        for task, classes in self.labels.items():
            if not classes or classes[0] != NONE:
                raise ValueError(f"{where}: labels.{task}: must start with 'none', got {classes[:3]}")
            repeated = sorted({c for c in classes if classes.count(c) > 1})
            if repeated:
                raise ValueError(f"{where}: labels.{task}: repeats {repeated}")
        if self.weights_sha256 and not re.fullmatch(r"[0-9a-f]{64}", self.weights_sha256):
            raise ValueError(f"{where}: weights_sha256: expected 64 lower-case hex digits or \"\"")
        for name, digest in self.exports.items():
            if not re.fullmatch(r"[0-9a-f]{64}", digest) or "/" in name:
                raise ValueError(f"{where}: exports.{name}: expected a file name and 64 lower-case hex digits")
        check_card_map(self.ros4hri, self.labels, where)
        self.arch.validate(where, "arch.")
        self.input.validate(where, "input.")
        _check(self.input.modality == self.arch.modality, where, "input.modality",
               f"must be {self.arch.modality!r}, what the trunk {self.arch.trunk!r} takes", self.input.modality)
