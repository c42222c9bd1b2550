import json
import logging

import numpy as np
import pytest
import torch

from mtl_hri.model import InputSpec
from mtl_hri.stream import FrameWindow, TorchEngine, resize_crop
from mtl_hri.stream.engine import cuda_devices, resolve_device, resolve_precision
from mtl_hri.stream.normalize import Normalizer
from mtl_hri.stream.preprocess import Pixels, prepare


@pytest.mark.parametrize("width, height", [(768, 576), (640, 480), (1280, 720), (480, 640), (100, 90)])
def test_crop_coordinates_map_back_to_source_pixels(width, height):
    spec = InputSpec()
    x, y = width // 2 + 7, height // 2 - 5
    img = np.zeros((height, width, 3), np.uint8)
    img[y - 2 : y + 3, x - 2 : x + 3] = 255  # a 5x5 dot centred on pixel (x, y)
    crop, geometry = resize_crop(img, spec)
    assert crop.shape == (spec.size, spec.size, 3)
    w = crop[..., 0].astype(np.float64)
    rows, cols = np.mgrid[: spec.size, : spec.size]
    centroid = np.array([(w * (cols + 0.5)).sum(), (w * (rows + 0.5)).sum()]) / w.sum()  # continuous coords
    back = geometry.to_source(centroid)
    assert np.allclose(back, [x, y], atol=0.6 / min(geometry.scale, 1) + 0.3)


def test_normalizer_uses_card_mean_and_std():
    spec = InputSpec(mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    frames = np.full((2, 4, 4, 3), 255, np.uint8)
    x = Normalizer(spec, torch.device("cpu"))(frames)
    assert x.shape == (1, 2, 3, 4, 4) and torch.allclose(x, torch.full_like(x, 2.0))


def test_device_requests_resolve_against_the_cuda_devices_at_hand():
    assert resolve_device("cpu", 0) == resolve_device("cpu", 2) == ("cpu", None)
    device, warning = resolve_device("auto", 0)
    assert device == "cpu" and "CPU" in warning
    assert resolve_device("auto", 1) == ("cuda", None)
    assert resolve_device("cuda:1", 2) == ("cuda:1", None)
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda:0", 0)
    with pytest.raises(ValueError, match=r"'cuda:2' does not exist \(2 CUDA devices\)"):
        resolve_device("cuda:2", 2)
    for bad in ("tpu", "cuda:", "cuda:x", "cudax", "cuda:-1"):
        with pytest.raises(ValueError, match="unknown device"):
            resolve_device(bad, 2)
    assert resolve_precision("auto", "cpu") == "fp32" and resolve_precision("auto", "cuda") == "bf16"
    assert resolve_precision("fp16", "cuda") == "fp16"
    with pytest.raises(ValueError, match="not supported on the CPU"):
        resolve_precision("fp16", "cpu")
    with pytest.raises(ValueError, match="unknown precision"):
        resolve_precision("fp8", "cuda")


def test_the_driver_and_torch_count_the_same_cuda_devices():
    """The torch-free probe that picks the ONNX Runtime path agrees with torch, which serves the other."""
    assert cuda_devices() == torch.cuda.device_count()


def test_recognizer_on_real_footage(model_dir, footage, caplog):
    import cv2

    with caplog.at_level(logging.WARNING):
        engine = TorchEngine(model_dir, device="auto")
    if not torch.cuda.is_available():
        assert "falls back" in caplog.text or "CPU" in caplog.text
    spec = engine.spec
    window = FrameWindow(spec.frames, (spec.size, spec.size, 3), spec.sample_fps)
    cap = cv2.VideoCapture(str(footage))
    due = False
    t = 0
    while not due:
        ok, bgr = cap.read()
        assert ok
        crop, g = prepare(Pixels(bgr, cv2.COLOR_BGR2RGB), spec)
        _, due = window.push(t / 10.0, crop, g)  # vtest.avi is 10 fps
        t += 1
    snap = window.snapshot()
    result = engine.infer(snap.frames, snap.metas)
    for task, head in result.heads.items():
        assert head.labels[0] == "none" and head.probs.shape == (len(head.labels),)
        assert head.probs.sum() == pytest.approx(1.0, abs=1e-5) and np.all(head.probs >= 0)
    for track in (result.left, result.right):
        assert track.xy.shape == (spec.frames, 2) and track.confidence.shape == (spec.frames,)
        assert np.all((track.confidence >= 0) & (track.confidence <= 1))
        # DSNT points lie inside the crop, hence inside the 768x576 source image
        assert np.all((track.xy >= -0.5) & (track.xy <= [767.5, 575.5]))
    assert result.timings.inference_ms > 0


def test_batched_windows_and_frames_equal_one_at_a_time(model_dir):
    """The node batches cameras that are due together; batching must not change any camera's result."""
    engine = TorchEngine(model_dir, device="cpu", streaming=True)
    spec = engine.spec
    rng = np.random.default_rng(3)
    windows = [rng.integers(0, 256, (spec.frames, spec.size, spec.size, 3), np.uint8) for _ in range(2)]
    geometry = [resize_crop(np.zeros((480, 640, 3), np.uint8), spec)[1]] * spec.frames
    batched = engine.infer_many([(w, geometry) for w in windows])
    single = [engine.infer_many([(w, geometry)])[0] for w in windows]
    for (rb, sb), (rs, ss) in zip(batched, single):
        assert np.allclose(rb.heads["action"].probs, rs.heads["action"].probs, atol=1e-5)
        assert np.allclose(rb.left.xy, rs.left.xy, atol=1e-3)
        for a, b in zip(sb.shifts, ss.shifts):
            assert torch.allclose(a, b, atol=1e-5)
    frames = [rng.integers(0, 256, (spec.size, spec.size, 3), np.uint8) for _ in range(2)]
    stepped = engine.step_many([(f, geometry[0], s) for f, (_, s) in zip(frames, batched)])
    alone = [engine.step_many([(f, geometry[0], s)])[0] for f, (_, s) in zip(frames, single)]
    for (ra, _), (rb, _) in zip(stepped, alone):
        assert np.allclose(ra.heads["gesture"].probs, rb.heads["gesture"].probs, atol=1e-5)
        assert np.allclose(ra.right.xy, rb.right.xy, atol=1e-3)


def test_accel_on_the_cpu_is_eager_and_uploads_are_exact(model_dir):
    from mtl_hri.stream.accel import PinnedUploader, choose_window_forward

    engine = TorchEngine(model_dir, device="cpu", streaming=False, accel="auto")
    assert engine.accel == "eager" and engine.warmup_ms["eager"] > 0
    frames = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3), np.uint8)
    assert np.array_equal(PinnedUploader(torch.device("cpu"))(frames).numpy(), frames)
    with pytest.raises(ValueError, match="unknown accel"):
        choose_window_forward(engine.model, torch.zeros(1), "tensorrt", torch.device("cpu"), engine._autocast)


