"""Multi-person scenes: 1-4 figures walk in, stand, perform one label each, and walk out, with exact per-frame truth.

The test data of a person detector and tracker (issue 13). Each person walks in from outside the frame on one
side, stops somewhere across it, turns toward the camera, performs one action or gesture, turns, and walks out on
the far side, so that every path crosses every other. People stand at different depths: a nearer person is larger
(40-80 % of the frame height), lower in the frame and drawn later, so the depth order is one order for the whole
scene. Entries are staggered, and everyone is in view together for a while in the middle.

Truth per frame and person (PersonTruth): the box of the pixels the person's drawing changes (found by drawing
the person alone on the plain background, so it does not depend on what lies behind), the fraction of those
pixels that no nearer person covers, the label, and the hand and head points. With camera shake the masks are
warped like the frame; photometric effects (blur included) leave the truth where the geometry puts it.

Boxes are (x0, y0, x1, y1) in pixel edges: pixel (col, row) covers [col, col + 1) x [row, row + 1), so the whole
frame is (0, 0, W, H), as `mtl_hri.perception.detector` reports boxes. Points (hands, head) keep the package's
convention, (0, 0) at the centre of the top-left pixel: a point (x, y) lies in pixel (round(x), round(y)).
"""
from __future__ import annotations

import math
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Collection

import cv2
import numpy as np
from tqdm import tqdm

from ..records import NONE
from .backgrounds import BACKGROUND_MODES, PLAIN_RGB, background
from .camera import _jitter, photometric
from .figure import Body, Figure, Part, Pose, forward_kinematics, sample_body
from .motions import LABELS, Label, Motion, _smooth, pose_at, sample_motion
from .painter import Painter, shadow

WALK = LABELS["walk"]
# What people perform while standing: every label but walking (the way in and out) and those needing a chair.
SCENE_LABELS = tuple(name for name, spec in LABELS.items() if spec.task != NONE and spec is not WALK
                     and spec.chair_at is None)
HEIGHT_RANGE = (0.4, 0.8)  # standing height, fraction of the frame height, farthest to nearest
FOOT_RANGE = (0.62, 0.97)  # row of the feet, fraction of the frame height, farthest to nearest
STAND_RANGE = (0.15, 0.85)  # where people stop, fraction of the frame width: one slot of it each
WALK_SPEED = 0.8  # mean walking speed, standing heights per second
OUTSIDE = 0.5  # the ground point of a person starting or ending a walk is this many heights beyond the frame edge
GAP = (0.5, 1.2)  # seconds between two people entering, and between two leaving
TURN = 0.6  # seconds to turn between the direction of walking and the label's facing
SEGMENT = (2.0, 4.0)  # seconds of the performed label
HOLD = 2 * TURN + SEGMENT[0]  # the least time everyone stands together: enough for anyone's turn, label, turn
IN_MEMORY = 512 << 20  # bytes of frames kept in memory; larger scenes live in an unlinked temporary file
PAD = 3.0  # radii beyond a part's points where its drawing may reach (the open palm's fingers reach 2.7)


def min_seconds(width: int, height: int, people: int, fps: float) -> float:
    """Return the shortest scene that any seed's schedule fits in (walks and gaps at their longest, the hold)."""
    heights = (STAND_RANGE[1] * width) / (HEIGHT_RANGE[0] * height) + OUTSIDE  # longest walk, in the walker's heights
    walk = math.ceil(heights / WALK_SPEED * fps)
    gaps = 2 * (people - 1) * (round(GAP[1] * fps) + 1)
    return (2 * walk + gaps + round(HOLD * fps) + 1) / fps


