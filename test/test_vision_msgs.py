"""vision_msgs output of the real `recognizer`, against a vision_msgs-compatible package built from test/fixtures.

The PyPI ROS 2 wheels lack vision_msgs, so the session builds the fixture (scripts/build_fixture.sh vision_msgs) and
every process that needs it runs with the built package's paths: the recognizer, and subscriber processes (this test
process has loaded rclpy without them and cannot import vision_msgs) that print what they receive as JSON lines.
The fixture helpers here (fixture_env, JsonLinesProcess) serve the other interface fixtures' tests too.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

import pytest
import rclpy

from mtl_hri.tools.bench.procs import RosProcess

ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = ROOT / "scripts" / "build_fixture.sh"
NS = "/vm_it"
IMAGE = "/vm_cam/image_raw"
FRAME_ID = "vm_camera"
TASKS = ("action", "gesture")
TOP_K = 5  # VisionOutputs' default

# The start and end of a probe script: a process that prints what it receives as JSON lines until SIGINT.
PROBE_HEAD = r'''
import json, sys
import rclpy
from rclpy.executors import ExternalShutdownException


def emit(**kw):
    print(json.dumps(kw), flush=True)


def stamp_ns(h):
    return h.stamp.sec * 10**9 + h.stamp.nanosec
'''
PROBE_TAIL = r'''
emit(kind="ready")
try:
    rclpy.spin(node)
except (KeyboardInterrupt, ExternalShutdownException):
    pass
finally:
    node.destroy_node()
    rclpy.try_shutdown()
'''

SUBSCRIBER = '"""Print vision_msgs (and optionally image stamps) as JSON lines until SIGINT."""' + PROBE_HEAD + r'''
from rclpy.qos import QoSDurabilityPolicy, QoSProfile, QoSReliabilityPolicy
from sensor_msgs.msg import Image
from vision_msgs.msg import Classification, VisionInfo

ns, image, what = sys.argv[1], sys.argv[2], sys.argv[3].split(",")

rclpy.init()
node = rclpy.create_node("vision_msgs_probe")
reliable = QoSProfile(depth=100, reliability=QoSReliabilityPolicy.RELIABLE)
if "image" in what:
    node.create_subscription(Image, image, lambda m: emit(kind="image", stamp=stamp_ns(m.header),
                                                          frame_id=m.header.frame_id), reliable)
if "classification" in what:
    for task in ("action", "gesture"):
        node.create_subscription(
            Classification, f"{ns}/{task}/classification",
            lambda m, task=task: emit(kind="classification", task=task, stamp=stamp_ns(m.header),
                                      frame_id=m.header.frame_id,
                                      results=[[r.class_id, r.score] for r in m.results]), reliable)
if "info" in what:
    latched = QoSProfile(depth=1, reliability=QoSReliabilityPolicy.RELIABLE,
                         durability=QoSDurabilityPolicy.TRANSIENT_LOCAL)
    node.create_subscription(VisionInfo, f"{ns}/vision_info",
                             lambda m: emit(kind="info", method=m.method, database_location=m.database_location,
                                            database_version=m.database_version, stamp=stamp_ns(m.header)), latched)
''' + PROBE_TAIL


def fixture_prefix(package: str) -> Path:
    """Where the fixture `package` is built: $MTL_HRI_<PACKAGE>_PREFIX, else the user's cache."""
    override = os.environ.get(f"MTL_HRI_{package.upper()}_PREFIX")
    if override:
        return Path(override)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "mtl_hri" / f"{package}_fixture"


