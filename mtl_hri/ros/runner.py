"""Running a node until Ctrl-C (SIGINT) or shutdown, and exiting cleanly however many SIGINTs arrive."""
from __future__ import annotations

import signal
from typing import Callable, TypeVar

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node

N = TypeVar("N", bound=Node)


def _interrupt_once(signum: int, frame: object) -> None:
    """Interrupt on the first SIGINT and ignore later ones, so that they cannot break the clean-up.

    `ros2 launch` forwards Ctrl-C to its children, which already got it from the terminal's process group
    (and `timeout -s INT` signals the group too): a node sees two or more SIGINTs within milliseconds.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def spin_node(make_node: Callable[[], N], args: list[str] | None = None,
              run: Callable[[N], None] = rclpy.spin) -> int:
    """Init rclpy, build the node, `run` it (default: spin) until SIGINT or shutdown; stop, destroy, shut down.

    Exceptions other than the interrupt propagate, after the clean-up.
    """
    # Installed before rclpy.init, so rclpy's handler (which wakes the executor) chains to it.
    signal.signal(signal.SIGINT, _interrupt_once)
    rclpy.init(args=args)
    node = None
    try:
        node = make_node()
        run(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # also when shutdown came another way (SIGTERM, an error)
        if node is not None:
            if hasattr(node, "stop"):
                node.stop()
            node.destroy_node()
        rclpy.try_shutdown()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # rclpy's shutdown restores the handler it found at init
    return 0
