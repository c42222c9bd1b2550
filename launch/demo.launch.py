"""A video played as a camera, and the recognizer on it.

ros2 launch mtl_hri demo.launch.py [video:=/path/to/video.mp4 rate:=15.0 model:=... device:=... namespace:=...]

A video file played as a camera, and recognizer.launch.py on it (debug_image shows what it sees); every
argument of recognizer.launch.py but `image` passes through. The default video is the real footage that
`make footage` (`mtl-hri-fetch-footage`) fetches; it loops. When the camera exits (the video cannot be opened,
a device went away), the whole launch ends, with an error when the camera failed.
"""
import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, EmitEvent, IncludeLaunchDescription, LogInfo, RegisterEventHandler
from launch.event_handlers import OnProcessExit
from launch.events import Shutdown
from launch.events.process import ProcessExited
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

from mtl_hri.tools.fetch_footage import default_cache

IMAGE = "/camera/image_raw"


def camera_exited(event: ProcessExited, context: LaunchContext) -> list:
    """End the launch: the recognizer has nothing to see without its camera."""
    if context.is_shutdown:  # Ctrl-C or another shutdown already under way
        return []
    if event.returncode != 0:  # an exception is how launch ends with an error: logged, exit code 1
        raise RuntimeError(f"the camera (video_publisher) exited with code {event.returncode}; is "
                           f"video:={context.launch_configurations['video']} a readable video? "
                           "(`mtl-hri-fetch-footage` fetches the default one)")
    reason = "the camera (video_publisher) exited"
    return [LogInfo(msg=f"{reason}; stopping the launch"), EmitEvent(event=Shutdown(reason=reason))]


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory("mtl_hri")
    args = [
        DeclareLaunchArgument("video", default_value=str(default_cache()),
                              description="Video file (or /dev/videoN) to play as the camera."),
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
    on_camera_exit = RegisterEventHandler(OnProcessExit(target_action=camera, on_exit=camera_exited))
    return LaunchDescription([*args, on_camera_exit, camera, recognizer])
