"""Model directories' weights: `model.safetensors` beside the card (`card.py`). Nothing is ever unpickled."""
from __future__ import annotations

from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from ..checksum import file_sha256
from .card import ModelLoadError, load_card, save_card
from .config import ModelCard
from .factory import build_model

WEIGHTS_FILE = "model.safetensors"


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
