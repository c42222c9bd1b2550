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
    """What the recognizer publishes at 15 Hz while a person makes `gesture`."""
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
