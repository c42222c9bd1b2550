"""`mtl-hri-record`: record an image topic into a rosbag2 (MCAP) that `ros2 bag` and rosbags read.

Use it on a robot to collect training data; `mtl-hri-offline` replays it without DDS.

    mtl-hri-record --topic /camera/image_raw --out bags/session1 --duration 60
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", required=True, help="sensor_msgs/Image (or CompressedImage with --compressed)")
    parser.add_argument("--out", type=Path, required=True, help="bag directory to create")
    parser.add_argument("--compressed", action="store_true", help="the topic carries sensor_msgs/CompressedImage")
    parser.add_argument("--duration", type=float, default=0.0, help="seconds to record; 0 until Ctrl-C")
    parser.add_argument("--max-messages", type=int, default=0, help="stop after this many; 0 never")
    args, ros_args = parser.parse_known_args(argv)

    import rclpy
    from rclpy.executors import ExternalShutdownException
    from rclpy.qos import QoSHistoryPolicy, QoSProfile, QoSReliabilityPolicy
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore
    from sensor_msgs.msg import CompressedImage, Image
    from tqdm import tqdm

    msgtype = "sensor_msgs/msg/CompressedImage" if args.compressed else "sensor_msgs/msg/Image"
    typestore = get_typestore(Stores.ROS2_KILTED)
    rclpy.init(args=ros_args)
    node = rclpy.create_node("mtl_hri_record")
    writer = Writer(args.out, version=9, storage_plugin=StoragePlugin.MCAP)
    writer.open()
    connection = writer.add_connection(args.topic, msgtype, typestore=typestore)
    count = 0
    bar = tqdm(desc=f"recording {args.topic}", unit="msg")

    def on_message(raw: bytes) -> None:  # serialized CDR, written as received
        nonlocal count
        writer.write(connection, node.get_clock().now().nanoseconds, raw)
        count += 1
        bar.update()

    # best effort matches both reliable and best-effort cameras; a deep queue keeps bursts
    qos = QoSProfile(depth=100, reliability=QoSReliabilityPolicy.BEST_EFFORT, history=QoSHistoryPolicy.KEEP_LAST)
    node.create_subscription(CompressedImage if args.compressed else Image, args.topic, on_message, qos, raw=True)
    end = time.monotonic() + args.duration if args.duration else float("inf")
    try:
        while rclpy.ok() and time.monotonic() < end and not (args.max_messages and count >= args.max_messages):
            rclpy.spin_once(node, timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        bar.close()
        writer.close()
        node.destroy_node()
        rclpy.try_shutdown()
    print(f"wrote {count} messages of {args.topic} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
