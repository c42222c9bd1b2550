"""The package as ROS tooling sees it: manifest, entry points, installed share files, launch file."""
import ast
import configparser
import xml.etree.ElementTree as ET
from pathlib import Path

from ament_index_python.packages import get_package_share_directory

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
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    assert cfg["install"]["install_scripts"] == "$base/lib/mtl_hri"


def test_share_directory_is_installed_and_indexed():
    share = Path(get_package_share_directory("mtl_hri"))
    for rel in ("package.xml", "launch/recognizer.launch.py", "config/recognizer.yaml",
                "config/fastdds_loopback.xml", "models/default/model.json", "models/default/model.safetensors"):
        assert (share / rel).is_file(), rel


def test_launch_file_names_things_that_exist():
    source = (ROOT / "launch" / "recognizer.launch.py").read_text()
    tree = ast.parse(source)
    funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "generate_launch_description" in funcs
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert "recognizer" in entry_points() and "recognizer" in strings and "mtl_hri" in strings
    assert (ROOT / "config" / "recognizer.yaml").is_file() and "recognizer.yaml" in strings
    for arg in ("image", "namespace", "params_file", "model", "device", "use_sim_time", "log_level", "respawn"):
        assert arg in strings, arg
