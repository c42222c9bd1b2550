"""ROS4HRI output: mtl_hri's label tables, and the hri_msgs that mtl_hri.ros.hri builds, sent over real DDS.

The label tables and the coordinate maths need no hri_msgs and always run. The PyPI ROS 2 wheels lack hri_msgs, so
for the rest the session builds the hri_msgs-compatible fixture (scripts/build_fixture.sh hri_msgs): a publisher
process builds every message from plain values with mtl_hri.ros.hri and publishes it on the REP-155 topics, and a
subscriber process prints what arrives as JSON lines; both run with the fixture's paths (this test process has
loaded rclpy without them and cannot import hri_msgs). Expected values are worked out by hand from the inputs.
"""
from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rclpy

from mtl_hri.data.labels import HRI_GESTURES
from mtl_hri.model.card import ModelLoadError, load_card
from mtl_hri.model.config import ArchConfig, ModelCard
from mtl_hri.model.ros4hri_labels import (
    GESTURE_CONSTANTS,
    GESTURE_NAMES,
    HANDEDNESS_CONSTANTS,
    POSTURE_CONSTANTS,
    POSTURE_NAMES,
    gesture_constant,
    handedness_constant,
    posture_constant,
)
from mtl_hri.ros.hri import gesture, normalized_points, posture, roi, skeleton2d

from .test_vision_msgs import JsonLinesProcess, fixture_env

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_MSG = ROOT / "test" / "fixtures" / "hri_msgs" / "msg"
BODY = "tstbd"  # a body id, 5 letters as the reference body node makes them
BODY_NS = f"/humans/bodies/{BODY}"
TRACKED = "/humans/bodies/tracked"
WIDTH, HEIGHT = 640, 480

# Constant values of hri_msgs 2.3 (/work/shared/design/ros4hri.md), written out so that a wrong fixture shows.
GESTURE = {"OTHER": 0, "HANDS_ON_FACE": 1, "ARMS_CROSSED": 2, "LEFT_HAND_RAISED": 3, "RIGHT_HAND_RAISED": 4,
           "BOTH_HANDS_RAISED": 5, "WAVING": 6, "CLOSED_FIST": 7, "OPEN_PALM": 8, "POINTING_UP": 9, "THUMB_DOWN": 10,
           "THUMB_UP": 11, "VICTORY": 12, "LOVE": 13}
HANDEDNESS = {"INDEPENDENT": 0, "RIGHT": 1, "LEFT": 2}
POSTURE = {"OTHER": 0, "STANDING": 1, "SITTING": 2, "CROUCHING": 3, "LAYING": 4}


def fixture_constants(message: str) -> dict[str, int]:
    """Return the uint8 constants that the fixture's .msg file defines."""
    text = (FIXTURE_MSG / f"{message}.msg").read_text()
    return {name: int(value) for name, value in re.findall(r"^uint8 (\w+) = (\d+)", text, re.MULTILINE)}


# ------------------------------------------------------------------------------ label tables (no hri_msgs)

def test_fixture_constants_are_those_of_hri_msgs():
    assert fixture_constants("Gesture") == {**GESTURE, **HANDEDNESS}
    assert fixture_constants("BodyPosture") == POSTURE
    skeleton = fixture_constants("Skeleton2D")
    assert len(skeleton) == 18 and sorted(skeleton.values()) == list(range(18))
    assert (skeleton["NOSE"], skeleton["NECK"], skeleton["RIGHT_WRIST"], skeleton["LEFT_WRIST"],
            skeleton["RIGHT_EAR"]) == (0, 1, 4, 7, 17)


def test_every_table_entry_names_a_constant_of_its_message():
    assert {name: value for value, name in enumerate(GESTURE_NAMES)} == GESTURE
    assert {name: value for value, name in enumerate(POSTURE_NAMES)} == POSTURE
    assert set(GESTURE_CONSTANTS.values()) <= set(GESTURE) - {"OTHER"}
    assert set(HANDEDNESS_CONSTANTS.values()) == set(HANDEDNESS)
    assert set(POSTURE_CONSTANTS.values()) == set(POSTURE) - {"OTHER"}
    every_gesture = set(GESTURE_CONSTANTS.values()) | {"OTHER"}
    assert every_gesture == set(GESTURE), "a Gesture constant that no label reaches"


