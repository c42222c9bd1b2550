"""Deterministic replay: the node's offline mode, mtl-hri-record and mtl-hri-offline (bags and video files)."""
import json
import subprocess
import time

import cv2
import numpy as np
import pytest
from rclpy.qos import QoSHistoryPolicy, QoSProfile, QoSReliabilityPolicy
from sensor_msgs.msg import Image

from mtl_hri.ros.image_conv import array_to_image
from mtl_hri.tools.bench.listener import OutputListener
from mtl_hri.tools.bench.procs import RosProcess, script

from .rosutil import spin_for, spin_until

N_FRAMES = 30


@pytest.fixture(scope="module")
def frames(footage):
    cap = cv2.VideoCapture(str(footage))
    return [cap.read()[1] for _ in range(N_FRAMES)]


def test_offline_replay_gives_the_same_decisions_at_any_speed(ros, ros_env, model_dir, frames, tmp_path):
    ns, topic = "/mtl_hri_offline", "/offline_cam/image"
    listener = OutputListener(ns, name="offline_listener")
    pub = listener.create_publisher(Image, topic, QoSProfile(depth=1, reliability=QoSReliabilityPolicy.RELIABLE,
                                                             history=QoSHistoryPolicy.KEEP_ALL))
    node = RosProcess("recognizer", ["-r", f"__ns:={ns}", "-r", f"image:={topic}", "-p", f"model:={model_dir}",
                                     "-p", "offline:=true", "-p", "sample_fps:=0.0"], ros_env, tmp_path)
    try:
        assert spin_until(listener, lambda: pub.get_subscription_count() > 0 and listener.received.diagnostics, 60)
        per_pass = N_FRAMES - 15  # one decision per frame once the 16-frame window is full

        def play(t0: float, pause: float) -> None:
            for i, bgr in enumerate(frames):
                msg = array_to_image(bgr, "bgr8")
                t = t0 + i / 15
                msg.header.stamp.sec, msg.header.stamp.nanosec = int(t), int(round((t % 1) * 1e9))
                pub.publish(msg)
                spin_for(listener, pause)

        play(1000.0, 0.0)  # as fast as DDS takes it
        assert spin_until(listener, lambda: len(listener.received.hands) >= per_pass, 120), node.log()[-2000:]
        play(2000.0, 1 / 15)  # real time, after a gap that resets the window
        assert spin_until(listener, lambda: len(listener.received.hands) >= 2 * per_pass, 120), node.log()[-2000:]
        spin_for(listener, 1.0)
    finally:
        code = node.stop()
        listener.destroy_node()
    r = listener.received
    assert code == 0 and len(r.hands) == 2 * per_pass, "offline mode dropped or added windows"
    first = np.array([[(p.position.x, p.position.y, p.position.z) for p in m.poses] for m in r.hands[:per_pass]])
    second = np.array([[(p.position.x, p.position.y, p.position.z) for p in m.poses] for m in r.hands[per_pass:]])
    assert np.abs(first - second).max() < 1e-3  # float32 reductions may differ in the last bits between runs
    # between the passes the window resets (camera silent, then the stamp gap) and `none` is published
    assert r.actions[:per_pass] == r.actions[-per_pass:] and r.gestures[:per_pass] == r.gestures[-per_pass:]
    assert set(r.actions[per_pass:-per_pass]) == {"none"} and len(r.actions) > 2 * per_pass


def test_record_then_offline_on_the_bag_and_on_a_video(ros_env, model_dir, footage, frames, tmp_path):
    bag = tmp_path / "bag"
    recorder = subprocess.Popen([script("mtl-hri-record"), "--topic", "/rec_cam/image", "--out", str(bag),
                                 "--max-messages", "20", "--duration", "60"], env=ros_env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(3.0)  # the recorder subscribes before the camera starts
    camera = RosProcess("video_publisher", ["-r", "image:=/rec_cam/image", "-p", f"video:={footage}",
                                            "-p", "rate:=15.0", "-p", "frame_id:=rec_cam"], ros_env, tmp_path)
    try:
        out, _ = recorder.communicate(timeout=90)
    finally:
        camera.stop()
    assert recorder.returncode == 0, out
    assert "wrote 20 messages" in out and (bag / "metadata.yaml").is_file() and list(bag.glob("*.mcap"))

    decisions = tmp_path / "bag.json"
    run = subprocess.run([script("mtl-hri-offline"), str(bag), "--model", str(model_dir), "--sample-fps", "0",
                          "--out", str(decisions), "--video-out", str(tmp_path / "annotated.mp4")],
                         env=ros_env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(decisions.read_text())
    assert result["counts"]["frames"] == 20 and len(result["decisions"]) == 20 - 15
    assert all(d["frame_id"] == "rec_cam" for d in result["decisions"])
    annotated = cv2.VideoCapture(str(tmp_path / "annotated.mp4"))
    assert int(annotated.get(cv2.CAP_PROP_FRAME_COUNT)) == 5 and annotated.get(cv2.CAP_PROP_FRAME_WIDTH) == 768

    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (768, 576))
    for bgr in frames:
        writer.write(bgr)
    writer.release()
    csv_out = tmp_path / "video.csv"
    run = subprocess.run([script("mtl-hri-offline"), str(video), "--model", str(model_dir), "--sample-fps", "0",
                          "--out", str(csv_out)], env=ros_env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = csv_out.read_text().splitlines()
    assert lines[0].startswith("stamp,frame_index") and len(lines) == 1 + N_FRAMES - 15
