"""Model directories: `model.json` (the card) plus `model.safetensors`. Nothing is ever unpickled."""
from __future__ import annotations

import json
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from ..checksum import file_sha256
from .config import ModelCard
from .factory import build_model

CARD_FILE = "model.json"
WEIGHTS_FILE = "model.safetensors"


class ModelLoadError(RuntimeError):
    """A model directory is missing, corrupt or inconsistent."""


def save_model_dir(model: nn.Module, card: ModelCard, directory: str | Path) -> Path:
    """Write weights then the card (with the weights' sha256) into `directory`."""
    ModelCard.from_dict(card.to_dict(), "model card to save")  # never write a card that load_card would refuse
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    weights = directory / WEIGHTS_FILE
    save_file(state, str(weights), metadata={"name": card.name})
    weights.chmod(0o644)  # safetensors writes 0600; the model must be readable by the node's user
    card.weights_sha256 = file_sha256(weights)
    return save_card(card, directory)


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


def load_model_dir(directory: str | Path) -> tuple[nn.Module, ModelCard]:
    """Build the card's architecture and load its weights strictly; raises ModelLoadError."""
    directory = Path(directory)
    card = load_card(directory)
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelLoadError(f"no weights at {weights}")
    if card.weights_sha256 and file_sha256(weights) != card.weights_sha256:
        raise ModelLoadError(f"{weights} does not match the sha256 in its model card (corrupt or replaced)")
    try:
        state = load_file(str(weights))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {weights}: {exc}") from exc
    try:
        model = build_model(card.arch, card.labels, pretrained=False, window_frames=card.input.frames)
        model.load_state_dict(state, strict=True)
    except (ValueError, RuntimeError) as exc:
        raise ModelLoadError(f"weights in {weights} do not fit the card's architecture: {exc}") from exc
    return model.eval(), card
