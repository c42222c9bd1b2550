"""The 3D-CNN trunks: torchvision's 18-layer video ResNets and MFNet-3D.

MFNet-3D is the trunk of Kapidis et al., "Multitask Learning to Improve Egocentric Action Recognition" (ICCV Workshops
2019).
"""
import logging
import pickle

import pytest
import torch
from safetensors.torch import save_file
from torch import nn
from torchvision.models import mobilenet_v2, video

from mtl_hri.model import ArchConfig, ModelCard, build_model, load_model_dir, save_model_dir
from mtl_hri.model.factory import TRUNKS
from mtl_hri.model.flops import count_flops, count_parameters, gmacs
from mtl_hri.model.mfnet import MFNet3D
from mtl_hri.model.tsm import STAGE_STARTS, WEIGHTS, imagenet_state_dict
from mtl_hri.model.weights import TrunkWeights, initial_state, offline_copy

from .conftest import SMALL_LABELS

# (low, high) feature shapes without the batch for an 8x64x64 clip: low at spatial stride 8
SHAPES = {
    "r3d_18": ((256, 2, 8, 8), (512, 1, 4, 4)),
    "mc3_18": ((256, 8, 8, 8), (512, 8, 4, 4)),  # MC3 never strides in time
    "r2plus1d_18": ((256, 2, 8, 8), (512, 1, 4, 4)),
    "mfnet3d": ((192, 4, 8, 8), (768, 4, 2, 2)),  # time halved once, in conv2
}
NEW_TRUNKS = list(SHAPES)
RESNET_STAGES = ("stem", "layer1", "layer2", "layer3", "layer4")


def clip(batch=1, t=8, size=64, seed=0):
    return torch.randn(batch, t, 3, size, size, generator=torch.Generator().manual_seed(seed))


def torchvision_state(seed=0):
    """Make a torchvision-format MC3-18 state dict, classifier (fc.*) included."""
    torch.manual_seed(seed)
    return video.mc3_18(num_classes=400).state_dict()


def save_state(state, path):
    if path.suffix == ".safetensors":
        save_file(state, str(path))
    else:
        torch.save(state, path)
    return str(path)


@pytest.mark.parametrize("name", NEW_TRUNKS)
def test_features_and_stage_channels(name):
    trunk = TRUNKS[name](ArchConfig(trunk=name), False).eval()
    x = clip()
    with torch.no_grad():
        features = trunk(x)
        h, ctx = trunk.begin(x)
        channels = []
        for i in range(len(trunk.stages)):
            h = trunk.run_stage(i, h, ctx)
            channels.append(h.shape[1])
    low, high = SHAPES[name]
    assert tuple(features.low.shape) == (1, *low) and tuple(features.high.shape) == (1, *high)
    assert channels == trunk.stage_channels()
    assert (trunk.low_channels, trunk.out_channels) == (low[0], high[0]) == (channels[trunk.low_stage], channels[-1])


@pytest.mark.parametrize("name", NEW_TRUNKS)
def test_hard_sharing_model_forward_and_backward(name):
    torch.manual_seed(0)
    model = build_model(ArchConfig(trunk=name), SMALL_LABELS, pretrained=False).train()
    out = model(clip(batch=2))
    slices = SHAPES[name][1][1]
    assert out.hand_coords.shape == (2, slices, 2, 2) and out.hand_visibility.shape == (2, slices, 2)
    assert out.hand_heatmaps.shape == (2, slices, 2, 8, 8)
    assert {t: v.shape for t, v in out.logits.items()} == {"action": (2, 3), "gesture": (2, 4)}
    (sum(v.sum() for v in out.logits.values()) + out.hand_coords.sum()).backward()
    stages = model.sharing.trunk.stages
    for stage in (stages[0], stages[-1]):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in stage.parameters())


