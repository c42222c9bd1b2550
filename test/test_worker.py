"""The node's worker survives a failure in every stage: injected into a real node, in this process, fed over DDS.

Each failure must be caught, counted per stage, raise /diagnostics to ERROR, and leave the worker running, so
that decisions come back as soon as the cause is gone.
"""
import threading
import time

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import PoseArray
from rclpy.executors import MultiThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image

from mtl_hri.ros import recognizer_node
from mtl_hri.ros.image_conv import ImageFrame, array_to_image

NS = "/worker_faults"


class Feed:
    """A camera publisher and an output subscriber, spun with the node under test by one executor."""

    def __init__(self, node):
        import rclpy

        self.node = node
        self.probe = rclpy.create_node("worker_probe", namespace=NS)
        self.pub = self.probe.create_publisher(Image, f"{NS}/image", 1)
        self.hands, self.statuses = [], []
        self.probe.create_subscription(PoseArray, f"{NS}/hands", self.hands.append, 10)
        self.probe.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 10)
        self.executor = MultiThreadedExecutor(num_threads=3)
        self.executor.add_node(node)
        self.executor.add_node(self.probe)
        self._spin = threading.Thread(target=self.executor.spin, daemon=True)
        self._spin.start()
        self._frame = np.random.default_rng(0).integers(0, 256, (48, 64, 3), np.uint8)

    def _on_diagnostics(self, array):
        self.statuses += [s for s in array.status if s.name.startswith(f"mtl_hri: {NS}")]

    def play(self, seconds: float, fps: float = 20.0) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            msg = array_to_image(self._frame, "bgr8")
            t = time.time()
            msg.header.stamp.sec, msg.header.stamp.nanosec = int(t), int((t % 1) * 1e9)
            self.pub.publish(msg)
            time.sleep(1 / fps)

    def wait(self, predicate, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            self.play(0.2)
        return predicate()

    def close(self):
        self.executor.shutdown()
        self.probe.destroy_node()


@pytest.fixture(scope="module")
def feed(ros, model_dir):
    # The frames are noise, with nobody to track: the front end would only add load to this one process, which
    # also runs the camera (a publisher starved for 0.5 s makes the stream restart and the level WARN).
    node = recognizer_node.RecognizerNode(namespace=NS, parameter_overrides=[
        Parameter("model", value=str(model_dir)), Parameter("sample_fps", value=0.0),
        Parameter("track_bodies", value=False)])
    feed = Feed(node)
    try:
        assert feed.wait(lambda: len(feed.hands) >= 3, 60), "no decisions before any fault"
        yield feed
    finally:
        feed.close()
        node.stop()
        node.destroy_node()


def raising(message):
    def fail(*_args, **_kwargs):
        raise RuntimeError(message)
    return fail


class BrokenFrame(ImageFrame):
    def pixels(self):
        raise RuntimeError("injected conversion failure")


def inject(stage, node, monkeypatch):
    camera = node.cameras[0]
    if stage == "conversion":
        monkeypatch.setattr(recognizer_node, "ImageFrame", BrokenFrame)
    elif stage == "inference":
        monkeypatch.setattr(node.engine, "infer_many", raising("injected inference failure"))
        monkeypatch.setattr(node.engine, "step_many", raising("injected inference failure"))
    elif stage == "decision":
        for smoother in camera.stream.scene.smoothers.values():
            monkeypatch.setattr(smoother, "update", raising("injected decision failure"))
    elif stage == "publishing":
        monkeypatch.setattr(camera.hands, "publish", raising("injected publishing failure"))


@pytest.mark.parametrize("stage", ["conversion", "inference", "decision", "publishing"])
def test_a_failing_stage_is_counted_reported_and_the_worker_goes_on(feed, stage, monkeypatch):
    node = feed.node
    inject(stage, node, monkeypatch)
    assert feed.wait(lambda: node.faults.counts[stage] >= 3, 20), f"no {stage} failure was counted"
    feed.statuses.clear()
    feed.play(1.5)
    errors = [s for s in feed.statuses if s.level == DiagnosticStatus.ERROR]
    assert errors and f"{stage} failed" in errors[-1].message and "injected" in errors[-1].message
    values = {kv.key: kv.value for kv in errors[-1].values}
    assert int(values[f"errors_{stage}"]) >= 3 and int(values["worker_errors"]) >= 3
    assert node.worker_alive
    monkeypatch.undo()
    before = len(feed.hands)
    assert feed.wait(lambda: len(feed.hands) >= before + 5, 30), "decisions did not come back"
    assert node.worker_alive
    # the level follows what happens now: once the failures are over, the camera is reported OK again
    feed.statuses.clear()
    assert feed.wait(lambda: feed.statuses and feed.statuses[-1].level == DiagnosticStatus.OK, 15)


def test_task_names_come_from_the_model_card(ros, tmp_path):
    """A model with other tasks publishes `<task>` for each of them, and `<task>_labels`, without code changes."""
    from std_msgs.msg import String

    from .conftest import make_model_dir

    labels = {"mood": ["none", "happy", "sad"], "posture": ["none", "lean"]}
    node = recognizer_node.RecognizerNode(namespace=NS + "_tasks", parameter_overrides=[
        Parameter("model", value=str(make_model_dir(tmp_path / "other_tasks", labels))),
        Parameter("sample_fps", value=0.0)])
    got = {task: [] for task in labels}
    try:
        assert sorted(node.cameras[0].labels) == ["mood", "posture"]
        assert node.get_parameter("mood_labels").value == labels["mood"]
        import rclpy

        probe = rclpy.create_node("task_probe")
        for task in labels:
            probe.create_subscription(String, f"{NS}_tasks/{task}", lambda m, t=task: got[t].append(m.data), 10)
        topics = {name for name, _ in node.get_topic_names_and_types()}
        assert {f"{NS}_tasks/mood", f"{NS}_tasks/posture"} <= topics and f"{NS}_tasks/action" not in topics
        pub = probe.create_publisher(Image, f"{NS}_tasks/image", 1)
        executor = MultiThreadedExecutor(num_threads=2)
        executor.add_node(node)
        executor.add_node(probe)
        threading.Thread(target=executor.spin, daemon=True).start()
        frame = np.zeros((48, 64, 3), np.uint8)
        end = time.monotonic() + 60
        while time.monotonic() < end and not all(len(v) >= 3 for v in got.values()):
            msg = array_to_image(frame, "bgr8")
            t = time.time()
            msg.header.stamp.sec, msg.header.stamp.nanosec = int(t), int((t % 1) * 1e9)
            pub.publish(msg)
            time.sleep(0.05)
        assert all(len(v) >= 3 for v in got.values()), got
        assert set(got["mood"]) <= set(labels["mood"]) and set(got["posture"]) <= set(labels["posture"])
        executor.shutdown()
        probe.destroy_node()
    finally:
        node.stop()
        node.destroy_node()