@dataclass
class SceneConfig:
    width: int = 1280
    height: int = 720
    fps: float = 15.0
    seconds: float = 30.0
    people: int = 3  # 1 to 4
    seed: int = 0
    background: str = "photo"  # as SynthConfig: "photo", "procedural" or "plain" (flat PLAIN_RGB, no shadows)
    backgrounds_dir: Path | None = None
    shake: bool = True  # camera jitter: the frame and the truth move with it
    photometric: bool = True  # lighting drift, blur, noise: the frame only

    def __post_init__(self) -> None:
        if self.background not in BACKGROUND_MODES:
            raise ValueError(f"background must be one of {BACKGROUND_MODES}, got {self.background!r}")
        if not 1 <= self.people <= 4:
            raise ValueError(f"people must be 1 to 4, got {self.people}")
        if self.width < 32 or self.height < 32 or self.fps <= 0:
            raise ValueError("frames must be at least 32x32 and fps positive")
        least = min_seconds(self.width, self.height, self.people, self.fps)
        if self.seconds < least:
            raise ValueError(f"{self.people} people at {self.width}x{self.height} need seconds >= {least:.1f}, "
                             f"got {self.seconds}")

    @property
    def n_frames(self) -> int:
        return round(self.seconds * self.fps)


@dataclass(frozen=True)
class Person:
    """One person's plan; frame numbers are of the scene."""

    id: int  # index in Scene.people
    label: str  # what they perform while standing (a SCENE_LABELS name)
    direction: int  # +1: enters on the left and leaves on the right; -1 the other way
    depth: int  # drawing order, 0 farthest: a nearer person is drawn over a farther one
    height_px: float  # standing height
    enter: int  # first frame of the walk in (starting outside the frame)
    arrive: int  # first frame standing
    start: int  # the label's segment [start, end)
    end: int
    leave: int  # first frame of the walk out
    gone: int  # first frame after the walk out (outside the frame again)

    def label_at(self, t: int) -> str:
        """Return the label at frame t: walk on the way in and out, the performed label in its segment, else none."""
        if t < self.arrive or t >= self.leave:
            return WALK.name
        return self.label if self.start <= t < self.end else NONE


@dataclass(frozen=True)
class PersonTruth:
    """One person in one frame, present when at least one of their drawn pixels is in the frame."""

    id: int
    box: tuple[float, float, float, float]  # (x0, y0, x1, y1) pixel edges of the drawn pixels, within the frame
    visible_fraction: float  # of those pixels, the share that no nearer person covers
    label: str
    hands: np.ndarray  # (2, 2) px (x, y); [0] the person's LEFT hand, [1] the RIGHT (as Clip.hands)
    hands_visible: np.ndarray  # (2,) bool: in the frame, not hidden by the person's own body or a nearer person
    head: np.ndarray  # (2,) px: centre of the head


@dataclass
class Scene:
    frames: np.ndarray  # (T, H, W, 3) uint8 RGB; file-backed (np.memmap) beyond IN_MEMORY bytes
    truth: list[list[PersonTruth]]  # per frame, the people in view, by id
    people: list[Person]
    fps: float

    def to_json(self) -> dict:
        """Return the truth as plain JSON types: the scene, the people's plans, and per frame the people in view."""
        t, h, w = self.frames.shape[:3]
        return {
            "width": w, "height": h, "fps": self.fps, "frames": t,
            "box": "x0 y0 x1 y1, pixel edges: the whole frame is 0 0 width height",
            "points": "x y, pixel centres: (0, 0) is the centre of the top-left pixel",
            "people": [asdict(p) for p in self.people],
            "truth": [[{"id": p.id, "box": list(p.box), "visible_fraction": p.visible_fraction, "label": p.label,
                        "hands": p.hands.tolist(), "hands_visible": p.hands_visible.tolist(),
                        "head": p.head.tolist()} for p in frame] for frame in self.truth],
        }


@dataclass(frozen=True)
class _Cast:
    """Who a person is and how they move, before the schedule."""

    body: Body
    spec: Label
    motion: Motion  # the performed label's
    walk_in: Motion
    walk_out: Motion
    scale: float  # pixels per standing height
    foot_row: float
    start_x: float  # ground point, in heights from column 0
    stand_x: float
    depth: int
    n_in: int  # frames of the walks
    n_out: int


