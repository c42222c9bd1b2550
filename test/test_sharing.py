"""Cross-stitch and learned weight sharing: exactness, gradients, NES maths, inference choice, round trip."""
import dataclasses

import pytest
import torch
from torch import nn

from mtl_hri.model import ArchConfig, ModelCard, build_model, load_model_dir, save_model_dir
from mtl_hri.model.cross_stitch import CrossStitchSharing
from mtl_hri.model.lws import LWSSharing, categorical_nes_gradient, fitness_shaping, format_sharing_report
from mtl_hri.model.trunk import StagedTrunk
from mtl_hri.model.tsm import TSMMobileNetV2

from .conftest import SMALL_LABELS

TASKS = list(SMALL_LABELS)


def clip(seed=0, t=2, size=32):
    return torch.randn(1, t, 3, size, size, generator=torch.Generator().manual_seed(seed))


def tsm():
    return TSMMobileNetV2(pretrained=False)


class TinyTrunk(StagedTrunk):
    """Three 1x1x1 Conv3d stages in the default (B, C, T, H, W) layout."""

    out_channels = low_channels = 4
    low_stage = 1

    def __init__(self) -> None:
        super().__init__()
        self.stages = nn.ModuleList([nn.Conv3d(3, 4, 1), nn.Conv3d(4, 4, 1), nn.Conv3d(4, 4, 1)])

    def stage_channels(self) -> list[int]:
        return [4, 4, 4]


def training_loss(out):
    return sum(v.square().mean() for v in out.logits.values()) + out.hand_coords.square().mean()


# ------------------------------------------------------------------ cross-stitch
def test_cross_stitch_at_identity_equals_independent_columns():
    sharing = CrossStitchSharing(tsm, TASKS, ArchConfig(cross_stitch_init=(1.0, 0.0))).eval()
    x = clip()
    with torch.no_grad():
        got = sharing(x)
        for task, column in zip(TASKS, sharing.columns):
            ref = column(x)
            assert torch.equal(got[task].high, ref.high) and torch.equal(got[task].low, ref.low)
        for unit in sharing.units.values():  # a real mix changes the features: the check above is not vacuous
            unit.alpha.copy_(torch.tensor([[0.9, 0.1], [0.1, 0.9]]).unsqueeze(-1).expand_as(unit.alpha))
        assert not torch.equal(sharing(x)["action"].high, sharing.columns[0](x).high)


def test_cross_stitch_units_sit_where_configured_with_the_configured_init():
    default = CrossStitchSharing(TinyTrunk, TASKS, ArchConfig())
    assert sorted(default.units) == ["0", "1"]  # every stage but the last
    alpha = default.units["0"].alpha
    assert alpha.shape == (2, 2, 4)
    assert torch.allclose(alpha[0, 0], torch.full((4,), 0.9)) and torch.allclose(alpha[0, 1], torch.full((4,), 0.1))
    chosen = CrossStitchSharing(TinyTrunk, TASKS, ArchConfig(cross_stitch_stages=[2, 0], cross_stitch_init=(0.7, 0.3)))
    assert sorted(chosen.units) == ["0", "2"]
    three = CrossStitchSharing(TinyTrunk, ["a", "b", "c"], ArchConfig(cross_stitch_init=(0.8, 0.2)))
    assert torch.allclose(three.units["1"].alpha[..., 0],
                          torch.tensor([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]))
    with pytest.raises(ValueError, match="outside"):
        CrossStitchSharing(TinyTrunk, TASKS, ArchConfig(cross_stitch_stages=[3]))


def test_cross_stitch_gradients_reach_alpha_and_alpha_is_its_own_group():
    torch.manual_seed(0)
    model = build_model(ArchConfig(sharing="cross_stitch"), SMALL_LABELS, pretrained=False).train()
    training_loss(model(clip())).backward()
    alphas = model.sharing.cross_stitch_parameters()
    assert len(alphas) == len(model.sharing.columns[0].stages) - 1
    assert all(a.grad is not None and a.grad.abs().sum() > 0 for a in alphas)
    names = {id(p): n for n, p in model.named_parameters()}
    assert all(names[id(a)].endswith(".alpha") for a in alphas)  # parameters of the model, found by identity


# ------------------------------------------------------------------ LWS
def test_lws_forward_backward_and_logits_get_no_sgd_gradient():
    torch.manual_seed(0)
    model = build_model(ArchConfig(sharing="lws"), SMALL_LABELS, pretrained=False).train()
    lws = model.sharing
    assert lws.pool_size == 2 and lws.logits.shape == (2, len(lws.pool[0].stages), 2)
    assert not lws.logits.requires_grad and all(p is not lws.logits for p in model.parameters())
    lws.set_assignment(torch.tensor([[0] * lws.n_stages, [0] * 3 + [1] * (lws.n_stages - 3)]))
    training_loss(model(clip())).backward()
    assert lws.logits.grad is None
    used = [lws.pool[0].stages[6], lws.pool[1].stages[6]]  # the tasks' last stages differ: both trained
    assert all(p.grad is not None for m in used for p in m.parameters())
    assert all(sum(p.grad.abs().sum() for p in m.parameters()) > 0 for m in used)
    assert all(p.grad is None for p in lws.pool[1].stages[0].parameters())  # no task picked it


def test_lws_shares_the_computation_of_a_common_prefix():
    lws = LWSSharing(TinyTrunk, TASKS, ArchConfig())
    lws.set_assignment(torch.tensor([[0, 1, 0], [0, 1, 0]]))
    same = lws(clip())
    assert same["action"].high is same["gesture"].high
    lws.set_assignment(torch.tensor([[0, 1, 0], [0, 1, 1]]))
    split = lws(clip())
    assert split["action"].low is split["gesture"].low and split["action"].high is not split["gesture"].high


