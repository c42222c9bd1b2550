"""One camera's pipeline inside the recognizer node: its window, stream state, smoothing, outputs and counters.

All methods run with the node's lock held, except `publish`, which the worker calls after inference.
"""
from __future__ import annotations

import collections
from typing import Callable

import numpy as np
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from geometry_msgs.msg import Pose, PoseArray
from rclpy.node import Node
from rclpy.qos import QoSHistoryPolicy, QoSProfile, QoSReliabilityPolicy, qos_profile_sensor_data
from rclpy.qos_overriding_options import QoSOverridingOptions
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header, String

from ..stream import Push, RecognitionResult
from ..stream.overlay import OverlayInfo, draw_overlay
from ..stream.pipeline import CameraStream, FrameMeta
from ..stream.engine import EngineBase
from ..stream.stats import RateMeter, RollingStats
from .image_conv import ImageError, array_to_image, check_image, compressed_to_rgb, message_to_rgb
from .vision import VisionOutputs, vision_msgs_available

NONE = "none"
CAMERA_SILENT_AFTER = 2.0  # s without images before diagnostics warn
TRAIL = 12  # hand positions kept for the debug trail
THROTTLE = 5.0  # s between repeated warnings of one kind


def stamp_seconds(header: Header) -> float:
    return header.stamp.sec + header.stamp.nanosec * 1e-9