@dataclass(frozen=True)
class _Actor:
    person: Person
    cast: _Cast

    def pose(self, t: int, fps: float) -> Pose:
        """Return the pose at frame t (within [enter, gone)): walking, turning, idle or performing."""
        p, c, sec = self.person, self.cast, t / fps
        if t < p.arrive:
            pose = pose_at(WALK, c.walk_in, (t - p.enter) / c.n_in, sec)
            pose.x += c.start_x
            return pose
        if t >= p.leave:
            pose = pose_at(WALK, c.walk_out, (t - p.leave) / c.n_out, sec)
            pose.x += c.stand_x
            return pose
        progress = min(max((t - p.start) / max(p.end - p.start - 1, 1), 0.0), 1.0)
        pose = pose_at(c.spec, c.motion, progress, sec)
        turn = TURN * fps
        if t < p.start:  # turning from the way in to the label's facing
            pose.yaw = _turned(c.walk_in.yaw, pose.yaw, (t - p.arrive) / turn)
        elif t >= p.end:  # turning from the label's last facing to the way out
            pose.yaw = _turned(pose.yaw, c.walk_out.yaw, 1 - (p.leave - t) / turn)
        pose.x = c.stand_x
        return pose


def _turned(yaw0: float, yaw1: float, u: float) -> float:
    """From yaw0 toward yaw1 the short way round, smoothly over u in [0, 1]."""
    return yaw0 + ((yaw1 - yaw0 + 180) % 360 - 180) * _smooth(u)


def _frames(seconds: float, fps: float) -> int:
    return max(1, round(seconds * fps))


def _cast(cfg: SceneConfig, depth: int, slot: int, rng: np.random.Generator) -> _Cast:
    """Cast one person: body, size and place by depth (0 farthest), direction, where they stop, label and motions.

    People stop in different slots of STAND_RANGE, so that they mostly perform in view; they pass each other on
    the way.
    """
    body = sample_body(rng)
    near = (depth + rng.uniform(0.2, 0.8)) / cfg.people  # distinct slots: 0 far .. 1 near
    scale = cfg.height * (HEIGHT_RANGE[0] + near * (HEIGHT_RANGE[1] - HEIGHT_RANGE[0]))
    foot_row = cfg.height * (FOOT_RANGE[0] + near * (FOOT_RANGE[1] - FOOT_RANGE[0]))
    width = cfg.width / scale  # in this person's heights
    direction = 1.0 if rng.random() < 0.5 else -1.0
    stand_x = (STAND_RANGE[0] + (slot + rng.uniform(0.2, 0.8)) / cfg.people * (STAND_RANGE[1] - STAND_RANGE[0])) * width
    start_x, end_x = (-OUTSIDE, width + OUTSIDE) if direction > 0 else (width + OUTSIDE, -OUTSIDE)
    spec = LABELS[SCENE_LABELS[int(rng.integers(len(SCENE_LABELS)))]]
    motion = sample_motion(spec, body, rng, width)
    walk = sample_motion(WALK, body, rng, width)
    # Across the frame, facing the way they go: 60-90 degrees from the camera (the walk's heading, uniform over 0-180).
    yaw = direction * (60 + abs(walk.yaw) / 6)
    walk_in, walk_out = (replace(walk, yaw=yaw, distance=x, path=abs(x) / np.sin(np.radians(abs(yaw))))
                         for x in (stand_x - start_x, end_x - stand_x))
    n_in, n_out = (math.ceil(abs(m.distance) / WALK_SPEED * cfg.fps) for m in (walk_in, walk_out))
    return _Cast(body, spec, motion, walk_in, walk_out, scale, foot_row, start_x, stand_x, depth, n_in, n_out)


