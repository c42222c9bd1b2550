"""The label registry: every label the synthetic person performs, with its task, motion and mirror image's label.

Adding an action or a gesture is one entry in REGISTRY (with its pose function); the label sets of the bundled model
(`mtl_hri.data.labels`), the renderer and the dataset plan all derive from it.

A label's motion is two functions: `sample` draws the clip's random parameters (a Motion) and `pose`
moves the idle Pose to segment progress s in [0, 1]. The order of the random draws is part of the output:
the bundled model was trained on these bytes, so a change here is a change of the data set.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from ..records import NONE, TASKS
from .figure import IDLE_ARM, LEFT, OUTWARD, RIGHT, Body, Pose


@dataclass(frozen=True)
class Motion:
    """Per-clip random parameters of a label's motion."""

    yaw: float  # facing at the start, degrees
    side: int  # the gesturing arm, LEFT or RIGHT
    cycles: float  # oscillations (wave, beckon) or steps (turn_around)
    amplitude: float  # degrees: wave swing, beckon curl, bow pitch, walk hip swing, point elevation
    distance: float = 0.0  # walk: signed travel to the image right, heights
    path: float = 0.0  # walk: distance walked along the facing, heights (more than |distance| when not in profile)
    stride: float = 0.7  # walk: distance per gait cycle, heights
    lift: float = 0.0  # jump: peak height, heights
    turn: float = 1.0  # turn_around: +1 or -1
    sway: float = 0.0  # phase of the idle sway
    seated: bool = False  # none, gestures: sitting on a chair (none: hands in the lap; clip_variant)
    talk: float = 0.0  # none: degrees of the forearms' small movements while talking; 0 still (clip_variant)


@dataclass(frozen=True)
class Draws:
    """The random values drawn first for every clip, whatever its label.

    A label's sampler uses those it needs and may draw more after them.
    """

    yaw: float  # a facing within 35 degrees of the camera
    side: int  # an arm
    sign: float  # +1 or -1: direction of travel or turn, or the side turned toward
    sway: float  # phase of the idle sway
    cycles: float
    amplitude: float  # degrees


PoseFn = Callable[[float, Motion, Pose], None]  # (progress s, motion, pose to change in place)
SampleFn = Callable[[Draws, Body, np.random.Generator, float], Motion]  # last: frame width in figure heights


def _draw(rng: np.random.Generator) -> Draws:
    yaw, side = rng.uniform(-35, 35), int(rng.integers(2))
    sign = 1.0 if rng.random() < 0.5 else -1.0
    sway = rng.uniform(0, 2 * np.pi)
    cycles, amplitude = rng.uniform(2.0, 3.5), rng.uniform(20, 35)
    return Draws(yaw, side, sign, sway, cycles, amplitude)


# ------------------------------------------------------------------------------------------ time shaping

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


# ------------------------------------------------------------------------------------------- the motions

def _facing(d: Draws, body: Body, rng: np.random.Generator, frame_heights: float) -> Motion:
    """Draw a facing and an arm: all that a held gesture needs."""
    return Motion(d.yaw, d.side, 0, 0, sway=d.sway)


def _idle(s: float, m: Motion, p: Pose) -> None:
    """Stand at ease, or sit (the sway is added to every clip).

    A talker's forearms rise and fall a little, out of step, as speakers' hands do without making any gesture of
    the vocabulary.
    """
    if m.seated:
        _sit_down(1.0, m, p)
    if m.talk:
        for side, phase in ((LEFT, 0.0), (RIGHT, 2.1 + m.sway)):
            beat = (np.sin(2 * np.pi * m.cycles * s + phase) + 0.5 * np.sin(2 * np.pi * 2.3 * m.cycles * s + phase))
            lift = (1 + beat / 1.5) / 2  # 0..1
            p.arms[side, 1] += 0.6 * m.talk * lift
            p.arms[side, 3] += m.talk * lift


def _idle_motion(d: Draws, body: Body, rng: np.random.Generator, frame_heights: float) -> Motion:
    return Motion(rng.uniform(-45, 45), d.side, 0, 0, sway=d.sway)


