"""Three real processes over DDS: video_publisher (vtest.avi) -> recognizer -> this test's subscriber."""
from pathlib import Path

import numpy as np
import pytest

from mtl_hri.tools.bench.listener import OutputListener
from mtl_hri.tools.bench.procs import RosProcess

from .rosutil import spin_for, spin_until

NS = "/mtl_hri_it"
IMAGE = "/it_cam/image_raw"
FRAME_ID = "it_camera"


@pytest.fixture(scope="module")
def run(ros, ros_env, model_dir, footage, tmp_path_factory):
    logs = tmp_path_factory.mktemp("pipeline_logs")
    listener = OutputListener(NS, image_topic=IMAGE)
    params_file = Path(__file__).resolve().parents[1] / "config" / "recognizer.yaml"
    recognizer = RosProcess("recognizer", ["--params-file", str(params_file), "-r", f"__ns:={NS}", "-r",
                                           f"image:={IMAGE}", "-p", f"model:={model_dir}"], ros_env, logs)
    publisher = RosProcess("video_publisher", ["-r", f"image:={IMAGE}", "-p", f"video:={footage}", "-p", "rate:=15.0",
                                               "-p", "loop:=true", "-p", f"frame_id:={FRAME_ID}"], ros_env, logs)
    try:
        got = spin_until(listener, lambda: len(listener.received.hands) >= 40 and listener.received.diagnostics, 90)
        assert got, f"no decisions.\nrecognizer:\n{recognizer.log()[-3000:]}\npublisher:\n{publisher.log()[-2000:]}"
        spin_for(listener, 1.0)
        running = listener.diagnostic_values()
        publisher_code = publisher.stop()
        n_actions = len(listener.received.actions)
        spin_for(listener, 3.5)  # the camera has stopped
        after_stop = (listener.received.actions[n_actions:], listener.diagnostic_values(),
                      listener.received.diagnostics[-1])
        recognizer_code = recognizer.stop()
        yield listener, recognizer, publisher_code, recognizer_code, after_stop, running
    finally:
        publisher.stop()
        recognizer.stop()
        listener.destroy_node()


def test_decisions_arrive_on_action_and_gesture(run, model_dir):
    from mtl_hri.model import load_card

    listener = run[0]
    labels = load_card(model_dir).labels
    r = listener.received
    assert len(r.actions) >= 40 and len(r.gestures) >= 40
    assert set(r.actions) <= set(labels["action"]) and set(r.gestures) <= set(labels["gesture"])


def test_hands_carry_the_source_frame_header_and_lie_in_the_image(run):
    listener = run[0]
    r = listener.received
    sent = r.image_stamps
    for msg in r.hands:
        ns = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
        assert ns in sent, "hands stamp is not one the publisher sent"
        assert msg.header.frame_id == FRAME_ID == sent[ns]
        assert len(msg.poses) == 2
        for pose in msg.poses:
            assert 0 <= pose.position.x < 768 and 0 <= pose.position.y < 576  # vtest.avi is 768x576
            assert 0.0 <= pose.position.z <= 1.0
            assert pose.orientation.w == 1.0
    stamps = [m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 for m in r.hands]
    assert np.all(np.diff(stamps) > 0), "decisions went back in time"


def test_diagnostics_report_rates_latency_and_device(run):
    values = run[5]  # while the camera was running
    for key in ("input_fps", "decision_rate", "inference_ms_p50", "inference_ms_p99", "latency_ms_p50",
                "latency_ms_p99", "frames_bad", "windows_skipped", "device", "model"):
        assert key in values
    assert float(values["input_fps"]) > 5
    assert values["device"] == "cpu" or values["device"].startswith("cuda")
    assert values["input"] == "rgb" and values["hands_source"] == "model"  # the test model has a hand head


def test_processes_exit_cleanly_on_sigint(run):
    _, recognizer, publisher_code, recognizer_code, _, _ = run
    assert publisher_code == 0
    assert recognizer_code == 0, recognizer.log()[-3000:]
    assert "Traceback" not in recognizer.log()


def test_a_camera_that_stops_resets_to_none_and_warns(run):
    actions_after_stop, values, last_diag = run[4]
    assert actions_after_stop and actions_after_stop[-1] == "none"
    status = next(s for s in last_diag.status if s.name.startswith("mtl_hri"))
    assert status.level == b"\x01" and "no images" in status.message
    assert int(values["window_resets"]) >= 1


def test_the_bundled_model_serves_through_onnx_runtime_without_loading_torch(ros, ros_env, footage, tmp_path):
    """On a CPU the default path is ONNX Runtime (the bundled model ships its export), and torch is never loaded."""
    ns, image = "/mtl_hri_no_torch", "/no_torch_cam/image_raw"
    listener = OutputListener(ns, image_topic=image, name="no_torch_listener")
    recognizer = RosProcess("recognizer", ["-r", f"__ns:={ns}", "-r", f"image:={image}", "-p", "device:=auto"],
                            ros_env, tmp_path)
    publisher = RosProcess("video_publisher", ["-r", f"image:={image}", "-p", f"video:={footage}", "-p", "rate:=15.0",
                                               "-p", "loop:=true"], ros_env, tmp_path)
    try:
        status = f"{ns}/recognizer"
        decided = spin_until(listener, lambda: len(listener.received.hands) >= 10, 90)
        assert decided and spin_until(listener, lambda: bool(listener.diagnostic_values(status)), 30), \
            recognizer.log()[-3000:]
        assert listener.diagnostic_values(status)["backend"] == "onnxruntime"
        maps = Path(f"/proc/{recognizer.proc.pid}/maps").read_text()
        assert "onnxruntime" in maps and "libtorch" not in maps and "/torch/" not in maps, recognizer.log()[-3000:]
    finally:
        publisher.stop()
        recognizer.stop()
        listener.destroy_node()
