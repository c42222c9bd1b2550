"""Clips for training and evaluation: frame sampling, scale/crop/flip augmentation, hand targets, collation.

Training (as Kapidis et al., "Multitask Learning to Improve Egocentric Action Recognition", ICCV Workshops
2019): `spec.frames` frames spread uniformly over a window (2 × frames source frames by
default) at a random place in the labelled segment; short side scaled to `spec.resize` × a random factor,
a random `spec.size` crop, and a horizontal flip that also mirrors the label and swaps the hands.
Evaluation: the centre window and the centre crop of inference (`mtl_hri.stream.preprocess`), no flip.
Hand targets go through the same geometry as the pixels and end up in normalised crop coordinates
(x = 2u/size - 1, u continuous; see `mtl_hri.model.dsnt`). Clips stay uint8: the trainer normalises
on the device (`mtl_hri.train.evaluate.normalize_batch`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ..model.config import InputSpec
from ..model.heads import GATE_CLASSES
from ..stream.preprocess import FrameGeometry, geometry_for, resize_crop, scaled_size
from .keypoint_clips import KeypointNoise, keypoint_clip, mirror
from .records import NONE, ClipRecord, LabelSpace
from .targets import IGNORE, Targets
from .video import ShortVideoError, VideoError, VideoReader, open_video


@dataclass
class SamplingConfig:
    window_ratio: float = 2.0  # window = ratio × spec.frames source frames (Kapidis et al. 2019: 16 of 32)
    # Instead space frames 1 / spec.sample_fps seconds apart (by the video's fps), as the streaming window
    # does: training then sees the motion speed inference sees, whatever the dataset's frame rate.
    by_time: bool = False


@dataclass
class AugmentConfig:
    scale: tuple[float, float] = (0.875, 1.25)  # short side = spec.resize × U(scale), never below spec.size
    flip: float = 0.5  # probability of a mirrored training clip


def window_length(spec: InputSpec, fps: float, sampling: SamplingConfig) -> int:
    """Source frames that one clip's `spec.frames` frames are spread over."""
    if sampling.by_time and spec.sample_fps > 0 and fps > 0:
        return max(1, round(spec.frames * fps / spec.sample_fps))
    return max(1, round(sampling.window_ratio * spec.frames))


