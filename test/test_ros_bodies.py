"""Tracked bodies on ROS4HRI topics, through real processes and DDS: vtest.avi -> recognizer -> a probe process.

The recognizer tracks vtest.avi's pedestrians with the real front end and publishes each body's roi, skeleton2d,
gesture, hands and classifications under /humans/bodies/<id>/, and the ids on /humans/bodies/tracked. The probe
(with the hri_msgs and vision_msgs fixtures on its paths, which this process lacks) subscribes to each body's topics
as they appear and prints what arrives as JSON lines, with the stamps of the camera's images.
"""
from __future__ import annotations

import time

import pytest
import rclpy

from mtl_hri.tools.bench.procs import RosProcess

from .rosutil import spin_for
from .test_ros_robustness import FramePlayer, malformed
from .test_vision_msgs import PROBE_HEAD, PROBE_TAIL, JsonLinesProcess, fixture_env

IMAGE = "/bodies_cam/image_raw"
NS = "/bodies_it"
PREFIX = "/bodies_it_humans"  # humans_prefix, so that no other test's topics mix in
RUN_S = 30.0

PROBE = '"""Print ROS4HRI body topics and image stamps; subscribe to new bodies as they appear."""' + PROBE_HEAD + r'''
from rclpy.qos import QoSProfile, QoSReliabilityPolicy
from geometry_msgs.msg import PoseArray
from hri_msgs.msg import Gesture, IdsList, NormalizedRegionOfInterest2D, Skeleton2D
from sensor_msgs.msg import Image
from std_msgs.msg import String
from vision_msgs.msg import Classification

image, prefix, ns = sys.argv[1], sys.argv[2], sys.argv[3]
reliable = QoSProfile(depth=50, reliability=QoSReliabilityPolicy.RELIABLE)


rclpy.init()
node = rclpy.create_node("bodies_probe")
node.create_subscription(Image, image, lambda m: emit(kind="image", stamp=stamp_ns(m.header)), reliable)
node.create_subscription(IdsList, f"{prefix}/bodies/tracked",
                         lambda m: emit(kind="tracked", stamp=stamp_ns(m.header), ids=list(m.ids)), reliable)
node.create_subscription(String, f"{ns}/action", lambda m: emit(kind="action", label=m.data), reliable)
subscribed = set()


def body_topics(body):
    base = f"{prefix}/bodies/{body}"
    node.create_subscription(NormalizedRegionOfInterest2D, f"{base}/roi", lambda m: emit(
        kind="roi", body=body, stamp=stamp_ns(m.header), box=[m.xmin, m.ymin, m.xmax, m.ymax], c=m.c), reliable)
    node.create_subscription(Skeleton2D, f"{base}/skeleton2d", lambda m: emit(
        kind="skeleton", body=body, stamp=stamp_ns(m.header), points=[[p.x, p.y, p.c] for p in m.skeleton]), reliable)
    node.create_subscription(Gesture, f"{base}/gesture", lambda m: emit(
        kind="gesture", body=body, stamp=stamp_ns(m.header), gesture=m.gesture, handedness=m.handedness), reliable)
    node.create_subscription(PoseArray, f"{base}/hands", lambda m: emit(
        kind="hands", body=body, stamp=stamp_ns(m.header), n=len(m.poses),
        z=[p.position.z for p in m.poses]), reliable)
    node.create_subscription(Classification, f"{base}/action/classification", lambda m: emit(
        kind="classification", body=body, stamp=stamp_ns(m.header), n=len(m.results)), reliable)


def discover():
    for name, _ in node.get_topic_names_and_types():
        parts = name.split("/")
        if name.startswith(f"{prefix}/bodies/") and name.endswith("/roi") and parts[-2] not in subscribed:
            subscribed.add(parts[-2])
            body_topics(parts[-2])


node.create_timer(0.2, discover)
''' + PROBE_TAIL


@pytest.fixture(scope="module")
def hri_env(ros_env) -> dict[str, str]:
    return fixture_env("hri_msgs", fixture_env("vision_msgs", ros_env))