class Camera:
    def __init__(self, node: Node, name: str, transport: str, on_frame: Callable[..., None], offline: bool) -> None:
        self.node, self.name = node, name
        prefix = f"{name}/" if name else ""
        reliable = QoSProfile(depth=10, reliability=QoSReliabilityPolicy.RELIABLE)  # controllers see every change
        self.pub_action = node.create_publisher(String, f"{prefix}action", reliable)
        self.pub_gesture = node.create_publisher(String, f"{prefix}gesture", reliable)
        self.pub_hands = node.create_publisher(PoseArray, f"{prefix}hands", reliable)
        self.pub_debug = node.create_publisher(Image, f"{prefix}debug_image", 1)
        # vision_msgs/Classification per task and a latched VisionInfo, where vision_msgs exists (any distro)
        self.vision = VisionOutputs(node, prefix, "", ["action", "gesture"]) if vision_msgs_available() else None
        overrides = QoSOverridingOptions.with_default_policies()
        # Live: sensor-data QoS, depth 1 (never build lag). Offline: reliable and keep everything (never drop).
        qos = QoSProfile(depth=1, reliability=QoSReliabilityPolicy.RELIABLE, history=QoSHistoryPolicy.KEEP_ALL) \
            if offline else qos_profile_sensor_data
        if transport == "compressed":
            topic = node.resolve_topic_name(f"{prefix}image") + "/compressed"
            node.create_subscription(CompressedImage, topic, self._on_compressed, qos, qos_overriding_options=overrides)
        else:
            node.create_subscription(Image, f"{prefix}image", self._on_image, qos, qos_overriding_options=overrides)
        self._on_frame = on_frame  # the node's ingest (takes the lock, then calls self.ingest)
        self.frames_in, self.frames_sampled, self.decisions = RateMeter(), RateMeter(), RateMeter()
        self.frames_bad = 0
        self.inference_ms, self.latency_ms = RollingStats(), RollingStats()
        self.last_frame_wall = self.now()
        self.silent_reported = False
        self.trails = (collections.deque(maxlen=TRAIL), collections.deque(maxlen=TRAIL))
        self.stream = CameraStream(offline)

    @property
    def window(self):
        return self.stream.window

    # ------------------------------------------------------------- input
    def _on_image(self, msg: Image) -> None:
        self._on_frame(self, msg.header, lambda: message_to_rgb(msg), lambda: check_image(msg))

    def _on_compressed(self, msg: CompressedImage) -> None:
        self._on_frame(self, msg.header, lambda: compressed_to_rgb(msg), None)

    def ingest(self, engine: EngineBase, header: Header, convert: Callable[[], np.ndarray],
               check: Callable[[], object] | None) -> bool:
        """Validate every frame; convert and store only the frames the window samples. True if stored."""
        logger = self.node.get_logger()
        stamp = stamp_seconds(header)
        now = self.now()
        self.frames_in.tick(now)
        self.last_frame_wall, self.silent_reported = now, False
        w = self.window
        try:
            if check is not None:
                check()
            if w.check_gap(stamp):
                self.publish_none()
            kind = w.classify(stamp)
            rgb = convert() if kind is Push.SAMPLED else None
        except ImageError as exc:
            self.frames_bad += 1
            logger.warning(f"{self._where()}dropping a malformed image: {exc} ({self.frames_bad} so far)",
                           throttle_duration_sec=THROTTLE)
            return False
        if kind is not Push.SAMPLED:
            w.push(stamp, None)
            if kind is Push.BACKWARDS:
                logger.warning(f"{self._where()}dropping a frame whose stamp {stamp:.3f} does not follow the previous "
                               f"one ({w.rejected_backwards} so far)", throttle_duration_sec=THROTTLE)
            return False
        crop, geometry = engine.prepare(rgb)
        keep = rgb if self.pub_debug.get_subscription_count() > 0 else None
        self.frames_sampled.tick(now)
        self.stream.store(stamp, crop, FrameMeta(geometry, header, keep))
        return True

    def now(self) -> float:
        """The node's clock (simulated time under use_sim_time): rates, silence and latencies follow it."""
        return self.node.get_clock().now().nanoseconds * 1e-9

    def _where(self) -> str:
        return f"[{self.name}] " if self.name else ""

    # ------------------------------------------------------------- output
    def publish(self, result: RecognitionResult, decisions: dict, newest: FrameMeta, latency_ms: float) -> None:
        for task, pub in (("action", self.pub_action), ("gesture", self.pub_gesture)):
            if task in decisions:
                pub.publish(String(data=decisions[task].label))
        if self.vision is not None:
            self.vision.publish(newest.source, result.heads)
        if result.left is not None:
            hands = PoseArray(header=newest.source)
            for track, trail in zip((result.left, result.right), self.trails):
                x, y, conf = float(track.xy[-1, 0]), float(track.xy[-1, 1]), float(track.confidence[-1])
                pose = Pose()
                pose.position.x, pose.position.y, pose.position.z = x, y, conf
                hands.poses.append(pose)
                trail.append((x, y, conf))
            self.pub_hands.publish(hands)
        if newest.rgb is not None and self.pub_debug.get_subscription_count() > 0:
            info = OverlayInfo(
                decisions={t: (d.label, d.score) for t, d in decisions.items()},
                probs={t: (h.labels, h.probs) for t, h in result.heads.items()},
                trails=[list(t) for t in self.trails],
                lines=[f"window {self.window.count}/{self.window.length}  "
                       f"inference {result.timings.inference_ms:.0f} ms  latency {latency_ms:.0f} ms"],
            )
            self.pub_debug.publish(array_to_image(draw_overlay(newest.rgb, info), "rgb8", newest.source))

    def publish_none(self) -> None:
        """After a reset: forget the smoothed state and tell subscribers nobody is doing anything."""
        self.stream.reset_decisions()
        for trail in self.trails:
            trail.clear()
        self.pub_action.publish(String(data=NONE))
        self.pub_gesture.publish(String(data=NONE))

    # ------------------------------------------------------------- health
    def check_silence(self, now: float) -> float:
        """Seconds without images; a window left waiting past max_frame_gap is reset and `none` published."""
        silent = now - self.last_frame_wall
        w = self.window
        if w is not None and w.count and silent > w.max_frame_gap and not self.silent_reported:
            self.silent_reported = True
            w.reset()
            w.resets += 1
            self.publish_none()
        return silent

    def status(self, node_name: str, engine: EngineBase | None, error: str, now: float) -> DiagnosticStatus:
        silent = self.check_silence(now)
        w = self.window
        name = f"mtl_hri: {node_name}" + (f"/{self.name}" if self.name else "")
        status = DiagnosticStatus(name=name, hardware_id=str(engine.device) if engine else "none")
        values = {
            "input_fps": f"{self.frames_in.rate(now):.2f}",
            "sampled_fps": f"{self.frames_sampled.rate(now):.2f}",
            "decision_rate": f"{self.decisions.rate(now):.2f}",
            "inference_ms_p50": f"{self.inference_ms.percentile(50):.1f}",
            "inference_ms_p99": f"{self.inference_ms.percentile(99):.1f}",
            "latency_ms_p50": f"{self.latency_ms.percentile(50):.1f}",
            "latency_ms_p99": f"{self.latency_ms.percentile(99):.1f}",
            "frames_in": str(self.frames_in.total),
            "frames_bad": str(self.frames_bad),
            "frames_backwards": str(w.rejected_backwards if w else 0),
            "windows_skipped": str(self.stream.windows_skipped),
            "window_resets": str(w.resets if w else 0),
            "window_fill": f"{w.count if w else 0}/{w.length if w else 0}",
            "device": str(engine.device) if engine else "none",
            "backend": engine.backend if engine else "none",
            "accel": getattr(engine, "accel", "-") if engine else "none",
            "model": engine.card.name if engine else "none",
            "model_trained": str(engine.card.provenance.trained).lower() if engine else "false",
            "streaming": str(engine.streaming).lower() if engine else "false",
        }
        if engine is None:
            status.level, status.message = DiagnosticStatus.ERROR, error
        elif self.frames_in.total and silent > CAMERA_SILENT_AFTER:
            status.level, status.message = DiagnosticStatus.WARN, f"no images for {silent:.1f} s"
            self.node.get_logger().warning(f"{self._where()}{status.message}", throttle_duration_sec=THROTTLE)
        elif self.frames_bad or (w and w.rejected_backwards):
            status.level, status.message = DiagnosticStatus.WARN, "malformed or out-of-order frames dropped"
        else:
            status.level, status.message = DiagnosticStatus.OK, "running"
        status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
        return status
