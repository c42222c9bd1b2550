"""Shared fixtures. DDS is confined to loopback and each run gets its own ROS_DOMAIN_ID before rclpy starts."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from mtl_hri.ros.dds_env import apply_loopback_env

ENV = apply_loopback_env(int(os.environ["MTL_HRI_TEST_DOMAIN"]) if "MTL_HRI_TEST_DOMAIN" in os.environ else None)

import torch  # noqa: E402

from mtl_hri.data.labels import HRI_LABELS  # noqa: E402
from mtl_hri.model import ArchConfig, ModelCard, Provenance, build_model, save_model_dir  # noqa: E402

SMALL_LABELS = {"action": ["none", "walk", "sit_down"], "gesture": ["none", "wave", "stop", "point_left"]}


@pytest.fixture(scope="session")
def ros_env() -> dict[str, str]:
    return ENV


def make_model_dir(directory: Path, labels: dict[str, list[str]] = SMALL_LABELS, seed: int = 0) -> Path:
    """Make a real model directory with random weights (no download, no ImageNet file needed)."""
    torch.manual_seed(seed)
    model = build_model(ArchConfig(), labels, pretrained=False)
    card = ModelCard(name="test_model", arch=ArchConfig(), labels=labels,
                     provenance=Provenance(trained=False, init=f"random seed {seed}"))
    return save_model_dir(model, card, directory)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    return make_model_dir(tmp_path_factory.mktemp("model"), HRI_LABELS)


@pytest.fixture(scope="session")
def footage() -> Path:
    """Real pedestrian footage (vtest.avi from Debian's opencv-doc), fetched once and checksummed."""
    from mtl_hri.tools.fetch_footage import default_cache, fetch

    return fetch(default_cache())


@pytest.fixture(scope="session")
def basketball_photo() -> Path:
    """Return a real photo of two men, one holding a ball up (opencv-doc's basketball2.png, 640x480), checksummed."""
    from mtl_hri.data.debian import fetch_verified
    from mtl_hri.paths import cache_dir

    name, sha = "basketball2.png", "b3047772e0dc6c9d83c26f64894ca1a897f799f855c5574ac24b2ef934c2978e"
    return fetch_verified({cache_dir() / name: (name, sha)})[0]


@pytest.fixture(scope="session")
def ros(ros_env):
    """Initialise rclpy once for the run (loopback DDS, this run's domain)."""
    import rclpy

    rclpy.init()
    yield
    rclpy.try_shutdown()