def _wave(s: float, m: Motion, p: Pose) -> None:
    """Upper arm out to the side, forearm up, swinging side to side."""
    swing = m.amplitude * np.sin(2 * np.pi * m.cycles * s)
    _raise_arm(p, m.side, [95, 0, 160 + swing, -15], _envelope(s, 0.2, 0.15), "open")


def _wave_motion(d: Draws, body: Body, rng: np.random.Generator, frame_heights: float) -> Motion:
    return Motion(d.yaw, d.side, d.cycles, d.amplitude, sway=d.sway)


def _beckon(s: float, m: Motion, p: Pose) -> None:
    """Hand forward at waist height, palm up, the forearm curling toward the body repeatedly."""
    curl = m.amplitude * 0.5 * (1 - np.cos(2 * np.pi * m.cycles * s))
    _raise_arm(p, m.side, [20, 30, 15, 70 + curl], _envelope(s, 0.15, 0.15), "open")


def _beckon_motion(d: Draws, body: Body, rng: np.random.Generator, frame_heights: float) -> Motion:
    return Motion(d.yaw, d.side, d.cycles, rng.uniform(50, 70), sway=d.sway)


def _stop(s: float, m: Motion, p: Pose) -> None:
    """Arm pushed forward, big open palm toward the camera, held."""
    _raise_arm(p, m.side, [25, 80, 20, 100], _envelope(s, 0.2, 0.2), "palm")


def _point(s: float, m: Motion, p: Pose) -> None:
    """Straight arm held out horizontally to one side (the sampler picks the arm on that side)."""
    _raise_arm(p, m.side, [90, m.amplitude, 90, m.amplitude], _envelope(s, 0.2, 0.2), "point")


def _point_motion(direction: float) -> SampleFn:
    """Pointing toward the image `direction` (+1 right) with the arm whose shoulder is on that side."""
    def sample(d: Draws, body: Body, rng: np.random.Generator, frame_heights: float) -> Motion:
        side = LEFT if _image_side(d.yaw, LEFT) == direction else RIGHT
        return Motion(d.yaw, side, 0, rng.uniform(-5, 25), sway=d.sway)
    return sample


def _swipe(direction: float) -> PoseFn:
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
    """Walk the way the figure faces: legs and counter-swinging arms follow the path covered, the image x its share."""
    covered = _trapezoid(s, 0.15)
    speed = min(s / 0.15, 1.0, (1 - s) / 0.15)
    p.x = m.distance * covered
    phase = 2 * np.pi * m.path * covered / m.stride
    swing = m.amplitude * speed * np.sin(phase)
    for side, sign in ((LEFT, 1.0), (RIGHT, -1.0)):
        p.legs[side] = [sign * swing, 5 + 55 * speed * max(0.0, sign * np.cos(phase)) ** 1.5]
        p.arms[side, 1] += -1.1 * sign * swing
        p.arms[side, 3] += -1.1 * sign * swing + 25 * speed


def _walk_motion(d: Draws, body: Body, rng: np.random.Generator, frame_heights: float) -> Motion:
    """Draw a walk of any heading: across the frame, toward the camera or away from it.

    Real people walk every way: a robot mostly sees them come toward it, a raised camera crosswise. Toward the camera
    the figure steps in place, as a person re-centred in their own region does (no perspective here).
    """
    hip = rng.uniform(18, 26)
    stride = 4 * (body.thigh + body.shin) * np.sin(np.radians(hip))
    path = rng.uniform(0.35, 0.6) * frame_heights
    yaw = d.sign * rng.uniform(0, 180)
    return Motion(yaw, d.side, 0, hip, distance=path * np.sin(np.radians(yaw)), path=path, stride=stride,
                  sway=d.sway)


SEATED_LEGS, SEATED_PITCH = (90.0, 90.0), 5.0  # hip and knee flexion, torso pitch of a seated person


def _sit_down(s: float, m: Motion, p: Pose) -> None:
    """Hips back and down onto a chair, knees bending to 90 degrees, torso leaning forward on the way."""
    e = _window(s, 0.05, 0.95)
    p.legs[:] = [SEATED_LEGS[0] * e, SEATED_LEGS[1] * e + 20 * np.sin(np.pi * e)]
    p.pitch = 40 * np.sin(np.pi * e) + SEATED_PITCH * e
    for side in (LEFT, RIGHT):
        p.arms[side] = IDLE_ARM + e * (np.array([8.0, 35.0, 5.0, 75.0]) - IDLE_ARM)


