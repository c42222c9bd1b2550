"""A causal spatial-temporal graph network over a person's keypoints.

After Yan et al., "Spatial Temporal Graph Convolutional Networks for Skeleton-Based Action Recognition", AAAI 2018.
Each block mixes every point with the mean of its present neighbours on the person graph (`keypoints.edges`),
then convolves each point over time. The temporal convolutions are causal (padded on the past side only), so a
frame never sees the future, and a stream only has to keep, per block, the last (kernel - 1) * dilation frames of
its temporal input: one new frame then costs one frame of compute. Internal layout (B, C, T, V).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .config import ArchConfig
from .keypoints import N_CHANNELS, N_POINTS, edges
from .trunk import Context, StagedTrunk
from .weights import TrunkWeights, load_initial_weights

# (out channels, temporal dilation) of each stage's block; the later ones look further back. Half ST-GCN's widths:
# the graph has three times its points (75), and a CPU trains it.
STAGES = ((32, 1), (32, 1), (64, 2), (64, 2), (128, 4))
KERNEL = 3  # frames of each temporal convolution: with the dilations, a frame sees the 20 before it
WEIGHTS = TrunkWeights("kp_stgcn", "keypoints", "classifier.",
                       "a local state-dict file of this trunk (.pth or .safetensors), e.g. from an earlier training")


@dataclass
class KeypointContext(Context):
    """Also which points were seen: (B, 1, T, V), 1 where present."""

    present: torch.Tensor | None = None


def adjacency() -> torch.Tensor:
    """(V, V) 0/1, symmetric, no self-loops: the person graph."""
    a = torch.zeros(N_POINTS, N_POINTS)
    for i, j in edges():
        a[i, j] = a[j, i] = 1.0
    return a


def neighbour_mean(x: torch.Tensor, present: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """Mean of each point's present neighbours: x (B, C, T, V), present (B, 1, T, V); 0 where none is present."""
    total = torch.einsum("bctv,vw->bctw", x * present, a)
    count = torch.einsum("bctv,vw->bctw", present, a)
    return total / count.clamp(min=1.0)


class GraphTemporalBlock(nn.Module):
    def __init__(self, cin: int, cout: int, dilation: int) -> None:
        super().__init__()
        self.own = nn.Conv2d(cin, cout, 1, bias=False)
        self.neighbours = nn.Conv2d(cin, cout, 1, bias=False)
        self.spatial_bn = nn.BatchNorm2d(cout)
        self.temporal = nn.Conv2d(cout, cout, (KERNEL, 1), dilation=(dilation, 1), bias=False)
        self.temporal_bn = nn.BatchNorm2d(cout)
        self.residual = nn.Identity() if cin == cout else nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False),
                                                                        nn.BatchNorm2d(cout))
        self.history = (KERNEL - 1) * dilation  # past frames the temporal convolution reads

    def spatial(self, x: torch.Tensor, present: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return F.relu(self.spatial_bn(self.own(x) + self.neighbours(neighbour_mean(x, present, a))))

    def forward(self, x: torch.Tensor, present: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        y = self.spatial(x, present, a)
        return self._finish(x, F.pad(y, (0, 0, self.history, 0)))

    def step(self, x: torch.Tensor, present: torch.Tensor, a: torch.Tensor,
             cache: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One frame (B, C, 1, V) with the last `history` frames of the temporal input -> (output, new cache)."""
        y = torch.cat([cache, self.spatial(x, present, a)], dim=2)
        return self._finish(x, y), y[:, :, 1:]

    def _finish(self, x: torch.Tensor, padded: torch.Tensor) -> torch.Tensor:
        return F.relu(self.temporal_bn(self.temporal(padded)) + self.residual(x))


class KeypointSTGCN(StagedTrunk):
    """Keypoint sequences (B, T, V, N_CHANNELS) -> canonical maps (B, C, T, V, 1), one block per stage."""

    out_channels = STAGES[-1][0]
    low_channels = STAGES[0][0]  # no hand head reads it: keypoint models take the hands from the front end
    low_stage = 0
    streaming = True

    def __init__(self) -> None:
        super().__init__()
        widths = [N_CHANNELS, *(c for c, _ in STAGES)]
        self.stages = nn.ModuleList(GraphTemporalBlock(cin, cout, d)
                                    for cin, (cout, d) in zip(widths[:-1], STAGES))
        self.register_buffer("graph", adjacency(), persistent=False)  # from the topology, not the weights

    def begin(self, clip: torch.Tensor) -> tuple[torch.Tensor, KeypointContext]:
        x = clip.permute(0, 3, 1, 2)  # (B, N_CHANNELS, T, V)
        return x, KeypointContext(clip.shape[0], clip.shape[1], x[:, 3:4])

    def run_stage(self, i: int, x: torch.Tensor, ctx: KeypointContext) -> torch.Tensor:
        return self.stages[i](x, ctx.present, self.graph)

    def canonical(self, x: torch.Tensor, ctx: Context) -> torch.Tensor:
        return x.unsqueeze(-1)

    def stage_channels(self) -> list[int]:
        return [c for c, _ in STAGES]

    @contextlib.contextmanager
    def recording_shifts(self) -> Iterator[list[torch.Tensor]]:
        """Record, while open, each block's temporal input over the last `history` frames, in block order.

        That is what the block's streaming cache holds after `step` has seen the same frames (zeros before the
        first, as the causal padding gives).
        """
        caches: list[torch.Tensor] = []

        def keep(block: GraphTemporalBlock, args: tuple[torch.Tensor, ...]) -> None:
            padded = args[0]
            caches.append(padded[:, :, -block.history:].clone())

        hooks = [block.temporal.register_forward_pre_hook(lambda m, args, b=block: keep(b, args))
                 for block in self.stages]
        try:
            yield caches
        finally:
            for hook in hooks:
                hook.remove()

    def shift_cache_shapes(self, size: int) -> list[tuple[int, int, int]]:
        """(C, history, V) of every block's cache, in order (`size`, of images, does not apply)."""
        return [(block.temporal.in_channels, block.history, N_POINTS) for block in self.stages]

    def step(self, frame: torch.Tensor,
             caches: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """One frame (B, V, N_CHANNELS) -> (low, high (B, C, V, 1), new caches)."""
        x = frame.permute(0, 2, 1).unsqueeze(2)  # (B, N_CHANNELS, 1, V)
        present, new = x[:, 3:4], []
        for block, cache in zip(self.stages, caches):
            x, c = block.step(x, present, self.graph, cache)
            new.append(c)
        high = x[:, :, 0].unsqueeze(-1)
        return high, high, new


def build_kp_stgcn(arch: ArchConfig, pretrained: bool) -> KeypointSTGCN:
    """Random weights unless `arch.trunk_weights` names a state-dict file: no public keypoint trunk fits this graph."""
    trunk = KeypointSTGCN()
    if pretrained and arch.trunk_weights:
        load_initial_weights(trunk, arch.trunk_weights, WEIGHTS)
    return trunk
