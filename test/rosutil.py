"""Helpers for tests that talk to real nodes over DDS (loopback profile set by conftest)."""
from __future__ import annotations

import time
from typing import Callable

import rclpy
from rclpy.node import Node


def spin_until(node: Node, predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.05)
        if predicate():
            return True
    return predicate()


def spin_for(node: Node, seconds: float) -> None:
    spin_until(node, lambda: False, seconds)


def call(node: Node, future, timeout: float = 10.0):
    assert spin_until(node, future.done, timeout), "service call timed out"
    return future.result()
