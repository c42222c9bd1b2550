"""Networks, their configuration and model directories. Never imports rclpy.

Names are imported on first use (PEP 562), so that reading a model card or an input spec does not load torch.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "checkpoint": ("ModelLoadError", "load_card", "load_model_dir", "save_model_dir"),
    "config": ("ArchConfig", "InputSpec", "ModelCard", "Provenance"),
    "factory": ("available", "build_model", "sharing_names", "trunk_names"),
    "network": ("MTLOutput", "MultiTaskNet", "StreamState"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
