"""ros2 launch mtl_hri demo.launch.py video:=/path/to/video.mp4 [model:=... device:=... namespace:=...]

A video file played as a camera, and recognizer.launch.py on it (debug_image shows what it sees); every
argument of recognizer.launch.py but `image` passes through."""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

IMAGE = "/camera/image_raw"


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory("mtl_hri")
    args = [
        DeclareLaunchArgument("video", description="Video file (or /dev/videoN) to play as the camera."),
        DeclareLaunchArgument("rate", default_value="0.0", description="Frames per second; 0 uses the file's rate."),
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
        remappings=[("image", IMAGE)],
        output="screen",
    )
    recognizer = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(share, "launch", "recognizer.launch.py")),
        launch_arguments={"image": IMAGE}.items(),
    )
    return LaunchDescription([*args, camera, recognizer])
