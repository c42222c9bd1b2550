"""Procedural synthetic HRI clips: an articulated figure performs one labelled action or gesture over a
photo, with the exact image position of both hands in every frame.

Pure numpy + OpenCV (never imports rclpy). The figure is a small 3D skeleton of boxes and capsules, posed
by one function of normalised time per label, turned by a yaw angle and projected orthographically, so
facing, turning round, bowing and foreshortened arms all come out of one forward-kinematics model and the
hand keypoints are the projections of the same points that are drawn.

Conventions: frames are RGB uint8; pixel coordinates put (0, 0) at the centre of the top-left pixel (as
OpenCV draws and warps); hands[:, 0] is the person's LEFT hand and hands[:, 1] the RIGHT (anatomical: a
person facing the camera has the left hand on the image right).
"""
from __future__ import annotations

import csv
import json
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np
from tqdm import tqdm

from .debian import cache_dir, fetch_verified
from .generic import write_hand_csv
from .labels import HRI_ACTIONS, HRI_GESTURES, HRI_LABELS

# ---------------------------------------------------------------------------------------------- backgrounds

# Scene-like photos of opencv-doc 4.6.0 (no people in them: a second person would contradict the label).
BACKGROUND_SHA256 = {
    "building.jpg": "742a1baad62ac82e91e718e77eedf7e85c2eddc4badfb8c87c6cbc86c45a8b07",
    "home.jpg": "23b8cf46a1965d0ec33459b875aed43187802834db49e0daa9fa2cc842e9d8d2",
    "aero1.jpg": "d9a69191f6e3642ea361bc3c62e677b2f40fe6534b78da540f4155e0734b59ef",
    "aero3.jpg": "1c407146f8762b3b14a7953ff9bc4c01ed64c467d7277122e769bf7e816017a4",
    "leuvenA.jpg": "b2977cdbd9fb3f94dadd6f76cf586d145676deb8a22b5f0f42149d21c058c09f",
    "leuvenB.jpg": "5bb41a60038a2baa5d8ea0eaba55e6e3050d721b254cf79d8d8998d7e49d664a",
    "graf1.png": "1504b769303c7bde00fa578eeaad3c68e02aceabeb1242e556f1f8d19e4bdea5",
    "graf3.png": "492e0e96f21748d093e1a29f4dbfd46528bd75966937e85ce7c8abc0f361fc15",
    "stuff.jpg": "21cd00afbdd0727f445dd91c0a09633e6345ed5b05a3d2355453a1f3c314c6c5",
    "box_in_scene.png": "8b0225ff76244a42bd1400c0904f8b7afea7d97b7d8115495e42e98ad347bd51",
    "rubberwhale1.png": "eb312435369dac9efcc92f7e098edbd9ed8d7e6dfede8b3b4d8e3702cd80b796",
    "aloeL.jpg": "cce5736808efe80d9f04b118dbb978c344d4345672b332718c3e039a3eeb8eee",
    "blox.jpg": "11115aa2cac174b7b01f907196e077ce19dd164145b82dd68129f92bdcae6884",
    "board.jpg": "4c9a24ba67138ad5486d550f586cc5dd1161be112f1c1bea336d6c550cdf255f",
    "fruits.jpg": "9c031d80a1c52da5eca790db896baffec6a7e52bf786cdb7bbfca5c7f880e6a1",
    "ela_original.jpg": "b55798b35e2dcb24675f0865a2442d0e4887eeb6aff322ecb1968d936cc23e7f",
}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


def default_background_cache() -> Path:
    return cache_dir() / "backgrounds"


def fetch_backgrounds(dest: Path) -> list[Path]:
    """Scene photos from Debian's opencv-doc, cached in `dest` and sha256-verified; cached copies are reused."""
    return fetch_verified({dest / name: (name, digest) for name, digest in BACKGROUND_SHA256.items()})


def _read_rgb(path: Path) -> np.ndarray | None:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return None if image is None else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