@pytest.mark.parametrize("name", NEW_TRUNKS)
def test_model_directory_round_trip_is_bit_identical(tmp_path, name):
    arch = ArchConfig(trunk=name)
    torch.manual_seed(1)
    model = build_model(arch, SMALL_LABELS, pretrained=False).eval()
    save_model_dir(model, ModelCard(name=f"test_{name}", arch=arch, labels=SMALL_LABELS), tmp_path)
    loaded, card = load_model_dir(tmp_path)
    assert card.arch.trunk == name
    x = clip(seed=2)
    with torch.no_grad():
        a, b = model(x), loaded(x)
    assert all(torch.equal(a.logits[t], b.logits[t]) for t in SMALL_LABELS)
    assert torch.equal(a.hand_coords, b.hand_coords) and torch.equal(a.hand_visibility, b.hand_visibility)


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_video_resnet_starts_from_a_local_torchvision_file(tmp_path, suffix):
    state = torchvision_state()
    assert "fc.weight" in state  # a classifier in the file is ignored
    path = save_state(state, tmp_path / f"mc3_18{suffix}")
    trunk = TRUNKS["mc3_18"](ArchConfig(trunk="mc3_18", trunk_weights=path), True)
    compared = 0
    for stage, prefix in zip(trunk.stages, RESNET_STAGES):
        for key, value in stage.state_dict().items():
            assert torch.equal(value, state[f"{prefix}.{key}"]), key
            compared += 1
    assert compared == len(state) - 2  # everything but fc.weight, fc.bias


def test_mfnet_starts_from_the_authors_checkpoint_layout(tmp_path):
    """A training checkpoint {"state_dict": ...} saved from DataParallel ("module." keys), with a classifier."""
    torch.manual_seed(3)
    state = {f"module.{k}": v for k, v in MFNet3D().state_dict().items()}
    state.update({"module.classifier.weight": torch.zeros(400, 768), "module.classifier.bias": torch.zeros(400)})
    path = tmp_path / "mfnet3d_kinetics.pth"
    torch.save({"epoch": 1, "state_dict": state}, path)
    trunk = TRUNKS["mfnet3d"](ArchConfig(trunk="mfnet3d", trunk_weights=str(path)), True)
    names = {"stages.0.0.": "conv1.", "stages.1.": "conv2.", "stages.2.": "conv3.", "stages.3.": "conv4.",
             "stages.4.0.": "conv5.", "stages.4.1.": "tail."}
    own = trunk.state_dict()
    for key, value in own.items():
        prefix = next(p for p in names if key.startswith(p))
        assert torch.equal(value, state["module." + names[prefix] + key[len(prefix):]]), key
    assert len(own) == len(state) - 2


def test_a_file_that_does_not_fit_names_the_keys(tmp_path):
    state = torchvision_state()
    state["layer9.weight"] = state.pop("layer4.1.conv2.0.weight")
    path = save_state(state, tmp_path / "renamed.pth")
    keys = r"missing keys \['layer4.1.conv2.0.weight'\], unexpected keys \['layer9.weight'\]"
    with pytest.raises(RuntimeError, match=keys):
        TRUNKS["mc3_18"](ArchConfig(trunk="mc3_18", trunk_weights=path), True)
    other = save_state(torchvision_state(), tmp_path / "mc3_18.pth")
    with pytest.raises(RuntimeError, match="do not fit MFNet3D"):  # another network's file
        TRUNKS["mfnet3d"](ArchConfig(trunk="mfnet3d", trunk_weights=other), True)


class Payload:
    """Any class: unpickling one could run code, so weights_only loading must refuse it."""


def test_weights_files_are_never_unpickled_beyond_tensors(tmp_path):
    path = tmp_path / "pickled.pth"
    torch.save({"stem.0.weight": torch.zeros(1), "payload": Payload()}, path)
    with pytest.raises(pickle.UnpicklingError):
        TRUNKS["mc3_18"](ArchConfig(trunk="mc3_18", trunk_weights=str(path)), True)


def test_weight_choices_without_a_file(caplog):
    with pytest.raises(FileNotFoundError, match="neither a local file nor a known name"):
        TRUNKS["mfnet3d"](ArchConfig(trunk="mfnet3d", trunk_weights="kinetics400"), True)
    # pretrained=False (a model directory is being loaded): trunk_weights is never read
    TRUNKS["mfnet3d"](ArchConfig(trunk="mfnet3d", trunk_weights="/no/such/file.pth"), False)
    with caplog.at_level(logging.WARNING):
        TRUNKS["mc3_18"](ArchConfig(trunk="mc3_18"), True)
    assert "Kinetics weights were not requested" in caplog.text and "RANDOM" in caplog.text


@pytest.mark.parametrize("name", sorted(TRUNKS))
def test_every_trunk_reads_trunk_weights(name):
    with pytest.raises(FileNotFoundError, match=rf"^{name}: trunk_weights '/no/such/file.pth' is neither"):
        TRUNKS[name](ArchConfig(trunk=name, trunk_weights="/no/such/file.pth"), True)


