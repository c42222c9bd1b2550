"""sensor_msgs/Image <-> numpy, honouring `step` padding and `is_bigendian`.

A robot's cv_bridge is used when it works; otherwise (PyPI's ROS 1 port breaks on numpy 2 and
OpenCV 5) the conversion is done here with numpy, zero-copy up to the colour conversion.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from sensor_msgs.msg import CompressedImage, Image


class ImageError(ValueError):
    """A malformed or unsupported image message."""


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


def image_to_rgb(msg: Image) -> np.ndarray:
    """An Image message -> (H, W, 3) uint8 RGB. Raises ImageError on malformed input."""
    enc = check_image(msg)
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
    if enc.to_rgb is None:
        return pixels
    return cv2.cvtColor(np.ascontiguousarray(pixels), enc.to_rgb)


def compressed_to_rgb(msg: CompressedImage) -> np.ndarray:
    """A CompressedImage (jpeg/png) -> (H, W, 3) uint8 RGB. Raises ImageError when it cannot be decoded."""
    data = np.frombuffer(msg.data, np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if bgr is None:
        raise ImageError(f"cannot decode compressed image (format '{msg.format}', {data.size} bytes)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


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


def _working_cv_bridge():
    """A CvBridge whose rgb8 conversion agrees with ours, or None."""
    try:
        from cv_bridge import CvBridge  # type: ignore[import-not-found]

        bridge = CvBridge()
        probe = np.arange(2 * 4 * 3, dtype=np.uint8).reshape(2, 4, 3)
        msg = array_to_image(probe[..., ::-1], "bgr8")
        if np.array_equal(bridge.imgmsg_to_cv2(msg, "rgb8"), probe):
            return bridge
    except Exception:  # any failure of a foreign library means: do not use it
        pass
    return None


_BRIDGE = _working_cv_bridge()


def message_to_rgb(msg: Image) -> np.ndarray:
    """Image -> RGB with a working cv_bridge when one exists, numpy otherwise; malformed input raises ImageError."""
    if _BRIDGE is None or msg.encoding not in ("rgb8", "bgr8", "rgba8", "bgra8", "mono8"):
        return image_to_rgb(msg)
    check_image(msg)
    try:
        return np.asarray(_BRIDGE.imgmsg_to_cv2(msg, "rgb8"))
    except Exception as exc:
        raise ImageError(f"cv_bridge could not convert: {exc}") from exc
