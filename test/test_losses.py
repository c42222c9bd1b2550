import math

import pytest
import torch
from torch import nn

from mtl_hri.data.targets import Targets
from mtl_hri.model.dsnt import dsnt, gaussian_heatmap, spatial_softmax
from mtl_hri.model.network import MTLOutput
from mtl_hri.train.losses import LossConfig, hand_loss, masked_cross_entropy, mtl_losses, slice_targets
from mtl_hri.train.weighting import (
    AverageWeighting,
    DWAWeighting,
    UncertaintyWeighting,
    build_weighting,
)

H = W = 16


def hand_output(heatmaps: torch.Tensor, vis_logits: torch.Tensor | None = None) -> MTLOutput:
    """Hands-only output with coords = dsnt(heatmaps), as the model builds them."""
    b, s = heatmaps.shape[:2]
    if vis_logits is None:
        vis_logits = torch.zeros(b, s, 2, requires_grad=True)
    return MTLOutput(logits={}, hand_heatmaps=heatmaps, hand_coords=dsnt(heatmaps), hand_visibility=vis_logits)


def one_hot_maps(rows_cols: list[tuple[int, int]]) -> torch.Tensor:
    """(1, 1, 2, H, W) one-hot heatmaps for the two hands."""
    m = torch.zeros(1, 1, 2, H, W)
    for j, (r, c) in enumerate(rows_cols):
        m[0, 0, j, r, c] = 1
    return m


# --- hand loss through hand_loss -------------------------------------------------------------

def test_js_term_zero_for_target_gaussian_and_positive_otherwise():
    gt = torch.tensor([[0.2, -0.3], [-0.4, 0.5]])  # (2 hands, xy)
    sigma = 0.15
    cfg = LossConfig(dsnt_lambda=0.0, dsnt_sigma=sigma)  # JS term only
    targets = Targets(labels={}, hands=gt.view(1, 1, 2, 2))
    exact = gaussian_heatmap(gt, (H, W), sigma).view(1, 1, 2, H, W)
    coord, _ = hand_loss(hand_output(exact), targets, cfg)
    assert coord.abs() < 1e-6
    shifted = gaussian_heatmap(gt + 0.3, (H, W), sigma).view(1, 1, 2, H, W)
    coord, _ = hand_loss(hand_output(shifted), targets, cfg)
    assert coord > 0.05


def test_euclidean_term_zero_for_one_hot_at_target():
    maps = one_hot_maps([(3, 4), (10, 12)])
    gt = dsnt(maps).view(1, 1, 2, 2)
    cfg = LossConfig(dsnt_lambda=1.0)  # Euclidean term only
    coord, _ = hand_loss(hand_output(maps), Targets(labels={}, hands=gt), cfg)
    assert coord == 0
    coord, _ = hand_loss(hand_output(maps), Targets(labels={}, hands=gt + 0.25), cfg)
    # each hand is off by 0.25·√2; hand losses are summed
    assert coord.item() == pytest.approx(2 * 0.25 * math.sqrt(2), rel=1e-5)


