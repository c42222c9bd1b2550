"""mtl_hri.schema.from_dict: mappings from JSON/YAML into dataclasses, every value checked against its annotation."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from mtl_hri.data.composite import CompositeConfig
from mtl_hri.schema import from_dict, type_name
from mtl_hri.train.config import TrainConfig


@dataclass
class Inner:
    frames: int = 16
    rate: float = 15.0
    flag: bool = False
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)


@dataclass
class Outer:
    name: str
    inner: Inner = field(default_factory=Inner)
    items: list[Inner] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)
    root: Path = Path(".")
    note: str | None = None
    mode: Literal["fast", "slow"] = "fast"
    either: list[str] | dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    sizes: tuple[int, ...] = ()


def test_a_valid_mapping_becomes_the_dataclass_with_declared_types():
    out = from_dict(Outer, {
        "name": "x", "inner": {"frames": 8, "rate": 30, "flag": True, "mean": [0.1, 0.2, 0.3]},
        "items": [{"frames": 1}, {}], "groups": {"a": ["p", "q"]}, "root": "data/x", "note": None,
        "mode": "slow", "either": {"k": "v"}, "extra": {"any": [1, "two", {"three": 3.0}]}, "sizes": [1, 2, 3],
    }, "test")
    assert out == Outer("x", Inner(8, 30.0, True, (0.1, 0.2, 0.3)), [Inner(frames=1), Inner()], {"a": ["p", "q"]},
                        Path("data/x"), None, "slow", {"k": "v"}, {"any": [1, "two", {"three": 3.0}]}, (1, 2, 3))
    assert type(out.inner.rate) is float and type(out.inner.mean) is tuple and isinstance(out.root, Path)
    assert from_dict(Outer, {"name": "y"}) == Outer("y")  # defaults fill the rest
    assert from_dict(Outer, {"name": "y", "either": ["a"]}).either == ["a"]


@pytest.mark.parametrize("values, message", [
    ({"name": "x", "inner": {"frames": "16"}}, "test: inner.frames: expected int, got str '16'"),
    ({"name": "x", "inner": {"frames": True}}, "test: inner.frames: expected int, got bool True"),
    ({"name": "x", "inner": {"frames": 16.0}}, "test: inner.frames: expected int, got float 16.0"),
    ({"name": "x", "inner": {"flag": 1}}, "test: inner.flag: expected bool (true or false), got int 1"),
    ({"name": "x", "inner": {"rate": math.nan}}, "test: inner.rate: expected a finite float, got nan"),
    ({"name": "x", "inner": {"rate": -math.inf}}, "test: inner.rate: expected a finite float, got -inf"),
    ({"name": "x", "inner": {"rate": "1e-3"}},
     "test: inner.rate: expected float, got str '1e-3' (YAML reads 1e-3 as text: write 1.0e-3)"),
    ({"name": "x", "inner": {"mean": [0.1, 0.2]}},
     "test: inner.mean: expected 3 values (tuple[float, float, float]), got 2"),
    ({"name": "x", "inner": {"mean": 0.5}},
     "test: inner.mean: expected tuple[float, float, float] (a list), got float 0.5"),
    ({"name": "x", "inner": {"mean": [0.1, math.inf, 0.3]}}, "test: inner.mean[1]: expected a finite float, got inf"),
    ({"name": "x", "inner": {"fps": 3}},
     "test: inner: unknown key 'fps' (known: frames, rate, flag, mean)"),
    ({"inner": {}}, "test: missing required key 'name'"),
    ({"name": None}, "test: name: expected str, got NoneType None"),
    ({"name": "x", "items": [{}, {"frames": "2"}]}, "test: items[1].frames: expected int, got str '2'"),
    ({"name": "x", "items": {"frames": 2}}, "test: items: expected list[Inner], got dict {'frames': 2}"),
    ({"name": "x", "groups": {"a": ["p", 3]}}, "test: groups.a[1]: expected str, got int 3"),
    ({"name": "x", "groups": {1: ["p"]}}, "test: groups: key 1: expected str, got int 1"),
    ({"name": "x", "root": 3}, "test: root: expected a path (str), got int 3"),
    ({"name": "x", "note": 3}, "test: note: expected str, got int 3"),
    ({"name": "x", "mode": "medium"}, "test: mode: expected one of 'fast', 'slow', got str 'medium'"),
    ({"name": "x", "either": 3}, "test: either: expected list[str] | dict[str, str] | None, got int 3"),
    ({"name": "x", "extra": {"loss": [1.0, math.nan]}}, "test: extra.loss[1]: expected a finite number, got nan"),
    ({"name": "x", "sizes": [1, "2"]}, "test: sizes[1]: expected int, got str '2'"),
    ([{"name": "x"}], "test: expected a mapping (a JSON object / YAML mapping) for Outer, got list [{'name': 'x'}]"),
    ("name: x", "test: expected a mapping (a JSON object / YAML mapping) for Outer, got str 'name: x'"),
])
def test_every_mismatch_is_one_value_error_naming_the_path(values, message):
    with pytest.raises(ValueError) as info:
        from_dict(Outer, values, "test")
    assert str(info.value) == message


def test_type_names_read_as_annotations():
    assert type_name(tuple[float, float]) == "tuple[float, float]"
    assert type_name(dict[str, list[str]]) == "dict[str, list[str]]"
    assert type_name(str | None) == "str | None"
    assert type_name(tuple[int, ...]) == "tuple[int, ...]"


def test_train_config_nested_dataclasses_and_tuples():
    cfg = from_dict(TrainConfig, {"name": "t", "data": "d.yaml", "arch": {"cross_stitch_init": [0.8, 0.2]},
                                  "optim": {"cycle_epochs": 4}, "input": {"mean": [0.5, 0.5, 0.5]}}, "train config")
    assert cfg.arch.cross_stitch_init == (0.8, 0.2) and cfg.optim.cycle_epochs == 4.0
    assert cfg.input.mean == (0.5, 0.5, 0.5) and cfg.tasks == ["action", "gesture"]
    with pytest.raises(ValueError, match=r"^train config: loss\.dsnt_lambda: expected float, got str 'half'$"):
        from_dict(TrainConfig, {"name": "t", "data": "d", "loss": {"dsnt_lambda": "half"}}, "train config")


def test_composite_config_sources_and_their_own_checks(tmp_path):
    config = CompositeConfig.from_dict({"name": "c", "augment": {"scale": [0.9, 1.1]},
                                        "sources": [{"type": "manifest", "root": "rel"}]}, base=tmp_path)
    assert config.augment.scale == (0.9, 1.1) and config.sources[0].root == tmp_path / "rel"
    with pytest.raises(ValueError, match=r"^data config: sources\[0\]: unknown source type 'mp4'"):
        CompositeConfig.from_dict({"name": "c", "sources": [{"type": "mp4", "root": "x"}]})
    with pytest.raises(ValueError, match=r"^data config: sources\[0\]\.classes: expected list\[str\] \| dict"):
        CompositeConfig.from_dict({"name": "c", "sources": [{"type": "manifest", "root": "x", "classes": "walk"}]})
    with pytest.raises(ValueError, match=r"^data config: sources: a data config needs at least one source$"):
        CompositeConfig.from_dict({"name": "c", "sources": []})
    with pytest.raises(ValueError, match=r"^data config: sampling\.window_ratio: expected a finite float, got inf$"):
        CompositeConfig.from_dict({"name": "c", "sampling": {"window_ratio": math.inf},
                                   "sources": [{"type": "manifest", "root": "x"}]})