def build_env_additions(package: str, prefix: Path) -> dict[str, str]:
    """Build the fixture `package` into `prefix` (reused when up to date) and return {VAR: path to prepend}."""
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with open(prefix.parent / f".{prefix.name}.lock", "w") as lock:  # concurrent sessions build one at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run(["bash", str(BUILD_SCRIPT), package, str(prefix)], capture_output=True, text=True,
                              env={**os.environ, "PYTHON": sys.executable}, timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"building the {package} fixture failed:\n{proc.stderr[-6000:]}")
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def with_paths(env: dict[str, str], additions: dict[str, str]) -> dict[str, str]:
    env = dict(env)
    for key, value in additions.items():
        env[key] = os.pathsep.join([value, *[p for p in env.get(key, "").split(os.pathsep) if p]])
    return env


def fixture_env(package: str, ros_env: dict[str, str]) -> dict[str, str]:
    """Return `ros_env` plus the built fixture `package`; skip when the tools to build it are missing."""
    missing = [tool for tool in ("cmake", "cc", "c++") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"cannot build the {package} fixture: {', '.join(missing)} not found")
    start = time.monotonic()
    additions = build_env_additions(package, fixture_prefix(package))
    print(f"{package} fixture ready in {time.monotonic() - start:.1f} s: {additions}")
    return with_paths(ros_env, additions)


@pytest.fixture(scope="session")
def vision_env(ros_env) -> dict[str, str]:
    """Return the loopback ROS env plus the built vision_msgs (`make test` installs this tree's mtl_hri first)."""
    return fixture_env("vision_msgs", ros_env)


class JsonLinesProcess:
    """A Python script run as a process; its stdout's JSON lines are collected by a thread."""

    def __init__(self, source: str, args: list[str], env: dict[str, str], path: Path) -> None:
        path.write_text(source)
        self.lines: list[dict] = []
        self.stderr_path = path.with_suffix(".stderr")
        self._stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen([sys.executable, str(path), *args], env=env, stdout=subprocess.PIPE,
                                     stderr=self._stderr, text=True)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            with self._lock:
                self.lines.append(item)

    def of(self, kind: str) -> list[dict]:
        with self._lock:
            return [item for item in self.lines if item["kind"] == kind]

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        return predicate()

    def stderr(self) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._thread.join(5)
        self._stderr.close()
        return self.proc.returncode


def read_database(location: str) -> dict[str, list[str]]:
    """Read the parameters a VisionInfo.database_location (`<node>:<param>,...`) names from that node."""
    from rclpy.parameter import parameter_value_to_python
    from rclpy.parameter_client import AsyncParameterClient

    from .rosutil import call

    node_name, names = location.split(":")
    node = rclpy.create_node("vision_msgs_database_reader")
    try:
        client = AsyncParameterClient(node, node_name)
        assert client.wait_for_services(10.0), f"no parameter services on {node_name}"
        response = call(node, client.get_parameters(names.split(",")))
        return {name: parameter_value_to_python(v) for name, v in zip(names.split(","), response.values)}
    finally:
        node.destroy_node()