def test_invisible_hand_and_unannotated_sample_contribute_nothing():
    torch.manual_seed(0)
    b, t = 2, 3
    heat_logits = torch.randn(b, t, 2, H, W, requires_grad=True)
    maps = spatial_softmax(heat_logits)
    out = hand_output(maps)
    gt = dsnt(maps).detach().clone()
    visible = torch.ones(b, t, 2)
    cfg = LossConfig(dsnt_lambda=1.0)
    base, _ = hand_loss(out, Targets(labels={}, hands=gt, hand_visible=visible), cfg)
    assert base.abs() < 1e-6  # every prediction is on target

    # sample 0's right hand is wildly wrong (NaN even) but invisible: no loss, no gradient
    wrong = gt.clone()
    wrong[0, :, 1] = float("nan")
    invisible = visible.clone()
    invisible[0, :, 1] = 0
    coord, vis = hand_loss(out, Targets(labels={}, hands=wrong, hand_visible=invisible), cfg)
    assert coord.abs() < 1e-6
    (coord + vis).backward()
    assert torch.isfinite(heat_logits.grad).all()

    # with the right hand marked visible the same error does count
    far = gt.clone()
    far[0, :, 1] = -0.95
    coord, _ = hand_loss(out, Targets(labels={}, hands=far, hand_visible=visible), cfg)
    assert coord > 0.1

    # sample 0 has no hand annotations at all: neither coordinates nor visibility count
    vis_logits = torch.zeros(b, t, 2)
    vis_logits[0] = 50.0  # confidently "visible" though labelled invisible below
    out = hand_output(maps, vis_logits)
    bad = gt.clone()
    bad[0] = -0.95
    no_hands = Targets(labels={}, hands=bad, hand_visible=invisible, has_hands=torch.tensor([False, True]))
    coord, vis = hand_loss(out, no_hands, cfg)
    assert coord.abs() < 1e-6
    assert vis.item() == pytest.approx(2 * math.log(2), rel=1e-5)  # only sample 1's logits 0 count
    with_hands = Targets(labels={}, hands=bad, hand_visible=invisible, has_hands=torch.tensor([True, True]))
    coord, vis = hand_loss(out, with_hands, cfg)
    assert coord > 0.1 and vis > 5


def test_slice_targets_identity_when_s_equals_t():
    torch.manual_seed(1)
    hands = torch.rand(2, 5, 2, 2) * 2 - 1
    visible = (torch.rand(2, 5, 2) > 0.3).float()
    coords, vis = slice_targets(hands, visible, 5)
    assert torch.equal(vis, visible)
    seen = visible.bool()
    assert torch.equal(coords[seen], hands[seen])


def test_slice_targets_average_visible_frames_per_chunk():
    # T = 5 frames into S = 2 slices: tensor_split gives frames {0,1,2} and {3,4}
    x = torch.tensor([0.0, 0.3, 0.6, -0.2, 0.8])
    hands = torch.stack([x, -x], dim=-1).view(1, 5, 1, 2).repeat(1, 1, 2, 1)
    hands[0, :, 1] *= 0.5  # right hand on a different track
    visible = torch.ones(1, 5, 2)
    visible[0, 1, 0] = 0  # left: slice 0 sees frames 0, 2 -> 2/3 visible
    visible[0, 0, 1] = visible[0, 1, 1] = 0  # right: slice 0 sees frame 2 only -> 1/3
    visible[0, 3, 1] = 0  # right: slice 1 sees frame 4 only -> 1/2, still visible
    hands[0, 1, 0] = float("nan")  # values at invisible frames are never read
    coords, vis = slice_targets(hands, visible, 2)
    assert coords.shape == (1, 2, 2, 2) and vis.shape == (1, 2, 2)
    expected = torch.tensor([
        [[0.3, -0.3], [0.3, -0.3]],  # slice 0: left mean(0, 0.6); right 0.5 * 0.6
        [[0.3, -0.3], [0.4, -0.4]],  # slice 1: left mean(-0.2, 0.8); right 0.5 * 0.8
    ])
    assert torch.allclose(coords[0], expected, atol=1e-6)
    assert torch.equal(vis[0], torch.tensor([[1.0, 0.0], [1.0, 1.0]]))


def test_slice_targets_rejects_more_slices_than_frames():
    with pytest.raises(ValueError):
        slice_targets(torch.zeros(1, 2, 2, 2), torch.ones(1, 2, 2), 3)


# --- classification masking ------------------------------------------------------------------

class TinyHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.action = nn.Linear(8, 3)
        self.gesture = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> MTLOutput:
        return MTLOutput(logits={"action": self.action(x), "gesture": self.gesture(x)},
                         hand_heatmaps=None, hand_coords=None, hand_visibility=None)


