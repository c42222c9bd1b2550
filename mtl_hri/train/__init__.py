"""Training: multi-task losses, task weighting. Never imports rclpy."""
