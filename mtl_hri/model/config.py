"""Model configuration and the model card, as data (serialised to model.json)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class ArchConfig:
    """What `build_model` builds: a trunk, a sharing strategy across tasks, and heads."""

    trunk: str = "tsm_mobilenet_v2"
    sharing: str = "hard"
    trunk_weights: str = ""  # "" = the trunk's default init; a registry name or a local state-dict file
    shift_fold_div: int = 8  # TSM: 1/fold_div of the channels see the previous frame
    hand_head: bool = True
    hand_task: str = "gesture"  # the task column the hand head reads when columns differ
    gate_head: bool = False
    dropout: float = 0.2
    cross_stitch_stages: list[int] = field(default_factory=list)  # empty: after every stage but the last
    cross_stitch_init: tuple[float, float] = (0.9, 0.1)  # (self, other) weight of the units at start
    lws_pool_size: int = 0  # candidate modules per layer; 0: one per task


@dataclass
class InputSpec:
    """How frames must be prepared for the model."""

    frames: int = 16
    size: int = 112  # square crop fed to the network
    resize: int = 128  # shorter side after scaling, before the centre crop
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    sample_fps: float = 15.0


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
    format_version: int = 1

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelCard":
        try:
            inp = dict(d.get("input", {}))
            for key in ("mean", "std"):
                if key in inp:
                    inp[key] = tuple(float(v) for v in inp[key])
            arch = dict(d["arch"])
            if "cross_stitch_init" in arch:
                arch["cross_stitch_init"] = tuple(arch["cross_stitch_init"])
            card = cls(
                name=str(d["name"]),
                arch=ArchConfig(**arch),
                labels={str(k): [str(c) for c in v] for k, v in d["labels"].items()},
                input=InputSpec(**inp),
                provenance=Provenance(**d.get("provenance", {})),
                metrics=dict(d.get("metrics", {})),
                weights_sha256=str(d.get("weights_sha256", "")),
                format_version=int(d.get("format_version", 1)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"invalid model card: {exc}") from exc
        card.validate()
        return card

    def validate(self) -> None:
        if self.format_version != 1:
            raise ValueError(f"unsupported model card format_version {self.format_version}")
        for task, classes in self.labels.items():
            if not classes or classes[0] != "none":
                raise ValueError(f"labels of task '{task}' must start with 'none'")
            if len(set(classes)) != len(classes):
                raise ValueError(f"labels of task '{task}' repeat a class")
        i = self.input
        if i.frames < 1 or i.size < 16 or i.resize < i.size or i.sample_fps < 0:
            raise ValueError(f"invalid input spec {i}")