def _stand_up(s: float, m: Motion, p: Pose) -> None:
    """sit_down played backwards."""
    _sit_down(1.0 - s, m, p)


def _three_quarter_motion(d: Draws, body: Body, rng: np.random.Generator, frame_heights: float) -> Motion:
    """Turn 35-90 degrees to one side, so that the knees and hips read (sit_down, stand_up)."""
    return Motion(d.sign * rng.uniform(35, 90), d.side, 0, 0, sway=d.sway)


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


def _jump_motion(d: Draws, body: Body, rng: np.random.Generator, frame_heights: float) -> Motion:
    return Motion(rng.uniform(-50, 50), d.side, 0, 0, lift=rng.uniform(0.12, 0.25), sway=d.sway)


def _bow(s: float, m: Motion, p: Pose) -> None:
    """Torso pitches forward at the hips (foreshortened when facing the camera), holds, comes back up."""
    p.pitch = m.amplitude * _envelope(s, 0.35, 0.35)
    p.arms[:, 1] += 0.85 * p.pitch  # arms keep hanging down
    p.arms[:, 3] += 0.85 * p.pitch


def _bow_motion(d: Draws, body: Body, rng: np.random.Generator, frame_heights: float) -> Motion:
    return Motion(d.sign * rng.uniform(0, 80), d.side, 0, rng.uniform(50, 80), sway=d.sway)


def _turn_around(s: float, m: Motion, p: Pose) -> None:
    """Turn 180 degrees on the spot with small alternating steps."""
    e = _window(s, 0.08, 0.92)
    p.yaw = m.yaw + 180 * m.turn * e
    step = 18 * np.sin(np.pi * e) * np.sin(2 * np.pi * m.cycles * e)
    p.legs[LEFT] = [max(step, 0.0), 2 * max(step, 0.0)]
    p.legs[RIGHT] = [max(-step, 0.0), 2 * max(-step, 0.0)]


def _turn_motion(d: Draws, body: Body, rng: np.random.Generator, frame_heights: float) -> Motion:
    """Facing the camera or facing away, turning either way."""
    return Motion(rng.uniform(-25, 25) + 180 * int(rng.integers(2)), d.side, rng.uniform(1.5, 2.5), 0,
                  turn=d.sign, sway=d.sway)


# --------------------------------------------------------------------------------------------- registry

@dataclass(frozen=True)
class Label:
    name: str
    task: str  # "action" or "gesture"; "none" only for the idle label `none` (class 0 of both tasks)
    pose: PoseFn  # the pose at segment progress s, from the idle pose
    sample: SampleFn = _facing  # the clip's random motion parameters
    mirror: str | None = None  # the label that a left-right mirrored clip shows; None: this one
    chair_at: float | None = None  # a chair stands under the pelvis of the pose at this progress


# Order matters: within a task it is the class order of the bundled model (models/default/model.json).
REGISTRY: tuple[Label, ...] = (
    Label(NONE, NONE, _idle, _idle_motion),
    Label("walk", "action", _walk, _walk_motion),
    Label("sit_down", "action", _sit_down, _three_quarter_motion, chair_at=1.0),
    Label("stand_up", "action", _stand_up, _three_quarter_motion, chair_at=0.0),
    Label("jump", "action", _jump, _jump_motion),
    Label("bow", "action", _bow, _bow_motion),
    Label("turn_around", "action", _turn_around, _turn_motion),
    Label("wave", "gesture", _wave, _wave_motion),
    Label("beckon", "gesture", _beckon, _beckon_motion),
    Label("stop", "gesture", _stop),
    Label("point_left", "gesture", _point, _point_motion(-1.0), mirror="point_right"),
    Label("point_right", "gesture", _point, _point_motion(1.0), mirror="point_left"),
    Label("swipe_left", "gesture", _swipe(-1.0), mirror="swipe_right"),
    Label("swipe_right", "gesture", _swipe(1.0), mirror="swipe_left"),
    Label("thumbs_up", "gesture", _thumbs_up),
)


