"""Initial trunk weights: none, a named download, or a local state-dict file (never unpickled beyond tensors)."""
from __future__ import annotations

import logging
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn
from torchvision.models import WeightsEnum

log = logging.getLogger(__name__)


def initial_state(trunk: str, spec: str, named: dict[str, WeightsEnum], where: str) -> dict[str, torch.Tensor] | None:
    """The initial weights `spec` (ArchConfig.trunk_weights) asks for: "" = none (random init, warned),
    a name in `named` (torchvision's weights API, downloads), or a local state-dict file.
    `where` tells a user where such weights are published."""
    if not spec:
        log.warning("%s: Kinetics weights were not requested (arch.trunk_weights is empty); the trunk starts "
                    "from RANDOM weights. Set trunk_weights to %s", trunk, where)
        return None
    if spec in named:
        weights = named[spec]
        try:
            return weights.get_state_dict(progress=True)
        except (OSError, RuntimeError) as exc:  # no network (URLError is an OSError), or a corrupt download
            raise RuntimeError(
                f"{trunk}: cannot fetch the {spec!r} weights from {weights.url} ({exc}). Without internet, "
                f"fetch that file elsewhere and set arch.trunk_weights to its local path (.pth or .safetensors)"
            ) from exc
    if not Path(spec).is_file():
        raise FileNotFoundError(f"{trunk}: trunk_weights {spec!r} is neither a local file nor a known name; "
                                f"use {where}")
    return load_state_dict_file(spec)


def load_state_dict_file(path: str | Path) -> dict[str, torch.Tensor]:
    """A state dict from a `.safetensors` or `.pth`/`.pt` file (tensors only: `weights_only=True`).

    Training checkpoints that wrap the weights as {"state_dict": ...} and keys prefixed with
    "module." (saved from DataParallel, as the MFNet authors' release is) are unwrapped.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"trunk weights file {path} does not exist")
    if path.suffix == ".safetensors":
        state = load_file(str(path))
    elif path.suffix in (".pth", ".pt"):
        state = torch.load(path, map_location="cpu", weights_only=True)
    else:
        raise ValueError(f"trunk weights file {path}: expected .safetensors, .pth or .pt")
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"trunk weights file {path} does not hold a state dict of tensors")
    return {k.removeprefix("module."): v for k, v in state.items()}


def load_trunk_state(net: nn.Module, state: dict[str, torch.Tensor], classifier: str, source: str) -> None:
    """Load `state` into `net` strictly, except keys under the `classifier` prefix (a trunk has no classifier)."""
    state = {k: v for k, v in state.items() if not k.startswith(classifier)}
    try:
        missing, unexpected = net.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches
        raise RuntimeError(f"trunk weights {source} do not fit {type(net).__name__}: {exc}") from exc
    missing = [k for k in missing if not k.startswith(classifier)]
    if missing or unexpected:
        raise RuntimeError(
            f"trunk weights {source} do not fit {type(net).__name__}: "
            f"missing keys {_some(missing)}, unexpected keys {_some(unexpected)}"
        )


def _some(keys: list[str], n: int = 8) -> str:
    return f"{keys[:n]}" + (f" (+{len(keys) - n} more)" if len(keys) > n else "")
