"""A deliberately naive recognizer, for benchmarks only (a common first attempt).

Inference runs inside the image callback and the whole window is recomputed on every frame, with a reliable depth-10
queue. It publishes `hands` like the real node, so the same listener measures both.
"""
from __future__ import annotations

import collections

import numpy as np
from geometry_msgs.msg import Pose, PoseArray
from rclpy.node import Node
from sensor_msgs.msg import Image
from std_msgs.msg import String

from ...paths import bundled_model_dir
from ...ros.image_conv import image_to_rgb
from ...ros.runner import spin_node
from ...stream.preprocess import resize_crop
from ...stream.torch_engine import TorchEngine


class NaiveRecognizer(Node):
    def __init__(self) -> None:
        super().__init__("recognizer")
        model = self.declare_parameter("model", "").value
        self.engine = TorchEngine(model or bundled_model_dir(), device="cpu", streaming=False)
        self.frames: collections.deque = collections.deque(maxlen=self.engine.spec.frames)
        self.pub_hands = self.create_publisher(PoseArray, "hands", 10)
        self.pub_action = self.create_publisher(String, "action", 10)
        self.create_subscription(Image, "image", self._on_image, 10)

    def _on_image(self, msg: Image) -> None:
        self.frames.append(resize_crop(image_to_rgb(msg), self.engine.spec))
        if len(self.frames) < self.frames.maxlen:
            return
        result = self.engine.infer(np.stack([c for c, _ in self.frames]), [g for _, g in self.frames])
        self.pub_action.publish(String(data=result.heads["action"].top[0]))
        hands = PoseArray(header=msg.header)
        for track in (result.left, result.right):
            pose = Pose()
            pose.position.x, pose.position.y = float(track.xy[-1, 0]), float(track.xy[-1, 1])
            hands.poses.append(pose)
        self.pub_hands.publish(hands)


def main(args: list[str] | None = None) -> int:
    return spin_node(NaiveRecognizer, args)


if __name__ == "__main__":
    raise SystemExit(main())
