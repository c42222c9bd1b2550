"""Networks, their configuration and model directories. Never imports rclpy.

Names are imported on first use (PEP 562), so that reading a model card or an input spec does not load torch.
"""
from __future__ import annotations

from ..lazy import lazy_exports

_EXPORTS = {
    "card": ("ModelLoadError", "load_card", "save_card"),
    "checkpoint": ("load_model_dir", "save_model_dir"),
    "config": ("ArchConfig", "InputSpec", "ModelCard", "Provenance"),
    "factory": ("available", "build_model", "sharing_names", "trunk_names"),
    "network": ("MTLOutput", "MultiTaskNet", "StreamState"),
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
