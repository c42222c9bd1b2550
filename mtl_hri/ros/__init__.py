"""The thin ROS 2 shell: messages in, core calls, messages out."""
