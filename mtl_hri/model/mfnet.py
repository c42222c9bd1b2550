"""The 3D Multi-Fiber Network (Chen et al., "Multi-Fiber Networks for Video Recognition", ECCV 2018).

It is the trunk of Kapidis et al., "Multitask Learning to Improve Egocentric Action Recognition" (ICCV Workshops 2019).

A multi-fiber unit is a residual unit split into 16 fibers (grouped convolutions), which cuts its
cost about 16-fold; a multiplexer (two 1x1x1 convolutions through k_mid/4 channels, added back to
the input) restores the flow of information between fibers. Units are pre-activation
(BN-ReLU-conv), so the last stage ends with a BN-ReLU `tail`.

Module names follow the authors' PyTorch release (github.com/cypw/PyTorch-MFNet,
network/mfnet_3d.py), so their Kinetics checkpoint loads through `arch.trunk_weights`.
"""
from __future__ import annotations

from collections import OrderedDict

from torch import Tensor, nn

from .config import ArchConfig
from .trunk import StagedTrunk
from .weights import TrunkWeights, load_initial_weights

FIBERS = 16
WEIGHTS = TrunkWeights("mfnet3d", "Kinetics", "classifier.",
                       "a local state-dict file, e.g. the authors' Kinetics-400 checkpoint "
                       "MFNet3D_Kinetics-400_72.8.pth (github.com/cypw/PyTorch-MFNet, 'Trained Models')")


class BNReLUConv3d(nn.Sequential):
    def __init__(self, in_planes: int, out_planes: int, kernel: tuple[int, int, int] = (1, 1, 1),
                 stride: tuple[int, int, int] = (1, 1, 1), groups: int = 1) -> None:
        super().__init__(OrderedDict(
            bn=nn.BatchNorm3d(in_planes),
            relu=nn.ReLU(inplace=True),
            conv=nn.Conv3d(in_planes, out_planes, kernel, stride, tuple(k // 2 for k in kernel), groups=groups,
                           bias=False),
        ))


class MultiFiberUnit(nn.Module):
    def __init__(self, in_planes: int, mid_planes: int, out_planes: int,
                 stride: tuple[int, int, int] = (1, 1, 1), first: bool = False) -> None:
        super().__init__()
        # multiplexer: residual, so the fibers' input starts close to the unit's input
        self.conv_i1 = BNReLUConv3d(in_planes, mid_planes // 4)
        self.conv_i2 = BNReLUConv3d(mid_planes // 4, in_planes)
        self.conv_m1 = BNReLUConv3d(in_planes, mid_planes, (3, 3, 3), stride, FIBERS)
        # The paper leaves the first unit of a stage implicit; as in the authors' code, its second conv is
        # a dense 1x1x1 (it also changes the width) and its shortcut a strided 1x1x1 projection.
        if first:
            self.conv_m2 = BNReLUConv3d(mid_planes, out_planes)
            self.conv_w1 = BNReLUConv3d(in_planes, out_planes, stride=stride)
        else:
            self.conv_m2 = BNReLUConv3d(mid_planes, out_planes, (1, 3, 3), groups=FIBERS)
            self.conv_w1 = None

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv_m2(self.conv_m1(x + self.conv_i2(self.conv_i1(x))))
        return h + (x if self.conv_w1 is None else self.conv_w1(x))


def mf_stage(in_planes: int, planes: int, blocks: int, stride: tuple[int, int, int]) -> nn.Sequential:
    """`blocks` units of width `planes` (k_mid = k_out in MFNet-3D); the first one strides."""
    return nn.Sequential(OrderedDict(
        (f"B{i + 1:02d}", MultiFiberUnit(in_planes if i == 0 else planes, planes, planes,
                                         stride if i == 0 else (1, 1, 1), first=i == 0))
        for i in range(blocks)
    ))


class MFNet3D(nn.Module):
    """MFNet-3D's modules under the authors' names (no pooling, no classifier); `MFNetTrunk` runs them.

    For 16x224x224: conv1 16x112x112, maxpool 16x56x56, conv2 8x56x56, conv3 8x28x28, conv4 8x14x14,
    conv5 8x7x7. Time is halved once, by conv2's first unit (paper, Table 1).
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(OrderedDict(
            conv=nn.Conv3d(3, 16, (3, 5, 5), (1, 2, 2), (1, 2, 2), bias=False),
            bn=nn.BatchNorm3d(16),
            relu=nn.ReLU(inplace=True),
        ))
        self.maxpool = nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))
        self.conv2 = mf_stage(16, 96, 3, (2, 1, 1))
        self.conv3 = mf_stage(96, 192, 4, (1, 2, 2))
        self.conv4 = mf_stage(192, 384, 6, (1, 2, 2))
        self.conv5 = mf_stage(384, 768, 3, (1, 2, 2))
        self.tail = nn.Sequential(OrderedDict(bn=nn.BatchNorm3d(768), relu=nn.ReLU(inplace=True)))
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


class MFNetTrunk(StagedTrunk):
    out_channels = 768
    low_channels = 192
    low_stage = 2  # conv3, spatial stride 8

    def __init__(self, net: MFNet3D) -> None:
        super().__init__()
        self.stages = nn.ModuleList([
            nn.Sequential(net.conv1, net.maxpool), net.conv2, net.conv3, net.conv4, nn.Sequential(net.conv5, net.tail),
        ])

    def stage_channels(self) -> list[int]:
        return [16, 96, 192, 384, 768]


def build_mfnet3d(arch: ArchConfig, pretrained: bool) -> MFNetTrunk:
    net = MFNet3D()
    if pretrained:
        load_initial_weights(net, arch.trunk_weights, WEIGHTS)
    return MFNetTrunk(net)
