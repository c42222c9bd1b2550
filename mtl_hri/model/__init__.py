"""Networks, their configuration and model directories. Never imports rclpy."""
from .checkpoint import ModelLoadError, load_card, load_model_dir, save_model_dir
from .config import ArchConfig, InputSpec, ModelCard, Provenance
from .factory import available, build_model, sharing_names, trunk_names
from .network import MTLOutput, MultiTaskNet, StreamState

__all__ = [
    "ArchConfig", "InputSpec", "MTLOutput", "ModelCard", "ModelLoadError", "MultiTaskNet", "Provenance", "StreamState",
    "available", "build_model", "load_card", "load_model_dir", "save_model_dir", "sharing_names", "trunk_names",
]
