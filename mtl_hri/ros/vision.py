"""Standard vision_msgs outputs, published beside the project's own when the `vision_msgs` package is installed.

Per camera: `<prefix><task>/classification` (vision_msgs/Classification: the top-k classes of a task, class_id =
the label, score = the probability, header = the newest frame's) and a latched `<prefix>vision_info`
(vision_msgs/VisionInfo: the model's name, and where its label list lives: the node's read-only `<task>_labels`
parameters). Any ROS 2 distro ships vision_msgs; the PyPI wheels do not, so its import is guarded: this module
imports anywhere, and the node builds VisionOutputs only when vision_msgs_available().
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import numpy as np
from rclpy.node import Node
from rclpy.qos import QoSDurabilityPolicy, QoSProfile, QoSReliabilityPolicy

try:
    from vision_msgs.msg import Classification, ObjectHypothesis, VisionInfo
except ImportError:  # no vision_msgs here: vision_msgs_available() is False and VisionOutputs is never built
    Classification = ObjectHypothesis = VisionInfo = None

if TYPE_CHECKING:
    from std_msgs.msg import Header

    from ..stream.engine import HeadResult

_available: bool | None = None


def vision_msgs_available() -> bool:
    """True when vision_msgs imports and its type support loads (a half-installed package counts as absent)."""
    global _available
    if _available is None:
        try:
            for cls in (Classification, ObjectHypothesis, VisionInfo):
                meta = type(cls)
                if meta._TYPE_SUPPORT is None:
                    meta.__import_type_support__()  # logs and leaves _TYPE_SUPPORT None if the C part cannot load
            _available = all(type(c)._TYPE_SUPPORT is not None for c in (Classification, ObjectHypothesis, VisionInfo))
        except Exception:  # noqa: BLE001 - None (not installed) or a broken install: publish no vision_msgs
            _available = False
    return _available


def labels_location(node: Node, tasks: list[str]) -> str:
    """Where the label lists live: `<node's fully qualified name>:<task>_labels,...` (read-only string arrays)."""
    return f"{node.get_fully_qualified_name()}:" + ",".join(f"{task}_labels" for task in tasks)


class VisionOutputs:
    """vision_msgs publishers of one camera. `publish` runs on the inference worker, `publish_info` at model load."""

    def __init__(self, node: Node, prefix: str, model_name: str, tasks: list[str], top_k: int = 5) -> None:
        if not vision_msgs_available():
            raise RuntimeError("vision_msgs is not installed")
        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, not {top_k}")
        self.node, self.tasks, self.top_k = node, list(tasks), top_k
        reliable = QoSProfile(depth=10, reliability=QoSReliabilityPolicy.RELIABLE)  # like `hands`
        self.pubs = {task: node.create_publisher(Classification, f"{prefix}{task}/classification", reliable)
                     for task in self.tasks}
        latched = QoSProfile(depth=1, reliability=QoSReliabilityPolicy.RELIABLE,
                             durability=QoSDurabilityPolicy.TRANSIENT_LOCAL)
        self.pub_info = node.create_publisher(VisionInfo, f"{prefix}vision_info", latched)
        self.model_name = model_name  # VisionInfo.method; publish_info sets it
        self.version = 0  # VisionInfo.database_version last published; 0 before the first
        self._database: tuple = ()

    def publish_info(self, model_name: str, version: int | None = None) -> None:
        """Publish (latched) VisionInfo. `version` None: the previous one, plus one when the model or its labels
        (the node's `<task>_labels` parameters, which database_location names) changed since."""
        database = (model_name, *(tuple(self.node.get_parameter(f"{t}_labels").value)
                                  if self.node.has_parameter(f"{t}_labels") else () for t in self.tasks))
        if version is None:
            version = self.version + int(database != self._database)
        self._database, self.version, self.model_name = database, version, model_name
        info = VisionInfo(method=model_name, database_location=labels_location(self.node, self.tasks),
                          database_version=version)
        info.header.stamp = self.node.get_clock().now().to_msg()
        self.pub_info.publish(info)

    def publish(self, header: Header, heads: Mapping[str, HeadResult]) -> None:
        """One Classification per task in `heads`: its top-k classes, highest score first."""
        for task, pub in self.pubs.items():
            head = heads.get(task)
            if head is None or pub.get_subscription_count() == 0:
                continue
            probs = np.asarray(head.probs, dtype=np.float64).ravel()
            order = np.argsort(-probs, kind="stable")[: self.top_k]
            msg = Classification(header=header)
            msg.results = [ObjectHypothesis(class_id=head.labels[i], score=float(probs[i])) for i in order]
            pub.publish(msg)
