"""One factory for every model: `build_model(arch, labels)`.

Trunks and sharing strategies are registered by name, so a config (data) selects any combination.
"""
from __future__ import annotations

from typing import Callable

from torch import nn

from .config import SHARING_NAMES, TRUNK_NAMES, ArchConfig
from .cross_stitch import CrossStitchSharing
from .lws import LWSSharing
from .mfnet import build_mfnet3d
from .network import MultiTaskNet
from .sharing import HardSharing
from .stgcn import build_kp_stgcn
from .trunk import StagedTrunk
from .tsm import build_tsm_mobilenet_v2
from .video_resnet import build_mc3_18, build_r2plus1d_18, build_r3d_18

TRUNKS: dict[str, Callable[[ArchConfig, bool], StagedTrunk]] = {
    "tsm_mobilenet_v2": build_tsm_mobilenet_v2,
    "r3d_18": build_r3d_18,
    "mc3_18": build_mc3_18,
    "r2plus1d_18": build_r2plus1d_18,
    "mfnet3d": build_mfnet3d,
    "kp_stgcn": build_kp_stgcn,
}
SHARING: dict[str, Callable[..., nn.Module]] = {
    "hard": HardSharing,
    "cross_stitch": CrossStitchSharing,
    "lws": LWSSharing,
}


def trunk_names() -> list[str]:
    return list(TRUNK_NAMES)


def sharing_names() -> list[str]:
    return list(SHARING_NAMES)


def available() -> list[tuple[str, str]]:
    """(trunk, sharing) pairs that can be built."""
    return [(t, s) for t in trunk_names() for s in sharing_names()]


def build_model(arch: ArchConfig, labels: dict[str, list[str]], pretrained: bool = True,
                window_frames: int = 16) -> MultiTaskNet:
    """Build the network an ArchConfig describes; `pretrained` loads the trunk's initial weights."""
    arch.validate("arch")
    builder = TRUNKS[arch.trunk]
    sharing = SHARING[arch.sharing](lambda: builder(arch, pretrained), list(labels), arch)
    return MultiTaskNet(arch, {task: len(c) for task, c in labels.items()}, sharing, window_frames)
