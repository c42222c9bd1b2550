"""Composite multi-task sets from a data YAML: Set-1..Set-4 of Spathis et al. (2025), and our own.

Set-1..Set-4 are those of Spathis, Kardaris and Maragos, "Multi-task Learning For Joint Action and Gesture Recognition"
(2025). A data YAML names its sources; each is read by its adapter and feeds one task, so every sample is
labelled for that task only (the other task's label is IGNORE, and its loss is masked out):

    name: set1
    flip: {swipe_left: swipe_right}     # optional mirrored class pairs (see LabelSpace)
    labels: {action: [none, ...]}       # optional explicit label space; default: the sources' classes in order
    sampling: {window_ratio: 2.0}       # optional SamplingConfig
    augment: {flip: 0.5}                # optional AugmentConfig
    sources:
      - type: ucf101                    # a key of ADAPTERS
        root: data/UCF101               # relative paths: to the working directory
        task: action                    # optional: route the dataset's classes to this task
        classes: [ApplyEyeMakeup]       # optional subset, or {dataset class: our class}; default all
        splits: {val: test}             # our split -> the dataset's (default: the same name; null: all records)
        options: {fold: 1}              # adapter keyword arguments
        repeat: 1                       # optional: the train split's records this many times over
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from .. import schema
from ..model.config import InputSpec
from .clips import AugmentConfig, ClipDataset, SamplingConfig, collate
from .generic import load_folders, load_manifest
from .isogd import load_isogd
from .ntu import load_ntu
from .nvgesture import load_nvgesture
from .records import NONE, TASKS, ClipRecord, LabelSpace, SourceData
from .ucf101 import load_ucf101

ADAPTERS: dict[str, Callable[..., SourceData]] = {
    "ucf101": load_ucf101,
    "isogd": load_isogd,
    "nvgesture": load_nvgesture,
    "ntu": load_ntu,
    "manifest": load_manifest,
    "folders": load_folders,
}


@dataclass
class SourceConfig:
    type: str
    root: Path
    name: str = ""  # default: the type
    task: str | None = None  # the task this source feeds; None keeps the records' own tasks
    classes: list[str] | dict[str, str] | None = None  # kept classes, or {dataset class: our class}; None: all
    splits: dict[str, str | None] = field(default_factory=dict)  # our split -> the dataset's
    options: dict[str, Any] = field(default_factory=dict)
    repeat: int = 1  # the train split's records this many times over: a small real set among many synthetic clips

    def __post_init__(self) -> None:
        if self.repeat < 1:
            raise ValueError(f"source repeat must be at least 1, got {self.repeat}")
        if self.type not in ADAPTERS:
            raise ValueError(f"unknown source type {self.type!r}; known: {sorted(ADAPTERS)}")
        if self.task is not None and self.task not in TASKS:
            raise ValueError(f"source task must be one of {TASKS}, got {self.task!r}")
        self.root = Path(self.root)
        self.name = self.name or self.type

    def load(self, split: str) -> tuple[list[ClipRecord], dict[str, list[str]]]:
        """Return this source's records of our `split` and its classes per task, after routing and subsetting."""
        data = ADAPTERS[self.type](self.root, self.splits.get(split, split), **self.options)
        classes = data.classes
        if self.task is not None:
            classes = {self.task: [c for names in classes.values() for c in names]}
        rename = None
        if self.classes is not None:
            rename = self.classes if isinstance(self.classes, dict) else {c: c for c in self.classes}
            unknown = set(rename) - {c for names in classes.values() for c in names}
            if unknown:
                raise ValueError(f"source {self.name}: no classes {sorted(unknown)} in the dataset")
            classes = {task: list(dict.fromkeys(rename[c] for c in names if c in rename))
                       for task, names in classes.items()}
        records = []
        for r in data.records:  # fresh from the adapter: edited in place
            if r.task != NONE:
                if rename is not None and r.label not in rename:
                    continue
                r.task = self.task or r.task
                r.label = rename[r.label] if rename is not None else r.label
            r.source = self.name
            records.append(r)
        return records * (self.repeat if split == "train" else 1), classes


@dataclass
class CompositeConfig:
    name: str
    sources: list[SourceConfig]
    labels: dict[str, list[str]] | None = None  # None: "none" + every source's classes, in order, per task
    flip: dict[str, str] = field(default_factory=dict)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    @classmethod
    def from_dict(cls, values: Any, base: Path | None = None, where: str = "data config") -> CompositeConfig:
        """Build the config from parsed YAML, checked as data (ValueError naming the field).

        Relative source roots are taken relative to `base` (default: the working directory).
        """
        config = schema.from_dict(cls, values, where)
        if not config.sources:
            raise ValueError(f"{where}: sources: a data config needs at least one source")
        for source in config.sources:
            if base is not None and not source.root.is_absolute():
                source.root = base / source.root
        return config

    def records(self, split: str) -> tuple[list[ClipRecord], LabelSpace]:
        """Every source's records of `split`, and the label space (the same for every split)."""
        records: list[ClipRecord] = []
        found: dict[str, list[str]] = {}
        for source in self.sources:
            got, classes = source.load(split)
            if not got:
                raise ValueError(f"source {source.name} has no records for split {split!r}")
            records += got
            for task, names in classes.items():
                found.setdefault(task, []).extend(names)
        labels = self.labels or {task: list(dict.fromkeys([NONE, *found[task]])) for task in TASKS if task in found}
        return records, LabelSpace(labels, self.flip)


def load_composite_config(path: Path | str, base: Path | None = None) -> CompositeConfig:
    return CompositeConfig.from_dict(yaml.safe_load(Path(path).read_text()) or {}, base, f"data config {path}")


class CompositeMTLDataset(ClipDataset):
    """The clips of one split of a composite config."""

    def __init__(
        self, config: CompositeConfig, split: str, spec: InputSpec, train: bool, seed: int = 0, backend: str = "auto"
    ) -> None:
        records, labels = config.records(split)
        super().__init__(records, labels, spec, train, seed, config.sampling, config.augment, backend)
        self.config = config
        self.split = split


def load_datasets(path: Path | str, spec: InputSpec, seed: int = 0, backend: str = "auto"):
    """(train set, val set, label space, collate) of a data YAML, as the trainer wants them."""
    config = load_composite_config(path)
    train = CompositeMTLDataset(config, "train", spec, True, seed, backend)
    val = CompositeMTLDataset(config, "val", spec, False, seed, backend)
    return train, val, train.labels, collate
