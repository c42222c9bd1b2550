"""A subscriber to the recognizer's outputs that records what arrives and when (benchmarks, the demo and tests)."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseArray
from rclpy.node import Node
from rclpy.qos import QoSProfile, QoSReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import String

from ...model.config import NONE
from ...ros.stamps import stamp_nanoseconds, stamp_seconds


@dataclass
class Received:
    actions: list[str] = field(default_factory=list)
    gestures: list[str] = field(default_factory=list)
    hands: list[PoseArray] = field(default_factory=list)
    hands_latency_ms: list[float] = field(default_factory=list)  # frame stamp -> receipt
    hands_wall: list[float] = field(default_factory=list)
    hands_labels: list[tuple[str, str]] = field(default_factory=list)  # last (action, gesture) before each hands
    diagnostics: list[DiagnosticArray] = field(default_factory=list)
    debug_image: Image | None = None
    image_stamps: dict[int, str] = field(default_factory=dict)  # stamp ns -> frame_id, of input images


class OutputListener(Node):
    def __init__(self, namespace: str, image_topic: str | None = None, debug: bool = False,
                 name: str = "mtl_hri_listener") -> None:
        super().__init__(name)
        self.received = Received()
        self.lock = threading.Lock()
        reliable = QoSProfile(depth=50, reliability=QoSReliabilityPolicy.RELIABLE)
        ns = namespace.rstrip("/")
        self.create_subscription(String, f"{ns}/action", lambda m: self._add("actions", m.data), reliable)
        self.create_subscription(String, f"{ns}/gesture", lambda m: self._add("gestures", m.data), reliable)
        self.create_subscription(PoseArray, f"{ns}/hands", self._on_hands, reliable)
        self.create_subscription(DiagnosticArray, "/diagnostics", lambda m: self._add("diagnostics", m), 10)
        if image_topic:
            self.create_subscription(Image, image_topic, self._on_image, QoSProfile(depth=50))
        if debug:
            self.create_subscription(Image, f"{ns}/debug_image", self._on_debug, 1)

    def _add(self, name: str, value) -> None:
        with self.lock:
            getattr(self.received, name).append(value)

    def _on_hands(self, msg: PoseArray) -> None:
        now = time.time()
        stamp = stamp_seconds(msg.header.stamp)
        with self.lock:
            self.received.hands.append(msg)
            self.received.hands_wall.append(now)
            self.received.hands_latency_ms.append((now - stamp) * 1e3)
            r = self.received  # the node publishes action and gesture just before hands
            self.received.hands_labels.append((r.actions[-1] if r.actions else NONE,
                                               r.gestures[-1] if r.gestures else NONE))

    def _on_image(self, msg: Image) -> None:
        with self.lock:
            self.received.image_stamps[stamp_nanoseconds(msg.header.stamp)] = msg.header.frame_id

    def _on_debug(self, msg: Image) -> None:
        with self.lock:
            self.received.debug_image = msg

    def diagnostic_values(self, suffix: str = "") -> dict[str, str]:
        """Key/values of the newest mtl_hri diagnostic status (whose name ends with `suffix`, e.g. a camera)."""
        with self.lock:
            for array in reversed(self.received.diagnostics):
                for status in array.status:
                    if status.name.startswith("mtl_hri") and status.name.endswith(suffix):
                        return {kv.key: kv.value for kv in status.values}
        return {}
