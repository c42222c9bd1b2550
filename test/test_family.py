"""Every trunk x sharing combination builds, trains, saves, exports and serves.

Each trains a step through all losses, saves/loads bit-identically, exports to ONNX matching PyTorch within 1e-3, and
serves through the engine the node uses.
"""
import numpy as np
import pytest
import torch

from mtl_hri.data.targets import Targets
from mtl_hri.model import ArchConfig, InputSpec, ModelCard, build_model, load_model_dir, save_model_dir
from mtl_hri.model.config import KEYPOINT_TRUNKS
from mtl_hri.model.export import export_onnx, verify_onnx
from mtl_hri.model.factory import available
from mtl_hri.stream.engine import create_engine
from mtl_hri.stream.preprocess import geometry_for
from mtl_hri.train.losses import LossConfig, mtl_losses
from mtl_hri.train.weighting import build_weighting

from .conftest import SMALL_LABELS

SPEC = InputSpec(frames=8, size=64, resize=72)
KEYPOINT_SPEC = InputSpec(frames=8, size=64, resize=72, modality="keypoints")
COMBOS = available()


def keypoint_frames(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """Keypoints as the front end gives them: some points absent, all zeros, the others flagged present."""
    x = torch.randn(*shape, generator=generator) * 0.3
    present = (torch.rand(shape[:-1], generator=generator) > 0.3).float()
    x[..., 2] = torch.rand(shape[:-1], generator=generator)
    x[..., 3] = 1.0
    return x * present.unsqueeze(-1)


def example(trunk: str) -> tuple[InputSpec, torch.Tensor, np.ndarray]:
    """Return the card's input for `trunk`, a training batch of 2 clips, and one window as the engines take it."""
    g = torch.Generator().manual_seed(3)
    if trunk in KEYPOINT_TRUNKS:
        clip = keypoint_frames((2, SPEC.frames, *KEYPOINT_SPEC.frame_shape), g)
        return KEYPOINT_SPEC, clip, clip[0].numpy()
    frames = np.random.default_rng(0).integers(0, 256, (SPEC.frames, SPEC.size, SPEC.size, 3), np.uint8)
    return SPEC, torch.randn(2, SPEC.frames, 3, SPEC.size, SPEC.size, generator=g), frames


def targets(b: int, t: int) -> Targets:
    g = torch.Generator().manual_seed(1)
    return Targets(
        labels={"action": torch.tensor([1, -1]), "gesture": torch.tensor([-1, 2])},
        hands=torch.rand(b, t, 2, 2, generator=g) * 1.6 - 0.8,
        hand_visible=(torch.rand(b, t, 2, generator=g) > 0.3).float(),
        has_hands=torch.tensor([True, True]),
        task=torch.tensor([0, 1]),
    )


def test_all_combinations_are_registered():
    trunks = {t for t, _ in COMBOS}
    sharing = {s for _, s in COMBOS}
    assert trunks == {"tsm_mobilenet_v2", "r3d_18", "mc3_18", "r2plus1d_18", "mfnet3d", "kp_stgcn"}
    assert sharing == {"hard", "cross_stitch", "lws"}


@pytest.mark.parametrize("trunk, sharing", COMBOS)
def test_combination_end_to_end(trunk, sharing, tmp_path):
    torch.manual_seed(0)
    spec, clip, frames = example(trunk)
    rgb = spec.modality == "rgb"  # keypoint models have no hand head: their hands come from the front end
    arch = ArchConfig(trunk=trunk, sharing=sharing, gate_head=True, hand_head=rgb)
    model = build_model(arch, SMALL_LABELS, pretrained=False, window_frames=SPEC.frames)
    # one training step through every loss and a learned weighting
    out = model.train()(clip)
    losses = mtl_losses(out, targets(2, SPEC.frames), LossConfig(cross_task_negatives=0.3, gate_weight=0.5))
    assert set(losses) == {"action", "gesture", "gate"} | ({"hands"} if rgb else set())
    weighting = build_weighting("uncertainty", list(losses))
    weighting(losses).backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(torch.isfinite(g).all() for g in grads if g is not None)
    assert sum(g is not None and g.abs().sum() > 0 for g in grads) > len(grads) // 2
    assert weighting.log_vars.grad.abs().sum() > 0
    # save / load: bit-identical outputs
    card = ModelCard(f"{trunk}_{sharing}", arch, SMALL_LABELS, input=spec)
    save_model_dir(model.eval(), card, tmp_path)
    loaded, _ = load_model_dir(tmp_path)
    with torch.no_grad():
        a, b = model(clip[:1]), loaded(clip[:1])
    for task in SMALL_LABELS:
        assert torch.equal(a.logits[task], b.logits[task])
    assert (a.hand_coords is None) == (not rgb) and (not rgb or torch.equal(a.hand_coords, b.hand_coords))
    # ONNX: every combination exports and matches PyTorch
    export_onnx(loaded, card, tmp_path)
    diffs = verify_onnx(loaded, card, tmp_path)
    assert max(diffs.values()) <= 1e-3, diffs
    # the node's engine serves it from the directory, on both backends
    geometry = [geometry_for(SPEC.size, SPEC.size, SPEC)] * SPEC.frames
    results = [create_engine(tmp_path, backend, device="cpu", streaming=False).infer(frames, geometry)
               for backend in ("torch", "onnxruntime")]
    for task in SMALL_LABELS:
        assert np.abs(results[0].heads[task].probs - results[1].heads[task].probs).max() <= 1e-3