def test_cuda_layout_touches_only_3d_convolutions():
    """channels_last_3d for a 3D trunk whose heads hold 4-D (2D conv) weights: what broke MFNet-3D on an H100."""
    from mtl_hri.data.labels import HRI_LABELS
    from mtl_hri.model import ArchConfig, build_model
    from mtl_hri.stream.accel import prepare_for_device

    model = build_model(ArchConfig(trunk="mfnet3d"), HRI_LABELS, pretrained=False, window_frames=8).eval()
    clip = torch.randn(1, 8, 3, 48, 48)
    with torch.inference_mode():
        before = model(clip).logits["gesture"]
        # the layout change itself runs on any device; only the decision to make it looks at the type
        prepared = prepare_for_device(model, torch.device("cuda"))
        after = prepared(clip).logits["gesture"]
    convs = [m.weight for m in prepared.modules() if isinstance(m, torch.nn.Conv3d)]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last_3d) for w in convs)
    assert any(p.ndim == 4 for p in prepared.parameters())  # the 2D weights that must stay as they were
    torch.testing.assert_close(after, before, atol=1e-4, rtol=1e-4)


def test_engine_bench_on_the_cpu(model_dir, tmp_path):
    """`mtl-hri-bench engine` times the node's engine per window and per streamed frame, and writes JSON."""
    from mtl_hri.tools.bench import main

    out = tmp_path / "engine.json"
    assert main(["engine", "--models", str(model_dir), "--device", "cpu", "--cameras", "1", "2", "--repeats", "2",
                 "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["engines"]
    assert {(r["mode"], r["cameras"]) for r in rows} == {("window", 1), ("window", 2), ("stream", 1), ("stream", 2)}
    assert all(r["latency"]["p50_ms"] > 0 and r["device"] == "cpu" and r["precision"] == "fp32" for r in rows)
    assert all("stream_step" in r["warmup_ms"] for r in rows)
