"""Running a node until Ctrl-C (SIGINT) or shutdown, and exiting cleanly."""
from __future__ import annotations

from typing import Callable

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node


def spin_node(make_node: Callable[[], Node], args: list[str] | None = None) -> int:
    rclpy.init(args=args)
    node = make_node()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if hasattr(node, "stop"):
            node.stop()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0