def _plan(cfg: SceneConfig, rng: np.random.Generator) -> list[_Actor]:
    """Cast everyone, then schedule: staggered entries, everyone standing together, staggered exits."""
    n, fps = cfg.people, cfg.fps
    casts = [_cast(cfg, int(depth), int(slot), rng) for depth, slot in zip(rng.permutation(n), rng.permutation(n))]
    enter, leave = np.zeros(n, int), np.zeros(n, int)
    enter[rng.permutation(n)] = np.cumsum([0] + [_frames(g, fps) for g in rng.uniform(*GAP, n - 1)])
    together = max(e + c.n_in for e, c in zip(enter, casts))  # everyone has arrived
    leave[rng.permutation(n)] = together + _frames(HOLD, fps) + np.cumsum(
        [0] + [_frames(g, fps) for g in rng.uniform(*GAP, n - 1)])
    slack = cfg.n_frames - max(b + c.n_out for b, c in zip(leave, casts))
    if slack < 0:  # min_seconds bounds every schedule: this would be a bug there
        raise RuntimeError(f"the schedule overruns the scene by {-slack} frames")
    lead, tail = (int(slack * rng.uniform(0, share)) for share in (0.2, 0.1))  # empty frames first and last
    enter += lead
    leave += slack - tail  # the rest of the slack: longer standing
    turn = math.ceil(TURN * fps)
    actors = []
    for k, c in enumerate(casts):
        arrive, go = int(enter[k]) + c.n_in, int(leave[k])
        room = go - arrive - 2 * turn  # at least the shortest segment: the hold sees to it
        length = min(_frames(rng.uniform(*SEGMENT), fps), room)
        start = arrive + turn + int(rng.integers(0, room - length + 1))
        person = Person(k, c.spec.name, int(np.sign(c.walk_in.distance)), c.depth, c.scale, int(enter[k]), arrive,
                        start, start + length, go, go + c.n_out)
        actors.append(_Actor(person, c))
    return actors


@dataclass
class _Layer:
    """What one person's drawing changes in one frame: a mask over a rectangle of the frame."""

    x: int  # the rectangle's top-left pixel
    y: int
    mask: np.ndarray  # (h, w) bool

    def window(self, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        """Return the mask over the frame rectangle [x0, x1) x [y0, y1), cut to the layer's own rectangle."""
        return self.mask[max(y0 - self.y, 0):max(y1 - self.y, 0), max(x0 - self.x, 0):max(x1 - self.x, 0)]


def _reach(painter: Painter, parts: list[Part], radii: float = PAD, px: float = 3.0) -> tuple[int, int, int, int]:
    """Return the frame rectangle (x0, y0, x1, y1), ends excluded, within `radii` part radii plus `px` of the parts.

    With the defaults it holds every pixel that drawing `parts` may touch; it is empty (x1 <= x0 or y1 <= y0)
    when that is all outside the frame.
    """
    pts = np.concatenate([painter.project(part.points) for part in parts])
    pad = np.concatenate([np.full(len(part.points), radii * part.radius * painter.scale + px) for part in parts])
    h, w = painter.ids.shape
    x0, y0 = np.floor((pts - pad[:, None]).min(0)).astype(int)
    x1, y1 = np.ceil((pts + pad[:, None]).max(0)).astype(int) + 1
    return max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)


def _painter(frame: np.ndarray, actor: _Actor) -> Painter:
    return Painter(frame, actor.cast.scale, (0.0, actor.cast.foot_row))  # world x = 0 at column 0, feet on foot_row


def _draw(painter: Painter, fig: Figure) -> None:
    for part in sorted(fig.parts, key=lambda p: p.depth):  # far parts first, as render_clip
        if part.kind == "head":  # Painter fails on a head farther than a pixel outside the frame (it draws nothing)
            x0, y0, x1, y1 = _reach(painter, [part], 1.0, 1.0)  # a head's anti-aliased edge ends within r + 1
            if x1 <= x0 or y1 <= y0:
                continue
        painter.draw(part)


