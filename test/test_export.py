"""ONNX export and the ONNX Runtime backend against PyTorch."""
import cv2
import numpy as np
import pytest
import torch

from mtl_hri.model import ArchConfig, InputSpec, ModelCard, build_model, save_model_dir
from mtl_hri.model.card import STREAM_FILE, WINDOW_FILE
from mtl_hri.model.export import export_onnx, verify_onnx
from mtl_hri.stream import FrameWindow
from mtl_hri.stream.engine import create_engine
from mtl_hri.stream.onnx_engine import OnnxEngine
from mtl_hri.stream.preprocess import resize_crop
from mtl_hri.stream.torch_engine import TorchEngine

from .conftest import SMALL_LABELS
from .test_model import trained_like


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    d = tmp_path_factory.mktemp("onnx_model")
    torch.manual_seed(0)
    model = trained_like(build_model(ArchConfig(), SMALL_LABELS, pretrained=False))
    card = ModelCard("onnx_test", ArchConfig(), SMALL_LABELS, input=InputSpec(frames=8))
    model.window_frames = 8
    save_model_dir(model, card, d)
    export_onnx(model, card, d)
    return d, model, card


def test_export_writes_window_and_stream_graphs_matching_torch(exported):
    d, model, card = exported
    assert (d / WINDOW_FILE).is_file() and (d / STREAM_FILE).is_file()
    diffs = verify_onnx(model, card, d)
    assert diffs["window"] <= 1e-3 and diffs["stream"] <= 1e-3, diffs


def frames_from(footage, n):
    cap = cv2.VideoCapture(str(footage))
    return [cv2.cvtColor(cap.read()[1], cv2.COLOR_BGR2RGB) for _ in range(n)]


@pytest.mark.parametrize("streaming", [False, True])
def test_onnxruntime_engine_matches_torch_engine_on_real_frames(exported, footage, streaming):
    d, _, card = exported
    torch_engine = TorchEngine(d, device="cpu", streaming=streaming)
    ort_engine = OnnxEngine(d, device="cpu", streaming=streaming)
    assert ort_engine.streaming == streaming
    window = FrameWindow(card.input.frames, (card.input.size,) * 2 + (3,), sample_fps=0)
    rgb = frames_from(footage, card.input.frames + 4)
    results = []
    for i, frame in enumerate(rgb):
        crop, geometry = resize_crop(frame, card.input)
        window.push(i * 0.1, crop, geometry)
        if not window.full:
            continue
        snap = window.snapshot()
        if streaming and torch_engine.stream_ready:
            pair = torch_engine.step(crop, geometry), ort_engine.step(crop, geometry)
        else:
            pair = torch_engine.infer(snap.frames, snap.metas), ort_engine.infer(snap.frames, snap.metas)
        results.append(pair)
    assert len(results) == 5
    for a, b in results:
        for task in SMALL_LABELS:
            assert np.abs(a.heads[task].probs - b.heads[task].probs).max() <= 1e-3
        for ta, tb in ((a.left, b.left), (a.right, b.right)):
            assert np.abs(ta.xy[-1] - tb.xy[-1]).max() <= 1e-3 * 768  # 1e-3 of normalised range in pixels
            assert np.abs(ta.confidence[-1] - tb.confidence[-1]).max() <= 1e-3


def test_auto_backend_prefers_onnxruntime_on_cpu_when_exported(exported, model_dir):
    d, _, _ = exported
    assert create_engine(d, "auto", device="cpu").backend == "onnxruntime"
    assert create_engine(model_dir, "auto", device="cpu").backend == "torch"  # no export there
    with pytest.raises(ValueError, match="mtl-hri-export"):
        OnnxEngine(model_dir)
    with pytest.raises(ValueError, match="unknown backend"):
        create_engine(d, "tensorflow")


def test_an_export_is_checked_against_its_card_before_it_is_loaded(exported, tmp_path):
    import json
    import shutil

    from mtl_hri.model import ModelLoadError
    from mtl_hri.model.card import CARD_FILE

    d, _, _ = exported
    card = json.loads((d / CARD_FILE).read_text())
    assert set(card["exports"]) == {WINDOW_FILE, STREAM_FILE}
    copy = shutil.copytree(d, tmp_path / "copy")
    # a graph exported for another input size than the card's (the card edited after export)
    edited = dict(card, input=dict(card["input"], size=96, resize=110))
    (copy / CARD_FILE).write_text(json.dumps(edited))
    with pytest.raises(ModelLoadError, match=r"takes input \[1, 3, 112, 112\], but the model card says"):
        OnnxEngine(copy, device="cpu")  # streaming: the per-frame graph is the one opened
    with pytest.raises(ModelLoadError, match=r"takes input \[1, 8, 3, 112, 112\], but the model card says"):
        OnnxEngine(copy, device="cpu", streaming=False)
    # a corrupt or replaced graph, refused when the engine is made even where it would not be opened yet
    (copy / CARD_FILE).write_text(json.dumps(card))
    (copy / WINDOW_FILE).write_bytes(b"not a graph")
    with pytest.raises(ModelLoadError, match="does not match the sha256"):
        OnnxEngine(copy, device="cpu")
    shutil.copy(d / WINDOW_FILE, copy / WINDOW_FILE)
    (copy / STREAM_FILE).write_bytes(b"not a graph")
    with pytest.raises(ModelLoadError, match="does not match the sha256"):
        OnnxEngine(copy, device="cpu", streaming=False)
    shutil.copy(d / STREAM_FILE, copy / STREAM_FILE)
    # an export the card does not vouch for: not chosen automatically, refused when asked for
    (copy / CARD_FILE).write_text(json.dumps(dict(card, exports={})))
    assert create_engine(copy, "auto", device="cpu").backend == "torch"
    with pytest.raises(ModelLoadError, match="no sha256 in the model card"):
        OnnxEngine(copy, device="cpu")