@lru_cache(maxsize=4)
def load_photos(directory: Path | None) -> tuple[np.ndarray, ...]:
    """RGB photos from `directory`, or from opencv-doc (fetched and cached) when it is None.

    An empty result means "no photos": the caller falls back to procedural backgrounds. Cached so that a
    dataset run reads (and, at worst, downloads) the photos once.
    """
    if directory is not None:
        files = sorted(p for p in Path(directory).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        photos = tuple(im for im in map(_read_rgb, files) if im is not None)
        if not photos:
            raise RuntimeError(f"no readable images in {directory}")
    else:
        try:
            photos = tuple(map(_read_rgb, fetch_backgrounds(default_background_cache())))
        except (RuntimeError, OSError) as exc:
            warnings.warn(f"no background photos ({exc}); using procedural textured backgrounds instead",
                          RuntimeWarning, stacklevel=2)
            return ()
    for photo in photos:
        photo.flags.writeable = False  # shared between clips
    return photos


def _photo_crop(photo: np.ndarray, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A random crop of the frame's aspect ratio (55-100 % of the largest), resized, maybe mirrored."""
    ph, pw = photo.shape[:2]
    cw = min(pw, ph * width / height) * rng.uniform(0.55, 1.0)
    ch = cw * height / width
    x0, y0 = rng.uniform(0, pw - cw), rng.uniform(0, ph - ch)
    crop = photo[int(y0):int(y0 + ch), int(x0):int(x0 + cw)]
    interp = cv2.INTER_AREA if crop.shape[1] > width else cv2.INTER_LINEAR
    out = cv2.resize(crop, (width, height), interpolation=interp)
    return out[:, ::-1].copy() if rng.random() < 0.5 else out


def _procedural_background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A textured room: wall and floor, a few rectangles (doors, windows, pictures), soft shading, grain."""
    img = np.empty((height, width, 3), np.float32)
    horizon = int(height * rng.uniform(0.5, 0.78))
    img[:horizon] = rng.uniform(60, 220, 3)
    img[horizon:] = rng.uniform(40, 180, 3)
    for _ in range(int(rng.integers(2, 7))):
        w, h = rng.uniform(0.08, 0.35) * width, rng.uniform(0.1, 0.5) * height
        x, y = rng.uniform(-0.1 * width, width), rng.uniform(0, max(horizon - h, 1))
        cv2.rectangle(img, (int(x), int(y)), (int(x + w), int(y + h)), rng.uniform(20, 240, 3).tolist(), -1)
    texture = cv2.resize(rng.normal(0, 1, (6, 8)).astype(np.float32), (width, height),
                         interpolation=cv2.INTER_CUBIC)
    shade = np.linspace(rng.uniform(0.8, 1.1), rng.uniform(0.8, 1.1), height, dtype=np.float32)[:, None]
    img *= ((1 + 0.12 * texture) * shade)[..., None]
    img += rng.normal(0, 4, img.shape).astype(np.float32)
    return np.clip(cv2.GaussianBlur(img, (0, 0), 0.7), 0, 255).astype(np.uint8)


# -------------------------------------------------------------------------------------------------- config

PLAIN_RGB = (0, 255, 0)  # the "plain" background: far from every skin, clothing and hair colour
BACKGROUND_MODES = ("photo", "procedural", "plain")


@dataclass
class SynthConfig:
    width: int = 320
    height: int = 240
    fps: float = 15.0
    n_frames: tuple[int, int] = (32, 48)  # inclusive range of clip lengths
    min_segment: int = 24  # shortest labelled segment, frames
    clips_per_class: int = 10
    idle_clips: int = 10  # `none` clips, shared by both tasks
    splits: tuple[float, float, float] = (0.8, 0.1, 0.1)  # train, val, test
    seed: int = 0
    background: str = "photo"  # "photo", "procedural" or "plain" (flat PLAIN_RGB, for exact checks)
    backgrounds_dir: Path | None = None  # photos to use; None: opencv-doc's, procedural if unavailable
    shake: bool = True  # per-frame camera jitter (geometric: the keypoints follow it)
    photometric: bool = True  # lighting drift, blur, noise

    def __post_init__(self) -> None:
        lo, hi = self.n_frames
        if not self.min_segment <= lo <= hi:
            raise ValueError(f"need min_segment <= n_frames[0] <= n_frames[1], got {self.min_segment}, {self.n_frames}")
        if self.background not in BACKGROUND_MODES:
            raise ValueError(f"background must be one of {BACKGROUND_MODES}, got {self.background!r}")
        if len(self.splits) != 3 or min(self.splits) < 0 or sum(self.splits) <= 0:
            raise ValueError(f"splits must be three non-negative ratios, got {self.splits}")
        if self.width < 32 or self.height < 32:
            raise ValueError("frames must be at least 32x32")


@dataclass
class Clip:
    frames: np.ndarray  # (T, H, W, 3) uint8 RGB
    hands: np.ndarray  # (T, 2, 2) float64 pixels (x, y); [:, 0] person's left hand, [:, 1] right hand
    visible: np.ndarray  # (T, 2) bool: the hand itself is drawn at its keypoint (in frame, unoccluded)
    start: int  # labelled segment: frames [start, end)
    end: int
    task: str  # "action", "gesture" or "none" (idle, `none` for both tasks)
    label: str
    skin: tuple[int, int, int]  # RGB of the skin (and so of the hands)


# ---------------------------------------------------------------------------------------------- the figure

LEFT, RIGHT = 0, 1
OUTWARD = (1.0, -1.0)  # body-frame x of each side: +x is the person's left, +y up, +z forward
IDLE_ARM = np.array([8.0, 5.0, 5.0, 20.0])  # degrees: upper-arm abduction, flexion; forearm abduction, flexion
BODY_ID, LEFT_HAND_ID, RIGHT_HAND_ID, PROP_ID = 3, 1, 2, 4  # part ids in the occlusion map (0: background)

SKINS = [(255, 224, 196), (241, 194, 158), (224, 172, 125), (198, 134, 86), (160, 105, 66), (110, 70, 45)]
HAIRS = [(25, 20, 18), (60, 40, 25), (110, 75, 40), (200, 165, 100), (150, 145, 140), (120, 40, 20)]
SHIRTS = [(200, 30, 40), (30, 60, 150), (240, 240, 235), (40, 40, 45), (230, 190, 40), (120, 40, 120),
          (250, 140, 40), (70, 130, 190), (140, 140, 140), (150, 30, 60), (40, 120, 110), (230, 120, 150)]
TROUSERS = [(40, 55, 90), (30, 30, 35), (90, 85, 80), (150, 130, 100), (70, 75, 50), (20, 40, 70), (120, 40, 40)]
SHOES = [(20, 20, 20), (70, 45, 30), (230, 230, 230), (50, 50, 60)]
CHAIRS = [(110, 70, 40), (60, 60, 65), (200, 200, 195), (150, 100, 60)]


@dataclass(frozen=True)
class Body:
    """Proportions in units of standing height, and colours (RGB)."""
    head_r: float
    neck: float
    torso: float  # hip joints to neck base
    shoulder: float  # half width between the shoulder joints
    waist: float  # half width of the waist
    depth: float  # half depth of the chest
    hip: float  # half distance between the hip joints
    upper_arm: float
    forearm: float
    hand: float  # palm radius; the palm centre is 1.4 radii past the wrist (clear of the sleeve)
    thigh: float
    shin: float
    foot: float
    arm_r: float
    leg_r: float
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]
    shirt: tuple[int, int, int]
    trousers: tuple[int, int, int]
    shoes: tuple[int, int, int]
    long_sleeves: bool


def _colour(palette: list[tuple[int, int, int]], rng: np.random.Generator, jitter: float = 12) -> tuple[int, int, int]:
    base = np.array(palette[int(rng.integers(len(palette)))], float)
    return tuple(int(c) for c in np.clip(base + rng.normal(0, jitter, 3), 0, 255))


def _sample_body(rng: np.random.Generator) -> Body:
    leg, trunk, arm = rng.uniform(0.94, 1.06, 3)
    build = rng.uniform(0.85, 1.2)  # widths
    return Body(
        head_r=0.064 * rng.uniform(0.93, 1.07), neck=0.04, torso=0.30 * trunk,
        shoulder=0.1 * build, waist=0.08 * build, depth=0.055 * build, hip=0.05 * build,
        upper_arm=0.165 * arm, forearm=0.145 * arm, hand=0.03,
        thigh=0.245 * leg, shin=0.24 * leg, foot=0.065,
        arm_r=0.024 * build, leg_r=0.037 * build,
        skin=_colour(SKINS, rng, 8), hair=_colour(HAIRS, rng, 8), shirt=_colour(SHIRTS, rng),
        trousers=_colour(TROUSERS, rng), shoes=_colour(SHOES, rng, 6), long_sleeves=bool(rng.random() < 0.6),
    )


@dataclass
class Pose:
    """One frame's joint angles (degrees) and placement (units of standing height)."""
    yaw: float = 0.0  # 0 faces the camera, +90 faces image right
    pitch: float = 0.0  # torso bend forward at the hips
    lean: float = 0.0  # torso bend sideways
    x: float = 0.0  # translation to the image right
    lift: float = 0.0  # feet above the ground
    arms: np.ndarray = field(default_factory=lambda: np.tile(IDLE_ARM, (2, 1)))  # (side, 4), see IDLE_ARM
    legs: np.ndarray = field(default_factory=lambda: np.zeros((2, 2)))  # (side, [hip flexion, knee flexion])
    hands: list[str] = field(default_factory=lambda: ["fist", "fist"])  # hand shape per side


def _rot_x(deg: float) -> np.ndarray:  # +: y toward +z (bend forward)
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _rot_y(deg: float) -> np.ndarray:  # +: forward (+z) toward image right (+x)
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rot_z(deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def _limb(abd: float, flex: float, outward: float) -> np.ndarray:
    """Unit direction of a limb hanging down, raised sideways by `abd` then swung forward by `flex` (deg)."""
    a, f = np.radians(abd), np.radians(flex)
    return np.array([outward * np.sin(a), -np.cos(a) * np.cos(f), np.cos(a) * np.sin(f)])


@dataclass
class _Part:
    kind: str  # "capsule", "poly", "head" or "hand"
    points: np.ndarray  # (n, 3) world points, units of height; for a hand: centre, wrist
    radius: float
    colour: tuple[int, int, int]
    pid: int
    style: str = ""  # hand shape
    axes: np.ndarray | None = None  # head: world forward, up and left unit vectors (rows)
    hair: tuple[int, int, int] | None = None  # head
    depth_bias: float = 0.0

    @property
    def depth(self) -> float:  # towards the camera; the painter draws far parts first
        return float(self.points[:, 2].mean()) + self.depth_bias


@dataclass
class _Figure:
    parts: list[_Part]
    hands: np.ndarray  # (2, 3) world palm centres, [LEFT, RIGHT]
    pelvis: np.ndarray  # (3,) world
    ground: np.ndarray  # (3,) world point on the ground between the feet
    lift: float


def _figure(body: Body, pose: Pose) -> _Figure:
    """Forward kinematics: pose -> world parts. World: x image right, y up, z toward the camera."""
    rt = _rot_z(pose.lean) @ _rot_x(pose.pitch)  # the torso (and arms, head) relative to the pelvis
    neck = rt @ [0, body.torso, 0]
    head = neck + rt @ [0, body.neck + body.head_r, 0]
    j: dict[str, np.ndarray] = {}
    for side, out in enumerate(OUTWARD):
        shoulder = rt @ [out * body.shoulder, body.torso - 0.015, 0]
        elbow = shoulder + body.upper_arm * (rt @ _limb(*pose.arms[side, :2], out))
        fore = rt @ _limb(*pose.arms[side, 2:], out)
        hip = np.array([out * body.hip, 0.0, 0.0])
        flex, knee_flex = pose.legs[side]
        knee = hip + body.thigh * _limb(3, flex, out)
        ankle = knee + body.shin * _limb(3, flex - knee_flex, out)
        j |= {f"shoulder{side}": shoulder, f"elbow{side}": elbow, f"wrist{side}": elbow + body.forearm * fore,
              f"hand{side}": elbow + (body.forearm + 1.4 * body.hand) * fore, f"hip{side}": hip,
              f"knee{side}": knee, f"ankle{side}": ankle}
    # Feet planted: centre them under the figure's ground point and put the lower ankle on the ground.
    ankles = np.stack([j["ankle0"], j["ankle1"]])
    anchor = np.array([ankles[:, 0].mean(), ankles[:, 1].min() - 0.03, ankles[:, 2].mean()])
    ry = _rot_y(pose.yaw)
    offset = np.array([pose.x, pose.lift, 0.0])

    def world(*pts: np.ndarray) -> np.ndarray:
        return (np.stack(pts) - anchor) @ ry.T + offset

    def box(half_top: tuple[float, float], half_bottom: tuple[float, float], y_top: float, y_bottom: float,
            rot: np.ndarray) -> np.ndarray:
        corners = [rot @ [sx * hw, y, sz * hd] for (hw, hd), y in ((half_top, y_top), (half_bottom, y_bottom))
                   for sx in (-1, 1) for sz in (-1, 1)]
        return world(*corners)

    left, up, forward = (ry @ rt).T  # body axes in the world (columns of the rotation)
    sleeve = body.shirt if body.long_sleeves else body.skin
    parts = [
        _Part("poly", box((body.shoulder, body.depth), (body.waist, body.depth * 0.9), body.torso + 0.01, 0.03, rt),
              0.0, body.shirt, BODY_ID, depth_bias=-0.02),
        _Part("poly", box((body.waist + 0.004, body.depth * 0.9), (body.hip + body.leg_r, body.depth * 0.8),
                          0.05, -0.06, np.eye(3)), 0.0, body.trousers, BODY_ID, depth_bias=-0.02),
        _Part("capsule", world(neck - rt @ [0, 0.02, 0], head), 0.028, body.skin, BODY_ID),
        _Part("head", world(head), body.head_r, body.skin, BODY_ID, axes=np.stack([forward, up, left]),
              hair=body.hair),
    ]
    for side in (LEFT, RIGHT):
        parts += [
            _Part("capsule", world(j[f"shoulder{side}"], j[f"elbow{side}"]), body.arm_r, body.shirt, BODY_ID),
            _Part("capsule", world(j[f"elbow{side}"], j[f"wrist{side}"]), body.arm_r * 0.85, sleeve, BODY_ID),
            _Part("hand", world(j[f"hand{side}"], j[f"wrist{side}"]), body.hand, body.skin,
                  (LEFT_HAND_ID, RIGHT_HAND_ID)[side], style=pose.hands[side]),
            # The thigh starts a radius below the hip joint so its rounded end stays inside the pelvis box.
            _Part("capsule", world(j[f"hip{side}"] + body.leg_r * (j[f"knee{side}"] - j[f"hip{side}"]) / body.thigh,
                                   j[f"knee{side}"]), body.leg_r, body.trousers, BODY_ID),
            _Part("capsule", world(j[f"knee{side}"], j[f"ankle{side}"]), body.leg_r * 0.8, body.trousers, BODY_ID),
            _Part("capsule", world(j[f"ankle{side}"] - [0, 0, 0.015], j[f"ankle{side}"] + [0, -0.012, body.foot]),
                  0.022, body.shoes, BODY_ID),
        ]
    return _Figure(parts, world(j["hand0"], j["hand1"]), world(np.zeros(3))[0], np.array([pose.x, 0.0, 0.0]),
                   pose.lift)


def _chair(body: Body, seated: Pose, colour: tuple[int, int, int]) -> list[_Part]:
    """A chair whose seat is under the pelvis of the `seated` pose, turned like the figure."""
    pelvis = _figure(body, seated).pelvis
    top = pelvis[1] - body.leg_r - 0.005
    ry = _rot_y(seated.yaw)

    def world(*local: list[float]) -> np.ndarray:
        return np.array(local) @ ry.T + [pelvis[0], 0.0, pelvis[2]]

    w, back, front = 0.13, -0.13, 0.12
    parts = [_Part("poly", world(*[[sx * w, y, z] for sx in (-1, 1) for z in (back, front) for y in (top, top - 0.03)]),
                   0.0, colour, PROP_ID),
             _Part("poly", world(*[[sx * w, y, back + dz] for sx in (-1, 1) for dz in (0, -0.025)
                                   for y in (top, top + 0.32)]), 0.0, colour, PROP_ID)]
    parts += [_Part("capsule", world([sx * (w - 0.01), top, z], [sx * (w - 0.01), 0.0, z]), 0.012, colour, PROP_ID)
              for sx in (-1, 1) for z in (back + 0.01, front - 0.01)]
    return parts


# ----------------------------------------------------------------------------------------------- motions

@dataclass(frozen=True)
class Motion:
    """Per-clip random parameters of a label's motion."""
    yaw: float  # facing at the start, degrees
    side: int  # the gesturing arm, LEFT or RIGHT
    cycles: float  # oscillations (wave, beckon) or steps (turn_around)
    amplitude: float  # degrees: wave swing, beckon curl, bow pitch, walk hip swing, point elevation
    distance: float = 0.0  # walk: signed travel to the image right, heights
    stride: float = 0.7  # walk: distance per gait cycle, heights
    lift: float = 0.0  # jump: peak height, heights
    turn: float = 1.0  # turn_around: +1 or -1
    sway: float = 0.0  # phase of the idle sway


def _smooth(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


def _window(s: float, a: float, b: float) -> float:
    """0 before `a`, rising smoothly to 1 at `b`."""
    return _smooth((s - a) / (b - a))


def _envelope(s: float, rise: float, fall: float) -> float:
    """Raise over the first `rise` of the segment, hold, lower over the last `fall`."""
    return _smooth(s / rise) * _smooth((1 - s) / fall)


def _trapezoid(s: float, ramp: float) -> float:
    """Distance covered at time s (0..1 -> 0..1) with speed ramping up and down over `ramp`."""
    if s < ramp:
        d = s * s / (2 * ramp)
    elif s > 1 - ramp:
        d = (1 - ramp) - (1 - s) ** 2 / (2 * ramp)
    else:
        d = ramp / 2 + s - ramp
    return min(max(d / (1 - ramp), 0.0), 1.0)


def _raise_arm(p: Pose, side: int, target: list[float], weight: float, hand: str) -> None:
    p.arms[side] = IDLE_ARM + weight * (np.asarray(target) - IDLE_ARM)
    if weight > 0.3:
        p.hands[side] = hand


def _image_side(yaw: float, side: int) -> float:
    """+1 if that arm's shoulder is on the image right when facing `yaw`."""
    return OUTWARD[side] * np.sign(np.cos(np.radians(yaw)))


def _idle(s: float, m: Motion, p: Pose) -> None:
    """Stand at ease (the sway is added to every clip)."""


def _wave(s: float, m: Motion, p: Pose) -> None:
    """Upper arm out to the side, forearm up, swinging side to side."""
    swing = m.amplitude * np.sin(2 * np.pi * m.cycles * s)
    _raise_arm(p, m.side, [95, 0, 160 + swing, -15], _envelope(s, 0.2, 0.15), "open")


def _beckon(s: float, m: Motion, p: Pose) -> None:
    """Hand forward at waist height, palm up, the forearm curling toward the body repeatedly."""
    curl = m.amplitude * 0.5 * (1 - np.cos(2 * np.pi * m.cycles * s))
    _raise_arm(p, m.side, [20, 30, 15, 70 + curl], _envelope(s, 0.15, 0.15), "open")


def _stop(s: float, m: Motion, p: Pose) -> None:
    """Arm pushed forward, big open palm toward the camera, held."""
    _raise_arm(p, m.side, [25, 80, 20, 100], _envelope(s, 0.2, 0.2), "palm")


def _point(s: float, m: Motion, p: Pose) -> None:
    """Straight arm held out horizontally to one side (the side's arm is chosen in _sample_motion)."""
    _raise_arm(p, m.side, [90, m.amplitude, 90, m.amplitude], _envelope(s, 0.2, 0.2), "point")


def _swipe(direction: float) -> Callable[[float, Motion, Pose], None]:
    """Flat hand in front of the chest sweeping fast across the body toward the image `direction` (+1 right)."""
    def swipe(s: float, m: Motion, p: Pose) -> None:
        # The hand's image x grows with the angle iff the arm's shoulder is on the side we sweep toward.
        outer, inner = (50.0, -40.0)
        a, b = (inner, outer) if _image_side(m.yaw, m.side) * direction > 0 else (outer, inner)
        angle = a + (b - a) * _window(s, 0.3, 0.52)
        _raise_arm(p, m.side, [angle, 75, 1.15 * angle, 80], _envelope(s, 0.25, 0.25), "open")
    return swipe


def _thumbs_up(s: float, m: Motion, p: Pose) -> None:
    """Fist in front of the chest, thumb raised, held."""
    _raise_arm(p, m.side, [10, 20, 15, 115], _envelope(s, 0.2, 0.2), "thumb")


def _walk(s: float, m: Motion, p: Pose) -> None:
    """Walk across the frame (in profile): legs and counter-swinging arms follow the distance covered."""
    covered = _trapezoid(s, 0.15)
    speed = min(s / 0.15, 1.0, (1 - s) / 0.15)
    p.x = m.distance * covered
    phase = 2 * np.pi * abs(m.distance) * covered / m.stride
    swing = m.amplitude * speed * np.sin(phase)
    for side, sign in ((LEFT, 1.0), (RIGHT, -1.0)):
        p.legs[side] = [sign * swing, 5 + 55 * speed * max(0.0, sign * np.cos(phase)) ** 1.5]
        p.arms[side, 1] += -1.1 * sign * swing
        p.arms[side, 3] += -1.1 * sign * swing + 25 * speed


def _sit_down(s: float, m: Motion, p: Pose) -> None:
    """Hips back and down onto a chair, knees bending to 90 degrees, torso leaning forward on the way."""
    e = _window(s, 0.05, 0.95)
    p.legs[:] = [90 * e, 90 * e + 20 * np.sin(np.pi * e)]
    p.pitch = 40 * np.sin(np.pi * e) + 5 * e
    for side in (LEFT, RIGHT):
        p.arms[side] = IDLE_ARM + e * (np.array([8.0, 35.0, 5.0, 75.0]) - IDLE_ARM)


def _stand_up(s: float, m: Motion, p: Pose) -> None:
    """sit_down played backwards."""
    _sit_down(1.0 - s, m, p)


def _jump(s: float, m: Motion, p: Pose) -> None:
    """Crouch with arms back, spring up with arms swinging up, land in a crouch, recover."""
    crouch = (_window(s, 0.0, 0.3) * (1 - _window(s, 0.3, 0.38))
              + 0.7 * _window(s, 0.6, 0.68) * (1 - _window(s, 0.7, 0.95)))
    arms_up = _window(s, 0.3, 0.4) * (1 - _window(s, 0.55, 0.75))
    u = (s - 0.38) / 0.24
    p.lift = m.lift * 4 * u * (1 - u) if 0 < u < 1 else 0.0
    p.legs[:] = [55 * crouch, 100 * crouch + 10 * (0 < u < 1)]
    p.pitch = 30 * crouch
    for side in (LEFT, RIGHT):
        p.arms[side, 1] += -40 * crouch + 150 * arms_up
        p.arms[side, 3] += -40 * crouch + 150 * arms_up


def _bow(s: float, m: Motion, p: Pose) -> None:
    """Torso pitches forward at the hips (foreshortened when facing the camera), holds, comes back up."""
    p.pitch = m.amplitude * _envelope(s, 0.35, 0.35)
    p.arms[:, 1] += 0.85 * p.pitch  # arms keep hanging down
    p.arms[:, 3] += 0.85 * p.pitch


def _turn_around(s: float, m: Motion, p: Pose) -> None:
    """Turn 180 degrees on the spot with small alternating steps."""
    e = _window(s, 0.08, 0.92)
    p.yaw = m.yaw + 180 * m.turn * e
    step = 18 * np.sin(np.pi * e) * np.sin(2 * np.pi * m.cycles * e)
    p.legs[LEFT] = [max(step, 0.0), 2 * max(step, 0.0)]
    p.legs[RIGHT] = [max(-step, 0.0), 2 * max(-step, 0.0)]


MOTIONS: dict[str, Callable[[float, Motion, Pose], None]] = {
    "none": _idle, "walk": _walk, "sit_down": _sit_down, "stand_up": _stand_up, "jump": _jump, "bow": _bow,
    "turn_around": _turn_around, "wave": _wave, "beckon": _beckon, "stop": _stop, "point_left": _point,
    "point_right": _point, "swipe_left": _swipe(-1.0), "swipe_right": _swipe(1.0), "thumbs_up": _thumbs_up,
}


def _sample_motion(label: str, body: Body, rng: np.random.Generator, frame_heights: float) -> Motion:
    """Random facing and label parameters. `frame_heights`: the frame width in figure heights."""
    yaw, side = rng.uniform(-35, 35), int(rng.integers(2))
    sign = 1.0 if rng.random() < 0.5 else -1.0
    sway = rng.uniform(0, 2 * np.pi)
    cycles, amplitude = rng.uniform(2.0, 3.5), rng.uniform(20, 35)
    match label:
        case "none":
            return Motion(rng.uniform(-45, 45), side, 0, 0, sway=sway)
        case "wave":
            return Motion(yaw, side, cycles, amplitude, sway=sway)
        case "beckon":
            return Motion(yaw, side, cycles, rng.uniform(50, 70), sway=sway)
        case "point_left" | "point_right":
            # The arm whose shoulder is on the pointed-to image side.
            want = -1.0 if label == "point_left" else 1.0
            side = LEFT if _image_side(yaw, LEFT) == want else RIGHT
            return Motion(yaw, side, 0, rng.uniform(-5, 25), sway=sway)
        case "walk":
            hip = rng.uniform(18, 26)
            stride = 4 * (body.thigh + body.shin) * np.sin(np.radians(hip))
            distance = sign * rng.uniform(0.35, 0.6) * frame_heights
            return Motion(sign * rng.uniform(60, 90), side, 0, hip, distance=distance, stride=stride, sway=sway)
        case "sit_down" | "stand_up":
            return Motion(sign * rng.uniform(35, 90), side, 0, 0, sway=sway)
        case "jump":
            return Motion(rng.uniform(-50, 50), side, 0, 0, lift=rng.uniform(0.12, 0.25), sway=sway)
        case "bow":
            return Motion(sign * rng.uniform(0, 80), side, 0, rng.uniform(50, 80), sway=sway)
        case "turn_around":
            return Motion(rng.uniform(-25, 25) + 180 * int(rng.integers(2)), side, rng.uniform(1.5, 2.5), 0,
                          turn=sign, sway=sway)
        case _:  # the remaining gestures need only a facing and an arm
            return Motion(yaw, side, 0, 0, sway=sway)


def _pose(label: str, m: Motion, s: float, seconds: float) -> Pose:
    """The label's pose at segment progress `s`, plus a slow idle sway so that no frame is frozen."""
    p = Pose(yaw=m.yaw)
    MOTIONS[label](s, m, p)
    p.lean += 1.5 * np.sin(2 * np.pi * 0.23 * seconds + m.sway)
    p.arms[:, 0] += 2.5 * np.sin(2 * np.pi * 0.31 * seconds + m.sway)
    return p


# ------------------------------------------------------------------------------------------------ drawing

SHIFT = 4  # fractional bits of cv2 drawing coordinates: sub-pixel placement
ONE = 1 << SHIFT


def _fix(pts: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(pts) * ONE).astype(np.int32)


class _Painter:
    """Draws parts anti-aliased into the RGB frame and, aliased, into a part-id map (for occlusion)."""

    def __init__(self, frame: np.ndarray, scale: float, origin: tuple[float, float]):
        self.rgb = frame
        self.ids = np.zeros(frame.shape[:2], np.uint8)
        self.scale, self.origin = scale, origin

    def project(self, pts: np.ndarray) -> np.ndarray:
        """World (n, 3) -> pixels (n, 2): orthographic, y up -> rows down."""
        return np.stack([self.origin[0] + self.scale * pts[:, 0], self.origin[1] - self.scale * pts[:, 1]], 1)

    def draw(self, part: _Part) -> None:
        px, r = self.project(part.points), part.radius * self.scale
        match part.kind:
            case "capsule":
                self._capsule(px[0], px[1], r, part.colour, part.pid)
            case "poly":
                hull = cv2.convexHull(px.astype(np.float32)).reshape(-1, 2)
                self._each(lambda img, col, line: cv2.fillConvexPoly(img, _fix(hull), col, line, SHIFT),
                           part.colour, part.pid)
            case "head":
                self._head(px[0], r, part.axes, part.colour, part.hair)
            case "hand":
                self._hand(px[0], px[1], r, part.style, part.colour, part.pid)

    def _each(self, fn: Callable, colour: tuple[int, int, int], pid: int) -> None:
        fn(self.rgb, colour, cv2.LINE_AA)
        fn(self.ids, pid, cv2.LINE_8)

    def _disc(self, c: np.ndarray, r: float, colour: tuple[int, int, int], pid: int) -> None:
        self._each(lambda img, col, line: cv2.circle(img, tuple(_fix(c)), int(round(r * ONE)), col, -1, line, SHIFT),
                   colour, pid)

    def _capsule(self, p: np.ndarray, q: np.ndarray, r: float, colour: tuple[int, int, int], pid: int) -> None:
        self._disc(p, r, colour, pid)
        self._disc(q, r, colour, pid)
        d = q - p
        n = float(np.hypot(*d))
        if n > 1e-6:
            normal = np.array([-d[1], d[0]]) / n * r
            quad = _fix([p + normal, q + normal, q - normal, p - normal])
            self._each(lambda img, col, line: cv2.fillConvexPoly(img, quad, col, line, SHIFT), colour, pid)

    def _hand(self, c: np.ndarray, wrist: np.ndarray, r: float, style: str, colour: tuple[int, int, int],
              pid: int) -> None:
        """Palm disc centred on the keypoint, plus fingers/thumb for the gesture's hand shape."""
        d = c - wrist
        length = float(np.hypot(*d))
        along = d / length if length > 0.3 * r else np.array([0.0, -1.0])  # fingers' direction
        if style == "palm":  # open palm facing the camera, fingers up, drawn larger
            r, along = 1.5 * r, np.array([0.0, -1.0])
        self._disc(c, r, colour, pid)
        if style in ("open", "palm"):
            for deg, length in ((-24, 0.9), (-8, 1.0), (8, 0.95), (24, 0.8), (75, 0.75)):
                a = np.radians(deg)
                f = np.array([along[0] * np.cos(a) - along[1] * np.sin(a), along[0] * np.sin(a) + along[1] * np.cos(a)])
                self._capsule(c + 0.6 * r * f, c + (0.6 + length) * r * f, 0.22 * r, colour, pid)
        elif style == "point":
            self._capsule(c, c + 1.9 * r * along, 0.28 * r, colour, pid)
        elif style == "thumb":
            self._capsule(c + [0, -0.5 * r], c + [0, -1.9 * r], 0.32 * r, colour, pid)

    def _head(self, c: np.ndarray, r: float, axes: np.ndarray, skin: tuple[int, int, int],
              hair_rgb: tuple[int, int, int]) -> None:
        """A shaded sphere: face where it points forward, hair at the back and top, two eyes.

        Seeing the face or the back of the head is what makes facing and turning readable.
        """
        x0, y0 = int(np.floor(c[0] - r - 1)), int(np.floor(c[1] - r - 1))
        x1, y1 = int(np.ceil(c[0] + r + 2)), int(np.ceil(c[1] + r + 2))
        h, w = self.ids.shape
        ys, xs = np.mgrid[max(y0, 0):min(y1, h), max(x0, 0):min(x1, w)]
        if xs.size == 0:
            return
        dx, dy = (xs - c[0]) / r, (ys - c[1]) / r
        rho = np.hypot(dx, dy)
        normal = np.stack([dx, -dy, np.sqrt(np.clip(1 - rho**2, 0, 1))], -1)  # world: x right, y up, z to camera
        forward, up, left = axes
        nf, nu = normal @ forward, normal @ up
        hair = (nu > 0.45) | (nf < -0.05) | ((nf < 0.25) & (nu > 0.1))
        colour = np.where(hair[..., None], np.array(hair_rgb, np.float32), np.array(skin, np.float32))
        eyes = np.zeros_like(hair)
        for out in (1, -1):
            e = forward * 0.95 + up * 0.08 + left * 0.3 * out
            eyes |= normal @ (e / np.linalg.norm(e)) > 0.985
        colour[eyes & ~hair] = (30, 25, 25)
        alpha = np.clip(r * (1 - rho) + 0.5, 0, 1)[..., None]
        roi = self.rgb[ys[0, 0]:ys[-1, 0] + 1, xs[0, 0]:xs[0, -1] + 1]
        roi[:] = np.round(roi * (1 - alpha) + colour * alpha).astype(np.uint8)
        self.ids[ys[0, 0]:ys[-1, 0] + 1, xs[0, 0]:xs[0, -1] + 1][rho <= 1] = BODY_ID

    def visible(self, hands_px: np.ndarray, radius_px: float) -> np.ndarray:
        """A hand is visible iff its own part is what was drawn last on the 3x3 pixels around its centre (so
        the keypoint is not on an occluder's edge), or on the centre pixel for hands too small to hold 3x3."""
        k = 1 if radius_px >= 2.5 else 0
        h, w = self.ids.shape
        out = np.zeros(2, bool)
        for side, (x, y) in enumerate(hands_px):
            col, row = int(round(x)), int(round(y))
            if k <= row < h - k and k <= col < w - k:
                block = self.ids[row - k:row + k + 1, col - k:col + k + 1]
                out[side] = (block == (LEFT_HAND_ID, RIGHT_HAND_ID)[side]).all()
        return out


def _shadow(frame: np.ndarray, centre: np.ndarray, width: float) -> None:
    """Soft contact shadow on the ground (darkens the scene under the feet)."""
    rx, ry = width / 2, width / 8
    x0, x1 = int(max(centre[0] - 2 * rx, 0)), int(min(centre[0] + 2 * rx + 1, frame.shape[1]))
    y0, y1 = int(max(centre[1] - 2 * ry, 0)), int(min(centre[1] + 2 * ry + 1, frame.shape[0]))
    if x1 <= x0 or y1 <= y0:
        return
    ys, xs = np.mgrid[y0:y1, x0:x1]
    dark = 1 - 0.35 * np.exp(-(((xs - centre[0]) / rx) ** 2 + ((ys - centre[1]) / ry) ** 2) * 1.5)
    frame[y0:y1, x0:x1] = np.round(frame[y0:y1, x0:x1] * dark[..., None]).astype(np.uint8)


# -------------------------------------------------------------------------------------------- augmentation

def _wobble(n: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth random signal in [-1, 1]: a few sinusoids of random frequency (0.3-3 Hz) and phase."""
    t = np.arange(n) / fps
    sig = sum(rng.normal() * np.sin(2 * np.pi * rng.uniform(0.3, 3.0) * t + rng.uniform(0, 2 * np.pi))
              for _ in range(3))
    return sig / max(np.abs(sig).max(), 1e-9)


def _shake(n: int, cfg: SynthConfig, rng: np.random.Generator) -> np.ndarray:
    """(n, 2, 3) small affine camera jitter per frame: shift, rotation and zoom about the frame centre."""
    px = cfg.width / 320
    shift = rng.uniform(0, 2.5) * px
    tx, ty = shift * _wobble(n, cfg.fps, rng), shift * _wobble(n, cfg.fps, rng)
    rot, zoom = rng.uniform(0, 0.7) * _wobble(n, cfg.fps, rng), 1 + rng.uniform(0, 0.01) * _wobble(n, cfg.fps, rng)
    centre = ((cfg.width - 1) / 2, (cfg.height - 1) / 2)
    mats = np.stack([cv2.getRotationMatrix2D(centre, float(a), float(z)) for a, z in zip(rot, zoom)])
    mats[:, :, 2] += np.stack([tx, ty], 1)
    return mats


def _photometric(frames: np.ndarray, rng: np.random.Generator) -> None:
    """In place: brightness/contrast/colour drift over the clip, Gaussian or motion blur, sensor noise."""
    n = len(frames)
    gain = np.linspace(rng.uniform(0.75, 1.2), rng.uniform(0.75, 1.2), n)
    contrast = np.linspace(rng.uniform(0.8, 1.15), rng.uniform(0.8, 1.15), n)
    cast = rng.uniform(0.92, 1.08, 3).astype(np.float32)
    noise = rng.uniform(1.0, 6.0)
    kernel = None
    blur = rng.random()
    if blur < 0.35:  # motion blur: a short line at a random angle
        size = int(rng.integers(3, 6)) | 1
        kernel = np.zeros((size, size), np.float32)
        cv2.line(kernel, (0, size // 2), (size - 1, size // 2), 1.0, 1)
        rot = cv2.getRotationMatrix2D(((size - 1) / 2, (size - 1) / 2), rng.uniform(0, 180), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (size, size))
        kernel /= kernel.sum()
    sigma = rng.uniform(0.4, 1.1) if 0.35 <= blur < 0.7 else 0.0
    for t in range(n):
        f = frames[t].astype(np.float32)
        mean, colour = f.mean(), (gain[t] * cast).astype(np.float32)
        f *= contrast[t] * colour  # ((f - mean) * contrast + mean) * colour, in place
        f += mean * (1 - contrast[t]) * colour
        if kernel is not None:
            f = cv2.filter2D(f, -1, kernel, borderType=cv2.BORDER_REFLECT101)
        elif sigma:
            f = cv2.GaussianBlur(f, (0, 0), sigma)
        f += noise * rng.standard_normal(f.shape, dtype=np.float32)
        np.rint(f, out=f)
        frames[t] = np.clip(f, 0, 255, out=f)


# --------------------------------------------------------------------------------------------------- clips

def _check_label(task: str, label: str) -> None:
    if task == "none":
        if label != "none":
            raise ValueError("idle clips have task 'none' and label 'none'")
    elif task not in HRI_LABELS or label not in HRI_LABELS[task][1:]:
        raise ValueError(f"unknown {task!r} label {label!r} (idle clips use task 'none')")


def _timing(cfg: SynthConfig, task: str, rng: np.random.Generator) -> tuple[int, int, int]:
    """Clip length and the labelled segment [start, end); an idle clip is `none` throughout."""
    n = int(rng.integers(cfg.n_frames[0], cfg.n_frames[1] + 1))
    if task == "none":
        return n, 0, n
    length = int(rng.integers(cfg.min_segment, n + 1))
    start = int(rng.integers(0, n - length + 1))
    return n, start, start + length


def _world_box(figures: list[_Figure], props: list[_Part]) -> np.ndarray:
    """[[xmin, ymin], [xmax, ymax]] of everything drawn over the clip, heights."""
    parts = [p for f in figures for p in f.parts] + props
    pts = np.concatenate([p.points[:, :2] for p in parts])
    pad = np.concatenate([np.full(len(p.points), p.radius * (2.5 if p.kind == "hand" else 1.0)) for p in parts])
    return np.stack([(pts - pad[:, None]).min(0), (pts + pad[:, None]).max(0)])


def _place(box: np.ndarray, cfg: SynthConfig, height_px: float, rng: np.random.Generator
           ) -> tuple[float, tuple[float, float]]:
    """Pixels per height and the pixel of the world origin, keeping the whole motion inside the frame."""
    margin = 2.0
    (x0, y0), (x1, y1) = box
    scale = min(height_px, (cfg.width - 2 * margin) / (x1 - x0), (cfg.height - 2 * margin) / (y1 - y0))
    lo_u, lo_v = margin - scale * x0, margin + scale * y1
    span_u, span_v = cfg.width - margin - scale * x1 - lo_u, cfg.height - margin + scale * y0 - lo_v
    # max(): when the fit sets the scale the span is zero up to rounding, and may come out a hair negative
    return scale, (lo_u + max(span_u, 0.0) * rng.random(), lo_v + max(span_v, 0.0) * rng.random())


def _background(cfg: SynthConfig, rng: np.random.Generator) -> np.ndarray:
    if cfg.background == "plain":
        return np.full((cfg.height, cfg.width, 3), PLAIN_RGB, np.uint8)
    photos = load_photos(cfg.backgrounds_dir) if cfg.background == "photo" else ()
    if photos:
        return _photo_crop(photos[int(rng.integers(len(photos)))], cfg.width, cfg.height, rng)
    return _procedural_background(cfg.width, cfg.height, rng)


def render_clip(cfg: SynthConfig, task: str, label: str, rng: np.random.Generator) -> Clip:
    """Render one clip of `label` (task "action" or "gesture"; task "none" with label "none" for idle)."""
    _check_label(task, label)
    n, start, end = _timing(cfg, task, rng)
    body = _sample_body(rng)
    height_px = rng.uniform(0.45, 0.9) * cfg.height
    motion = _sample_motion(label, body, rng, cfg.width / height_px)
    progress = [min(max((t - start) / max(end - start - 1, 1), 0.0), 1.0) for t in range(n)]
    figures = [_figure(body, _pose(label, motion, s, t / cfg.fps)) for t, s in enumerate(progress)]
    props = []
    if label in ("sit_down", "stand_up"):
        props = _chair(body, _pose(label, motion, 1.0 if label == "sit_down" else 0.0, 0.0), _colour(CHAIRS, rng))
    scale, origin = _place(_world_box(figures, props), cfg, height_px, rng)
    background = _background(cfg, rng)
    frames = np.empty((n, cfg.height, cfg.width, 3), np.uint8)
    hands = np.empty((n, 2, 2))
    visible = np.empty((n, 2), bool)
    for t, fig in enumerate(figures):
        frame = background.copy()
        painter = _Painter(frame, scale, origin)
        if cfg.background != "plain":  # the shadow belongs to the scene; a plain background stays flat
            _shadow(frame, painter.project(fig.ground[None])[0], 0.32 * scale / (1 + 4 * fig.lift))
        for part in sorted(fig.parts + props, key=lambda p: p.depth):
            painter.draw(part)
        hands[t] = painter.project(fig.hands)
        visible[t] = painter.visible(hands[t], body.hand * scale)
        frames[t] = frame
    if cfg.shake:
        for t, mat in enumerate(_shake(n, cfg, rng)):
            frames[t] = cv2.warpAffine(frames[t], mat, (cfg.width, cfg.height), flags=cv2.INTER_LINEAR,
                                       borderMode=cv2.BORDER_REFLECT101)
            hands[t] = hands[t] @ mat[:, :2].T + mat[:, 2]
        inside = ((hands >= 0) & (hands <= [cfg.width - 1, cfg.height - 1])).all(-1)
        visible &= inside
    if cfg.photometric:
        _photometric(frames, rng)
    return Clip(frames, hands, visible, start, end, task, label, body.skin)


# ------------------------------------------------------------------------------------------------- dataset

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class PlannedClip:
    index: int  # seeds the clip's generator: np.random.default_rng([seed, index])
    clip_id: str
    task: str
    label: str
    split: str


def plan(cfg: SynthConfig) -> list[PlannedClip]:
    """Every clip of the dataset: `clips_per_class` per non-idle label of each task, then the idle clips;
    each class is split train/val/test by the ratios (stratified, so every split keeps the balance)."""
    classes = [(task, label, cfg.clips_per_class) for task in ("action", "gesture") for label in HRI_LABELS[task][1:]]
    classes.append(("none", "none", cfg.idle_clips))
    ratios = np.asarray(cfg.splits, float)
    out: list[PlannedClip] = []
    for task, label, count in classes:
        cuts = np.round(np.cumsum(ratios) / ratios.sum() * count).astype(int)
        for k in range(count):
            split = SPLITS[int(np.searchsorted(cuts, k, side="right"))]
            out.append(PlannedClip(len(out), f"{label}_{k:04d}", task, label, split))
    return out


def write_video(path: Path, frames: np.ndarray, fps: float) -> None:
    """RGB frames -> mp4 (mp4v)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"cannot open an mp4v writer for {path}")
    try:
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()


@dataclass
class SequenceClip:
    task: str
    label: str
    start: int  # the labelled segment, in frames of the whole sequence
    end: int


def write_sequence(path: Path, order: Sequence[tuple[str, str]], cfg: SynthConfig) -> list[SequenceClip]:
    """The (task, label) clips of `order` rendered back to back into one MP4, clip i with RNG [cfg.seed, i]:
    a camera's view of one person doing one thing after another, with the truth of every segment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), cfg.fps, (cfg.width, cfg.height))
    if not writer.isOpened():
        raise RuntimeError(f"cannot open an mp4v writer for {path}")
    truths, offset = [], 0
    try:
        for i, (task, label) in enumerate(order):
            clip = render_clip(cfg, task, label, np.random.default_rng([cfg.seed, i]))
            for frame in clip.frames:
                writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
            truths.append(SequenceClip(task, label, offset + clip.start, offset + clip.end))
            offset += len(clip.frames)
    finally:
        writer.release()
    return truths


MANIFEST_COLUMNS = ["path", "task", "label", "start", "end", "split", "hands"]


def _write_clip(cfg: SynthConfig, out_dir: Path, item: PlannedClip) -> list:
    """Render and write one planned clip; its manifest row. Each clip has its own RNG stream, so the
    output does not depend on the order or the process that renders it."""
    clip = render_clip(cfg, item.task, item.label, np.random.default_rng([cfg.seed, item.index]))
    video = Path("clips") / item.split / f"{item.clip_id}.mp4"
    hands = Path("hands") / f"{item.clip_id}.csv"
    write_video(out_dir / video, clip.frames, cfg.fps)
    write_hand_csv(out_dir / hands, clip.hands, clip.visible)
    return [video.as_posix(), item.task, item.label, clip.start, clip.end, item.split, hands.as_posix()]


def generate(cfg: SynthConfig, out_dir: Path, progress: bool = True, workers: int = 1,
             only: Sequence[str] = SPLITS) -> Path:
    """Write the dataset (clips/<split>/*.mp4, hands/*.csv, manifest.csv, labels.json) to `out_dir`; return it.

    `workers` > 1 renders in that many processes; the files are the same as with one. `only` writes just
    those splits, clip for clip the same as in the whole set (to evaluate on a held-out split elsewhere)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    items = [item for item in plan(cfg) if item.split in only]
    write = partial(_write_clip, cfg, out_dir)
    bar = partial(tqdm, total=len(items), desc="mtl-hri-synth", unit="clip", disable=not progress)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            rows = list(bar(pool.map(write, items, chunksize=4)))
    else:
        rows = list(bar(map(write, items)))
    with open(out_dir / "manifest.csv", "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(MANIFEST_COLUMNS)
        out.writerows(rows)
    (out_dir / "labels.json").write_text(json.dumps({"action": HRI_ACTIONS, "gesture": HRI_GESTURES}, indent=2) + "\n")
    return out_dir
