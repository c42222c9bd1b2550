"""The recognizer node on a camera topic.

ros2 launch mtl_hri recognizer.launch.py image:=/camera/color/image_raw [namespace:=robot1 device:=cuda ...]

Arguments are typed or checked against their choices, so a bad value (`use_sim_time:=maybe`) stops the launch
before the node starts. `ros2 launch` refuses an empty value: `namespace:=/` puts the node in the root namespace.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

LOG_LEVELS = ["debug", "info", "warn", "error", "fatal"]
BOOLEANS = ["true", "false", "True", "False"]  # choices name the argument in the error; typing alone does not


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory("mtl_hri")
    args = [
        DeclareLaunchArgument("image", default_value="/camera/image_raw", description="Image topic to recognise."),
        DeclareLaunchArgument("namespace", default_value="mtl_hri",
                              description="Namespace of the node and its topics; / for the root namespace."),
        DeclareLaunchArgument("params_file", default_value=os.path.join(share, "config", "recognizer.yaml"),
                              description="Parameters file (the node's parameters under /**: ros__parameters)."),
        DeclareLaunchArgument("model", default_value="", description="Model directory; empty for the bundled one."),
        DeclareLaunchArgument("device", default_value="auto", description="auto, cpu, cuda or cuda:N."),
        DeclareLaunchArgument("use_sim_time", default_value="false", choices=BOOLEANS, description="Follow /clock."),
        DeclareLaunchArgument("log_level", default_value="info", choices=LOG_LEVELS,
                              description="The node's log level."),
        DeclareLaunchArgument("respawn", default_value="false", choices=BOOLEANS,
                              description="Restart the node if it exits."),
    ]
    node = Node(
        package="mtl_hri",
        executable="recognizer",
        name="recognizer",
        namespace=LaunchConfiguration("namespace"),
        parameters=[
            LaunchConfiguration("params_file"),
            {
                "model": ParameterValue(LaunchConfiguration("model"), value_type=str),
                "device": ParameterValue(LaunchConfiguration("device"), value_type=str),
                "use_sim_time": ParameterValue(LaunchConfiguration("use_sim_time"), value_type=bool),
            },
        ],
        remappings=[("image", LaunchConfiguration("image"))],
        ros_arguments=["--log-level", LaunchConfiguration("log_level")],
        respawn=LaunchConfiguration("respawn"),
        output="screen",
    )
    return LaunchDescription([*args, node])
