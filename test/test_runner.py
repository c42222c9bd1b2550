"""Ctrl-C on a running node (mtl_hri.ros.runner): the run ends between callbacks, never inside one."""
import subprocess
import sys
import textwrap

# A node whose timer callback gets Ctrl-C halfway, as a callback (or the executor building its Task) can at any
# moment; the rest of the callback must still run, and the process must exit 0 without a traceback.
NODE = textwrap.dedent("""
    import os, signal, sys, time
    from rclpy.node import Node
    from mtl_hri.ros.runner import spin_node

    class Interrupted(Node):
        def __init__(self):
            super().__init__("interrupted")
            self.create_timer(0.05, self.on_timer)

        def on_timer(self):
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)  # a second one, as `ros2 launch` forwards
            time.sleep(0.2)
            print("callback finished", flush=True)

        def stop(self):
            print("stopped", flush=True)

    sys.exit(spin_node(Interrupted))
""")


def test_ctrl_c_ends_the_run_after_the_callback_it_arrived_in(ros_env):
    got = subprocess.run([sys.executable, "-c", NODE], env=ros_env, capture_output=True, text=True, timeout=60)
    assert got.returncode == 0, got.stdout + got.stderr
    assert got.stdout.split() == ["callback", "finished", "stopped"], got.stdout + got.stderr
    assert "Traceback" not in got.stderr and "Exception ignored" not in got.stderr, got.stderr


# rclpy's SIGINT handler shuts the context down before ours runs: a slow start that is inside an rclpy call then
# fails there, with "context is invalid", and that is a clean stop, not a failed start.
SHUT_DOWN_WHILE_BUILDING = textwrap.dedent("""
    import sys
    from rclpy.node import Node
    from std_msgs.msg import String
    from mtl_hri.ros.runner import spin_node

    class CutShort(Node):
        def __init__(self):
            super().__init__("cut_short")
            self.context.shutdown()
            self.create_publisher(String, "never", 1)

    sys.exit(spin_node(CutShort))
""")


def test_a_start_cut_short_by_shutdown_exits_cleanly(ros_env):
    got = subprocess.run([sys.executable, "-c", SHUT_DOWN_WHILE_BUILDING], env=ros_env, capture_output=True,
                         text=True, timeout=60)
    assert got.returncode == 0 and "Traceback" not in got.stderr, got.stdout + got.stderr
