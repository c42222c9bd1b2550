"""The package as ROS tooling sees it: manifest, entry points, installed executables and share files, launch files."""
import ast
import configparser
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from ament_index_python.packages import get_package_prefix, get_package_share_directory

from .launchutil import ros2, ros2_executable

ROOT = Path(__file__).resolve().parents[1]


def entry_points() -> dict[str, str]:
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict) and any(getattr(k, "value", None) == "console_scripts" for k in node.keys):
            scripts = node.values[0]
            return dict(s.value.split(" = ") for s in scripts.elts)
    raise AssertionError("no console_scripts")


def test_package_xml_is_format_3_ament_python():
    root = ET.parse(ROOT / "package.xml").getroot()
    assert root.get("format") == "3" and root.findtext("name") == "mtl_hri"
    assert root.find("export/build_type").text == "ament_python"
    deps = {d.text for d in root.iter("exec_depend")}
    assert {"rclpy", "sensor_msgs", "std_msgs", "geometry_msgs", "diagnostic_msgs"} <= deps


def test_console_scripts_resolve_to_callables():
    import importlib

    scripts = entry_points()
    assert {"recognizer", "video_publisher"} <= set(scripts)
    for target in scripts.values():
        module, func = target.split(":")
        assert callable(getattr(importlib.import_module(module), func)), target


def test_setup_cfg_puts_executables_where_ros2_run_looks():
    """For colcon, which honours setup.cfg (pip does not: `make setup` links them, see the next test)."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert cfg["install"]["install_scripts"] == "$base/lib/mtl_hri"


def test_installed_executables_are_where_ros2_run_and_launch_look(ros_env):
    """<prefix>/lib/mtl_hri/<console script>, as in colcon's install tree; `ros2 pkg executables` lists them."""
    libexec = Path(get_package_prefix("mtl_hri")) / "lib" / "mtl_hri"
    scripts = set(entry_points())
    assert {p.name for p in libexec.iterdir() if os.access(p, os.X_OK)} == scripts
    if ros2_executable() is None:
        return  # the installed tree was checked; a distro or the CLI wheels add the ros2 view (test_launch.py)
    listed = ros2(["pkg", "executables", "mtl_hri"], ros_env)
    listed_names = {tuple(line.split()) for line in listed.stdout.splitlines()}
    assert listed_names == {("mtl_hri", name) for name in scripts}, listed.stdout + listed.stderr
    run = ros2(["run", "mtl_hri", "mtl-hri-fetch-footage", "--help"], ros_env)
    assert run.returncode == 0 and "usage: mtl-hri-fetch-footage" in run.stdout, run.stdout + run.stderr


def test_share_directory_is_installed_and_indexed():
    share = Path(get_package_share_directory("mtl_hri"))
    for rel in ("package.xml", "launch/recognizer.launch.py", "config/recognizer.yaml",
                "config/fastdds_loopback.xml", "models/default/model.json", "models/default/model.safetensors"):
        assert (share / rel).is_file(), rel


NODE_KWARGS = {"package", "executable", "name", "namespace", "parameters", "remappings", "arguments", "respawn",
               "respawn_delay", "output", "emulate_tty", "ros_arguments", "exec_name", "condition"}
ALLOWED_IMPORTS = ("launch", "launch_ros", "ament_index_python", "os", "mtl_hri")  # mtl_hri: the footage's path


def launch_calls(path: Path) -> tuple[ast.Module, list[ast.Call]]:
    tree = ast.parse(path.read_text())
    return tree, [n for n in ast.walk(tree) if isinstance(n, ast.Call)]


@pytest.mark.parametrize("name", ["recognizer.launch.py", "demo.launch.py"])
def test_launch_files_are_launch_ros_python_naming_things_that_exist(name):
    path = ROOT / "launch" / name
    tree, calls = launch_calls(path)
    assert any(isinstance(n, ast.FunctionDef) and n.name == "generate_launch_description" for n in tree.body)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            assert module.split(".")[0] in ALLOWED_IMPORTS, module
    scripts = entry_points()
    nodes = [c for c in calls if getattr(c.func, "id", None) == "Node"]
    assert nodes
    for call in nodes:
        kwargs = {k.arg: k.value for k in call.keywords}
        assert set(kwargs) <= NODE_KWARGS, set(kwargs) - NODE_KWARGS
        assert kwargs["package"].value == "mtl_hri" and kwargs["executable"].value in scripts
    for call in calls:  # files joined onto the share directory exist in the package
        if getattr(call.func, "attr", None) == "join" and call.args and getattr(call.args[0], "id", None) == "share":
            assert (ROOT.joinpath(*(a.value for a in call.args[1:]))).is_file()
    declared = {c.args[0].value for c in calls if getattr(c.func, "id", None) == "DeclareLaunchArgument"}
    used = {c.args[0].value for c in calls if getattr(c.func, "id", None) == "LaunchConfiguration"}
    assert used <= declared, used - declared


def test_recognizer_launch_arguments():
    _, calls = launch_calls(ROOT / "launch" / "recognizer.launch.py")
    declared = {c.args[0].value for c in calls if getattr(c.func, "id", None) == "DeclareLaunchArgument"}
    assert {"image", "namespace", "params_file", "model", "device", "use_sim_time", "log_level", "respawn"} <= declared
