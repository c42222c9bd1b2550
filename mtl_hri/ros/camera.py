"""One camera's outputs: the publishers the node made for it, and the messages built from a decision."""
from __future__ import annotations

from dataclasses import dataclass, field

from geometry_msgs.msg import Pose, PoseArray
from rclpy.publisher import Publisher
from std_msgs.msg import Header, String

from ..perception.frontend import Body
from ..stream.overlay import BodyMark, OverlayInfo, draw_overlay
from ..stream.pipeline import CameraStream, Decided
from ..stream.smoothing import NONE
from .image_conv import array_to_image
from .vision import InfoVersion, classification


@dataclass
class Camera:
    name: str  # "" for the default camera on `image`
    stream: CameraStream
    hands: Publisher  # geometry_msgs/PoseArray
    debug_image: Publisher  # sensor_msgs/Image
    vision_info: Publisher | None  # vision_msgs/VisionInfo, latched; None without vision_msgs
    labels: dict[str, Publisher] = field(default_factory=dict)  # task -> std_msgs/String, from the model card
    classifications: dict[str, Publisher] = field(default_factory=dict)  # task -> vision_msgs/Classification
    info_version: InfoVersion = field(default_factory=InfoVersion)
    body_labels: dict[str, str] = field(default_factory=dict)  # body id -> its latest labels, for the overlay
    last_stamp: float = float("-inf")  # of the newest decision published: the primary body can change
    last_header: Header | None = None  # of the newest frame sampled

    @property
    def prefix(self) -> str:
        return f"{self.name}/" if self.name else ""

    @property
    def where(self) -> str:
        """The log prefix naming this camera."""
        return f"[{self.name}] " if self.name else ""

    def wants_debug_image(self) -> bool:
        return self.debug_image.get_subscription_count() > 0

    def note_body(self, decided: Decided) -> None:
        """Keep a body's latest labels for the debug image."""
        self.body_labels[decided.body] = " ".join(d.label for d in decided.decisions.values())

    def publish(self, decided: Decided, bodies: list[Body]) -> None:
        """Labels, classifications, hands and (when subscribed) the debug image of one decision.

        `bodies`: every tracked body, drawn in the debug image with its latest labels. A decision older than the
        last one published (another body's, when the primary changes) is not published: the plain topics never go
        back in time.
        """
        if decided.stamp <= self.last_stamp:
            return
        self.last_stamp = decided.stamp
        header, result = decided.newest.source, decided.result
        for task, decision in decided.decisions.items():
            if task in self.labels:
                self.labels[task].publish(String(data=decision.label))
        for task, pub in self.classifications.items():
            if task in result.heads and pub.get_subscription_count() > 0:
                pub.publish(classification(header, result.heads[task]))
        if result.left is not None:
            hands = PoseArray(header=header)
            for track in (result.left, result.right):
                pose = Pose()
                pose.position.x, pose.position.y = float(track.xy[-1, 0]), float(track.xy[-1, 1])
                pose.position.z = float(track.confidence[-1])
                hands.poses.append(pose)
            self.hands.publish(hands)
        if decided.newest.rgb is not None and self.wants_debug_image():
            fill, length = decided.window_fill
            info = OverlayInfo(
                decisions={t: (d.label, d.score) for t, d in decided.decisions.items()},
                probs={t: (h.labels, h.probs) for t, h in result.heads.items()},
                trails=decided.trails,
                lines=[f"window {fill}/{length}  inference {result.timings.inference_ms:.0f} ms  "
                       f"latency {decided.latency_ms:.0f} ms" + (f"  bodies {len(bodies)}" if bodies else "")],
                bodies=[BodyMark(b.id, b.box, b.skeleton, [h.points for h in b.hands], self.body_labels.get(b.id, ""),
                                 b.id == decided.body) for b in bodies],
            )
            self.body_labels = {b.id: self.body_labels[b.id] for b in bodies if b.id in self.body_labels}
            self.debug_image.publish(array_to_image(draw_overlay(decided.newest.rgb, info), "rgb8", header))

    def publish_none(self) -> None:
        """After the stream restarted: nobody is doing anything (and stamps may start over)."""
        self.last_stamp = float("-inf")
        for pub in self.labels.values():
            pub.publish(String(data=NONE))
