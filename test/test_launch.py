"""`ros2 launch`, `ros2 run`, `ros2 topic`, `ros2 node` and `ros2 param` on the installed package.

Separate processes on loopback DDS (the conftest's environment and domain), stopped with Ctrl-C as a user does.
"""
import os
import re
import signal

import pytest

from .launchutil import NO_ROS2_CLI, Ros2Session, gone, interrupt_all, ros2, ros2_executable

pytestmark = pytest.mark.skipif(ros2_executable() is None, reason=NO_ROS2_CLI)

CAMERA_TOPIC = "/launch_test_cam/image"
# On this 2-core machine under load, a process that imported torch can take more than launch's default 5 s
# from SIGINT to exit (interpreter finalisation); how fast is not what these tests check, that it exits cleanly is.
SLOW_EXIT = "sigterm_timeout:=20"


@pytest.fixture
def env(ros_env, tmp_path):
    return {**ros_env, "ROS_LOG_DIR": str(tmp_path / "ros_log")}  # launch's log files stay out of ~/.ros


def echo_one(topic: str, env: dict[str, str], timeout: float = 90.0) -> str:
    """Return the data of the next std_msgs/String on `topic`, as `ros2 topic echo --once` shows it."""
    got = ros2(["topic", "echo", "--no-daemon", "--once", topic, "std_msgs/msg/String"], env, timeout)
    match = re.search(r"^data: '?([^'\n]*)'?$", got.stdout, re.MULTILINE)
    assert got.returncode == 0 and match, got.stdout + got.stderr
    return match.group(1)


def param_get(node: str, name: str, env: dict[str, str]) -> str:
    got = ros2(["param", "get", "--no-daemon", "--timeout", "30", node, name], env)
    assert got.returncode == 0, got.stdout + got.stderr
    return got.stdout.strip()


def node_list(env: dict[str, str], expect: set[str] = frozenset(), tries: int = 3) -> list[str]:
    """`ros2 node list`; asked again (up to `tries` times) while a node in `expect` is missing.

    Discovery without the daemon can miss a node within one spin time on a loaded 2-core machine.
    """
    for _ in range(tries):
        got = ros2(["node", "list", "--no-daemon", "--spin-time", "3"], env)
        assert got.returncode == 0, got.stdout + got.stderr
        if expect <= set(got.stdout.split()):
            break
    return got.stdout.split()


def assert_clean_exit(session: Ros2Session, code: int | None, killed: int = 0) -> None:
    """Exit 0 in time, every child gone, none died but the `killed` ones, and no traceback."""
    log = session.output()
    assert code == 0, f"exit code {code} after Ctrl-C:\n{log[-4000:]}"
    assert "Traceback" not in log and "KeyboardInterrupt" not in log, log[-4000:]
    assert log.count("process has died") == killed, log[-4000:]
    assert all(gone(pid) for pid in session.started_pids()), log[-4000:]


def test_bad_argument_is_rejected_before_the_node_starts(env, tmp_path):
    launch = Ros2Session(["launch", "mtl_hri", "recognizer.launch.py", "use_sim_time:=maybe"], env,
                         tmp_path / "launch.log")
    code = launch.wait(60)
    log = launch.output()
    assert code == 1, log
    assert 'Argument "use_sim_time" provided value "maybe" is not valid' in log
    assert "process started" not in log


def test_recognizer_launch_with_namespace_params_file_sim_time_and_respawn(env, model_dir, footage, tmp_path):
    """The camera through `ros2 run`; the node, crashed with SIGKILL, respawns with the same parameters."""
    params = tmp_path / "params.yaml"
    params.write_text("/**:\n  ros__parameters:\n    stride: 2\n")
    camera = Ros2Session(["run", "mtl_hri", "video_publisher", "--ros-args", "-r", f"image:={CAMERA_TOPIC}",
                          "-p", f"video:={footage}", "-p", "loop:=true"], env, tmp_path / "camera.log")
    launch = Ros2Session(["launch", "mtl_hri", "recognizer.launch.py", f"image:={CAMERA_TOPIC}", "namespace:=robot1",
                          f"params_file:={params}", "use_sim_time:=true", "respawn:=true", f"model:={model_dir}",
                          "device:=cpu", SLOW_EXIT], env, tmp_path / "launch.log")
    try:
        echo_one("/robot1/action", env)
        crashed = launch.started_pids("recognizer")[0]
        os.kill(crashed, signal.SIGKILL)
        launch.wait_for(r"\[recognizer-\d+\]: process started", 60, count=2)
        pids = launch.started_pids("recognizer")
        assert len(pids) == 2 and pids[1] != crashed, launch.output()[-3000:]
        echo_one("/robot1/action", env)  # from the respawned node
        assert "/robot1/recognizer" in node_list(env)
        assert param_get("/robot1/recognizer", "stride", env) == "Integer value is: 2"  # from params_file
        assert param_get("/robot1/recognizer", "use_sim_time", env) == "Boolean value is: True"
    finally:
        # ros2 run itself dies of a second SIGINT that lands while it waits for its child (upstream ros2run),
        # so its session gets one Ctrl-C; the launch, whose nodes are ours, gets three
        launch_code, camera_code = interrupt_all([launch])[0], camera.interrupt(signals=1)
    assert_clean_exit(launch, launch_code, killed=1)
    camera_log = camera.output()
    assert camera_code == 0 and "Traceback" not in camera_log and "KeyboardInterrupt" not in camera_log, camera_log


def test_demo_launch_plays_the_default_footage(env, footage, tmp_path):
    """No video given; `namespace:=/`, the documented form of an empty namespace, puts the node at the root."""
    from mtl_hri.tools.fetch_footage import default_cache

    assert footage == default_cache()
    launch = Ros2Session(["launch", "mtl_hri", "demo.launch.py", "namespace:=/", SLOW_EXIT], env,
                         tmp_path / "launch.log")
    try:
        label = echo_one("/action", env)
        assert {"/recognizer", "/video_publisher"} <= set(node_list(env, {"/recognizer", "/video_publisher"}))
        assert param_get("/video_publisher", "video", env) == f"String value is: {footage}"
        assert f"'{label}'" in param_get("/recognizer", "action_labels", env)
    finally:
        code = launch.interrupt()
    assert_clean_exit(launch, code)


def test_demo_launch_ends_when_the_video_cannot_be_played(env, model_dir, tmp_path):
    missing = tmp_path / "missing.avi"
    launch = Ros2Session(["launch", "mtl_hri", "demo.launch.py", f"video:={missing}", f"model:={model_dir}"], env,
                         tmp_path / "launch.log")
    code = launch.wait(90)
    log = launch.output()
    assert code == 1, log
    assert f"cannot open video '{missing}'" in log
    assert "the camera (video_publisher) exited with code 1" in log
    pids = launch.started_pids()
    assert len(pids) == 2 and all(gone(pid) for pid in pids), log
