"""Tracked bodies against exact truth, through real processes and DDS: a synthetic scene -> recognizer -> a probe.

A 2-person scene of `mtl_hri.data.synth.scene` (people walk in, cross, perform and walk out; the box of every
person in every frame is known) is played once by `video_publisher` into the recognizer. A probe process (with the
hri_msgs and vision_msgs fixtures on its paths) prints every camera image's stamp, every `<prefix>/bodies/tracked`
list and every body's roi as JSON lines. The n-th image the probe saw is frame n of the video (see `run`), so each
roi is matched to the person whose truth box it overlaps most in its frame, and what the recognizer says about a
person is checked against when that person is in view.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import pytest

from mtl_hri.data.synth import Mp4Writer
from mtl_hri.data.synth.scene import SceneConfig, min_seconds, render_scene
from mtl_hri.perception.frontend import FrontEndParams
from mtl_hri.tools.bench.procs import RosProcess

from .test_vision_msgs import PROBE_HEAD, PROBE_TAIL, JsonLinesProcess, fixture_env

IMAGE = "/scene_cam/image_raw"
NS = "/scene_it"
PREFIX = "/scene_it_humans"  # humans_prefix, so that no other test's topics mix in
FRAME_ID = "scene_camera"
WIDTH, HEIGHT, FPS, PEOPLE = 960, 540, 10.0, 2  # 960x540: 1280x720 leaves the 2-core CI machine little headroom
# Seed 0 was picked offline: FrontEnd(FrontEndParams(max_bodies=4, body_timeout=1.0)) on the rendered frames finds
# both people (best IoU 0.95 and 0.89 with the truth), keeps one id each through the crossing, and drops both ids
# 0.7 and 0.9 s after the person's last frame in view.
SEED = 0
SECONDS = round(min_seconds(WIDTH, HEIGHT, PEOPLE, FPS) + 1.0, 1)  # the shortest scene any seed fits in, + 1 s
# The scene ends a few tenths of a second after the last person leaves view; the camera goes on sending its last
# frame (nobody in view, checked) until this long after the last person's last frame in view, so that the ids'
# leaving `tracked` can be seen on camera stamps.
AFTER_S = 2.5
BODY_TIMEOUT = FrontEndParams().body_timeout  # the recognizer's default (1 s), left as it is
# An id leaves `tracked` on the first frame the front end processes more than BODY_TIMEOUT after the body was last
# seen, which is at the latest the person's last frame in view. The recognizer takes the newest frame when it is
# free (live QoS, depth 1), so that frame comes one camera period (0.1 s) later, plus the frames skipped while the
# front end is busy on one frame: a landmark pass per body, and, while nobody is followed, a person detection on
# every frame (tenths of a second at most on 2 cores). Stamps are the camera's, so transport adds nothing.
MARGIN = 0.5
MATCH_IOU = 0.5

PROBE = '"""Print image stamps, ROS4HRI tracked lists and body rois; subscribe to new bodies as they appear."""' \
    + PROBE_HEAD + r'''
from rclpy.qos import QoSProfile, QoSReliabilityPolicy
from hri_msgs.msg import IdsList, NormalizedRegionOfInterest2D
from sensor_msgs.msg import Image

image, prefix = sys.argv[1], sys.argv[2]
reliable = QoSProfile(depth=100, reliability=QoSReliabilityPolicy.RELIABLE)

rclpy.init()
node = rclpy.create_node("scene_probe")
node.create_subscription(Image, image, lambda m: emit(kind="image", stamp=stamp_ns(m.header),
                                                      frame_id=m.header.frame_id), reliable)
node.create_subscription(IdsList, f"{prefix}/bodies/tracked",
                         lambda m: emit(kind="tracked", stamp=stamp_ns(m.header), ids=list(m.ids)), reliable)
subscribed = set()


def discover():
    for name, _ in node.get_topic_names_and_types():
        parts = name.split("/")
        if name.startswith(f"{prefix}/bodies/") and name.endswith("/roi") and parts[-2] not in subscribed:
            body = parts[-2]
            subscribed.add(body)
            node.create_subscription(NormalizedRegionOfInterest2D, name, lambda m, body=body: emit(
                kind="roi", body=body, stamp=stamp_ns(m.header), box=[m.xmin, m.ymin, m.xmax, m.ymax]), reliable)


node.create_timer(0.1, discover)
''' + PROBE_TAIL


def iou(a: list[float], b: list[float]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


@dataclass
class Truth:
    video: Path
    boxes: list[dict[int, list[float]]]  # per frame of the video, the people in view: id -> box (pixel edges)
    last_view: dict[int, int]  # per person, the last frame in which any of their pixels is in view


@pytest.fixture(scope="module")
def scene(tmp_path_factory) -> Truth:
    out = tmp_path_factory.mktemp("scene")
    cfg = SceneConfig(width=WIDTH, height=HEIGHT, fps=FPS, seconds=SECONDS, people=PEOPLE, seed=SEED)
    rendered = render_scene(cfg)
    truth = rendered.to_json()
    (out / "scene.json").write_text(json.dumps(truth) + "\n")  # as `mtl-hri-synth scene` writes it, to look at
    boxes = [{p["id"]: p["box"] for p in frame} for frame in truth["truth"]]
    last_view = {p["id"]: max(t for t, frame in enumerate(boxes) if p["id"] in frame) for p in truth["people"]}
    assert len(last_view) == PEOPLE and not boxes[-1], "everyone is in view at some time, and gone at the end"
    assert all(last_view[p["id"]] < p["gone"] for p in truth["people"])
    hold = max(0, max(last_view.values()) + round(AFTER_S * FPS) + 1 - len(boxes))
    video = out / "scene.mp4"
    with Mp4Writer(video, FPS, WIDTH, HEIGHT) as writer:
        for frame in rendered.frames:
            writer.write(frame)
        for _ in range(hold):
            writer.write(rendered.frames[-1])
    boxes += [{} for _ in range(hold)]
    capture, frames = cv2.VideoCapture(str(video)), 0
    while capture.grab():
        frames += 1
    capture.release()
    assert frames == len(boxes), "the video holds every frame written"
    return Truth(video, boxes, last_view)


@pytest.fixture(scope="module")
def hri_env(ros_env) -> dict[str, str]:
    return fixture_env("hri_msgs", fixture_env("vision_msgs", ros_env))


@dataclass
class Run:
    stamps: list[int]  # ns, of frame n of the video at [n]
    tracked: list[dict]  # stamp (ns), ids; in stamp order
    rois: list[dict]  # stamp (ns), body, box (normalised)
    context: str  # the processes' logs, for failure messages


@pytest.fixture(scope="module")
def run(hri_env, model_dir, scene, tmp_path_factory) -> Run:
    logs = tmp_path_factory.mktemp("scene_logs")
    probe = JsonLinesProcess(PROBE, [IMAGE, PREFIX], hri_env, logs / "probe.py")
    recognizer = RosProcess("recognizer", ["-r", f"__ns:={NS}", "-r", f"image:={IMAGE}", "-p", f"model:={model_dir}",
                                           "-p", f"humans_prefix:={PREFIX}", "-p", "max_bodies:=4"], hri_env, logs)
    procs: list = [probe, recognizer]

    def context() -> str:
        return "".join(f"\n{p.name}:\n{p.log()[-2500:]}" for p in procs[1:] if isinstance(p, RosProcess)) \
            + f"\nprobe stderr:\n{probe.stderr()[-2000:]}"

    try:
        assert probe.wait_for(lambda: probe.of("ready"), 30), "the probe did not start" + context()
        # The recognizer logs its model once everything is made (subscription, publishers, front end, engine).
        assert probe.wait_for(lambda: "model '" in recognizer.log() or not recognizer.alive(), 60) \
            and recognizer.alive(), "the recognizer did not start" + context()
        # The mapping of stamps to frames: the publisher holds the first frame until both the probe's (reliable)
        # and the recognizer's subscriptions have matched, and keeps every frame for a slow probe (depth), so the
        # probe receives every frame, in order (reliable, one writer); that it got all of them is checked below.
        publisher = RosProcess("video_publisher", ["-r", f"image:={IMAGE}", "-p", f"video:={scene.video}",
                                                   "-p", f"rate:={FPS}", "-p", "loop:=false",
                                                   "-p", "wait_for_subscribers:=2", "-p", f"frame_id:={FRAME_ID}",
                                                   "-p", f"depth:={len(scene.boxes)}"],
                                  hri_env, logs)
        procs.append(publisher)
        n = len(scene.boxes)
        assert probe.wait_for(lambda: not publisher.alive(), n / FPS + 40), "the video did not end" + context()
        assert f"done after {n} frames" in publisher.log(), "the publisher sent every frame" + context()
        probe.wait_for(lambda: len(probe.of("image")) >= n, 5)
        probe.wait_for(lambda: False, 1.0)  # the recognizer's outputs of the last frames
        assert recognizer.alive(), "the recognizer died" + context()
        recognizer.stop()
        assert probe.stop() == 0, "the probe failed" + context()
        images = probe.of("image")
        stamps = [m["stamp"] for m in images]
        assert len(stamps) == n and all(a < b for a, b in zip(stamps, stamps[1:])), \
            f"the probe saw {len(stamps)} of {n} frames, or out of order: frames cannot be told apart" + context()
        assert {m["frame_id"] for m in images} == {FRAME_ID}
        tracked = sorted(probe.of("tracked"), key=lambda m: m["stamp"])
        return Run(stamps, tracked, probe.of("roi"), context())
    finally:
        for proc in reversed(procs):
            proc.stop()


@pytest.fixture(scope="module")
def matched(run, scene) -> dict[str, list[tuple[int, int, float]]]:
    """Per body id, its rois as (frame, the person with the best IoU there or -1 for nobody, that IoU)."""
    frame_of = {stamp: n for n, stamp in enumerate(run.stamps)}
    out: dict[str, list[tuple[int, int, float]]] = {}
    for roi in run.rois:
        if roi["stamp"] not in frame_of:
            continue  # test_every_output_carries_a_stamp_the_camera_sent says so
        n = frame_of[roi["stamp"]]
        x0, y0, x1, y1 = roi["box"]
        box = [x0 * WIDTH, y0 * HEIGHT, x1 * WIDTH, y1 * HEIGHT]
        value, person = max(((iou(box, truth), pid) for pid, truth in scene.boxes[n].items()), default=(0.0, -1))
        out.setdefault(roi["body"], []).append((n, person, value))
    for rows in out.values():
        rows.sort()
    return out


def owners(matched: dict[str, list[tuple[int, int, float]]]) -> dict[str, int]:
    """Per body id, the person its last roi with IoU >= MATCH_IOU matched: whom it follows at the end."""
    last = {body: [person for _, person, value in rows if value >= MATCH_IOU] for body, rows in matched.items()}
    return {body: people[-1] for body, people in last.items() if people}


def test_both_people_are_tracked(matched, scene, run):
    best = {pid: max((v for rows in matched.values() for _, p, v in rows if p == pid), default=0.0)
            for pid in scene.last_view}
    assert all(v >= MATCH_IOU for v in best.values()), f"best roi IoU per person: {best}" + run.context
    assert max(len(t["ids"]) for t in run.tracked) >= PEOPLE


def test_a_persons_ids_leave_tracked_within_the_timeout_after_they_leave_view(matched, scene, run):
    owner = owners(matched)
    assert set(owner.values()) == set(scene.last_view), f"whom each id follows at the end: {owner}"
    late = []
    for body, pid in owner.items():
        left_view = run.stamps[scene.last_view[pid]]
        last_in = max(t["stamp"] for t in run.tracked if body in t["ids"])
        after = [t["stamp"] for t in run.tracked if t["stamp"] > last_in]
        assert after, f"{body} (person {pid}) is still tracked at the end" + run.context
        out_s = (after[0] - left_view) / 1e9
        if out_s > BODY_TIMEOUT + MARGIN:
            late.append(f"{body} (person {pid}, last in view at frame {scene.last_view[pid]}) left tracked "
                        f"{out_s:.2f} s after")
    assert not late, "; ".join(late) + run.context
    assert run.tracked[-1]["ids"] == [], f"nobody is in view at the end, yet tracked: {run.tracked[-1]}"


def test_no_roi_of_an_id_after_it_left_tracked(matched, run):
    for body, rows in matched.items():
        last_in = max((t["stamp"] for t in run.tracked if body in t["ids"]), default=-1)
        after = [r["stamp"] for r in run.rois if r["body"] == body and r["stamp"] > last_in]
        assert not after, f"{body}: {len(after)} rois after its last tracked list" + run.context


def test_every_output_carries_a_stamp_the_camera_sent(run):
    sent = set(run.stamps)
    assert run.tracked and run.rois
    for kind, msgs in (("tracked", run.tracked), ("roi", run.rois)):
        strange = [m["stamp"] for m in msgs if m["stamp"] not in sent]
        assert not strange, f"{len(strange)} {kind} stamps the camera never sent: {strange[:5]}"
