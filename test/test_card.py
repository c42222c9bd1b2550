"""Model cards are data: model.json is checked field by field, and a bad one is a one-line ModelLoadError."""
import json
from pathlib import Path

import pytest
import torch

from mtl_hri.model import ArchConfig, InputSpec, ModelCard, ModelLoadError, load_card, load_model_dir, save_model_dir
from mtl_hri.model.card import CARD_FILE
from mtl_hri.model.factory import TRUNKS

from .conftest import SMALL_LABELS, make_model_dir

BUNDLED = Path(__file__).parents[1] / "models" / "default"


def test_the_bundled_model_loads():
    card = load_card(BUNDLED)
    assert card.name == "mtl_hri_default" and card.provenance.trained and card.labels["gesture"][0] == "none"
    assert card.input.frames == 16 and isinstance(card.input.mean, tuple) and card.input.sample_fps == 7.5
    model, loaded = load_model_dir(BUNDLED)  # weights checked against the card's sha256 and loaded strictly
    assert loaded == card and model.tasks == list(card.labels)


def test_a_card_survives_the_round_trip(tmp_path):
    card = ModelCard("rt", ArchConfig(trunk="mc3_18", cross_stitch_init=(0.7, 0.3)), SMALL_LABELS,
                     InputSpec(frames=8, size=96, resize=112, sample_fps=10.0), metrics={"val": {"top1": 0.5}})
    assert ModelCard.from_dict(json.loads(json.dumps(card.to_dict()))) == card


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> dict:
    return json.loads((make_model_dir(tmp_path_factory.mktemp("good")) / CARD_FILE).read_text())


def refused(directory: Path, text: str | bytes) -> str:
    """Return the ModelLoadError message for a model.json holding `text`, from both loaders."""
    directory.mkdir(exist_ok=True)
    path = directory / CARD_FILE
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ModelLoadError) as from_card:
        load_card(directory)
    with pytest.raises(ModelLoadError) as from_dir:
        load_model_dir(directory)
    message = str(from_card.value)
    assert str(from_dir.value) == message and "\n" not in message
    assert from_card.value.__cause__ is None and from_card.value.__suppress_context__  # no json traceback attached
    return message


def edited(card: dict, path: str, value) -> str:
    card = json.loads(json.dumps(card))
    *parents, leaf = path.split(".")
    node = card
    for key in parents:
        node = node[key]
    node[leaf] = value
    return json.dumps(card)


@pytest.mark.parametrize("path, value, problem", [
    ("input.frames", "16", "input.frames: expected int, got str '16'"),
    ("input.frames", 0, "input.frames: must be >= 1, got 0"),
    ("input.size", 8, "input.size: needs 16 <= size <= resize <= 1024, got (8, 128)"),
    ("input.resize", 100, "input.size: needs 16 <= size <= resize <= 1024, got (112, 100)"),
    ("input.resize", 2048, "input.size: needs 16 <= size <= resize <= 1024, got (112, 2048)"),
    ("input.std", [0, 0, 0], "input.std: must be finite and > 0, got (0.0, 0.0, 0.0)"),
    ("input.std", [0.2, 0.2], "input.std: expected 3 values (tuple[float, float, float]), got 2"),
    ("input.mean", [0.5, 1.5, 0.5], "input.mean: must be in [0, 1] (of the pixel range), got (0.5, 1.5, 0.5)"),
    ("input.sample_fps", 0, "input.sample_fps: must be finite and > 0, got 0.0"),
    ("input.fps", 15, "input: unknown key 'fps'"),
    ("arch.trunk", "resnet50", "arch.trunk: unknown trunk 'resnet50' (available: " + ", ".join(sorted(TRUNKS))),
    ("arch.sharing", "soft", "arch.sharing: unknown sharing 'soft'"),
    ("arch.hand_head", "yes", "arch.hand_head: expected bool (true or false), got str 'yes'"),
    ("labels.gesture", [], "labels.gesture: must start with 'none', got []"),
    ("labels.gesture", ["none", "wave", "wave"], "labels.gesture: repeats ['wave']"),
    ("labels.action", "none", "labels.action: expected list[str], got str 'none'"),
    ("format_version", 2, "format_version: unsupported version 2 (this code reads 1)"),
    ("format_version", "1", "format_version: expected int, got str '1'"),
    ("weights_sha256", "abc", "weights_sha256: expected 64 lower-case hex digits"),
    ("metrics.val", {"top1": float("nan")}, "metrics.val.top1: expected a finite number, got nan"),
    ("provenance.trained", 1, "provenance.trained: expected bool (true or false), got int 1"),
])
def test_a_bad_field_is_named(tmp_path, good, path, value, problem):
    message = refused(tmp_path, edited(good, path, value))
    assert message.startswith(f"invalid model card {tmp_path / CARD_FILE}: {problem}"), message


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_written_into_model_json_are_refused(tmp_path, good, literal):
    text = json.dumps(good, indent=2).replace('"sample_fps": 15.0', f'"sample_fps": {literal}')
    assert literal in text
    message = refused(tmp_path, text)
    assert message.endswith(f"input.sample_fps: expected a finite float, got {float(literal)!r}")


def test_cards_that_are_not_a_json_object(tmp_path, good):
    path = tmp_path / CARD_FILE
    assert refused(tmp_path, json.dumps([good])) == (
        f"invalid model card {path}: expected a mapping (a JSON object / YAML mapping) for ModelCard, got list "
        "[{'arch': {...}, 'exports': {}, 'format_version': 1, 'input': {...}, ...}]")
    text = json.dumps(good)
    assert refused(tmp_path, text[: len(text) // 2]).startswith(f"corrupt model card {path}: not JSON (")
    assert refused(tmp_path, "") == f"corrupt model card {path}: not JSON (Expecting value at line 1 column 1)"
    assert refused(tmp_path, b"\xff\xfe{\x00}") == f"corrupt model card {path}: not UTF-8 text (byte 0)"
    assert refused(tmp_path, "[" * 100_000) == f"corrupt model card {path}: not JSON (nested too deeply)"
    assert "missing required key 'labels'" in refused(tmp_path, json.dumps({"name": "x", "arch": {}}))


def test_a_card_that_would_not_load_is_never_written(tmp_path):
    model = torch.nn.Linear(1, 1)
    bad = ModelCard("bad", ArchConfig(), SMALL_LABELS, InputSpec(size=256, resize=128))
    with pytest.raises(ValueError, match=r"^model card to save: input.size: needs 16 <= size <= resize"):
        save_model_dir(model, bad, tmp_path / "m")
    nan = ModelCard("nan", ArchConfig(), SMALL_LABELS, metrics={"hands/pck_0.1": float("nan")})
    with pytest.raises(ValueError, match=r"^model card to save: metrics\.hands/pck_0\.1: expected a finite number"):
        save_model_dir(model, nan, tmp_path / "m")
    assert not (tmp_path / "m").exists()
