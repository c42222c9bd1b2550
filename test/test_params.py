"""The node's parameters are defined once: config/recognizer.yaml and mtl-hri-offline's flags agree with PARAMS."""
from pathlib import Path

import yaml

from mtl_hri.ros.recognizer_node import PARAMS
from mtl_hri.stream.engine import ACCELS, BACKENDS, PRECISIONS

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_parameter_file_holds_the_declared_defaults():
    values = yaml.safe_load((ROOT / "config" / "recognizer.yaml").read_text())["/**"]["ros__parameters"]
    defaults = {p.name: p.default for p in PARAMS}
    assert set(values) <= set(defaults), f"unknown parameters in recognizer.yaml: {set(values) - set(defaults)}"
    for name, value in values.items():
        assert value == defaults[name], f"recognizer.yaml sets {name}={value!r}, the node declares {defaults[name]!r}"


def test_choices_come_from_the_engine_and_offline_flags_share_the_defaults():
    by_name = {p.name: p for p in PARAMS}
    assert by_name["backend"].choices == BACKENDS and by_name["accel"].choices == ACCELS
    assert set(by_name["precision"].choices) == {"auto", *PRECISIONS}
    from mtl_hri.tools.offline import build_parser

    parsed = vars(build_parser().parse_args(["input.mp4"]))
    for name in ("smoothing", "enter_threshold", "exit_threshold", "min_duration", "max_frame_gap", "backend"):
        assert parsed[name] == by_name[name].default, name
