#!/usr/bin/env python3
"""A behaviour tree (py_trees) that reacts to the people mtl_hri sees.

    greeter_tree.py --ros-args -r gesture:=/mtl_hri/gesture -r action:=/mtl_hri/action -r hands:=/mtl_hri/hands

- `stop` seen: halt (zero velocity), before anything else;
- `wave` held for `greet_hold` s (0.5): greet;
- `point_left` / `point_right`: turn toward the pointed side;
- nobody seen for `lost_timeout` s (2.0): back to idle.

It publishes its state on `state` (std_msgs/String, latched) and velocities on `cmd_vel`.
"""
from __future__ import annotations

import py_trees
from geometry_msgs.msg import PoseArray, Twist
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import String

from mtl_hri.ros.runner import spin_node

TURN_SPEED = 0.5  # rad/s
PERSON_CONFIDENCE = 0.5  # a hand this confident means somebody is there


class Perception:
    """What the tree knows, updated by the subscriptions (times from the node's clock)."""

    def __init__(self) -> None:
        self.gesture, self.gesture_since = "none", 0.0
        self.action = "none"
        self.last_seen = None  # time somebody was last seen

    def on_gesture(self, label: str, now: float) -> None:
        if label != self.gesture:
            self.gesture, self.gesture_since = label, now
        self._seen(label != "none", now)

    def on_action(self, label: str, now: float) -> None:
        self.action = label
        self._seen(label != "none", now)

    def on_hands(self, msg: PoseArray, now: float) -> None:
        self._seen(any(p.position.z >= PERSON_CONFIDENCE for p in msg.poses), now)

    def _seen(self, yes: bool, now: float) -> None:
        if yes:
            self.last_seen = now


class GestureHeld(py_trees.behaviour.Behaviour):
    def __init__(self, perception: Perception, clock, gesture: str, hold: float = 0.0) -> None:
        super().__init__(f"{gesture} held {hold:g}s")
        self.perception, self.clock, self.gesture, self.hold = perception, clock, gesture, hold

    def update(self) -> py_trees.common.Status:
        p = self.perception
        held = p.gesture == self.gesture and self.clock() - p.gesture_since >= self.hold
        return py_trees.common.Status.SUCCESS if held else py_trees.common.Status.FAILURE


class PersonLost(py_trees.behaviour.Behaviour):
    def __init__(self, perception: Perception, clock, timeout: float) -> None:
        super().__init__(f"nobody for {timeout:g}s")
        self.perception, self.clock, self.timeout = perception, clock, timeout

    def update(self) -> py_trees.common.Status:
        seen = self.perception.last_seen
        lost = seen is None or self.clock() - seen > self.timeout
        return py_trees.common.Status.SUCCESS if lost else py_trees.common.Status.FAILURE


class Act(py_trees.behaviour.Behaviour):
    """Enter a state: publish it (once per change) and the velocity that goes with it."""

    def __init__(self, greeter: "Greeter", state: str, turn: float = 0.0) -> None:
        super().__init__(state)
        self.greeter, self.state, self.turn = greeter, state, turn

    def update(self) -> py_trees.common.Status:
        self.greeter.enter(self.state, self.turn)
        return py_trees.common.Status.SUCCESS


class Greeter(Node):
    def __init__(self) -> None:
        super().__init__("greeter")
        hold = self.declare_parameter("greet_hold", 0.5).value
        timeout = self.declare_parameter("lost_timeout", 2.0).value
        self.perception = Perception()
        self.state = ""
        self.pub_state = self.create_publisher(
            String, "state", QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                                        durability=DurabilityPolicy.TRANSIENT_LOCAL))
        self.pub_cmd = self.create_publisher(Twist, "cmd_vel", 10)
        p = self.perception
        self.create_subscription(String, "gesture", lambda m: p.on_gesture(m.data, self.now()), 10)
        self.create_subscription(String, "action", lambda m: p.on_action(m.data, self.now()), 10)
        self.create_subscription(PoseArray, "hands", lambda m: p.on_hands(m, self.now()), 10)

        def react(name: str, condition, action) -> py_trees.composites.Sequence:
            return py_trees.composites.Sequence(name, memory=False, children=[condition, action])

        root = py_trees.composites.Selector("greeter", memory=False, children=[
            react("halt", GestureHeld(p, self.now, "stop"), Act(self, "halted")),
            react("greet", GestureHeld(p, self.now, "wave", hold), Act(self, "greeting")),
            react("turn left", GestureHeld(p, self.now, "point_left"), Act(self, "turning_left", TURN_SPEED)),
            react("turn right", GestureHeld(p, self.now, "point_right"), Act(self, "turning_right", -TURN_SPEED)),
            react("idle", PersonLost(p, self.now, timeout), Act(self, "idle")),
            py_trees.behaviours.Running("keep doing what we do"),
        ])
        self.tree = py_trees.trees.BehaviourTree(root)
        self.tree.setup()
        self.enter("idle", 0.0)
        self.create_timer(0.1, self.tree.tick)

    def now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def enter(self, state: str, turn: float) -> None:
        twist = Twist()
        twist.angular.z = turn
        self.pub_cmd.publish(twist)
        if state != self.state:
            self.get_logger().info(f"{self.state or 'start'} -> {state}")
            self.state = state
            self.pub_state.publish(String(data=state))


def main(args: list[str] | None = None) -> int:
    return spin_node(Greeter, args)


if __name__ == "__main__":
    raise SystemExit(main())
