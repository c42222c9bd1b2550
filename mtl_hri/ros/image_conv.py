"""sensor_msgs/Image and CompressedImage <-> numpy, honouring `step` padding and `is_bigendian`.

The conversion is numpy, zero-copy for 8-bit layouts, and leaves the colour conversion to after the
crop. cv_bridge is not used: it converts the whole frame, and PyPI's port breaks on numpy 2 and OpenCV 5.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from sensor_msgs.msg import CompressedImage, Image

from ..stream.preprocess import FrameError, Pixels


class ImageError(FrameError):
    """A malformed or unsupported image message."""


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}  # start-of-frame markers


@dataclass(frozen=True)
class Encoding:
    channels: int
    bytes_per_channel: int  # 1 or 2
    to_rgb: int | None  # cv2 conversion code from the (8-bit) layout, None if already RGB


ENCODINGS: dict[str, Encoding] = {
    "rgb8": Encoding(3, 1, None),
    "bgr8": Encoding(3, 1, cv2.COLOR_BGR2RGB),
    "rgba8": Encoding(4, 1, cv2.COLOR_RGBA2RGB),
    "bgra8": Encoding(4, 1, cv2.COLOR_BGRA2RGB),
    "mono8": Encoding(1, 1, cv2.COLOR_GRAY2RGB),
    "8UC1": Encoding(1, 1, cv2.COLOR_GRAY2RGB),
    "8UC3": Encoding(3, 1, cv2.COLOR_BGR2RGB),
    "8UC4": Encoding(4, 1, cv2.COLOR_BGRA2RGB),
    "rgb16": Encoding(3, 2, None),
    "bgr16": Encoding(3, 2, cv2.COLOR_BGR2RGB),
    "rgba16": Encoding(4, 2, cv2.COLOR_RGBA2RGB),
    "bgra16": Encoding(4, 2, cv2.COLOR_BGRA2RGB),
    "mono16": Encoding(1, 2, cv2.COLOR_GRAY2RGB),
    "16UC1": Encoding(1, 2, cv2.COLOR_GRAY2RGB),
    "16UC3": Encoding(3, 2, cv2.COLOR_BGR2RGB),
    # 4:2:2 packed, two bytes per pixel. ROS's "yuv422" is UYVY.
    "yuv422": Encoding(2, 1, cv2.COLOR_YUV2RGB_UYVY),
    "uyvy": Encoding(2, 1, cv2.COLOR_YUV2RGB_UYVY),
    "yuv422_yuy2": Encoding(2, 1, cv2.COLOR_YUV2RGB_YUYV),
    "yuyv": Encoding(2, 1, cv2.COLOR_YUV2RGB_YUYV),
}


def check_image(msg: Image) -> Encoding:
    """Cheap validation of an Image's layout; raises ImageError when it is malformed or unsupported."""
    enc = ENCODINGS.get(msg.encoding)
    if enc is None:
        raise ImageError(f"unsupported encoding '{msg.encoding}' (supported: {', '.join(ENCODINGS)})")
    h, w, step = msg.height, msg.width, msg.step
    if h == 0 or w == 0:
        raise ImageError(f"empty image {w}x{h}")
    if enc.channels == 2 and w % 2:
        raise ImageError(f"{msg.encoding} needs an even width, got {w}")
    row = w * enc.channels * enc.bytes_per_channel
    if step < row:
        raise ImageError(f"step {step} is shorter than a {msg.encoding} row of {w} pixels ({row} bytes)")
    if len(msg.data) < step * h:
        raise ImageError(f"data has {len(msg.data)} bytes, expected step*height = {step * h}")
    return enc


