"""The keypoint modality: the person graph, ROI normalisation, and the causal graph network that streams."""
import numpy as np
import pytest
import torch

from mtl_hri.model import ArchConfig, InputSpec, ModelCard, build_model
from mtl_hri.model.keypoints import BODY_WRISTS, LEFT_HAND, N_CHANNELS, N_POINTS, RIGHT_HAND, edges, normalize_to_roi
from mtl_hri.model.stgcn import KeypointSTGCN, adjacency, neighbour_mean

from .conftest import SMALL_LABELS
from .test_family import keypoint_frames
from .test_model import trained_like

KP_ARCH = ArchConfig(trunk="kp_stgcn", hand_head=False)


def clip(seed: int, t: int) -> torch.Tensor:
    return keypoint_frames((1, t, N_POINTS, N_CHANNELS), torch.Generator().manual_seed(seed))


def test_the_person_graph_joins_every_point_and_each_hand_to_its_wrist():
    pairs = edges()
    assert all(0 <= i < N_POINTS and 0 <= j < N_POINTS and i != j for i, j in pairs)
    assert (BODY_WRISTS["left"], LEFT_HAND) in pairs and (BODY_WRISTS["right"], RIGHT_HAND) in pairs
    reached, frontier = {0}, [0]
    while frontier:
        i = frontier.pop()
        for a, b in pairs:
            for u, v in ((a, b), (b, a)):
                if u == i and v not in reached:
                    reached.add(v)
                    frontier.append(v)
    assert reached == set(range(N_POINTS))
    a = adjacency()
    assert torch.equal(a, a.T) and a.diagonal().sum() == 0


def test_points_are_normalised_to_the_region_and_absent_ones_are_all_zero():
    xy = np.array([[150.0, 250.0], [100.0, 200.0], [999.0, 999.0]])
    out = normalize_to_roi(xy, np.array([0.9, 1.7, 0.8]), np.array([True, True, False]), np.array([100.0, 200.0]),
                           100.0)
    assert out.dtype == np.float32 and out.shape == (3, N_CHANNELS)
    np.testing.assert_allclose(out[0], [0.5, 0.5, 0.9, 1.0])
    np.testing.assert_allclose(out[1], [0.0, 0.0, 1.0, 1.0])  # confidence clipped to [0, 1]
    assert not out[2].any()
    with pytest.raises(ValueError, match="size must be > 0"):
        normalize_to_roi(xy, np.ones(3), np.ones(3, bool), np.zeros(2), 0.0)


def test_a_point_averages_its_present_neighbours_only():
    a = torch.zeros(3, 3)
    a[0, 1] = a[1, 0] = a[0, 2] = a[2, 0] = 1.0  # point 0 between points 1 and 2
    x = torch.tensor([0.0, 4.0, 100.0]).view(1, 1, 1, 3)
    present = torch.tensor([1.0, 1.0, 0.0]).view(1, 1, 1, 3)
    mean = neighbour_mean(x, present, a)
    assert mean[0, 0, 0, 0] == 4.0  # not (4 + 100) / 2, nor (4 + 0) / 2
    assert mean[0, 0, 0, 2] == 0.0  # point 2's only neighbour is present; its mean is of point 0's value, 0


def test_the_network_never_looks_at_future_frames():
    trunk = trained_like(KeypointSTGCN())
    a = clip(1, 12)
    b, c = a.clone(), a.clone()
    b[0, 11] = clip(2, 1)[0, 0]  # only the last frame differs
    c[0, 4] = clip(3, 1)[0, 0]  # a middle frame differs
    with torch.no_grad():
        fa, fb, fc = trunk(a).high, trunk(b).high, trunk(c).high
    assert fa.shape == (1, KeypointSTGCN.out_channels, 12, N_POINTS, 1)
    assert torch.equal(fa[:, :, :11], fb[:, :, :11]) and not torch.equal(fa[:, :, 11], fb[:, :, 11])
    assert torch.equal(fa[:, :, :4], fc[:, :, :4]) and not torch.equal(fa[:, :, 5], fc[:, :, 5])


def test_streaming_one_frame_at_a_time_equals_the_full_window_and_prime_resumes_it():
    model = trained_like(build_model(KP_ARCH, SMALL_LABELS, pretrained=False, window_frames=16))
    x = clip(11, 24)
    with torch.no_grad():
        full = model(x[:, :16])
        state = model.init_state(1, 0)
        for t in range(16):
            out, state = model.step(x[:, t], state)
        for task in SMALL_LABELS:
            assert (out.logits[task] - full.logits[task]).abs().max() <= 1e-4
        assert full.logits["action"].abs().max() > 1e-3  # a meaningful comparison, not zeros
        _, primed = model.prime(x[:, :16])
        for a, b in zip(state.shifts, primed.shifts):
            assert torch.allclose(a, b, atol=1e-5)
        for t in range(16, 24):  # past the window: the ring forgets the oldest frame, the caches roll on
            streamed, state = model.step(x[:, t], state)
            resumed, primed = model.step(x[:, t], primed)
    assert torch.allclose(streamed.logits["gesture"], resumed.logits["gesture"], atol=1e-4)
    assert out.hand_coords is None and full.hand_coords is None


def test_a_card_says_what_a_keypoint_model_takes_and_refuses_what_does_not_fit():
    card = ModelCard("kp", KP_ARCH, SMALL_LABELS, input=InputSpec(modality="keypoints"))
    ModelCard.from_dict(card.to_dict())
    assert card.input.frame_shape == (N_POINTS, N_CHANNELS) and InputSpec().frame_shape == (3, 112, 112)
    assert card.hands_source == "front_end" and ModelCard("rgb", ArchConfig(), SMALL_LABELS).hands_source == "model"
    with pytest.raises(ValueError, match="input.modality: must be 'keypoints', what the trunk 'kp_stgcn' takes"):
        ModelCard.from_dict(dict(card.to_dict(), input=InputSpec().__dict__))
    with pytest.raises(ValueError, match="hand_head: needs an RGB trunk"):
        ModelCard.from_dict(dict(card.to_dict(), arch=dict(card.to_dict()["arch"], hand_head=True)))
    with pytest.raises(ValueError, match="hand_head: needs an RGB trunk"):
        build_model(ArchConfig(trunk="kp_stgcn"), SMALL_LABELS, pretrained=False)
    with pytest.raises(ValueError, match="modality: must be one of rgb, keypoints"):
        ModelCard.from_dict(dict(card.to_dict(), input=dict(card.to_dict()["input"], modality="depth")))


def test_the_trunk_starts_from_a_state_dict_file_when_one_is_named(tmp_path):
    from safetensors.torch import save_file

    from mtl_hri.model.factory import TRUNKS

    torch.manual_seed(5)
    state = KeypointSTGCN().state_dict()
    save_file(state, str(tmp_path / "kp.safetensors"))
    trunk = TRUNKS["kp_stgcn"](ArchConfig(trunk="kp_stgcn", hand_head=False,
                                          trunk_weights=str(tmp_path / "kp.safetensors")), True)
    assert all(torch.equal(v, state[k]) for k, v in trunk.state_dict().items())