def mobilenet_key(key: str) -> str:
    """Map a TSM trunk key to the torchvision MobileNetV2 key it was loaded from (a shifted block keeps `conv`)."""
    _, stage, _, layer, rest = key.split(".", 4)
    return f"features.{STAGE_STARTS[int(stage)] + int(layer)}.{rest}"


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_tsm_starts_from_a_local_torchvision_file(tmp_path, suffix):
    torch.manual_seed(4)
    state = mobilenet_v2().state_dict()
    path = save_state(state, tmp_path / f"mobilenet_v2{suffix}")
    trunk = TRUNKS["tsm_mobilenet_v2"](ArchConfig(trunk_weights=path), True)
    own = trunk.state_dict()
    for key, value in own.items():
        assert torch.equal(value, state[mobilenet_key(key)]), key
    assert len(own) == len(state) - 2  # everything but classifier.1.weight, classifier.1.bias


def test_tsm_default_and_imagenet_name_use_the_local_copy_without_download():
    if offline_copy(WEIGHTS.named["imagenet"]) is None:
        pytest.skip("no local copy of torchvision's MobileNetV2 ImageNet weights")
    state = imagenet_state_dict()
    for spec in ("", "imagenet"):
        trunk = TRUNKS["tsm_mobilenet_v2"](ArchConfig(trunk_weights=spec), True)
        assert all(torch.equal(v, state[mobilenet_key(k)]) for k, v in trunk.state_dict().items()), spec


def test_one_resolver_for_empty_names_and_files(tmp_path, caplog):
    choices = TrunkWeights("mc3_18", "Kinetics", "fc.", "somewhere", {"kinetics400": video.MC3_18_Weights.DEFAULT})
    with caplog.at_level(logging.WARNING):
        assert initial_state("", choices) is None  # no default: random init, and said so
    assert "mc3_18: Kinetics weights were not requested" in caplog.text
    state = torchvision_state(5)
    for suffix in (".pth", ".safetensors"):
        loaded = initial_state(save_state(state, tmp_path / f"w{suffix}"), choices)
        assert loaded.keys() == state.keys() and all(torch.equal(loaded[k], state[k]) for k in state)
    (tmp_path / "w.bin").write_bytes(b"\0")
    with pytest.raises(ValueError, match="expected .safetensors, .pth or .pt"):
        initial_state(str(tmp_path / "w.bin"), choices)
    with pytest.raises(FileNotFoundError, match="use somewhere"):
        initial_state("kinetics700", choices)


def test_kinetics400_without_internet_points_to_a_local_file():
    try:
        trunk = TRUNKS["mc3_18"](ArchConfig(trunk="mc3_18", trunk_weights="kinetics400"), True)
    except RuntimeError as exc:
        assert "mc3_18-" in str(exc) and "local path" in str(exc)
    else:  # online, or torch hub already holds the file
        assert trunk.stage_channels()[-1] == 512


def test_flops_count_a_multiply_add_as_two():
    conv = nn.Conv3d(2, 4, 3, padding=1, bias=False)
    assert count_flops(conv, torch.zeros(1, 2, 1, 5, 5)) == 2 * (4 * 2 * 27) * 25
    assert gmacs(conv, torch.zeros(1, 2, 1, 5, 5)) == 4 * 2 * 27 * 25 / 1e9


def test_mfnet_size_and_cost_match_the_paper():
    """The MFNet paper: 8.0 M parameters and 11.1 GFLOPs (multiply-adds) per 16x224x224 clip, classifier included.

    Its 400-way Kinetics classifier has 768*400 + 400 = 0.31 M parameters. The trunk alone has 7.69 M, with that
    classifier 8.00 M. We count 11.05 G multiply-adds in convolutions only (no BN, ReLU, pooling,
    additions; the classifier adds 0.0003 G). Counted on the meta device: no compute.
    """
    with torch.device("meta"):
        trunk = TRUNKS["mfnet3d"](ArchConfig(trunk="mfnet3d"), False)
        macs = gmacs(trunk, torch.empty(1, 16, 3, 224, 224))
    params = count_parameters(trunk)
    assert abs(params - 8.0e6) <= 0.1 * 8.0e6
    assert abs(params + 768 * 400 + 400 - 8.0e6) <= 0.01 * 8.0e6
    assert abs(macs - 11.1) <= 0.03 * 11.1