def _warp_layer(layer: _Layer, mat: np.ndarray, width: int, height: int) -> _Layer:
    """Warp a layer as the shaken frame is warped (bilinear, reflected at the frame's edges).

    A pixel belongs to the warped mask if any of the person's pixels weighs in it. Reflection only brings in
    pixels from near an edge, so the result lies within three displacements of the rectangle.
    """
    h, w = layer.mask.shape
    corners = np.array([[layer.x, layer.y], [layer.x + w, layer.y + h], [layer.x, layer.y + h], [layer.x + w, layer.y]])
    reach = int(np.ceil(3 * np.abs(corners @ mat[:, :2].T + mat[:, 2] - corners).max())) + 2
    x0, y0 = max(layer.x - reach, 0), max(layer.y - reach, 0)
    x1, y1 = min(layer.x + w + reach, width), min(layer.y + h + reach, height)
    src = np.zeros((height, width), np.uint8)
    src[layer.y:layer.y + h, layer.x:layer.x + w] = layer.mask * np.uint8(255)
    shifted = mat - [[0, 0, x0], [0, 0, y0]]  # output pixel (u, v) of the rectangle is frame pixel (x0 + u, y0 + v)
    out = cv2.warpAffine(src, shifted, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
    return _Layer(x0, y0, out > 0)


def _overlap(layer: _Layer, others: list[_Layer]) -> np.ndarray:
    """(h, w) bool over `layer`'s rectangle: covered by any of `others`."""
    h, w = layer.mask.shape
    covered = np.zeros((h, w), bool)
    for o in others:
        oh, ow = o.mask.shape
        x0, y0 = max(layer.x, o.x), max(layer.y, o.y)
        x1, y1 = min(layer.x + w, o.x + ow), min(layer.y + h, o.y + oh)
        if x1 > x0 and y1 > y0:
            covered[y0 - layer.y:y1 - layer.y, x0 - layer.x:x1 - layer.x] |= o.window(x0, y0, x1, y1)
    return covered


def _hidden(point: np.ndarray, k: int, others: list[_Layer]) -> bool:
    """Whether any of `others` covers a pixel of the (2k+1)^2 block around `point` (as Painter.visible looks)."""
    col, row = int(round(point[0])), int(round(point[1]))
    return any(o.window(col - k, row - k, col + k + 1, row + k + 1).any() for o in others)


def _truth(actor: _Actor, layer: _Layer, nearer: list[_Layer], label: str, hands: np.ndarray,
           hands_visible: np.ndarray, head: np.ndarray) -> PersonTruth:
    rows, cols = np.nonzero(layer.mask.any(1))[0], np.nonzero(layer.mask.any(0))[0]
    box = (float(layer.x + cols[0]), float(layer.y + rows[0]), float(layer.x + cols[-1] + 1),
           float(layer.y + rows[-1] + 1))
    drawn = int(layer.mask.sum())
    visible = drawn - int((layer.mask & _overlap(layer, nearer)).sum())
    k = 1 if actor.cast.body.hand * actor.cast.scale >= 2.5 else 0
    hands_visible = hands_visible & np.array([not _hidden(h, k, nearer) for h in hands])
    return PersonTruth(actor.person.id, box, visible / drawn, label, hands, hands_visible, head)


def _alone(canvas: np.ndarray, actor: _Actor, fig: Figure, mat: np.ndarray | None
           ) -> tuple[_Layer, np.ndarray, np.ndarray, np.ndarray]:
    """Draw one person alone on the plain `canvas` (left plain again) for their layer, hands, hands seen and head.

    The hands count as seen where the person's own body does not hide them; `mat`: the frame's shake, if any.
    """
    painter = _painter(canvas, actor)
    _draw(painter, fig)
    x0, y0, x1, y1 = _reach(painter, fig.parts)
    roi = canvas[y0:y1, x0:x1]
    layer = _Layer(x0, y0, (roi != PLAIN_RGB).any(-1))
    roi[:] = PLAIN_RGB
    hands = painter.project(fig.hands)
    hands_visible = painter.visible(hands, actor.cast.body.hand * actor.cast.scale)
    head = painter.project(next(p for p in fig.parts if p.kind == "head").points)[0]
    if mat is None:
        return layer, hands, hands_visible, head
    h, w = canvas.shape[:2]
    hands, head = hands @ mat[:, :2].T + mat[:, 2], head @ mat[:, :2].T + mat[:, 2]
    hands_visible &= ((hands >= 0) & (hands <= [w - 1, h - 1])).all(-1)  # as camera.shake
    return _warp_layer(layer, mat, w, h), hands, hands_visible, head


def _frame_store(shape: tuple[int, ...]) -> np.ndarray:
    """Uninitialised uint8 frames: in memory, or in an unlinked temporary file beyond IN_MEMORY bytes."""
    if math.prod(shape) <= IN_MEMORY:
        return np.empty(shape, np.uint8)
    return np.memmap(tempfile.TemporaryFile(), np.uint8, "w+", shape=shape)


def render_scene(cfg: SceneConfig, only: Collection[int] | None = None, progress: bool = False) -> Scene:
    """Render the scene of `cfg` and its per-frame truth; same config, same bytes.

    `only`: ids of the people to draw; the others are left out of the frames (the same scene otherwise), but the
    truth always covers everyone. Drawing one person alone on the plain background shows exactly their pixels.
    """
    actors = _plan(cfg, np.random.default_rng([cfg.seed, 0]))
    n, w, h = cfg.n_frames, cfg.width, cfg.height
    scene_bg = background(cfg.background, cfg.backgrounds_dir, w, h, np.random.default_rng([cfg.seed, 1]))
    mats = _jitter(n, w, h, cfg.fps, np.random.default_rng([cfg.seed, 2])) if cfg.shake else None
    by_depth = sorted(actors, key=lambda a: a.person.depth)
    drawn = {a.person.id for a in actors} if only is None else set(only)
    canvas = np.full((h, w, 3), PLAIN_RGB, np.uint8)  # each person alone, for their mask
    frames = _frame_store((n, h, w, 3))
    truth: list[list[PersonTruth]] = []
    for t in tqdm(range(n), desc="scene", unit="frame", disable=not progress):
        present = [(a, forward_kinematics(a.cast.body, a.pose(t, cfg.fps))) for a in by_depth
                   if a.person.enter <= t < a.person.gone]
        frame = scene_bg.copy()
        shown = [(_painter(frame, a), fig) for a, fig in present if a.person.id in drawn]
        if cfg.background != "plain":  # shadows lie on the ground, under everyone (render_clip's shadow)
            for painter, fig in shown:
                shadow(frame, painter.project(fig.ground[None])[0], 0.32 * painter.scale / (1 + 4 * fig.lift))
        for painter, fig in shown:  # far to near
            _draw(painter, fig)
        alone = [_alone(canvas, a, fig, None if mats is None else mats[t]) for a, fig in present]
        layers = [layer for layer, *_ in alone]
        truth.append(sorted((_truth(a, layer, layers[i + 1:], a.person.label_at(t), *points)
                             for i, ((a, _), (layer, *points)) in enumerate(zip(present, alone)) if layer.mask.any()),
                            key=lambda p: p.id))
        # As camera.shake warps a clip; it takes the whole clip at once and moves only hands, so not used here.
        frames[t] = frame if mats is None else cv2.warpAffine(frame, mats[t], (w, h), flags=cv2.INTER_LINEAR,
                                                               borderMode=cv2.BORDER_REFLECT101)
    if cfg.photometric:
        photometric(frames, np.random.default_rng([cfg.seed, 3]))
    return Scene(frames, truth, [a.person for a in actors], cfg.fps)
