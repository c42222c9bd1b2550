"""ONNX export. A window graph for every model; a per-frame graph with explicit state for streaming ones.

Graph interfaces (the ONNX Runtime engine relies on these names):
- `model.onnx`: input `clip` (1, T, *F) -> `logits_<task>` (1, n) per task in card order, then for models
  with a hand head `hand_coords` (1, Sl, 2, 2), `hand_visibility` (1, Sl, 2). F is the card's
  `input.frame_shape`: (3, S, S) of RGB, or (points, channels) of keypoints.
- `model_stream.onnx`: inputs `frame` (1, *F), `shift_<i>`, `pooled`, `count` -> the same outputs for the
  window ending at `frame` (one hand slice), then `next_shift_<i>`, `next_pooled`, `next_count`. The
  `shift_<i>` are the trunk's per-block caches (TSM's shifted folds, the keypoint network's past frames).
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..checksum import file_sha256
from .card import STREAM_FILE, WINDOW_FILE, output_names, save_card
from .checkpoint import load_model_dir
from .config import ModelCard
from .network import MTLOutput, MultiTaskNet, StreamState

OPSET = 18


def _flat(out: MTLOutput, tasks: list[str]) -> tuple[torch.Tensor, ...]:
    hands = () if out.hand_coords is None else (out.hand_coords, out.hand_visibility)
    return (*(out.logits[t] for t in tasks), *hands)


class WindowGraph(nn.Module):
    def __init__(self, model: MultiTaskNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, clip: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return _flat(self.model(clip), self.model.tasks)


class StreamGraph(nn.Module):
    def __init__(self, model: MultiTaskNet) -> None:
        super().__init__()
        self.model = model

    def forward(self, frame: torch.Tensor, *state: torch.Tensor) -> tuple[torch.Tensor, ...]:
        *shifts, pooled, count = state
        out, new = self.model.step(frame, StreamState(list(shifts), pooled, count))
        return (*_flat(out, self.model.tasks), *new.shifts, new.pooled, new.count)


def export_onnx(model: MultiTaskNet, card: ModelCard, out_dir: str | Path) -> list[Path]:
    """Write the window graph (and the streaming graph when the model streams) into `out_dir`.

    The card is written beside them with each graph's sha256 in `exports`, which the ONNX Runtime engine
    checks before it loads a graph.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = model.eval().float().cpu()
    spec = card.input
    clip = torch.zeros(1, spec.frames, *spec.frame_shape)
    written = [out_dir / WINDOW_FILE]
    with torch.no_grad():
        torch.onnx.export(WindowGraph(model).eval(), (clip,), str(written[0]), input_names=["clip"],
                          output_names=output_names(card), opset_version=OPSET, dynamo=False)
        if model.supports_streaming:
            state = model.init_state(1, spec.size)
            tensors = (*state.shifts, state.pooled, state.count)
            shift_names = [f"shift_{i}" for i in range(len(state.shifts))]
            written.append(out_dir / STREAM_FILE)
            torch.onnx.export(
                StreamGraph(model).eval(), (torch.zeros(1, *spec.frame_shape), *tensors), str(written[1]),
                input_names=["frame", *shift_names, "pooled", "count"],
                output_names=[*output_names(card), *(f"next_{n}" for n in shift_names), "next_pooled", "next_count"],
                opset_version=OPSET, dynamo=False,
            )
    card.exports = {path.name: file_sha256(path) for path in written}
    save_card(card, out_dir)
    return written


def export_model_dir(model_dir: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Export a saved model directory; by default the graphs go beside its weights."""
    model, card = load_model_dir(model_dir)
    return export_onnx(model, card, out_dir or model_dir)


def verify_onnx(model: MultiTaskNet, card: ModelCard, out_dir: str | Path, seed: int = 0) -> dict[str, float]:
    """Max |ONNX Runtime - PyTorch| per graph on a random clip (window) and 3 more frames (stream)."""
    import onnxruntime as ort

    out_dir = Path(out_dir)
    model = model.eval().float().cpu()
    spec = card.input
    g = torch.Generator().manual_seed(seed)
    clip = torch.randn(1, spec.frames + 3, *spec.frame_shape, generator=g)
    diffs = {}
    with torch.no_grad():
        ref = _flat(model(clip[:, : spec.frames]), model.tasks)
        got = ort.InferenceSession(str(out_dir / WINDOW_FILE)).run(None, {"clip": clip[:, : spec.frames].numpy()})
        diffs["window"] = max(float((torch.from_numpy(a) - b).abs().max()) for a, b in zip(got, ref))
        if model.supports_streaming:
            session = ort.InferenceSession(str(out_dir / STREAM_FILE))
            names = [i.name for i in session.get_inputs()][1:]
            state = model.init_state(1, spec.size)
            feed = dict(zip(names, (t.numpy() for t in (*state.shifts, state.pooled, state.count))))
            worst = 0.0
            for t in range(clip.shape[1]):
                out, state = model.step(clip[:, t], state)
                results = session.run(None, {"frame": clip[:, t].numpy(), **feed})
                ref = _flat(out, model.tasks)
                worst = max(worst, *(float((torch.from_numpy(a) - b).abs().max()) for a, b in zip(results, ref)))
                feed = dict(zip(names, results[len(ref):]))
            diffs["stream"] = worst
    return diffs