@pytest.fixture(scope="module")
def run(ros, hri_env, model_dir, footage, tmp_path_factory):
    logs = tmp_path_factory.mktemp("bodies_logs")
    graph = rclpy.create_node("bodies_graph")

    def advertised() -> set[str]:
        return {name for name, _ in graph.get_topic_names_and_types() if graph.count_publishers(name)}

    probe = JsonLinesProcess(PROBE, [IMAGE, PREFIX, NS], hri_env, logs / "probe.py")
    recognizer = RosProcess("recognizer", ["-r", f"__ns:={NS}", "-r", f"image:={IMAGE}", "-p", f"model:={model_dir}",
                                           "-p", f"humans_prefix:={PREFIX}", "-p", "max_bodies:=5"], hri_env, logs)
    publisher = RosProcess("video_publisher", ["-r", f"image:={IMAGE}", "-p", f"video:={footage}", "-p", "rate:=10.0",
                                               "-p", "loop:=true", "-p", "frame_id:=street"], hri_env, logs)

    def context() -> str:
        return (f"\nrecognizer:\n{recognizer.log()[-3000:]}\npublisher:\n{publisher.log()[-1000:]}"
                f"\nprobe stderr:\n{probe.stderr()[-2000:]}")

    try:
        assert probe.wait_for(lambda: probe.of("ready"), 30), "the probe did not start" + context()
        assert probe.wait_for(lambda: f"{PREFIX}/bodies/tracked" in advertised(), 60), \
            "the recognizer advertises no tracked list" + context()
        probe.wait_for(lambda: False, RUN_S / 2)
        burst = time.time()  # malformed images among the camera's, with several bodies in view
        player = FramePlayer(graph, footage, IMAGE)
        for _ in range(10):
            for msg in malformed(player):
                player.pub.publish(msg)
                spin_for(graph, 0.02)
        probe.wait_for(lambda: False, RUN_S / 2)
        ever = {i for t in probe.of("tracked") for i in t["ids"]}
        now = set(probe.of("tracked")[-1]["ids"]) if probe.of("tracked") else set()
        gone = ever - now
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(f"{PREFIX}/bodies/{i}/roi" in advertised() for i in gone):
            rclpy.spin_once(graph, timeout_sec=0.1)
        still = {i for i in gone if f"{PREFIX}/bodies/{i}/roi" in advertised()}
        assert publisher.alive() and recognizer.alive(), "a process died" + context()
        publisher.stop()
        recognizer.stop()
        assert probe.stop() == 0, "the probe failed" + context()
        yield probe, gone, still, context, burst
    finally:
        publisher.stop()
        recognizer.stop()
        probe.stop()
        graph.destroy_node()


def test_several_pedestrians_are_tracked_at_once(run):
    probe, *_ = run
    tracked = probe.of("tracked")
    assert tracked and max(len(t["ids"]) for t in tracked) >= 3
    assert all(len(i) == 5 and i.isalpha() for t in tracked for i in t["ids"])


def test_every_body_output_carries_a_stamp_the_camera_sent(run):
    probe, *_, context, _ = run
    sent = {m["stamp"] for m in probe.of("image")}
    kinds = ("tracked", "roi", "skeleton", "gesture", "hands", "classification")
    for kind in kinds:
        msgs = probe.of(kind)
        assert msgs, f"no {kind} message arrived" + context()
        assert {m["stamp"] for m in msgs} <= sent, kind


def test_body_messages_are_well_formed(run):
    probe, *_ = run
    for m in probe.of("roi"):
        x0, y0, x1, y1 = m["box"]
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1 and 0 < m["c"] <= 1
    for m in probe.of("skeleton"):
        assert len(m["points"]) == 18 and all(0 <= v <= 1 for p in m["points"] for v in p)
        assert sum(p[2] > 0.5 for p in m["points"]) >= 6  # pedestrians: most joints seen
    assert all(0 <= m["gesture"] <= 13 and m["handedness"] in (0, 1, 2) for m in probe.of("gesture"))
    assert all(m["n"] == 42 and all(0 <= z <= 1 for z in m["z"]) for m in probe.of("hands"))
    assert probe.of("action"), "the plain topics go on, for the primary body"


def test_bodies_are_tracked_on_after_a_burst_of_malformed_images(run):
    probe, *_, burst = run
    after = [t for t in probe.of("tracked") if t["stamp"] > (burst + 2) * 1e9]
    assert after and max(len(t["ids"]) for t in after) >= 2
    assert [r for r in probe.of("roi") if r["stamp"] > (burst + 2) * 1e9]


def test_a_body_that_leaves_loses_its_topics(run):
    _, gone, still, context, _ = run
    assert gone, "in 30 s of vtest.avi some pedestrian should have left"
    assert not still, f"topics of dropped bodies are still advertised: {sorted(still)}" + context()
