"""Per-body outputs (ROS4HRI, REP-155): the topics of each tracked body, made as ids appear and removed as they go.

Under `<humans_prefix>/bodies/` (default `/humans/bodies/`):

| topic | type | |
|---|---|---|
| tracked | hri_msgs/IdsList | the ids tracked now, on every sampled frame |
| `<id>/roi` | hri_msgs/NormalizedRegionOfInterest2D | the body's box, normalised, with the source header |
| `<id>/skeleton2d` | hri_msgs/Skeleton2D | the 18 points, from BlazePose's 33 |
| `<id>/gesture` | hri_msgs/Gesture | the decided gesture as its constant (OTHER where none fits), and the hand |
| `<id>/<task>/classification` | vision_msgs/Classification | every task's scores, where vision_msgs is installed |
| `<id>/hands` | geometry_msgs/PoseArray | 2 x 21 hand points, the person's left hand first; z = confidence |

The hri_msgs topics exist where hri_msgs is installed (every distro with ROS4HRI); `hands` always. Every message
carries the header of the frame it describes. Outputs are reliable, depth 1, as ROS4HRI's reference nodes publish.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from geometry_msgs.msg import Pose, PoseArray
from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import QoSProfile, QoSReliabilityPolicy
from std_msgs.msg import Header

from ..model.config import ModelCard
from ..perception.frontend import Body
from ..perception.hands import POINTS as HAND_POINTS
from ..perception.pose import LEFT_ELBOW, LEFT_WRIST, RIGHT_ELBOW, RIGHT_WRIST
from ..stream.window_stream import Decided
from . import hri
from .vision import Classification, classification, vision_msgs_available

ROS4HRI_QOS = QoSProfile(depth=1, reliability=QoSReliabilityPolicy.RELIABLE)


def gesturing_hand(body: Body) -> str:
    """Return which hand makes a gesture: the one raised above its elbow when only one is ("" otherwise)."""
    pts, vis = body.landmarks.points, body.landmarks.visibility
    raised = [side for side, wrist, elbow in (("left", LEFT_WRIST, LEFT_ELBOW), ("right", RIGHT_WRIST, RIGHT_ELBOW))
              if min(vis[wrist], vis[elbow]) > 0.5 and pts[wrist, 1] < pts[elbow, 1]]
    return raised[0] if len(raised) == 1 else ""


def hand_poses(header: Header, body: Body) -> PoseArray:
    """Both hands' 21 points in source pixels, left hand first; a hand not found is 21 points of confidence 0."""
    out = PoseArray(header=hri.copy_header(header))
    for side in ("left", "right"):
        hand = next((h for h in body.hands if h.side == side), None)
        for k in range(HAND_POINTS):
            pose = Pose()
            if hand is not None:
                pose.position.x, pose.position.y = float(hand.points[k, 0]), float(hand.points[k, 1])
                pose.position.z = float(hand.presence)
            out.poses.append(pose)
    return out


@dataclass
class BodyTopics:
    hands: Publisher
    roi: Publisher | None = None
    skeleton: Publisher | None = None
    gesture: Publisher | None = None
    classifications: dict[str, Publisher] = field(default_factory=dict)


class BodyOutputs:
    """The per-body publishers of one node (all cameras: ids are unique), and the tracked list."""

    def __init__(self, node: Node, prefix: str) -> None:
        self.node = node
        self.prefix = prefix.rstrip("/") + "/bodies"
        self.hri = hri.hri_msgs_available()
        self.vision = vision_msgs_available()
        self.topics: dict[str, BodyTopics] = {}
        self.tracked = node.create_publisher(hri.IdsList, f"{self.prefix}/tracked", ROS4HRI_QOS) if self.hri else None

    def add(self, body_id: str, tasks: list[str]) -> None:
        if body_id in self.topics:
            return
        base, make = f"{self.prefix}/{body_id}", self.node.create_publisher
        topics = BodyTopics(make(PoseArray, f"{base}/hands", ROS4HRI_QOS))
        if self.hri:
            topics.roi = make(hri.NormalizedRegionOfInterest2D, f"{base}/roi", ROS4HRI_QOS)
            topics.skeleton = make(hri.Skeleton2D, f"{base}/skeleton2d", ROS4HRI_QOS)
            topics.gesture = make(hri.Gesture, f"{base}/gesture", ROS4HRI_QOS)
        if self.vision:
            topics.classifications = {t: make(Classification, f"{base}/{t}/classification", ROS4HRI_QOS)
                                      for t in tasks}
        self.topics[body_id] = topics

    def remove(self, body_id: str) -> None:
        topics = self.topics.pop(body_id, None)
        if topics is None:
            return
        for pub in (topics.hands, topics.roi, topics.skeleton, topics.gesture, *topics.classifications.values()):
            if pub is not None:
                self.node.destroy_publisher(pub)

    def publish_tracked(self, header: Header, ids: list[str]) -> None:
        if self.tracked is not None:
            self.tracked.publish(hri.ids_list(header, ids))

    def publish(self, decided: Decided, card: ModelCard) -> None:
        """One body's decision: where it is (roi, skeleton, hands) and what it does (gesture, classifications).

        The gesture goes out as the constant that the deciding model's card maps its label to.
        """
        body: Body = decided.newest.body
        topics = self.topics.get(body.id)
        if topics is None:
            return  # dropped while the worker ran
        header, g = decided.newest.source, decided.newest.geometry
        width, height = g.src_width, g.src_height
        topics.hands.publish(hand_poses(header, body))
        if self.hri:
            topics.roi.publish(hri.roi(header, body.box, width, height, body.confidence))
            topics.skeleton.publish(hri.skeleton2d(header, body.skeleton, width, height))
            gesture = decided.decisions.get("gesture")
            if gesture is not None:
                constant = card.ros4hri_constant("gesture", gesture.label)
                topics.gesture.publish(hri.gesture(header, constant, gesturing_hand(body)))
        for task, pub in topics.classifications.items():
            if task in decided.result.heads:
                pub.publish(classification(header, decided.result.heads[task]))

    def close(self) -> None:
        for body_id in list(self.topics):
            self.remove(body_id)

