"""A model directory's card (`model.json`) and the names of what sits beside it. Imports no torch.

The card says what the weights (`checkpoint.py`) and the ONNX graphs (`export.py`) are, and the ONNX Runtime
engine needs nothing else to serve them: reading a card, or the graphs' interface, must not cost torch.
"""
from __future__ import annotations

import json
from pathlib import Path

from .config import ModelCard

CARD_FILE = "model.json"
WINDOW_FILE = "model.onnx"
STREAM_FILE = "model_stream.onnx"


class ModelLoadError(RuntimeError):
    """A model directory is missing, corrupt or inconsistent."""


def output_names(card: ModelCard) -> list[str]:
    """Name the outputs of both graphs, in order: one `logits_<task>` per task in card order, then any hands."""
    hands = ["hand_coords", "hand_visibility"] if card.arch.hand_head else []
    return [f"logits_{t}" for t in card.labels] + hands


def save_card(card: ModelCard, directory: str | Path) -> Path:
    """Write `model.json`; the card is checked first, so that a card load_card would refuse is never written."""
    ModelCard.from_dict(card.to_dict(), "model card to save")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CARD_FILE).write_text(json.dumps(card.to_dict(), indent=2) + "\n")
    return directory


def load_card(directory: str | Path) -> ModelCard:
    """Load the card of a model directory, checked as data; ModelLoadError with a one-line reason otherwise."""
    path = Path(directory) / CARD_FILE
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ModelLoadError(f"no model card at {path}") from None
    except OSError as exc:
        raise ModelLoadError(f"cannot read model card {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ModelLoadError(f"corrupt model card {path}: not UTF-8 text (byte {exc.start})") from None
    try:
        values = json.loads(text)  # NaN and Infinity parse, and are refused below with the field's name
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise ModelLoadError(f"corrupt model card {path}: not JSON ({exc.msg} at {where})") from None
    except RecursionError:
        raise ModelLoadError(f"corrupt model card {path}: not JSON (nested too deeply)") from None
    try:
        return ModelCard.from_dict(values, f"invalid model card {path}")
    except ValueError as exc:
        raise ModelLoadError(str(exc)) from None
