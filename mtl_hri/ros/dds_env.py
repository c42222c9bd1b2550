"""The environment every process the project starts runs with: DDS on loopback only.

No rclpy import here: this is read before rclpy starts, by tests, the demo and benchmarks.
"""
from __future__ import annotations

import os
import random
import sys
from pathlib import Path

PROFILE_NAME = "fastdds_loopback.xml"
MAX_DOMAIN_ID = 232  # Fast DDS's port mapping limit


def profile_path() -> Path:
    """Return the project's loopback profile: the source tree's, else the installed share directory's."""
    here = Path(__file__).resolve().parents[2] / "config" / PROFILE_NAME
    if here.is_file():
        return here
    return Path(sys.prefix) / "share" / "mtl_hri" / "config" / PROFILE_NAME


def random_domain_id() -> int:
    return random.SystemRandom().randint(1, MAX_DOMAIN_ID)


def loopback_env(domain_id: int | None = None, base: dict[str, str] | None = None) -> dict[str, str]:
    """Return `base` (default: os.environ) with the loopback profile, LOCALHOST discovery, a domain, the prefix."""
    env = dict(os.environ if base is None else base)
    env["FASTDDS_DEFAULT_PROFILES_FILE"] = str(profile_path())
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    env["ROS_DOMAIN_ID"] = str(domain_id if domain_id is not None else env.get("ROS_DOMAIN_ID") or random_domain_id())
    prefixes = [p for p in env.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    if sys.prefix not in prefixes:
        env["AMENT_PREFIX_PATH"] = os.pathsep.join([sys.prefix, *prefixes])
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def apply_loopback_env(domain_id: int | None = None) -> dict[str, str]:
    """Set the loopback environment in this process (before rclpy.init)."""
    env = loopback_env(domain_id)
    os.environ.update(env)
    return env
