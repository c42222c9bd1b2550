"""Datasets and label sets. Never imports rclpy."""
