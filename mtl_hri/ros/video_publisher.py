"""`video_publisher`: a video file or camera device published as sensor_msgs/Image.

Stamps are taken from the node's clock when a frame is read; frames go out at the file's
rate, or at `rate` when set, looping if asked.
"""
from __future__ import annotations

import time

import cv2
import rclpy
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.node import Node
from rclpy.qos import QoSProfile, QoSReliabilityPolicy
from sensor_msgs.msg import Image

from .image_conv import array_to_image
from .runner import spin_node


class CannotPlay(RuntimeError):
    """The source cannot be opened, or a parameter makes it unplayable."""


def open_capture(source: str) -> cv2.VideoCapture:
    """Open a file path, `/dev/videoN` or a bare device index."""
    if source.isdigit():
        return cv2.VideoCapture(int(source))
    if source.startswith("/dev/video") and source[10:].isdigit():
        return cv2.VideoCapture(int(source[10:]))
    return cv2.VideoCapture(source)


class VideoPublisher(Node):
    def __init__(self) -> None:
        super().__init__("video_publisher")
        self.declare_parameter("video", "", ParameterDescriptor(
            description="Video file, /dev/videoN or a device index."))
        self.declare_parameter("rate", 0.0, ParameterDescriptor(
            description="Frames per second; 0 uses the file's rate.",
            floating_point_range=[FloatingPointRange(from_value=0.0, to_value=1000.0, step=0.0)]))
        self.declare_parameter("loop", False, ParameterDescriptor(description="Restart the file at its end."))
        self.declare_parameter("frame_id", "camera", ParameterDescriptor(description="frame_id of published images."))
        self.declare_parameter("encoding", "bgr8", ParameterDescriptor(
            description="bgr8 (as decoded, no conversion) or rgb8.", additional_constraints="bgr8 or rgb8"))
        self.declare_parameter("wait_for_subscribers", 0, ParameterDescriptor(
            description="Hold the first frame until this many subscribers have matched (up to 30 s); "
                        "0 starts at once, like a camera.",
            integer_range=[IntegerRange(from_value=0, to_value=100, step=1)]))
        self.declare_parameter("max_frames", 0, ParameterDescriptor(
            description="Stop after this many frames; 0 never stops.",
            integer_range=[IntegerRange(from_value=0, to_value=2**31 - 1, step=1)]))
        self.declare_parameter("depth", 1, ParameterDescriptor(
            description="Frames the (reliable) publisher keeps for a slow subscriber: 1 like a live camera, more "
                        "for a replay where every subscriber must get every frame.",
            integer_range=[IntegerRange(from_value=1, to_value=1000, step=1)]))
        self.source = self.get_parameter("video").value
        self.encoding = self.get_parameter("encoding").value
        if self.encoding not in ("bgr8", "rgb8"):
            raise CannotPlay(f"encoding must be bgr8 or rgb8, not '{self.encoding}'")
        self.capture = open_capture(self.source)
        if not self.source or not self.capture.isOpened():
            raise CannotPlay(f"cannot open video '{self.source}'")
        rate = self.get_parameter("rate").value or self.capture.get(cv2.CAP_PROP_FPS) or 30.0
        self.period = 1.0 / rate
        self.loop = self.get_parameter("loop").value
        self.frame_id = self.get_parameter("frame_id").value
        self.max_frames = self.get_parameter("max_frames").value
        self.sent = 0
        self.done = False
        self.pub = self.create_publisher(
            Image, "image", QoSProfile(depth=self.get_parameter("depth").value,
                                       reliability=QoSReliabilityPolicy.RELIABLE))
        self.get_logger().info(f"publishing '{self.source}' at {rate:.2f} fps on {self.pub.topic_name}")

    def publish_next(self) -> bool:
        """Read and publish one frame; False when the video is over."""
        ok, frame = self.capture.read()
        if not ok and self.loop and self.sent:
            self.capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self.capture.read()
        if not ok:
            return False
        if self.encoding == "rgb8":
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        msg = array_to_image(frame, self.encoding)
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = self.frame_id
        self.pub.publish(msg)
        self.sent += 1
        return not (self.max_frames and self.sent >= self.max_frames)

    def run(self) -> None:
        """Publish on a fixed schedule (no drift), servicing ROS in between."""
        wanted = self.get_parameter("wait_for_subscribers").value
        deadline = time.monotonic() + 30.0
        while rclpy.ok() and self.pub.get_subscription_count() < wanted and time.monotonic() < deadline:
            rclpy.spin_once(self, timeout_sec=0.05)
        next_t = time.monotonic()
        while rclpy.ok():
            if not self.publish_next():
                self.get_logger().info(f"done after {self.sent} frames")
                return
            next_t += self.period
            delay = next_t - time.monotonic()
            if delay < -self.period:  # fell behind (slow decode): restart the schedule, do not burst
                next_t = time.monotonic()
            rclpy.spin_once(self, timeout_sec=max(delay, 0.0))
            while (delay := next_t - time.monotonic()) > 0:
                time.sleep(delay)

    def stop(self) -> None:
        self.capture.release()


def main(args: list[str] | None = None) -> int:
    try:
        return spin_node(VideoPublisher, args, run=VideoPublisher.run)
    except CannotPlay as exc:
        rclpy.logging.get_logger("video_publisher").error(str(exc))
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
