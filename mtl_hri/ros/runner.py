"""Running a node until Ctrl-C (SIGINT) or shutdown, and exiting cleanly however many SIGINTs arrive."""
from __future__ import annotations

import signal
from typing import Callable, TypeVar

import rclpy
from rclpy._rclpy_pybind11 import RCLError
from rclpy.exceptions import InvalidHandle
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node

N = TypeVar("N", bound=Node)


class _Interrupt:
    """SIGINT handler: Ctrl-C interrupts a build, but a running node's run ends at its next wait, never mid-statement.

    rclpy's own handler, which runs first and chains to this one, shuts the context down and wakes the executor,
    so a running node's spin ends with ExternalShutdownException. Raising KeyboardInterrupt there instead lands
    at an arbitrary bytecode: once it landed inside an executor Task's __init__, and the half-built Task printed
    "Exception ignored in: Future.__del__" at exit. Later SIGINTs are ignored: `ros2 launch` forwards Ctrl-C to
    its children, which already got it from the terminal's process group (and `timeout -s INT` signals the group
    too), so a node sees two or more within milliseconds, and they must not break the clean-up.
    """

    def __init__(self) -> None:
        self.building = True

    def __call__(self, signum: int, frame: object) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if self.building:
            raise KeyboardInterrupt


def spin_node(make_node: Callable[[], N], args: list[str] | None = None,
              run: Callable[[N], None] = rclpy.spin) -> int:
    """Init rclpy, build the node, `run` it (default: spin) until SIGINT or shutdown; stop, destroy, shut down.

    Exceptions other than the interrupt propagate, after the clean-up.
    """
    interrupt = _Interrupt()
    # Installed before rclpy.init, so rclpy's handler (which wakes the executor) chains to it.
    signal.signal(signal.SIGINT, interrupt)
    rclpy.init(args=args)
    node = None
    try:
        node = make_node()
        interrupt.building = False
        run(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (InvalidHandle, RCLError):
        # rclpy's handler shuts the context down at once, and ours runs only at the next bytecode: a build or a
        # `run` loop that was inside an rclpy call (creating or using a publisher) fails there first. That ends
        # the run as a spin's ExternalShutdownException does; with the context up, it is a defect.
        if rclpy.ok():
            raise
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # also when shutdown came another way (SIGTERM, an error)
        if node is not None:
            if hasattr(node, "stop"):
                node.stop()
            node.destroy_node()
        rclpy.try_shutdown()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # rclpy's shutdown restores the handler it found at init
    return 0