def clip_indices(start: int, end: int, frames: int, window: int, rng: np.random.Generator | None) -> np.ndarray:
    """`frames` indices at the centres of equal parts of a `window`-frame window inside [start, end).

    With `rng` the window starts at a random frame, without it in the centre of the segment. A segment
    shorter than the window is covered whole, repeating frames where it has fewer than `frames`.
    """
    length = end - start
    if length < 1:
        raise ValueError(f"empty segment [{start}, {end})")
    w = min(window, length)
    slack = length - w
    first = start + (int(rng.integers(0, slack + 1)) if rng is not None else slack // 2)
    return first + np.floor((np.arange(frames) + 0.5) * w / frames).astype(np.int64)


def random_geometry(
    width: int, height: int, spec: InputSpec, scale: tuple[float, float], rng: np.random.Generator
) -> FrameGeometry:
    """Scale jitter and a random crop origin, in the FrameGeometry that inference's centre crop uses."""
    short = max(spec.size, spec.resize * rng.uniform(*scale))
    factor = short / min(width, height)
    rw, rh = scaled_size(width, height, factor, spec.size)
    return FrameGeometry(width, height, factor, int(rng.integers(0, rw - spec.size + 1)),
                         int(rng.integers(0, rh - spec.size + 1)))


def crop_hands(
    xy: np.ndarray, visible: np.ndarray, geometry: FrameGeometry, size: int, flip: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Source pixels (T, 2, 2), visibility (T, 2) -> normalised crop coordinates and visibility.

    A flip mirrors x (continuous u -> size - u, as pixel i -> size - 1 - i) and swaps the hands: the
    mirrored clip shows a person whose left hand is the original right one. Hands outside the crop
    become invisible; invisible hands get (0, 0).
    """
    u = geometry.to_crop(xy.astype(np.float64))
    if flip:
        u = u[:, ::-1].copy()
        u[..., 0] = size - u[..., 0]
        visible = visible[:, ::-1]
    visible = visible & ((u >= 0) & (u <= size)).all(-1)
    norm = np.where(visible[..., None], 2 * u / size - 1, 0.0)
    return norm.astype(np.float32), visible.copy()


def crop_frames(frames: np.ndarray, geometry: FrameGeometry, spec: InputSpec, flip: bool) -> np.ndarray:
    """(T, H, W, 3) uint8 -> (T, size, size, 3) uint8 through `geometry` (and mirrored)."""
    out = np.stack([resize_crop(f, spec, geometry)[0] for f in frames])
    return out[:, :, ::-1] if flip else out


def target_labels(space: LabelSpace, task: str, label: str) -> dict[str, int]:
    """Class index per task: the clip's own task gets its class, the others IGNORE; `none` clips are 0 everywhere."""
    if task == NONE:
        return {t: 0 for t in space.classes}
    return {t: space.index(t, label) if t == task else IGNORE for t in space.classes}


@dataclass
class Sample:
    clip: torch.Tensor  # (T, 3, size, size) uint8, or (T, points, channels) float32 keypoints
    labels: dict[str, int]  # task -> class index; IGNORE (-1) for the other task; 0 (none) for a `none` clip
    hands: torch.Tensor  # (T, 2, 2) float32 (x, y) in [-1, 1] over the crop; 0 where invisible
    hand_visible: torch.Tensor  # (T, 2) float32 0/1
    has_hands: bool  # the record has hand annotations
    task: int  # index in GATE_CLASSES: 0 action, 1 gesture, 2 none


class ClipDataset(Dataset):
    """Records -> Samples. Deterministic: item `index` at epoch `e` draws only from rng (seed, e, index)."""

    def __init__(
        self,
        records: Sequence[ClipRecord],
        labels: LabelSpace,
        spec: InputSpec,
        train: bool,
        seed: int = 0,
        sampling: SamplingConfig | None = None,
        augment: AugmentConfig | None = None,
        backend: str = "auto",
        noise: KeypointNoise | None = None,
    ) -> None:
        self.records = list(records)
        self.noise = noise or KeypointNoise()
        self.labels = labels
        self.spec = spec
        self.train = train
        self.seed = seed
        self.sampling = sampling or SamplingConfig()
        self.augment = augment or AugmentConfig()
        self.backend = backend
        self.epoch = 0
        unknown = sorted({(r.task, r.label) for r in self.records
                          if r.task != NONE and r.label not in labels.classes.get(r.task, ())})
        if unknown:
            raise ValueError(f"records with classes the label space lacks: {unknown[:10]}")

    def __len__(self) -> int:
        return len(self.records)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def rng(self, index: int) -> np.random.Generator | None:
        return np.random.default_rng([self.seed, self.epoch, index]) if self.train else None

    def _read(self, reader: VideoReader, record: ClipRecord, rng: np.random.Generator | None):
        """(frames, indices); resampled within the true length when the header overstated it."""
        count = reader.info.frame_count
        while True:
            end = count if record.end == -1 else min(record.end, count)
            if end <= record.start:
                raise VideoError(record.path, f"segment [{record.start}, {record.end}) outside its {count} frames")
            window = window_length(self.spec, reader.info.fps, self.sampling)
            indices = clip_indices(record.start, end, self.spec.frames, window, rng)
            try:
                return reader.read(indices), indices
            except ShortVideoError as exc:
                if exc.available >= count:
                    raise
                count = exc.available

    def __getitem__(self, index: int) -> Sample:
        record = self.records[index]
        rng = self.rng(index)
        if self.spec.modality == "keypoints":
            return self._keypoint_sample(record, rng)
        reader = open_video(record.path, self.backend)
        try:
            frames, indices = self._read(reader, record, rng)
        finally:
            reader.close()
        h, w = frames.shape[1:3]
        if rng is None:
            geometry, flip = geometry_for(w, h, self.spec), False
        else:
            geometry = random_geometry(w, h, self.spec, self.augment.scale, rng)
            flip = bool(rng.random() < self.augment.flip)
        clip = crop_frames(frames, geometry, self.spec, flip)

        track = record.hand_track()
        if track is None:
            hands, visible = np.zeros((len(indices), 2, 2), np.float32), np.zeros((len(indices), 2), bool)
        else:
            hands, visible = crop_hands(*track.at(indices), geometry, self.spec.size, flip)

        label = self.labels.mirrored(record.label) if flip else record.label
        return Sample(
            clip=torch.from_numpy(np.ascontiguousarray(clip.transpose(0, 3, 1, 2))),
            labels=target_labels(self.labels, record.task, label),
            hands=torch.from_numpy(hands),
            hand_visible=torch.from_numpy(visible.astype(np.float32)),
            has_hands=track is not None,
            task=GATE_CLASSES.index(record.task),
        )


    def _keypoint_sample(self, record: ClipRecord, rng: np.random.Generator | None) -> Sample:
        """Return the person's landmarks at the sampled frames (`keypoint_clips`); only the video's header is read."""
        if record.keypoints is None:
            raise ValueError(f"{record.path}: no keypoints: a keypoint model trains on clips with landmarks")
        track = record.keypoints.load()
        reader = open_video(record.path, self.backend)
        info = reader.info
        reader.close()
        count = track.first_frame + len(track.points)
        end = count if record.end == -1 else min(record.end, count)
        if end <= record.start:
            raise VideoError(record.path, f"segment [{record.start}, {record.end}) outside its {count} keypoint frames")
        indices = clip_indices(record.start, end, self.spec.frames, window_length(self.spec, info.fps, self.sampling),
                               rng)
        points = track.at(indices)
        flip = rng is not None and bool(rng.random() < self.augment.flip)
        if flip:
            points = mirror(points, info.width)
        clip = keypoint_clip(points, info.width, info.height, rng, self.noise)
        task, label = record.task, self.labels.mirrored(record.label) if flip else record.label
        if rng is not None and rng.random() < self.noise.empty:
            clip, task, label = np.zeros_like(clip), NONE, NONE
        t = len(indices)
        return Sample(torch.from_numpy(clip), target_labels(self.labels, task, label),
                      torch.zeros(t, 2, 2), torch.zeros(t, 2), False, GATE_CLASSES.index(task))


def collate(samples: Sequence[Sample]) -> tuple[torch.Tensor, Targets]:
    """Batch samples into (uint8 clips (B, T, 3, H, W), Targets)."""
    tasks = samples[0].labels.keys()
    return torch.stack([s.clip for s in samples]), Targets(
        labels={t: torch.tensor([s.labels[t] for s in samples], dtype=torch.long) for t in tasks},
        hands=torch.stack([s.hands for s in samples]),
        hand_visible=torch.stack([s.hand_visible for s in samples]),
        has_hands=torch.tensor([s.has_hands for s in samples], dtype=torch.bool),
        task=torch.tensor([s.task for s in samples], dtype=torch.long),
    )