def test_unlabelled_task_gets_exactly_zero_gradient():
    torch.manual_seed(2)
    heads = TinyHeads()
    x = torch.randn(4, 8)
    targets = Targets(labels={"action": torch.tensor([1, 2, 0, 1]), "gesture": torch.full((4,), -1)})
    losses = mtl_losses(heads(x), targets, LossConfig(cross_task_negatives=0.0))
    assert set(losses) == {"action", "gesture"}
    AverageWeighting(["action", "gesture"])(losses).backward()
    assert torch.count_nonzero(heads.gesture.weight.grad) == 0
    assert torch.count_nonzero(heads.gesture.bias.grad) == 0
    assert heads.action.weight.grad.abs().sum() > 0


def test_cross_task_negatives_train_the_other_head_towards_none():
    torch.manual_seed(3)
    heads = TinyHeads()
    x = torch.randn(4, 8)
    targets = Targets(labels={"action": torch.tensor([1, 2, 0, -1]), "gesture": torch.tensor([-1, -1, -1, -1])})
    out = heads(x)
    losses = mtl_losses(out, targets, LossConfig(cross_task_negatives=0.3))
    # sample 3 is labelled for no task, so it stays ignored; the others are gesture "none"
    expected = nn.functional.cross_entropy(out.logits["gesture"][:3], torch.zeros(3, dtype=torch.long))
    assert torch.allclose(losses["gesture"], expected)
    losses["gesture"].backward()
    assert heads.gesture.weight.grad.abs().sum() > 0
    assert heads.gesture.bias.grad[0] < 0  # descending the gradient raises the "none" logit


def test_masked_cross_entropy_weights_and_empty_batch():
    logits = torch.randn(3, 4, requires_grad=True)
    target = torch.tensor([2, 0, -1])
    w = torch.tensor([1.0, 0.25, 1.0])
    ce = nn.functional.cross_entropy(logits[:2], target[:2], reduction="none")
    assert torch.allclose(masked_cross_entropy(logits, target, w), (ce[0] + 0.25 * ce[1]) / 1.25)
    empty = masked_cross_entropy(logits, torch.full((3,), -1))
    assert empty.item() == 0 and empty.requires_grad
    empty.backward()
    assert torch.count_nonzero(logits.grad) == 0


# --- weighting ---------------------------------------------------------------------------------

def test_dwa_matches_formula_on_loss_history():
    dwa = DWAWeighting(["action", "gesture", "hands"], temperature=2.0)
    losses = {k: torch.tensor(1.0) for k in dwa.tasks}
    history = [
        {"action": 2.0, "gesture": 1.0, "hands": 0.5},
        {"action": 1.0, "gesture": 0.9, "hands": 0.5},
        {"action": 0.8, "gesture": 0.45, "hands": 0.6},
    ]
    dwa.end_epoch(history[0])
    assert dwa.weights() == {"action": 1.0, "gesture": 1.0, "hands": 1.0}  # epochs 0 and 1
    assert dwa(losses).item() == 3.0
    dwa.end_epoch(history[1])
    # w = (1/2, 0.9/1, 0.5/0.5) = (0.5, 0.9, 1.0); λ = 3·exp(w/2)/Σ exp(w/2)
    e = [math.exp(0.25), math.exp(0.45), math.exp(0.5)]
    expected = [3 * v / sum(e) for v in e]
    assert list(dwa.weights().values()) == pytest.approx(expected, abs=1e-12)
    assert sum(dwa.weights().values()) == pytest.approx(3.0)
    total = dwa({"action": torch.tensor(2.0), "gesture": torch.tensor(1.0), "hands": torch.tensor(0.5)})
    assert total.item() == pytest.approx(2 * expected[0] + expected[1] + 0.5 * expected[2], rel=1e-6)
    dwa.end_epoch(history[2])
    # w = (0.8/1, 0.45/0.9, 0.6/0.5) = (0.8, 0.5, 1.2)
    e = [math.exp(0.4), math.exp(0.25), math.exp(0.6)]
    assert list(dwa.weights().values()) == pytest.approx([3 * v / sum(e) for v in e], abs=1e-12)
    # the history is in the state dict, so a resumed run continues identically
    resumed = DWAWeighting(["action", "gesture", "hands"])
    resumed.load_state_dict(dwa.state_dict())
    assert resumed.weights() == dwa.weights()


