"""One factory for every model: `build_model(arch, labels)`; variants are registered by name."""
from __future__ import annotations

from typing import Callable

from torch import nn

from .config import ArchConfig
from .network import HardSharingMTL

Builder = Callable[[ArchConfig, dict[str, int], bool], nn.Module]

_REGISTRY: dict[tuple[str, str], Builder] = {
    ("tsm_mobilenet_v2", "hard"): HardSharingMTL,
}


def available() -> list[tuple[str, str]]:
    """(trunk, sharing) pairs that can be built."""
    return sorted(_REGISTRY)


def build_model(arch: ArchConfig, labels: dict[str, list[str]], pretrained: bool = True) -> nn.Module:
    """Build the network an ArchConfig describes; `pretrained` loads trunk initialisation weights."""
    try:
        builder = _REGISTRY[(arch.trunk, arch.sharing)]
    except KeyError:
        raise ValueError(
            f"unknown model trunk={arch.trunk!r} sharing={arch.sharing!r}; available: {available()}"
        ) from None
    return builder(arch, {task: len(classes) for task, classes in labels.items()}, pretrained)
