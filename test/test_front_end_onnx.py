"""The front end's ONNX Runtime route: the TFLite models converted to ONNX, run by ONNX Runtime as LiteRT runs them.

Real models and real frames (vtest.avi), no mocks. Here ONNX Runtime has only its CPU provider; on a robot's GPU the
same files run on TensorRT or CUDA. The tolerances are about ten times the largest differences measured between
LiteRT and ONNX Runtime (CPU) on real inputs: 19 vtest frames for the detector, 76 detection crops for the body
model, 87 wrist crops for the hand model.
"""
from pathlib import Path

import cv2
import numpy as np
import pytest

from mtl_hri.checksum import file_sha256
from mtl_hri.perception import hands
from mtl_hri.perception.convert import ONNX_SHA256, convert_to_onnx, onnx_path
from mtl_hri.perception.detector import PersonDetector
from mtl_hri.perception.frontend import FrontEnd, FrontEndParams
from mtl_hri.perception.litert import TfliteModel
from mtl_hri.perception.models import MODELS, POSE_LANDMARKS, FrontEndModelError, default_dir
from mtl_hri.perception.pose import PoseLandmarker
from mtl_hri.perception.roi import Roi, crop
from mtl_hri.perception.runtime import OnnxModel, load_model
from mtl_hri.tools.fetch_front_end import main as fetch_front_end

from .test_perception import frames

if not all((default_dir() / m.name).is_file() for m in MODELS):
    pytest.skip(f"the front end's TFLite models are not in {default_dir()} (`make setup`)", allow_module_level=True)

# Largest |ONNX Runtime - LiteRT| measured -> tolerance, per output.
TOLERANCE = {
    "ssd_mobilenetv2_oidv4.tflite": {
        "raw_outputs/box_encodings": 1e-3,  # 6.5e-5 (values up to 81)
        "raw_outputs/class_predictions": 1e-3,  # 4.2e-5 (logits up to 20)
    },
    "pose_landmark_full.tflite": {
        "Identity": 0.03,  # landmarks, crop px: 0.0024 on the 70 bodies found, 0.089 on a crop holding none
        "Identity_1": 2e-4,  # presence: 2.2e-5
        "Identity_2": 20.0,  # segmentation logits up to 1900 (unused): 2.0
        "Identity_3": 5e-3,  # heatmaps up to 90: 4.9e-4
        "Identity_4": 5e-3,  # world landmarks, m: 5.7e-4
    },
    "hand_landmark_full.tflite": {
        "Identity": 0.03,  # landmarks, crop px: 0.0026
        "Identity_1": 1e-4,  # presence: 3.2e-6
        "Identity_2": 1e-4,  # handedness: 7.3e-6
        "Identity_3": 1e-4,  # world landmarks, m: 1.9e-6
    },
}


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    """Return a folder of the installed TFLite files and their conversions by `mtl-hri-fetch-front-end --onnx`."""
    folder = tmp_path_factory.mktemp("front_end")
    for m in MODELS:
        (folder / m.name).symlink_to(default_dir() / m.name)  # intact: nothing is downloaded
    assert fetch_front_end(["--out", str(folder), "--onnx"]) == 0
    return folder


@pytest.fixture(scope="module")
def street(footage) -> list[np.ndarray]:
    return frames(footage, 60, 10)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_each_model_converts_to_its_pinned_bytes_with_the_tflite_interface(converted, model):
    import onnx
    from ai_edge_litert.interpreter import Interpreter
    from tflite2onnx.op.padding import Padding

    path = onnx_path(model, converted)
    assert path == converted / (Path(model.name).stem + ".onnx") and file_sha256(path) == ONNX_SHA256[model.name]
    assert not list(converted.glob("*.part"))
    assert Padding.transform.__module__ == "tflite2onnx.op.padding"  # the conversion's fix is undone after it
    tfl = Interpreter(model_path=str(converted / model.name))
    graph = onnx.load(str(path)).graph
    dims = lambda v: [d.dim_value for d in v.type.tensor_type.shape.dim]  # noqa: E731
    assert {v.name: dims(v) for v in graph.input} == {d["name"]: list(d["shape"]) for d in tfl.get_input_details()}
    assert {v.name: dims(v) for v in graph.output} == {d["name"]: list(d["shape"]) for d in tfl.get_output_details()}
    assert convert_to_onnx(model, converted) == path  # intact: kept