def test_the_bundled_models_gestures_map_to_ros4hri():
    card_labels = json.loads((ROOT / "models" / "default" / "model.json").read_text())["labels"]["gesture"]
    assert set(card_labels) <= set(HRI_GESTURES)
    mapped = {label: gesture_constant(label) for label in HRI_GESTURES}
    assert mapped["wave"] == "WAVING" and mapped["stop"] == "OPEN_PALM" and mapped["thumbs_up"] == "THUMB_UP"
    for label in ("none", "beckon", "point_left", "point_right", "swipe_left", "swipe_right"):
        assert mapped[label] == "OTHER", label


def test_other_vocabularies_and_postures():
    for labels, name in ((("fist", "closed_fist"), "CLOSED_FIST"), (("victory", "v_sign"), "VICTORY"),
                         (("love", "ily"), "LOVE"), (("thumbs_down",), "THUMB_DOWN")):
        assert {gesture_constant(label) for label in labels} == {name}
    assert gesture_constant("Wave") == "OTHER", "labels are matched exactly"
    assert [posture_constant(p) for p in ("standing", "sitting", "crouching", "lying", "sit_down", "walk")] == [
        "STANDING", "SITTING", "CROUCHING", "LAYING", "OTHER", "OTHER"]
    assert [handedness_constant(h) for h in ("left", "right", "")] == ["LEFT", "RIGHT", "INDEPENDENT"]
    with pytest.raises(ValueError, match="handedness"):
        handedness_constant("both")


def test_the_bundled_card_maps_every_gesture_label():
    card = json.loads((ROOT / "models" / "default" / "model.json").read_text())
    assert card["ros4hri"] == {"gesture": {label: gesture_constant(label) for label in card["labels"]["gesture"]}}
    assert load_card(ROOT / "models" / "default").ros4hri_constant("gesture", "stop") == "OPEN_PALM"


def test_a_card_maps_its_labels_and_refuses_a_wrong_map(tmp_path):
    labels = {"action": ["none", "walk"], "gesture": ["none", "wave", "hi_five"], "posture": ["none", "sitting"]}
    card = ModelCard("custom", ArchConfig(hand_head=False), labels)
    assert card.ros4hri == {"gesture": {"none": "OTHER", "wave": "WAVING", "hi_five": "OTHER"},
                            "posture": {"none": "OTHER", "sitting": "SITTING"}}, "filled from the tables"
    card.ros4hri["gesture"]["hi_five"] = "OPEN_PALM"  # a custom vocabulary maps its own label
    (tmp_path / "model.json").write_text(json.dumps(card.to_dict()))
    loaded = load_card(tmp_path)
    assert loaded.ros4hri_constant("gesture", "hi_five") == "OPEN_PALM"
    assert loaded.ros4hri_constant("action", "walk") == "OTHER", "ROS4HRI has no action message"
    for change, reason in ((lambda m: m["gesture"].update(hi_five="HIGH_FIVE"), "not a constant of hri_msgs"),
                           (lambda m: m["gesture"].pop("wave"), r"missing \['wave'\]"),
                           (lambda m: m["gesture"].update(nod="OTHER"), r"not a label \['nod'\]"),
                           (lambda m: m.update(action={"none": "OTHER", "walk": "OTHER"}), "ros4hri.action"),
                           (lambda m: m["posture"].update(sitting="WAVING"), "ros4hri.posture.sitting")):
        values = card.to_dict()
        change(values["ros4hri"])
        (tmp_path / "model.json").write_text(json.dumps(values))
        with pytest.raises(ModelLoadError, match=reason):
            load_card(tmp_path)


def test_builders_refuse_a_name_that_is_not_a_constant():
    for build, name in ((gesture, "wave"), (gesture, "header"), (gesture, "LEFT"), (posture, "WAVING")):
        with pytest.raises(ValueError, match="is not one of"):
            build(None, name)