def test_uncertainty_total_matches_formula_and_learns():
    unc = UncertaintyWeighting(["action", "hands"])
    s = [0.5, -1.0]
    with torch.no_grad():
        unc.log_vars.copy_(torch.tensor(s))
    losses = {"action": torch.tensor(2.0), "hands": torch.tensor(0.3)}
    total = unc(losses)
    expected = sum(math.exp(-sk) * lk / 2 + sk / 2 for sk, lk in zip(s, [2.0, 0.3]))
    assert total.item() == pytest.approx(expected, rel=1e-6)
    # equivalently Σ L/(2σ²) + log σ
    sigma = [math.exp(sk / 2) for sk in s]
    kendall = sum(lk / (2 * sg**2) + math.log(sg) for sg, lk in zip(sigma, [2.0, 0.3]))
    assert total.item() == pytest.approx(kendall, rel=1e-6)
    total.backward()
    grad = unc.log_vars.grad
    assert torch.count_nonzero(grad) == 2
    # d/ds_k = (1 − exp(−s_k)·L_k) / 2
    assert grad.tolist() == pytest.approx([(1 - math.exp(-sk) * lk) / 2 for sk, lk in zip(s, [2.0, 0.3])], rel=1e-5)
    assert unc.weights()["action"] == pytest.approx(0.5 * math.exp(-0.5))


def test_build_weighting_and_key_checks():
    assert isinstance(build_weighting("average", ["a", "b"]), AverageWeighting)
    assert build_weighting("dwa", ["a", "b"], temperature=1.0).temperature == 1.0
    assert isinstance(build_weighting("uncertainty", ["a"]), UncertaintyWeighting)
    with pytest.raises(ValueError, match="unknown task weighting"):
        build_weighting("gradnorm", ["a"])
    avg = AverageWeighting(["a", "b"])
    assert avg({"a": torch.tensor(1.5)}).item() == 1.5  # a task absent this step adds nothing
    with pytest.raises(KeyError):
        avg({"a": torch.tensor(1.0), "c": torch.tensor(1.0)})


# --- end to end --------------------------------------------------------------------------------

@pytest.mark.parametrize("t,s", [(8, 8), (8, 3)])
def test_random_model_like_outputs_backpropagate_without_nan(t, s):
    torch.manual_seed(4)
    b = 4
    heat_logits = torch.randn(b, s, 2, 7, 7, requires_grad=True)
    cls = {"action": torch.randn(b, 3, requires_grad=True), "gesture": torch.randn(b, 4, requires_grad=True)}
    vis_logits = torch.randn(b, s, 2, requires_grad=True)
    gate = torch.randn(b, 3, requires_grad=True)
    maps = spatial_softmax(heat_logits)
    out = MTLOutput(logits=cls, hand_heatmaps=maps, hand_coords=dsnt(maps), hand_visibility=vis_logits,
                    gate_logits=gate)
    targets = Targets(
        labels={"action": torch.tensor([1, -1, 0, -1]), "gesture": torch.tensor([-1, 3, -1, -1])},
        hands=torch.rand(b, t, 2, 2) * 2 - 1,
        hand_visible=(torch.rand(b, t, 2) > 0.4).float(),
        has_hands=torch.tensor([True, True, False, True]),
        task=torch.tensor([0, 1, 2, -1]),
    )
    cfg = LossConfig(cross_task_negatives=0.2, gate_weight=0.5, label_smoothing=0.1)
    losses = mtl_losses(out, targets, cfg)
    assert set(losses) == {"action", "gesture", "hands", "gate"}
    unc = UncertaintyWeighting(list(losses))
    total = unc(losses)
    total.backward()
    assert torch.isfinite(total)
    for g in [heat_logits.grad, vis_logits.grad, gate.grad, *(v.grad for v in cls.values()), unc.log_vars.grad]:
        assert g is not None and torch.isfinite(g).all()
    assert heat_logits.grad.abs().sum() > 0