def test_onnxruntime_matches_litert_on_real_crops(converted, street):
    rgb = street[0]
    x = cv2.resize(rgb, (300, 300), interpolation=cv2.INTER_AREA).astype(np.float32) * (2 / 255) - 1
    detections = PersonDetector(converted)(rgb)
    pose = PoseLandmarker(converted)
    body_roi = next(r for r in (Roi.around_box(d.box, 1.25) for d in detections) if pose(rgb, r).presence > 0.9)
    body = pose(rgb, body_roi)
    wrists = [hands.hand_roi(*(body.points[j, :2] for j in joints)) for joints in hands.SIDES.values()
              if body.visibility[joints[0]] >= 0.5]
    assert wrists
    inputs = {"ssd_mobilenetv2_oidv4.tflite": [x], "pose_landmark_full.tflite": [crop(rgb, body_roi, 256)],
              "hand_landmark_full.tflite": [crop(rgb, r, 224) for r in wrists]}
    for model in MODELS:
        hw = inputs[model.name][0].shape[:2]
        lite, onnx_rt = TfliteModel(model, converted, hw, 1), load_model(model, converted, hw, 1, "onnxruntime")
        assert isinstance(onnx_rt, OnnxModel) and onnx_rt.providers[-1] == "CPUExecutionProvider"
        for inp in inputs[model.name]:
            a, b = lite.run(inp), onnx_rt.run(inp)
            assert a.keys() == b.keys() == TOLERANCE[model.name].keys()
            for name, tol in TOLERANCE[model.name].items():
                assert b[name].shape == a[name].shape and b[name].dtype == np.float32
                np.testing.assert_allclose(b[name], a[name], rtol=0, atol=tol, err_msg=f"{model.name} {name}")


def test_a_front_end_on_onnxruntime_finds_the_bodies_litert_finds(converted, street):
    runs = {}
    for runtime in ("litert", "onnxruntime"):
        fe = FrontEnd(FrontEndParams(max_bodies=5, runtime=runtime), converted, seed=0)
        runs[runtime] = [{b.id: b.box for b in fe.process(rgb, k / 10.0).bodies if b.seen_now} for k, rgb in
                         enumerate(street)]
        fe.close()
    assert isinstance(fe.detector.model, OnnxModel) and isinstance(fe.hand_model.model, OnnxModel)
    assert max(len(b) for b in runs["litert"]) >= 3
    # The same bodies under the same ids (the same seed). A pedestrian at the edge of a threshold may be found by one
    # runtime only, on CPUs whose float kernels differ from this machine's (CI once: one extra body from frame 6).
    shared = 0
    for k, (a, b) in enumerate(zip(runs["litert"], runs["onnxruntime"])):
        assert len(a.keys() ^ b.keys()) <= 1, k
        for body_id in a.keys() & b.keys():
            assert np.abs(a[body_id] - b[body_id]).max() < 3.0, (k, body_id)  # px, 768x576 frames
            shared += 1
    assert shared >= 0.9 * sum(len(a) for a in runs["litert"])
    background = FrontEnd(FrontEndParams(runtime="onnxruntime"), converted, background=True)
    assert isinstance(background.pose.model, OnnxModel) and isinstance(background.detector.model, OnnxModel)
    background.close()


def test_an_unknown_runtime_is_refused_with_a_reason(converted):
    reason = FrontEndParams(runtime="tensorrt").problem()
    assert "runtime" in reason and "litert" in reason and "onnxruntime" in reason and "tensorrt" in reason
    with pytest.raises(ValueError, match="runtime"):
        FrontEnd(FrontEndParams(runtime="tensorrt"), converted)
    with pytest.raises(ValueError, match="runtime"):
        PoseLandmarker(converted, runtime="tflite")


def test_a_missing_or_corrupt_conversion_names_the_fix_and_never_falls_back(tmp_path):
    (tmp_path / POSE_LANDMARKS.name).symlink_to(default_dir() / POSE_LANDMARKS.name)  # the TFLite file is there
    with pytest.raises(FrontEndModelError, match=r"not found.*mtl-hri-fetch-front-end --onnx"):
        PoseLandmarker(tmp_path, runtime="onnxruntime")
    onnx_path(POSE_LANDMARKS, tmp_path).write_bytes(b"\x08\x06 not the converted model")
    with pytest.raises(FrontEndModelError, match=r"altered or corrupt.*mtl-hri-fetch-front-end --onnx"):
        PoseLandmarker(tmp_path, runtime="onnxruntime")
    assert PoseLandmarker(tmp_path).model.name == POSE_LANDMARKS.name  # LiteRT still loads it