def check_registry(labels: Sequence[Label]) -> None:
    """Raise ValueError unless the registry is consistent.

    The names must be unique, the idle label `none` (task `none`) must come first and be the only one of its task, every
    other task must be a classified one, and mirrors must pair labels of one task.
    """
    by_name = {label.name: label for label in labels}
    if len(by_name) != len(labels):
        raise ValueError("label names repeat")
    if not labels or (labels[0].name, labels[0].task) != (NONE, NONE):
        raise ValueError(f"the first label must be the idle label {NONE!r} of task {NONE!r}")
    for label in labels[1:]:
        if label.task not in TASKS or label.name == NONE:
            raise ValueError(f"label {label.name!r}: task must be one of {TASKS} and the name not {NONE!r}")
        if label.mirror is not None:
            other = by_name.get(label.mirror)
            if other is None or other.task != label.task or other.mirror != label.name:
                raise ValueError(f"label {label.name!r}: its mirror {label.mirror!r} must be a label of the same "
                                 f"task whose mirror is {label.name!r}")


def label_sets(labels: Sequence[Label]) -> dict[str, list[str]]:
    """Task -> its classes: `none`, then the task's labels in registry order."""
    return {task: [NONE, *(label.name for label in labels if label.task == task)] for task in TASKS}


def mirror_pairs(labels: Sequence[Label]) -> dict[str, str]:
    """Label -> the label of its mirror image, both ways, for the labels that have one."""
    return {label.name: label.mirror for label in labels if label.mirror is not None}


check_registry(REGISTRY)
LABELS: dict[str, Label] = {label.name: label for label in REGISTRY}
HRI_LABELS: dict[str, list[str]] = label_sets(REGISTRY)
HRI_FLIP: dict[str, str] = mirror_pairs(REGISTRY)


def sample_motion(label: Label, body: Body, rng: np.random.Generator, frame_heights: float) -> Motion:
    """Draw a clip's random facing and `label` parameters. `frame_heights`: the frame width in figure heights."""
    return label.sample(_draw(rng), body, rng, frame_heights)


def clip_variant(label: Label, m: Motion, rng: np.random.Generator, seated: float, talking: float) -> Motion:
    """Draw what only `none` and gesture clips may add to their motion: sitting, and (`none`) talking hands.

    `seated` and `talking` are the shares of clips drawn so. Real people doing nothing of the vocabulary often sit
    or talk, and seated people gesture too; a keypoint model that had only seen standing people called a seated
    talker `bow`, and one that had seen only idle people sit took sitting for a cue of the gesture head. Actions
    stay standing (walk, jump, bow, ... need the legs). Both shares are 0 by default (SynthConfig), and then
    nothing is drawn, so that the data set stays byte for byte what it was; scenes (scene.py) never draw this.
    """
    if label.task == "action" or not (seated or talking):
        return m
    is_seated = bool(rng.random() < seated)
    if label.task != NONE:
        return replace(m, seated=is_seated)
    if not rng.random() < talking:
        return replace(m, seated=is_seated)
    return replace(m, seated=is_seated, talk=float(rng.uniform(8, 25)), cycles=float(rng.uniform(1.5, 3.0)))


def chair_at(label: Label, m: Motion) -> float | None:
    """Return the progress of the pose whose pelvis a chair stands under, or None without a chair."""
    return label.chair_at if label.chair_at is not None else (0.0 if m.seated else None)


def pose_at(label: Label, m: Motion, s: float, seconds: float) -> Pose:
    """Return the label's pose at segment progress `s`, plus a slow idle sway so that no frame is frozen."""
    p = Pose(yaw=m.yaw)
    label.pose(s, m, p)
    if m.seated and label.task != NONE:  # a seated gesture: the legs and torso as sit_down ends, the arms the label's
        p.legs[:], p.pitch = SEATED_LEGS, SEATED_PITCH
    p.lean += 1.5 * np.sin(2 * np.pi * 0.23 * seconds + m.sway)
    p.arms[:, 0] += 2.5 * np.sin(2 * np.pi * 0.31 * seconds + m.sway)
    return p