def test_lws_eval_uses_each_tasks_argmax_and_the_report_shows_sharing():
    lws = LWSSharing(TinyTrunk, TASKS, ArchConfig(lws_pool_size=3)).eval()
    lws.logits[0] = torch.tensor([[2.0, 0, 0], [0, 2.0, 0], [0, 0, 2.0]])  # action: 0, 1, 2
    lws.logits[1] = torch.tensor([[2.0, 0, 0], [0, 0, 2.0], [0, 0, 2.0]])  # gesture: 0, 2, 2
    x = clip()
    with torch.no_grad():
        got = lws(x)
        for task, path in zip(TASKS, ([0, 1, 2], [0, 2, 2])):
            h = x.transpose(1, 2)
            for stage, k in enumerate(path):
                h = lws.pool[k].stages[stage](h)
            assert torch.equal(got[task].high, h)
    report = lws.sharing_report()
    assert [r.shared for r in report.values()] == [[TASKS], [], [TASKS]]
    assert report[1].choices["gesture"].candidate == 2
    assert report[1].choices["gesture"].probability == pytest.approx(torch.tensor([0.0, 0, 2]).softmax(0)[2].item())
    table = format_sharing_report(report)
    assert "action+gesture" in table and len(table.splitlines()) == 4


def test_lws_sampled_assignments_follow_the_distributions():
    lws = LWSSharing(TinyTrunk, TASKS, ArchConfig())
    lws.logits[1, 2] = torch.tensor([0.0, 3.0])
    a = lws.sample_assignments(2000, torch.Generator().manual_seed(0))
    assert a.shape == (2000, 2, 3) and a.dtype == torch.long
    assert a[:, 1, 2].float().mean().item() == pytest.approx(torch.tensor([0.0, 3.0]).softmax(0)[1].item(), abs=0.03)
    assert a[:, 0, 0].float().mean().item() == pytest.approx(0.5, abs=0.05)


def test_nes_raises_the_probability_of_the_better_assignment():
    lws = LWSSharing(TinyTrunk, TASKS, ArchConfig())
    best = torch.tensor([[0, 1, 1], [1, 0, 1]])

    def p_best() -> float:
        return lws.probabilities().gather(-1, best.unsqueeze(-1)).prod().item()

    assert p_best() == pytest.approx(1 / 2**6)
    g = torch.Generator().manual_seed(0)
    for _ in range(50):
        a = lws.sample_assignments(10, g)
        loss = (a != best).sum(dim=(1, 2)).float()  # toy loss: how far from the best assignment
        lws.nes_update(a, -loss, lr=0.5)
    assert p_best() > 0.8
    lws.eval()
    assert torch.equal(lws.active_assignment(), best)


def test_fitness_shaping_sums_to_zero_is_monotone_and_ignores_monotone_transforms():
    fitness = torch.tensor([0.3, -1.2, 2.5, 0.9, -0.1, 1.7, 0.0, -3.0])
    u = fitness_shaping(fitness)
    assert u.sum().item() == pytest.approx(0.0, abs=1e-12)
    order = torch.argsort(fitness)
    assert torch.all(u[order][1:] >= u[order][:-1]) and u[2] == u.max() and u[2] > 0
    assert torch.equal(fitness_shaping(torch.exp(3 * fitness) + 5), u)
    tied = fitness_shaping(torch.tensor([1.0, 2.0, 2.0, 0.0]))
    assert tied[1] == tied[2] and tied.sum().item() == pytest.approx(0.0, abs=1e-12)


def test_categorical_nes_gradient_moves_mass_to_the_fitter_candidate():
    logits = torch.zeros(1, 3)
    samples = torch.tensor([[0], [1], [2], [1]])
    utilities = torch.tensor([-0.2, 0.5, -0.3, 0.0])
    grad = categorical_nes_gradient(logits, samples, utilities)
    assert torch.allclose(grad, torch.tensor([[-0.2, 0.5, -0.3]]))  # Σu = 0: the -p term cancels


# ------------------------------------------------------------------ model directories
@pytest.mark.parametrize("sharing", ["cross_stitch", "lws"])
def test_model_dir_round_trip_is_bit_identical(tmp_path, sharing):
    torch.manual_seed(0)
    arch = ArchConfig(sharing=sharing, cross_stitch_stages=[1, 3], cross_stitch_init=(0.8, 0.2))
    model = build_model(arch, SMALL_LABELS, pretrained=False)
    with torch.no_grad():
        if sharing == "lws":  # non-default logits: lost ones would change which candidates run
            model.sharing.logits.copy_(torch.randn(model.sharing.logits.shape))
        else:
            for a in model.sharing.cross_stitch_parameters():
                a.add_(0.01 * torch.randn(a.shape))
    model.eval()
    save_model_dir(model, ModelCard(name=f"rt_{sharing}", arch=dataclasses.replace(arch), labels=SMALL_LABELS),
                   tmp_path)
    loaded, card = load_model_dir(tmp_path)
    assert card.arch == arch
    x = clip(3)
    with torch.no_grad():
        a, b = model(x), loaded(x)
    for task in TASKS:
        assert torch.equal(a.logits[task], b.logits[task])
    assert torch.equal(a.hand_coords, b.hand_coords)
    if sharing == "lws":
        assert torch.equal(loaded.sharing.logits, model.sharing.logits)
