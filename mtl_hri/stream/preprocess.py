"""Frame preprocessing from the model card's input spec: bound, resize, centre crop, normalise."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..model.config import InputSpec


@dataclass(frozen=True)
class FrameGeometry:
    """Maps between source-image and crop coordinates."""

    src_width: int
    src_height: int
    scale: float  # resized = source * scale
    x0: float  # crop origin in the resized image (whole pixels for the centre crop)
    y0: float

    def to_source(self, xy_crop: np.ndarray) -> np.ndarray:
        """Continuous crop coordinates (pixel i spans [i, i+1)) -> source pixel coordinates (centre of pixel i is i)."""
        return (xy_crop + np.array([self.x0, self.y0])) / self.scale - 0.5

    def to_crop(self, xy_source: np.ndarray) -> np.ndarray:
        """Inverse of `to_source`: source pixel coordinates -> continuous crop coordinates."""
        return (xy_source + 0.5) * self.scale - np.array([self.x0, self.y0])


MAX_SIDE = 8192  # px: larger frames are rejected before any pixel is touched
MAX_ASPECT = 16.0  # long side / short side


class FrameError(ValueError):
    """A frame that cannot be used: malformed, unsupported or beyond the stated limits."""


def check_frame_size(width: int, height: int) -> None:
    """Raise FrameError for a size the pipeline refuses; costs nothing but the declared size."""
    if width < 1 or height < 1:
        raise FrameError(f"empty frame {width}x{height}")
    if max(width, height) > MAX_SIDE:
        raise FrameError(f"frame {width}x{height} exceeds {MAX_SIDE} px a side")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise FrameError(f"frame {width}x{height} has an aspect ratio beyond {MAX_ASPECT:g}:1")


@dataclass(frozen=True)
class Pixels:
    """A decoded frame in its source channel order.

    Colour conversion waits until after the crop, so that it costs 112² pixels instead of the full frame.
    """

    data: np.ndarray  # (H, W, C) uint8, C in 1, 3, 4
    to_rgb: int | None = None  # cv2 colour conversion code to RGB; None: already RGB

    @property
    def size(self) -> tuple[int, int]:
        return self.data.shape[1], self.data.shape[0]

    def rgb(self) -> np.ndarray:
        """Convert the whole frame to (H, W, 3) RGB (the debug overlay draws on it)."""
        return _to_rgb(self.data, self.to_rgb)


def _to_rgb(data: np.ndarray, code: int | None) -> np.ndarray:
    return data if code is None else cv2.cvtColor(np.ascontiguousarray(data), code)


def prepare(pixels: Pixels, spec: InputSpec) -> tuple[np.ndarray, FrameGeometry]:
    """Crop a decoded frame to the (size, size, 3) RGB the window stores; also return how to map back."""
    check_frame_size(*pixels.size)
    crop, geometry = resize_crop(pixels.data, spec)
    return _to_rgb(crop, pixels.to_rgb), geometry


BODY_PAD = 1.15  # a body's square crop: its box's long side, times this


def body_square(box: np.ndarray) -> tuple[int, int, int]:
    """(left, top, side) in whole source pixels of the square around an (x0, y0, x1, y1) box, padded by BODY_PAD."""
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(2, round(max(x1 - x0, y1 - y0) * BODY_PAD))
    return round((x0 + x1 - side) / 2), round((y0 + y1 - side) / 2), side


def prepare_square(pixels: Pixels, spec: InputSpec, box: np.ndarray) -> tuple[np.ndarray, FrameGeometry]:
    """Crop the square around an (x0, y0, x1, y1) source box to (size, size, 3) RGB: padded, never stretched.

    The square is whole source pixels, padded with black where it leaves the frame; only it is resized, so a
    small person in a large frame costs a small resize.
    """
    left, top, side = body_square(box)
    h, w = pixels.data.shape[:2]
    inside = pixels.data[max(top, 0):min(top + side, h), max(left, 0):min(left + side, w)]
    square = cv2.copyMakeBorder(inside, max(0, -top), max(0, top + side - h), max(0, -left),
                                max(0, left + side - w), cv2.BORDER_CONSTANT, value=0)
    scale = spec.size / side
    crop = cv2.resize(square, (spec.size, spec.size), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return _to_rgb(crop, pixels.to_rgb), FrameGeometry(w, h, scale, left * scale, top * scale)


def scaled_size(width: int, height: int, scale: float, size: int) -> tuple[int, int]:
    """(width, height) of the scaled image; never smaller than the `size` crop."""
    return max(size, round(width * scale)), max(size, round(height * scale))


def geometry_for(width: int, height: int, spec: InputSpec) -> FrameGeometry:
    scale = spec.resize / min(width, height)
    rw, rh = scaled_size(width, height, scale, spec.size)
    return FrameGeometry(width, height, scale, (rw - spec.size) // 2, (rh - spec.size) // 2)


def resize_crop(
    rgb: np.ndarray, spec: InputSpec, geometry: FrameGeometry | None = None
) -> tuple[np.ndarray, FrameGeometry]:
    """(H, W, C) uint8 -> (size, size, C) uint8 crop of the scaled image.

    By default the short side is scaled to `resize` and the centre cropped (`geometry_for`); training
    passes its own `geometry` (scale jitter, random crop origin) so both share one pixel path.
    """
    h, w = rgb.shape[:2]
    g = geometry if geometry is not None else geometry_for(w, h, spec)
    rw, rh = scaled_size(w, h, g.scale, spec.size)
    resized = cv2.resize(rgb, (rw, rh), interpolation=cv2.INTER_AREA if g.scale < 1 else cv2.INTER_LINEAR)
    x, y = int(g.x0), int(g.y0)
    return resized[y : y + spec.size, x : x + spec.size], g


def frame_layout(spec: InputSpec) -> tuple[tuple[int, ...], type]:
    """(shape, dtype) of one prepared frame as the windows keep it: a uint8 RGB crop, or float32 keypoints."""
    if spec.modality == "keypoints":
        return spec.frame_shape, np.float32
    return (spec.size, spec.size, 3), np.uint8


def blank_window(spec: InputSpec) -> np.ndarray:
    """Return a window of `spec` before any frame, as the engines take it: black crops, or keypoints of nobody."""
    shape, dtype = frame_layout(spec)
    return np.zeros((spec.frames, *shape), dtype)


def normalization(spec: InputSpec) -> tuple[np.ndarray, np.ndarray]:
    """(offset, scale) per RGB channel such that the network's input is (uint8 - offset) * scale."""
    return np.asarray(spec.mean, np.float32) * 255, 1 / (np.asarray(spec.std, np.float32) * 255)
