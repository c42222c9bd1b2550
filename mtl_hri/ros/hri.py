"""ROS4HRI (REP-155) messages: pure builders of the hri_msgs a body's topics carry, from plain values.

Every builder takes the source image's `std_msgs/Header` and puts a copy of it in the message: REP-155 wants the
acquisition time of the image, never the time the message is made. Coordinates are normalised by the image's
width and height and clipped to [0, 1], with (0, 0) the top left. Gestures and postures are given as the names
of their constants, which the model card maps its labels to (`ModelCard.ros4hri`, `mtl_hri.model.ros4hri_labels`).
Topic layout and QoS: /work/shared/design/ros4hri.md (`/humans/bodies/<id>/roi`, `.../skeleton2d`, `.../gesture`,
`.../posture`, `/humans/bodies/tracked`).

ROS 2 distros ship hri_msgs (ros-<distro>-hri-msgs); the PyPI wheels do not, so its import is guarded: this module
imports anywhere, and a node publishes ROS4HRI only when hri_msgs_available().
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from builtin_interfaces.msg import Time
from numpy.typing import ArrayLike
from std_msgs.msg import Header

from ..model.ros4hri_labels import GESTURE_NAMES, POSTURE_NAMES, handedness_constant
from .interfaces import type_support_loads

try:
    from hri_msgs.msg import (
        BodyPosture,
        Gesture,
        IdsList,
        NormalizedPointOfInterest2D,
        NormalizedRegionOfInterest2D,
        Skeleton2D,
    )
except ImportError:  # no hri_msgs here: hri_msgs_available() is False and no builder is called
    BodyPosture = Gesture = IdsList = NormalizedPointOfInterest2D = NormalizedRegionOfInterest2D = Skeleton2D = None

SKELETON_POINTS = 18  # Skeleton2D: OpenPose COCO-18, NOSE = 0 ... RIGHT_EAR = 17


def hri_msgs_available() -> bool:
    """Return True when hri_msgs imports and its type support loads."""
    return type_support_loads(BodyPosture, Gesture, IdsList, NormalizedPointOfInterest2D, NormalizedRegionOfInterest2D,
                              Skeleton2D)


def copy_header(header: Header) -> Header:
    """Return a copy of the source header (stamp and frame), so that a later change to the source's cannot leak in."""
    return Header(stamp=Time(sec=header.stamp.sec, nanosec=header.stamp.nanosec), frame_id=header.frame_id)


def _image_size(width: float, height: float) -> np.ndarray:
    size = np.array([width, height], dtype=np.float64)
    if not (np.isfinite(size).all() and (size > 0).all()):
        raise ValueError(f"image width and height must be positive, not {width} x {height}")
    return size


def normalized_points(points_px: ArrayLike, width: float, height: float) -> np.ndarray:
    """Return pixel points (N, 3) of (x, y, confidence) as (x / width, y / height, c) rows clipped to [0, 1].

    A point with a non-finite value, or a confidence that is not positive (not detected), becomes (0, 0, 0): how
    ROS4HRI readers know a missing point.
    """
    p = np.asarray(points_px, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3:
        raise ValueError(f"points must be (N, 3) rows of (x_px, y_px, confidence), not shape {p.shape}")
    found = np.isfinite(p).all(axis=1) & (p[:, 2] > 0)
    out = np.zeros_like(p)
    out[found, :2] = np.clip(p[found, :2] / _image_size(width, height), 0.0, 1.0)
    out[found, 2] = np.clip(p[found, 2], 0.0, 1.0)
    return out


def ids_list(header: Header, ids: Sequence[str]) -> IdsList:
    """Build the list of ids tracked now (`/humans/bodies/tracked`)."""
    if isinstance(ids, str):  # a lone id would become one id per character
        raise TypeError("ids must be a sequence of ids, not one string")
    return IdsList(header=copy_header(header), ids=[str(i) for i in ids])


def roi(header: Header, box_xyxy_px: ArrayLike, width: float, height: float,
        confidence: float) -> NormalizedRegionOfInterest2D:
    """Build a body's region of interest from a pixel box (xmin, ymin, xmax, ymax): normalised, clipped to [0, 1]."""
    box = np.asarray(box_xyxy_px, dtype=np.float64)
    if box.shape != (4,) or not np.isfinite(box).all() or not np.isfinite(confidence):
        raise ValueError(f"box must be 4 finite pixel coordinates and confidence finite, not {box} and {confidence}")
    (xmin, ymin), (xmax, ymax) = np.clip(box.reshape(2, 2) / _image_size(width, height), 0.0, 1.0)
    return NormalizedRegionOfInterest2D(header=copy_header(header), xmin=float(xmin), ymin=float(ymin),
                                        xmax=float(xmax), ymax=float(ymax), c=float(np.clip(confidence, 0.0, 1.0)))


def skeleton2d(header: Header, points: ArrayLike, width: float, height: float) -> Skeleton2D:
    """Build a body's 2D skeleton from an (18, 3) array of (x_px, y_px, confidence) in OpenPose COCO-18 order."""
    rows = normalized_points(points, width, height)
    if len(rows) != SKELETON_POINTS:
        raise ValueError(f"a Skeleton2D has {SKELETON_POINTS} points (OpenPose COCO-18), not {len(rows)}")
    skeleton = [NormalizedPointOfInterest2D(x=float(x), y=float(y), c=float(c)) for x, y, c in rows]
    return Skeleton2D(header=copy_header(header), skeleton=skeleton)


def _constant(names: tuple[str, ...], name: str) -> int:
    if name not in names:  # getattr would also accept the message's fields and handedness constants
        raise ValueError(f"{name!r} is not one of {', '.join(names)}")
    return names.index(name)


def gesture(header: Header, constant: str, handedness: str = "") -> Gesture:
    """Build a body's gesture from a Gesture constant's name (WAVING, ...) and the hand making it (left, right, "")."""
    value, hand = _constant(GESTURE_NAMES, constant), handedness_constant(handedness)
    return Gesture(header=copy_header(header), gesture=value, handedness=getattr(Gesture, hand))


def posture(header: Header, constant: str) -> BodyPosture:
    """Build a body's posture from a BodyPosture constant's name (STANDING, SITTING, CROUCHING, LAYING, OTHER)."""
    value = _constant(POSTURE_NAMES, constant)
    return BodyPosture(header=copy_header(header), posture=value)
