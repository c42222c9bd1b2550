"""Procedural synthetic HRI clips: an articulated figure performs one labelled action or gesture over a photo.

Every frame comes with the exact image position of both hands (the targets of the auxiliary hand task of Kapidis,
Poppe, van Dam, Noldus and Veltkamp, "Multitask Learning to Improve Egocentric Action Recognition", ICCV Workshops
2019).

Pure numpy + OpenCV (never imports rclpy). Modules, in the order a clip is made:

    config       SynthConfig
    motions      the label registry: each label's task, motion and mirror label
    figure       body, pose, forward kinematics (and the chair)
    backgrounds  photo, procedural or plain backgrounds
    painter      orthographic projection, drawing, which part each pixel shows
    camera       shake and photometric effects
    render       one clip (render_clip)
    mp4          the MP4 writer
    dataset      the data set on disk (plan, generate); sequence: clips back to back (the demo)

Conventions: frames are RGB uint8; pixel coordinates put (0, 0) at the centre of the top-left pixel (as
OpenCV draws and warps); hands[:, 0] is the person's LEFT hand and hands[:, 1] the RIGHT (anatomical: a
person facing the camera has the left hand on the image right). Same config and seed, same bytes.
"""
from .backgrounds import (
    BACKGROUND_MODES,
    BACKGROUND_SHA256,
    PLAIN_RGB,
    default_background_cache,
    fetch_backgrounds,
    load_photos,
)
from .config import SynthConfig
from .dataset import MANIFEST_COLUMNS, SPLITS, PlannedClip, generate, plan
from .motions import LABELS, REGISTRY, Label
from .mp4 import Mp4Writer, write_video
from .render import Clip, render_clip
from .sequence import SequenceClip, write_sequence

__all__ = [
    "BACKGROUND_MODES", "BACKGROUND_SHA256", "LABELS", "MANIFEST_COLUMNS", "PLAIN_RGB", "REGISTRY", "SPLITS", "Clip",
    "Label", "Mp4Writer", "PlannedClip", "SequenceClip", "SynthConfig", "default_background_cache",
    "fetch_backgrounds", "generate", "load_photos", "plan", "render_clip", "write_sequence", "write_video",
]
