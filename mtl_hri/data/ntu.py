"""NTU RGB+D 60 / 120 (Shahroudy et al. 2016, Liu et al. 2019): RGB videos, Kinect v2 skeletons -> hand tracks.

    <root>/nturgb+d_rgb/SsssCcccPpppRrrrAaaa_rgb.avi             setup, camera, performer, replication, action
    <root>/nturgb+d_skeletons/SsssCcccPpppRrrrAaaa.skeleton      (optional; missing ones leave a clip without hands)

Labels are the action codes "A001".."A120". Records are actions; a composite config picks class subsets and
may route them to the gesture task. Splits ("train" / "test") follow the official protocols:
xsub (performers), xview (cameras 2, 3 train; 1 test) and, for NTU120, xset (even setups train).

Skeleton text format: frame count; per frame a body count; per body a line of 10 values (bodyID, clipedEdges,
handLeftConfidence, handLeftState, handRightConfidence, handRightState, isResticted, leanX, leanY,
trackingState), the joint count (25), then per joint 12 values (x, y, z, depthX, depthY, colorX, colorY,
orientationW, orientationX, orientationY, orientationZ, trackingState).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .records import ClipRecord, HandTrack, SourceData

NAME = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")
NTU60_TRAIN_SUBJECTS = frozenset({1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38})
NTU120_TRAIN_SUBJECTS = NTU60_TRAIN_SUBJECTS | {
    45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86, 89, 91, 92, 93,
    94, 95, 97, 98, 100, 103,
}
XVIEW_TRAIN_CAMERAS = frozenset({2, 3})
VARIANTS = {"ntu60": (17, 60), "ntu120": (32, 120)}  # variant -> (last setup, last action class)
PROTOCOLS = ("xsub", "xview", "xset")
SPLITS = ("train", "test")

COLOR_SIZE = (1920, 1080)  # Kinect v2 colour frames
# 0-based joints averaged into each hand's keypoint: Hand, HandTip, Thumb (joints 8/22/23 left, 12/24/25 right)
HAND_JOINTS = ((7, 21, 22), (11, 23, 24))
COLOR_XY = slice(5, 7)
TRACKING = 11  # joint tracking state: 0 not tracked, 1 inferred, 2 tracked


@dataclass
class SkeletonBody:
    body_id: int
    joints: np.ndarray  # (25, 12) float64, the 12 joint values of the file format


def parse_skeleton(text: str) -> list[list[SkeletonBody]]:
    """Parse a .skeleton file's text into the bodies of each frame."""
    tokens = text.split()
    pos = 0

    def take(n: int) -> list[str]:
        nonlocal pos
        if pos + n > len(tokens):
            raise ValueError("truncated skeleton file")
        pos += n
        return tokens[pos - n:pos]

    frames = []
    for _ in range(int(take(1)[0])):
        bodies = []
        for _ in range(int(take(1)[0])):
            body_id = int(take(10)[0])
            count = int(take(1)[0])
            joints = np.array(take(12 * count), dtype=np.float64).reshape(count, 12)
            bodies.append(SkeletonBody(body_id, joints))
        frames.append(bodies)
    return frames


def main_body(frames: list[list[SkeletonBody]]) -> int | None:
    """Return the body ID present in the most frames (the first seen on ties), or None without bodies."""
    counts = Counter(b.body_id for bodies in frames for b in bodies)  # insertion order breaks ties
    return max(counts, key=counts.__getitem__) if counts else None


def hand_track(frames: list[list[SkeletonBody]], size: tuple[int, int] = COLOR_SIZE) -> HandTrack:
    """Return the main body's hands in colour-frame pixels: the mean of each hand's tracked joints.

    A hand is visible if any joint is tracked and the mean falls inside the frame.
    """
    main = main_body(frames)
    xy = np.zeros((len(frames), 2, 2), np.float32)
    visible = np.zeros((len(frames), 2), bool)
    width, height = size
    for t, bodies in enumerate(frames):
        body = next((b for b in bodies if b.body_id == main), None)
        if body is None or len(body.joints) < 25:
            continue
        for hand, joints in enumerate(HAND_JOINTS):
            j = body.joints[list(joints)]
            tracked = j[:, TRACKING] > 0
            if not tracked.any():
                continue
            x, y = j[tracked, COLOR_XY].mean(axis=0)
            xy[t, hand] = x, y
            visible[t, hand] = -0.5 <= x < width - 0.5 and -0.5 <= y < height - 0.5
    return HandTrack(xy, visible, 0)


@dataclass(frozen=True)
class NTUSkeleton:
    """A .skeleton file whose hand track is read when a clip is loaded."""

    path: Path
    size: tuple[int, int] = COLOR_SIZE

    def load(self) -> HandTrack:
        return hand_track(parse_skeleton(self.path.read_text()), self.size)


def in_train_split(protocol: str, variant: str, setup: int, camera: int, performer: int) -> bool:
    if protocol == "xsub":
        return performer in (NTU60_TRAIN_SUBJECTS if variant == "ntu60" else NTU120_TRAIN_SUBJECTS)
    if protocol == "xview":
        return camera in XVIEW_TRAIN_CAMERAS
    return setup % 2 == 0  # xset


def load_ntu(
    root: Path | str,
    split: str = "train",
    protocol: str = "xsub",
    variant: str = "ntu60",
    rgb: str = "nturgb+d_rgb",
    skeletons: str = "nturgb+d_skeletons",
) -> SourceData:
    if split not in SPLITS or protocol not in PROTOCOLS or variant not in VARIANTS:
        raise ValueError(f"NTU: split in {SPLITS}, protocol in {PROTOCOLS}, variant in {tuple(VARIANTS)}; "
                         f"got {split!r}, {protocol!r}, {variant!r}")
    if protocol == "xset" and variant != "ntu120":
        raise ValueError("the cross-setup protocol is NTU120's")
    root = Path(root)
    last_setup, last_class = VARIANTS[variant]
    records = []
    for video in sorted((root / rgb).rglob("*_rgb.avi")):
        m = NAME.fullmatch(video.name.removesuffix("_rgb.avi"))
        if m is None:
            continue
        setup, camera, performer, _, action = map(int, m.groups())
        if setup > last_setup or action > last_class:
            continue
        if in_train_split(protocol, variant, setup, camera, performer) != (split == "train"):
            continue
        skeleton = root / skeletons / f"{m.group(0)}.skeleton"
        records.append(ClipRecord(
            video, "action", f"A{action:03d}", source=variant, subject=performer, camera=camera, split=split,
            hands=NTUSkeleton(skeleton) if skeleton.is_file() else None,
        ))
    return SourceData(records, {"action": [f"A{i:03d}" for i in range(1, last_class + 1)]})
