"""torchvision's 18-layer video ResNets (Tran et al., CVPR 2018: R3D, MC3, R(2+1)D) as staged trunks.

The stages are the network's own blocks: stem, layer1..layer4 (avgpool and fc are dropped), at
spatial strides 2, 2, 4, 8, 16. R3D and R(2+1)D halve time in layer2..layer4 (16 frames -> 2
slices); MC3 convolves in time only in layer1 and never strides in time (16 -> 16).
"""
from __future__ import annotations

from typing import Callable

from torch import nn
from torchvision.models import WeightsEnum, video
from torchvision.models.video.resnet import VideoResNet

from .config import ArchConfig
from .trunk import StagedTrunk
from .weights import TrunkWeights, load_initial_weights

WHERE = "'kinetics400' (torchvision's weights, downloaded) or a local copy of that file (.pth or .safetensors)"


class VideoResNetTrunk(StagedTrunk):
    out_channels = 512
    low_channels = 256
    low_stage = 3  # layer3, spatial stride 8

    def __init__(self, net: VideoResNet) -> None:
        super().__init__()
        self.stages = nn.ModuleList([net.stem, net.layer1, net.layer2, net.layer3, net.layer4])

    def stage_channels(self) -> list[int]:
        return [64, 64, 128, 256, 512]


def _video_resnet(name: str, make: Callable[[], VideoResNet], kinetics: WeightsEnum,
                  arch: ArchConfig, pretrained: bool) -> VideoResNetTrunk:
    net = make()
    if pretrained:
        choices = TrunkWeights(name, "Kinetics", "fc.", WHERE, {"kinetics400": kinetics})
        load_initial_weights(net, arch.trunk_weights, choices)
    return VideoResNetTrunk(net)


def build_r3d_18(arch: ArchConfig, pretrained: bool) -> VideoResNetTrunk:
    return _video_resnet("r3d_18", video.r3d_18, video.R3D_18_Weights.KINETICS400_V1, arch, pretrained)


def build_mc3_18(arch: ArchConfig, pretrained: bool) -> VideoResNetTrunk:
    return _video_resnet("mc3_18", video.mc3_18, video.MC3_18_Weights.KINETICS400_V1, arch, pretrained)


def build_r2plus1d_18(arch: ArchConfig, pretrained: bool) -> VideoResNetTrunk:
    return _video_resnet("r2plus1d_18", video.r2plus1d_18, video.R2Plus1D_18_Weights.KINETICS400_V1, arch, pretrained)