def image_pixels(msg: Image, enc: Encoding | None = None) -> Pixels:
    """Read an Image message's pixels in their source channel order (zero-copy for 8-bit layouts).

    Colour conversion is left to after the crop, except for packed YUV, which cannot be resized before it is
    unpacked.
    """
    enc = enc or check_image(msg)
    h, w, step = msg.height, msg.width, msg.step
    row = w * enc.channels * enc.bytes_per_channel
    data = np.frombuffer(msg.data, np.uint8)
    rows = data[: step * h].reshape(h, step)[:, :row]
    if enc.bytes_per_channel == 2:
        dtype = np.dtype(">u2" if msg.is_bigendian else "<u2")
        pixels = (np.ascontiguousarray(rows).view(dtype) >> 8).astype(np.uint8)
    else:
        pixels = rows
    pixels = pixels.reshape(h, w, enc.channels)
    if enc.channels == 2:
        return Pixels(cv2.cvtColor(np.ascontiguousarray(pixels), enc.to_rgb))
    return Pixels(pixels, enc.to_rgb)


def image_to_rgb(msg: Image) -> np.ndarray:
    """Convert an Image message to (H, W, 3) uint8 RGB; raises ImageError on malformed input."""
    return image_pixels(msg).rgb()


def compressed_size(data: bytes | np.ndarray) -> tuple[int, int]:
    """(width, height) declared by a PNG or JPEG header, read without decoding; ImageError otherwise."""
    head = bytes(data[:8])
    if head.startswith(PNG_SIGNATURE):
        if len(data) < 24 or bytes(data[12:16]) != b"IHDR":
            raise ImageError("truncated PNG header")
        return int.from_bytes(bytes(data[16:20]), "big"), int.from_bytes(bytes(data[20:24]), "big")
    if head.startswith(b"\xff\xd8"):
        i, n = 2, len(data)
        while i + 4 <= n:  # walk the marker segments to the first start-of-frame
            if data[i] != 0xFF:
                raise ImageError("corrupt JPEG header")
            marker = data[i + 1]
            if marker == 0xFF:  # fill byte
                i += 1
                continue
            length = int.from_bytes(bytes(data[i + 2:i + 4]), "big")
            if marker in JPEG_SOF:
                if i + 9 > n:
                    break
                return int.from_bytes(bytes(data[i + 7:i + 9]), "big"), int.from_bytes(bytes(data[i + 5:i + 7]), "big")
            i += 2 + length
        raise ImageError("JPEG without a frame header")
    raise ImageError(f"unsupported compressed image ({len(data)} bytes): only PNG and JPEG are decoded")


def compressed_pixels(msg: CompressedImage) -> Pixels:
    """Decode a CompressedImage (jpeg/png) to BGR pixels; raises ImageError when it cannot be decoded."""
    data = np.frombuffer(msg.data, np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is None:
        raise ImageError(f"cannot decode compressed image (format '{msg.format}', {data.size} bytes)")
    return Pixels(bgr, cv2.COLOR_BGR2RGB)


def compressed_to_rgb(msg: CompressedImage) -> np.ndarray:
    """Decode a CompressedImage (jpeg/png) to (H, W, 3) uint8 RGB; raises ImageError when it cannot."""
    return compressed_pixels(msg).rgb()


class ImageFrame:
    """An Image message as the pipeline's lazy frame: the layout is checked once, pixels only when sampled."""

    def __init__(self, msg: Image) -> None:
        self.msg = msg
        self._enc: Encoding | None = None

    def size(self) -> tuple[int, int]:
        self._enc = check_image(self.msg)
        return self.msg.width, self.msg.height

    def pixels(self) -> Pixels:
        return image_pixels(self.msg, self._enc)


class CompressedFrame:
    """A CompressedImage as a lazy frame: the declared size is read from the header before any decoding."""

    def __init__(self, msg: CompressedImage) -> None:
        self.msg = msg

    def size(self) -> tuple[int, int]:
        return compressed_size(self.msg.data)

    def pixels(self) -> Pixels:
        return compressed_pixels(self.msg)


def array_to_image(arr: np.ndarray, encoding: str, header=None) -> Image:
    """(H, W, C) uint8 -> Image; bytes are assigned in one go (never an ndarray or a list)."""
    arr = np.ascontiguousarray(arr)
    msg = Image()
    if header is not None:
        msg.header = header
    msg.height, msg.width = arr.shape[:2]
    msg.encoding = encoding
    msg.is_bigendian = 0
    msg.step = arr.strides[0]
    msg.data = arr.tobytes()
    return msg