@pytest.fixture(scope="module")
def run(ros, vision_env, model_dir, footage, tmp_path_factory):
    logs = tmp_path_factory.mktemp("vision_msgs_logs")
    graph = rclpy.create_node("vision_msgs_graph")

    def advertised() -> set[str]:
        return {name for name, _ in graph.get_topic_names_and_types() if graph.count_publishers(name)}

    probe = JsonLinesProcess(SUBSCRIBER, [NS, IMAGE, "image,classification"], vision_env, logs / "probe.py")
    late = None
    recognizer = RosProcess("recognizer", ["-r", f"__ns:={NS}", "-r", f"image:={IMAGE}", "-p", f"model:={model_dir}"],
                            vision_env, logs)
    publisher = RosProcess("video_publisher", ["-r", f"image:={IMAGE}", "-p", f"video:={footage}", "-p", "rate:=15.0",
                                               "-p", "loop:=true", "-p", f"frame_id:={FRAME_ID}"], vision_env, logs)

    def context() -> str:
        return (f"\nrecognizer:\n{recognizer.log()[-3000:]}\npublisher:\n{publisher.log()[-1500:]}"
                f"\nprobe stderr:\n{probe.stderr()[-2000:]}"
                + (f"\nlate stderr:\n{late.stderr()[-2000:]}" if late else ""))

    try:
        assert probe.wait_for(lambda: probe.of("ready"), 30), "the subscriber process did not start" + context()
        assert probe.wait_for(lambda: f"{NS}/hands" in advertised(), 60), "the recognizer did not start" + context()
        wanted = {f"{NS}/{t}/classification" for t in TASKS} | {f"{NS}/vision_info"}
        assert probe.wait_for(lambda: wanted <= advertised(), 30), (
            f"the recognizer is up but does not advertise {sorted(wanted - advertised())}: "
            "VisionOutputs is not wired into the node (mtl_hri/ros/camera.py)" + context())
        got = probe.wait_for(lambda: all(sum(c["task"] == t for c in probe.of("classification")) >= 5 for t in TASKS),
                             75)
        assert got, "no Classification on both tasks" + context()
        # The node is up and has published VisionInfo long ago: a subscriber starting now must still get it.
        late = JsonLinesProcess(SUBSCRIBER, [NS, IMAGE, "info"], vision_env, logs / "late.py")
        assert late.wait_for(lambda: late.of("info"), 20), "a late subscriber got no (latched) VisionInfo" + context()
        database = read_database(late.of("info")[-1]["database_location"])
        publisher_code = publisher.stop()
        recognizer_code = recognizer.stop()
        assert probe.stop() == 0 and late.stop() == 0, "a subscriber process failed" + context()
        yield probe, late, recognizer, publisher_code, recognizer_code, database
    finally:
        publisher.stop()
        recognizer.stop()
        probe.stop()
        if late is not None:
            late.stop()
        graph.destroy_node()


def test_classification_on_both_tasks_is_top_k_of_the_models_labels(run, model_dir):
    from mtl_hri.model import load_card

    labels = load_card(model_dir).labels
    classifications = run[0].of("classification")
    for task in TASKS:
        msgs = [c for c in classifications if c["task"] == task]
        assert len(msgs) >= 5
        for msg in msgs:
            ids, scores = [r[0] for r in msg["results"]], [r[1] for r in msg["results"]]
            assert 1 <= len(ids) <= min(TOP_K, len(labels[task]))
            assert set(ids) <= set(labels[task]) and len(set(ids)) == len(ids)
            assert scores == sorted(scores, reverse=True), "results are not sorted by score"
            assert all(0.0 <= s <= 1.0 for s in scores) and sum(scores) <= 1.0 + 1e-5


def test_classification_carries_the_source_frame_header(run):
    probe = run[0]
    sent = {i["stamp"]: i["frame_id"] for i in probe.of("image")}
    classifications = probe.of("classification")
    assert sent and classifications
    for msg in classifications:
        assert msg["stamp"] in sent, "Classification stamp is not one the video publisher sent"
        assert msg["frame_id"] == FRAME_ID == sent[msg["stamp"]]
    for task in TASKS:
        stamps = [c["stamp"] for c in classifications if c["task"] == task]
        assert stamps == sorted(stamps), f"{task} classifications went back in time"


def test_vision_info_is_latched_and_names_the_model_and_its_labels(run, model_dir):
    from mtl_hri.model import load_card

    info, database = run[1].of("info")[-1], run[5]
    card = load_card(model_dir)
    assert info["method"] == card.name
    assert info["database_version"] >= 1 and info["stamp"] > 0
    assert info["database_location"] == f"{NS}/recognizer:" + ",".join(f"{t}_labels" for t in TASKS)
    assert database == {f"{t}_labels": card.labels[t] for t in TASKS}, "database_location names the wrong labels"


def test_processes_exit_cleanly(run):
    _, _, recognizer, publisher_code, recognizer_code, _ = run
    assert publisher_code == 0
    assert recognizer_code == 0, recognizer.log()[-3000:]
    assert "Traceback" not in recognizer.log()
