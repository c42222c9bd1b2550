"""Standard vision_msgs messages, published beside the project's own when the `vision_msgs` package is installed.

Per camera: `<prefix><task>/classification` (vision_msgs/Classification: the top-k classes of a task, class_id =
the label, score = the probability, header = the newest frame's) and a latched `<prefix>vision_info`
(vision_msgs/VisionInfo: the model's name, and where its label list lives: the node's read-only `<task>_labels`
parameters). Any ROS 2 distro ships vision_msgs; the PyPI wheels do not, so its import is guarded: this module
imports anywhere, and the node creates those publishers only when vision_msgs_available().
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .interfaces import type_support_loads

try:
    from vision_msgs.msg import Classification, ObjectHypothesis, VisionInfo
except ImportError:  # no vision_msgs here: vision_msgs_available() is False and nothing here is called
    Classification = ObjectHypothesis = VisionInfo = None

if TYPE_CHECKING:
    from std_msgs.msg import Header

    from ..stream.engine import HeadResult

TOP_K = 5  # classes per Classification

def vision_msgs_available() -> bool:
    """Return True when vision_msgs imports and its type support loads."""
    return type_support_loads(Classification, ObjectHypothesis, VisionInfo)


def labels_location(node_name: str, tasks: list[str]) -> str:
    """Where the label lists live: `<node's fully qualified name>:<task>_labels,...` (read-only string arrays)."""
    return f"{node_name}:" + ",".join(f"{task}_labels" for task in tasks)


def classification(header: Header, head: HeadResult, top_k: int = TOP_K) -> Classification:
    """Build a task's top-k classes, highest score first."""
    probs = np.asarray(head.probs, dtype=np.float64).ravel()
    order = np.argsort(-probs, kind="stable")[:top_k]
    msg = Classification(header=header)
    msg.results = [ObjectHypothesis(class_id=head.labels[i], score=float(probs[i])) for i in order]
    return msg


class InfoVersion:
    """VisionInfo.database_version: the previous one, plus one whenever the model or its labels changed."""

    def __init__(self) -> None:
        self.version = 0  # 0 before the first VisionInfo
        self._database: tuple = ()

    def update(self, model_name: str, labels: dict[str, list[str]]) -> int:
        database = (model_name, *(tuple(classes) for classes in labels.values()))
        self.version += int(database != self._database)
        self._database = database
        return self.version


def vision_info(model_name: str, location: str, version: int) -> VisionInfo:
    return VisionInfo(method=model_name, database_location=location, database_version=version)
