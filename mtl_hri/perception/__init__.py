"""The front end: real pretrained person detection, body and hand landmarks, and tracking; no ROS."""