def test_label_tables_load_without_ros():
    code = ("import sys, mtl_hri.model.ros4hri_labels\n"
            "print(sorted(m for m in ('rclpy', 'std_msgs') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------------ coordinate maths (no hri_msgs)

def test_normalized_points_clip_and_zero_missing_points():
    points = [[64, 48, 0.5], [-5, 960, 0.9], [800, 240, 1.7], [np.nan, 10, 0.8], [10, np.inf, 0.8], [10, 10, np.nan],
              [320, 240, 0.0], [320, 240, -1.0]]
    expected = [[0.1, 0.1, 0.5], [0.0, 1.0, 0.9], [1.0, 0.5, 1.0]] + [[0.0, 0.0, 0.0]] * 5
    np.testing.assert_allclose(normalized_points(points, WIDTH, HEIGHT), expected)


def test_bad_geometry_is_refused_before_any_message():
    with pytest.raises(ValueError, match="width and height"):
        normalized_points([[1, 1, 1]], 0, HEIGHT)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        normalized_points([1, 2, 3], WIDTH, HEIGHT)
    with pytest.raises(ValueError, match="18 points"):
        skeleton2d(None, np.zeros((17, 3)), WIDTH, HEIGHT)
    with pytest.raises(ValueError, match="finite"):
        roi(None, [0, 0, np.nan, 10], WIDTH, HEIGHT, 1.0)
    with pytest.raises(ValueError, match="finite"):
        roi(None, [0, 0, 10], WIDTH, HEIGHT, 1.0)


# ------------------------------------------------------------------------------ over DDS, with the hri_msgs fixture

NAN, INF = math.nan, math.inf
SKELETON_SPECIAL = {3: [NAN, 100, 0.9], 5: [100, 100, 0.0], 7: [700, -5, 0.9], 9: [320, 240, 1.4], 11: [10, INF, 0.8]}
SKELETON_POINTS = [SKELETON_SPECIAL.get(i, [32 * i, 24 * i, 0.5]) for i in range(18)]
SKELETON_EXPECTED = [{3: [0, 0, 0], 5: [0, 0, 0], 7: [1, 0, 0.9], 9: [0.5, 0.5, 1.0], 11: [0, 0, 0]}.get(
    i, [i / 20, i / 20, 0.5]) for i in range(18)]

# Inputs per message kind, and what must arrive: (arguments of the builder, expected fields).
CASES = {
    "ids": [([["abcde", "fghij"]], {"ids": ["abcde", "fghij"]}), ([[]], {"ids": []})],
    "roi": [([[64, 48, 320, 240], WIDTH, HEIGHT, 0.75], {"box": [0.1, 0.1, 0.5, 0.5], "c": 0.75}),
            ([[-32, -10, 800, 600], WIDTH, HEIGHT, 1.7], {"box": [0.0, 0.0, 1.0, 1.0], "c": 1.0}),
            ([[320, 120, 480, 360], WIDTH, HEIGHT, -0.2], {"box": [0.5, 0.25, 0.75, 0.75], "c": 0.0})],
    "skeleton": [([SKELETON_POINTS, WIDTH, HEIGHT], {"skeleton": SKELETON_EXPECTED})],
    # (constant, hand) -> (gesture, handedness): every Gesture constant once, numbers as in hri_msgs
    "gesture": [([name, hand], {"gesture": GESTURE[name], "handedness": h}) for name, hand, h in (
        ("WAVING", "right", 1), ("OPEN_PALM", "left", 2), ("THUMB_UP", "", 0), ("OTHER", "left", 2),
        ("CLOSED_FIST", "right", 1), ("LOVE", "", 0), ("BOTH_HANDS_RAISED", "", 0), ("POINTING_UP", "left", 2),
        ("HANDS_ON_FACE", "", 0), ("ARMS_CROSSED", "right", 1), ("LEFT_HAND_RAISED", "left", 2),
        ("RIGHT_HAND_RAISED", "right", 1), ("THUMB_DOWN", "", 0), ("VICTORY", "left", 2))],
    "posture": [([name], {"posture": POSTURE[name]}) for name in POSTURE],
}
TOPICS = {"ids": (TRACKED, "hri_msgs/msg/IdsList"),
          "roi": (f"{BODY_NS}/roi", "hri_msgs/msg/NormalizedRegionOfInterest2D"),
          "skeleton": (f"{BODY_NS}/skeleton2d", "hri_msgs/msg/Skeleton2D"),
          "gesture": (f"{BODY_NS}/gesture", "hri_msgs/msg/Gesture"),
          "posture": (f"{BODY_NS}/posture", "hri_msgs/msg/BodyPosture")}


def source_stamp(kind: str, n: int) -> tuple[int, int]:
    """Return the (sec, nanosec) of case n's source image: distinct per case, far from the clock's now."""
    return 1_500_000_000 + 100 * list(CASES).index(kind) + n, 123_456_789 + n


PUBLISHER = r'''
"""Build each case's message with mtl_hri.ros.hri, publish them all reliably once subscribed, spin until SIGINT."""
import json, sys
import rclpy
from builtin_interfaces.msg import Time
from rclpy.executors import ExternalShutdownException
from rclpy.qos import QoSProfile, QoSReliabilityPolicy
from std_msgs.msg import Header
from mtl_hri.ros import hri


def emit(**kw):
    print(json.dumps(kw), flush=True)


spec = json.loads(open(sys.argv[1]).read())
emit(kind="available", value=hri.hri_msgs_available(), module=hri.__file__)
builders = {"ids": hri.ids_list, "roi": hri.roi, "skeleton": hri.skeleton2d, "gesture": hri.gesture,
            "posture": hri.posture}
types = {"ids": hri.IdsList, "roi": hri.NormalizedRegionOfInterest2D, "skeleton": hri.Skeleton2D,
         "gesture": hri.Gesture, "posture": hri.BodyPosture}
built, sources = {}, []
for kind, cases in spec["cases"].items():
    for case in cases:
        source = Header(stamp=Time(sec=case["sec"], nanosec=case["nanosec"]), frame_id=case["frame_id"])
        sources.append(source)
        built.setdefault(kind, []).append(builders[kind](source, *case["args"]))
# The builders copy the header: a change to the source afterwards must not reach the messages.
for source in sources:
    source.stamp.sec, source.stamp.nanosec, source.frame_id = 0, 0, "changed"

rclpy.init()
node = rclpy.create_node("hri_msgs_publisher")
reliable = QoSProfile(depth=100, reliability=QoSReliabilityPolicy.RELIABLE)
pubs = {kind: node.create_publisher(types[kind], spec["topics"][kind], reliable) for kind in built}
try:
    while not all(p.get_subscription_count() for p in pubs.values()):
        rclpy.spin_once(node, timeout_sec=0.05)
    for kind, msgs in built.items():
        for msg in msgs:
            pubs[kind].publish(msg)
    emit(kind="published", count=sum(len(m) for m in built.values()))
    rclpy.spin(node)
except (KeyboardInterrupt, ExternalShutdownException):
    pass
finally:
    node.destroy_node()
    rclpy.try_shutdown()
'''

SUBSCRIBER = r'''
"""Print every hri_msgs message on the ROS4HRI topics as JSON lines until SIGINT."""
import json, sys
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.qos import QoSProfile, QoSReliabilityPolicy
from hri_msgs.msg import BodyPosture, Gesture, IdsList, NormalizedRegionOfInterest2D, Skeleton2D

topics = json.loads(sys.argv[1])


def emit(kind, msg, **fields):
    stamp = msg.header.stamp
    print(json.dumps(dict(kind=kind, sec=stamp.sec, nanosec=stamp.nanosec, frame_id=msg.header.frame_id, **fields)),
          flush=True)


rclpy.init()
node = rclpy.create_node("hri_msgs_probe")
reliable = QoSProfile(depth=100, reliability=QoSReliabilityPolicy.RELIABLE)
node.create_subscription(IdsList, topics["ids"], lambda m: emit("ids", m, ids=list(m.ids)), reliable)
node.create_subscription(NormalizedRegionOfInterest2D, topics["roi"],
                         lambda m: emit("roi", m, box=[m.xmin, m.ymin, m.xmax, m.ymax], c=m.c), reliable)
node.create_subscription(Skeleton2D, topics["skeleton"],
                         lambda m: emit("skeleton", m, skeleton=[[p.x, p.y, p.c] for p in m.skeleton]), reliable)
node.create_subscription(Gesture, topics["gesture"],
                         lambda m: emit("gesture", m, gesture=m.gesture, handedness=m.handedness), reliable)
node.create_subscription(BodyPosture, topics["posture"], lambda m: emit("posture", m, posture=m.posture), reliable)
print(json.dumps({"kind": "ready"}), flush=True)
try:
    rclpy.spin(node)
except (KeyboardInterrupt, ExternalShutdownException):
    pass
finally:
    node.destroy_node()
    rclpy.try_shutdown()
'''


@pytest.fixture(scope="session")
def hri_env(ros_env) -> dict[str, str]:
    """Return the loopback ROS env plus the built hri_msgs (`make test` installs this tree's mtl_hri first)."""
    return fixture_env("hri_msgs", ros_env)


@pytest.fixture(scope="module")
def received(ros, hri_env, tmp_path_factory):
    """Publish every case and return (subscriber's messages by kind, the publisher's report, the graph's types)."""
    logs = tmp_path_factory.mktemp("hri_msgs_logs")
    spec = {"topics": {kind: topic for kind, (topic, _) in TOPICS.items()},
            "cases": {kind: [{"args": args, "frame_id": f"{kind}{n}", **dict(zip(("sec", "nanosec"),
                                                                                  source_stamp(kind, n)))}
                             for n, (args, _) in enumerate(cases)] for kind, cases in CASES.items()}}
    (logs / "cases.json").write_text(json.dumps(spec))  # NaN and inf as JSON's NaN / Infinity, which Python reads
    graph = rclpy.create_node("hri_msgs_graph")
    probe = JsonLinesProcess(SUBSCRIBER, [json.dumps(spec["topics"])], hri_env, logs / "probe.py")
    publisher = None

    def context() -> str:
        return (f"\nprobe stderr:\n{probe.stderr()[-3000:]}"
                + (f"\npublisher stderr:\n{publisher.stderr()[-3000:]}" if publisher else ""))

    try:
        assert probe.wait_for(lambda: probe.of("ready"), 30), "the subscriber process did not start" + context()
        publisher = JsonLinesProcess(PUBLISHER, [str(logs / "cases.json")], hri_env, logs / "publisher.py")
        assert publisher.wait_for(lambda: publisher.of("published"), 30), "nothing was published" + context()
        total = sum(len(cases) for cases in CASES.values())
        assert probe.wait_for(lambda: sum(len(probe.of(kind)) for kind in CASES) >= total, 20), (
            f"{sum(len(probe.of(kind)) for kind in CASES)} of {total} messages arrived" + context())
        wanted = {topic for topic, _ in TOPICS.values()}
        probe.wait_for(lambda: wanted <= {name for name, _ in graph.get_topic_names_and_types()}, 10)
        types = dict(graph.get_topic_names_and_types())
        assert publisher.stop() == 0 and probe.stop() == 0, "a ROS process failed" + context()
        yield {kind: probe.of(kind) for kind in CASES}, publisher, types
    finally:
        if publisher is not None:
            publisher.stop()
        probe.stop()
        graph.destroy_node()


def test_the_fixture_makes_hri_msgs_available_to_mtl_hri(received):
    _, publisher, _ = received
    available = publisher.of("available")[0]
    assert available["value"] is True, available
    assert publisher.of("published")[0]["count"] == sum(len(cases) for cases in CASES.values())


def test_topics_carry_their_ros4hri_types(received):
    types = received[2]
    for topic, type_name in TOPICS.values():
        assert types.get(topic) == [type_name], (topic, types.get(topic))


def test_every_message_carries_a_copy_of_its_source_header(received):
    by_kind = received[0]
    for kind, cases in CASES.items():
        got = by_kind[kind]
        assert sorted(m["frame_id"] for m in got) == sorted(f"{kind}{n}" for n in range(len(cases))), kind
        for msg in got:
            n = int(msg["frame_id"][len(kind):])
            assert (msg["sec"], msg["nanosec"]) == source_stamp(kind, n), f"{kind} case {n}: not the source stamp"


@pytest.mark.parametrize("kind", list(CASES))
def test_fields_and_constants_arrive_as_built(received, kind):
    got = {m["frame_id"]: m for m in received[0][kind]}
    for n, (args, expected) in enumerate(CASES[kind]):
        msg = got[f"{kind}{n}"]
        for field, value in expected.items():
            if np.asarray(value).dtype.kind == "f":  # float32 on the wire
                np.testing.assert_allclose(msg[field], value, atol=1e-6, err_msg=f"{kind} case {n} {field}: {args}")
            else:
                assert msg[field] == value, f"{kind} case {n} {field}: {args}"
