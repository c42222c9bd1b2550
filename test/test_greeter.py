"""The behaviour-tree example as a real process: gesture/action/hands topics in, state transitions out."""
import sys
import time
from pathlib import Path

import pytest
from geometry_msgs.msg import Pose, PoseArray
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import String

from .rosutil import spin_for, spin_until

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "greeter_tree.py"
NS = "/greeter_test"


@pytest.fixture
def greeter(ros, ros_env, tmp_path):
    import subprocess

    import rclpy

    node = rclpy.create_node("greeter_driver")
    states: list[str] = []
    latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    node.create_subscription(String, f"{NS}/state", lambda m: states.append(m.data), latched)
    pubs = {name: node.create_publisher(kind, f"/people/{name}", 10)
            for name, kind in (("gesture", String), ("action", String), ("hands", PoseArray))}
    log = open(tmp_path / "greeter.log", "w")
    proc = subprocess.Popen([sys.executable, str(EXAMPLE), "--ros-args", "-r", f"__ns:={NS}",
                             "-r", "gesture:=/people/gesture", "-r", "action:=/people/action",
                             "-r", "hands:=/people/hands"], env=ros_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        assert spin_until(node, lambda: states == ["idle"] and pubs["gesture"].get_subscription_count(), 30), \
            (tmp_path / "greeter.log").read_text()
        yield node, pubs, states
    finally:
        proc.send_signal(2)
        assert proc.wait(10) == 0
        node.destroy_node()


def say(node, pubs, gesture: str, seconds: float, confidence: float = 0.9) -> None:
    """Publish what the recognizer publishes at 15 Hz while a person makes `gesture`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pubs["gesture"].publish(String(data=gesture))
        pubs["action"].publish(String(data="none"))
        hands = PoseArray()
        for _ in range(2):
            pose = Pose()
            pose.position.z = confidence
            hands.poses.append(pose)
        pubs["hands"].publish(hands)
        spin_for(node, 1 / 15)


def test_greets_halts_turns_and_times_out(greeter):
    node, pubs, states = greeter
    say(node, pubs, "wave", 0.3)  # too short to greet
    say(node, pubs, "none", 0.3)
    assert states == ["idle"]
    say(node, pubs, "wave", 0.9)
    assert states[-1] == "greeting"
    say(node, pubs, "stop", 0.3)
    assert states[-1] == "halted"
    say(node, pubs, "point_left", 0.3)
    assert states[-1] == "turning_left"
    say(node, pubs, "point_right", 0.3)
    assert states[-1] == "turning_right"
    say(node, pubs, "none", 1.0)  # somebody still there: keep turning
    assert states[-1] == "turning_right"
    say(node, pubs, "none", 2.6, confidence=0.0)  # nobody for longer than lost_timeout
    assert spin_until(node, lambda: states[-1] == "idle", 3)
    assert states == ["idle", "greeting", "halted", "turning_left", "turning_right", "idle"]


BUNDLED = Path(__file__).resolve().parents[1] / "models" / "default"


def test_synthetic_person_drives_the_tree_through_the_recognizer(ros, ros_env, tmp_path):
    """End to end over DDS: rendered clips -> video_publisher -> recognizer (bundled model) -> greeter tree.

    A person stands idle, waves, points left, then right; then the camera stops. The tree must greet,
    turn left, turn right and, with nobody seen for lost_timeout, fall back to idle.
    """
    import subprocess

    from mtl_hri.data.synth import SynthConfig, write_sequence
    from mtl_hri.tools.bench.listener import OutputListener
    from mtl_hri.tools.bench.procs import RosProcess

    order = [("none", "none"), ("gesture", "wave"), ("gesture", "point_left"), ("gesture", "point_right")]
    video = tmp_path / "person.mp4"
    truths = write_sequence(video, order, SynthConfig(seed=11, n_frames=(45, 45)))
    ns, image = "/bt_e2e", "/bt_e2e_cam/image_raw"
    listener = OutputListener(ns, name="bt_e2e_listener")
    states: list[tuple[float, str]] = []
    latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    listener.create_subscription(String, f"{ns}/state", lambda m: states.append((time.monotonic(), m.data)), latched)
    recognizer = RosProcess("recognizer", ["-r", f"__ns:={ns}", "-r", f"image:={image}", "-p", f"model:={BUNDLED}"],
                            ros_env, tmp_path)
    log = open(tmp_path / "greeter.log", "w")
    tree = subprocess.Popen([sys.executable, str(EXAMPLE), "--ros-args", "-r", f"__ns:={ns}"], env=ros_env,
                            stdout=log, stderr=subprocess.STDOUT)
    publisher = None
    try:
        ready = spin_until(listener, lambda: listener.diagnostic_values() and states, 90)  # warmed up, tree idle
        assert ready, f"recognizer:\n{recognizer.log()[-3000:]}\ngreeter:\n{(tmp_path / 'greeter.log').read_text()}"
        publisher = RosProcess("video_publisher", ["-r", f"image:={image}", "-p", f"video:={video}", "-p", "rate:=15.0",
                                                   "-p", "wait_for_subscribers:=1"], ros_env, tmp_path)
        assert spin_until(listener, lambda: publisher.proc.poll() is not None, 60), publisher.log()[-2000:]
        stopped = time.monotonic()
        spin_until(listener, lambda: states[-1][1] == "idle" and states[-1][0] > stopped, 6)
        seen = [s for _, s in states]
        gestures = [g for i, g in enumerate(listener.received.gestures)
                    if i == 0 or g != listener.received.gestures[i - 1]]
        context = f"tree states {seen}; decided gestures {gestures}; truth {truths}"
        assert seen[0] == "idle" and "halted" not in seen, context
        turns = [s for s in seen if s in ("greeting", "turning_left", "turning_right")]
        assert turns == ["greeting", "turning_left", "turning_right"], context
        assert seen[-1] == "idle" and states[-1][0] > stopped, context  # camera stopped: nobody seen, back to idle
    finally:
        if publisher is not None:
            publisher.stop()
        recognizer.stop()
        tree.send_signal(2)
        tree.wait(10)
        log.close()
        listener.destroy_node()
