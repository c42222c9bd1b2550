"""The articulated figure: body proportions and colours, a pose of joint angles, and the forward kinematics.

The kinematics turn both into world-space parts (boxes, capsules, head, hands) and a chair.

The figure is posed, turned by a yaw angle and (later) projected orthographically, so facing, turning
round, bowing and foreshortened arms all come out of one model, and the hand keypoints are the same
points that are drawn. World: x image right, y up, z toward the camera; units of standing height.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LEFT, RIGHT = 0, 1
OUTWARD = (1.0, -1.0)  # body-frame x of each side: +x is the person's left, +y up, +z forward
IDLE_ARM = np.array([8.0, 5.0, 5.0, 20.0])  # degrees: upper-arm abduction, flexion; forearm abduction, flexion
BODY_ID, LEFT_HAND_ID, RIGHT_HAND_ID, PROP_ID = 3, 1, 2, 4  # part ids in the occlusion map (0: background)
HAND_IDS = (LEFT_HAND_ID, RIGHT_HAND_ID)

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


def colour(palette: list[tuple[int, int, int]], rng: np.random.Generator, jitter: float = 12) -> tuple[int, int, int]:
    """Pick a palette colour at random, jittered."""
    base = np.array(palette[int(rng.integers(len(palette)))], float)
    return tuple(int(c) for c in np.clip(base + rng.normal(0, jitter, 3), 0, 255))


def sample_body(rng: np.random.Generator) -> Body:
    leg, trunk, arm = rng.uniform(0.94, 1.06, 3)
    build = rng.uniform(0.85, 1.2)  # widths
    return Body(
        head_r=0.064 * rng.uniform(0.93, 1.07), neck=0.04, torso=0.30 * trunk,
        shoulder=0.1 * build, waist=0.08 * build, depth=0.055 * build, hip=0.05 * build,
        upper_arm=0.165 * arm, forearm=0.145 * arm, hand=0.03,
        thigh=0.245 * leg, shin=0.24 * leg, foot=0.065,
        arm_r=0.024 * build, leg_r=0.037 * build,
        skin=colour(SKINS, rng, 8), hair=colour(HAIRS, rng, 8), shirt=colour(SHIRTS, rng),
        trousers=colour(TROUSERS, rng), shoes=colour(SHOES, rng, 6), long_sleeves=bool(rng.random() < 0.6),
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
    """Return the unit direction of a limb hanging down, raised sideways by `abd` then swung forward by `flex` (deg)."""
    a, f = np.radians(abd), np.radians(flex)
    return np.array([outward * np.sin(a), -np.cos(a) * np.cos(f), np.cos(a) * np.sin(f)])


@dataclass
class Part:
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
class Figure:
    parts: list[Part]
    hands: np.ndarray  # (2, 3) world palm centres, [LEFT, RIGHT]
    pelvis: np.ndarray  # (3,) world
    ground: np.ndarray  # (3,) world point on the ground between the feet
    lift: float
    joints: dict[str, np.ndarray] = field(default_factory=dict)  # world: "<joint><side>", "neck", "head"
    axes: np.ndarray | None = None  # the torso's world left, up and forward unit vectors (rows)


def forward_kinematics(body: Body, pose: Pose) -> Figure:
    """Pose -> world parts, feet planted on the ground (y = 0) unless the pose lifts them."""
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
              f"knee{side}": knee, f"ankle{side}": ankle,
              # the ends of the shoe drawn below: its heel and its toe
              f"heel{side}": ankle + [0, 0, -0.015], f"toe{side}": ankle + [0, -0.012, body.foot]}
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
        Part("poly", box((body.shoulder, body.depth), (body.waist, body.depth * 0.9), body.torso + 0.01, 0.03, rt),
             0.0, body.shirt, BODY_ID, depth_bias=-0.02),
        Part("poly", box((body.waist + 0.004, body.depth * 0.9), (body.hip + body.leg_r, body.depth * 0.8),
                         0.05, -0.06, np.eye(3)), 0.0, body.trousers, BODY_ID, depth_bias=-0.02),
        Part("capsule", world(neck - rt @ [0, 0.02, 0], head), 0.028, body.skin, BODY_ID),
        Part("head", world(head), body.head_r, body.skin, BODY_ID, axes=np.stack([forward, up, left]),
             hair=body.hair),
    ]
    for side in (LEFT, RIGHT):
        parts += [
            Part("capsule", world(j[f"shoulder{side}"], j[f"elbow{side}"]), body.arm_r, body.shirt, BODY_ID),
            Part("capsule", world(j[f"elbow{side}"], j[f"wrist{side}"]), body.arm_r * 0.85, sleeve, BODY_ID),
            Part("hand", world(j[f"hand{side}"], j[f"wrist{side}"]), body.hand, body.skin, HAND_IDS[side],
                 style=pose.hands[side]),
            # The thigh starts a radius below the hip joint so its rounded end stays inside the pelvis box.
            Part("capsule", world(j[f"hip{side}"] + body.leg_r * (j[f"knee{side}"] - j[f"hip{side}"]) / body.thigh,
                                  j[f"knee{side}"]), body.leg_r, body.trousers, BODY_ID),
            Part("capsule", world(j[f"knee{side}"], j[f"ankle{side}"]), body.leg_r * 0.8, body.trousers, BODY_ID),
            Part("capsule", world(j[f"ankle{side}"] - [0, 0, 0.015], j[f"ankle{side}"] + [0, -0.012, body.foot]),
                 0.022, body.shoes, BODY_ID),
        ]
    joints = {name: world(point)[0] for name, point in {**j, "neck": neck, "head": head}.items()}
    return Figure(parts, world(j["hand0"], j["hand1"]), world(np.zeros(3))[0], np.array([pose.x, 0.0, 0.0]),
                  pose.lift, joints, np.stack([left, up, forward]))


def chair(body: Body, seated: Pose, rgb: tuple[int, int, int]) -> list[Part]:
    """Build a chair whose seat is under the pelvis of the `seated` pose, turned like the figure."""
    pelvis = forward_kinematics(body, seated).pelvis
    top = pelvis[1] - body.leg_r - 0.005
    ry = _rot_y(seated.yaw)

    def world(*local: list[float]) -> np.ndarray:
        return np.array(local) @ ry.T + [pelvis[0], 0.0, pelvis[2]]

    w, back, front = 0.13, -0.13, 0.12
    parts = [Part("poly", world(*[[sx * w, y, z] for sx in (-1, 1) for z in (back, front) for y in (top, top - 0.03)]),
                  0.0, rgb, PROP_ID),
             Part("poly", world(*[[sx * w, y, back + dz] for sx in (-1, 1) for dz in (0, -0.025)
                                  for y in (top, top + 0.32)]), 0.0, rgb, PROP_ID)]
    parts += [Part("capsule", world([sx * (w - 0.01), top, z], [sx * (w - 0.01), 0.0, z]), 0.012, rgb, PROP_ID)
              for sx in (-1, 1) for z in (back + 0.01, front - 0.01)]
    return parts
