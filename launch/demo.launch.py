"""ros2 launch mtl_hri demo.launch.py video:=/path/to/video.mp4

A video file played as a camera, and the recognizer on it (debug_image shows what it sees)."""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory("mtl_hri")
    args = [
        DeclareLaunchArgument("video", description="Video file (or /dev/videoN) to play as the camera."),
        DeclareLaunchArgument("rate", default_value="0.0", description="Frames per second; 0 uses the file's rate."),
        DeclareLaunchArgument("namespace", default_value="mtl_hri"),
        DeclareLaunchArgument("params_file", default_value=os.path.join(share, "config", "recognizer.yaml")),
        DeclareLaunchArgument("model", default_value="", description="Model directory; empty for the bundled one."),
        DeclareLaunchArgument("device", default_value="auto"),
    ]
    camera = Node(
        package="mtl_hri",
        executable="video_publisher",
        name="video_publisher",
        parameters=[{
            "video": ParameterValue(LaunchConfiguration("video"), value_type=str),
            "rate": ParameterValue(LaunchConfiguration("rate"), value_type=float),
            "loop": True,
            "frame_id": "camera",
        }],
        remappings=[("image", "/camera/image_raw")],
        output="screen",
    )
    recognizer = Node(
        package="mtl_hri",
        executable="recognizer",
        name="recognizer",
        namespace=LaunchConfiguration("namespace"),
        parameters=[
            LaunchConfiguration("params_file"),
            {
                "model": ParameterValue(LaunchConfiguration("model"), value_type=str),
                "device": ParameterValue(LaunchConfiguration("device"), value_type=str),
            },
        ],
        remappings=[("image", "/camera/image_raw")],
        output="screen",
    )
    return LaunchDescription([*args, camera, recognizer])
