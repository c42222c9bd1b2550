import cv2
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image

from mtl_hri.ros.image_conv import ENCODINGS, ImageError, array_to_image, compressed_to_rgb, image_to_rgb

H, W = 6, 8
RNG = np.random.default_rng(1)
RGB = RNG.integers(0, 256, (H, W, 3), dtype=np.uint8)


def msg_from(pixels: np.ndarray, encoding: str, pad: int = 0, bigendian: bool = False) -> Image:
    """Pack raw pixel bytes row by row with `pad` garbage bytes after each row."""
    rows = pixels.reshape(H, -1).view(np.uint8) if pixels.dtype == np.uint8 else None
    if pixels.dtype == np.uint16:
        rows = pixels.astype(">u2" if bigendian else "<u2").reshape(H, -1).view(np.uint8)
    padded = np.concatenate([rows, np.full((H, pad), 0xAB, np.uint8)], axis=1)
    m = Image(height=H, width=W, encoding=encoding, is_bigendian=int(bigendian), step=padded.shape[1])
    m.data = padded.tobytes()
    return m


def yuv_packed(rgb: np.ndarray, order: str) -> np.ndarray:
    """RGB -> packed 4:2:2 (UYVY or YUYV) with the chroma of pixel pairs averaged."""
    yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV).astype(np.int32)
    y, u, v = yuv[..., 0], yuv[..., 1], yuv[..., 2]
    u2 = ((u[:, 0::2] + u[:, 1::2]) // 2).astype(np.uint8)
    v2 = ((v[:, 0::2] + v[:, 1::2]) // 2).astype(np.uint8)
    y0, y1 = y[:, 0::2].astype(np.uint8), y[:, 1::2].astype(np.uint8)
    quad = np.stack([u2, y0, v2, y1] if order == "uyvy" else [y0, u2, y1, v2], axis=-1)
    return quad.reshape(H, W, 2)


EIGHT_BIT = {
    "rgb8": RGB, "bgr8": RGB[..., ::-1], "8UC3": RGB[..., ::-1],
    "rgba8": np.dstack([RGB, np.full((H, W), 7, np.uint8)]),
    "bgra8": np.dstack([RGB[..., ::-1], np.full((H, W), 7, np.uint8)]),
    "8UC4": np.dstack([RGB[..., ::-1], np.full((H, W), 7, np.uint8)]),
}


@pytest.mark.parametrize("pad", [0, 5])
@pytest.mark.parametrize("encoding", sorted(EIGHT_BIT))
def test_colour_8bit(encoding, pad):
    out = image_to_rgb(msg_from(np.ascontiguousarray(EIGHT_BIT[encoding]), encoding, pad))
    assert out.dtype == np.uint8 and out.shape == (H, W, 3)
    assert np.array_equal(out, RGB)


@pytest.mark.parametrize("encoding", ["mono8", "8UC1"])
@pytest.mark.parametrize("pad", [0, 3])
def test_mono8(encoding, pad):
    grey = RGB[..., 0].copy()
    out = image_to_rgb(msg_from(grey, encoding, pad))
    assert np.array_equal(out, np.dstack([grey] * 3))


SIXTEEN = {
    "rgb16": lambda a: a, "bgr16": lambda a: a[..., ::-1], "16UC3": lambda a: a[..., ::-1],
    "rgba16": lambda a: np.dstack([a, np.zeros(a.shape[:2], np.uint16)]),
    "bgra16": lambda a: np.dstack([a[..., ::-1], np.zeros(a.shape[:2], np.uint16)]),
}


@pytest.mark.parametrize("bigendian", [False, True])
@pytest.mark.parametrize("encoding", sorted(SIXTEEN))
def test_colour_16bit_takes_high_byte_and_honours_endianness(encoding, bigendian):
    wide = RGB.astype(np.uint16) * 256 + 0x55  # low byte must be dropped
    out = image_to_rgb(msg_from(np.ascontiguousarray(SIXTEEN[encoding](wide)), encoding, pad=4, bigendian=bigendian))
    assert np.array_equal(out, RGB)


@pytest.mark.parametrize("encoding", ["mono16", "16UC1"])
@pytest.mark.parametrize("bigendian", [False, True])
def test_mono16(encoding, bigendian):
    grey = RGB[..., 1].astype(np.uint16) * 256 + 0xFF
    out = image_to_rgb(msg_from(grey, encoding, pad=2, bigendian=bigendian))
    assert np.array_equal(out[..., 0], RGB[..., 1])


@pytest.mark.parametrize("encoding, order",
                         [("yuv422", "uyvy"), ("uyvy", "uyvy"), ("yuyv", "yuyv"), ("yuv422_yuy2", "yuyv")])
@pytest.mark.parametrize("pad", [0, 6])
def test_yuv422_matches_reference(encoding, order, pad):
    packed = yuv_packed(RGB, order)
    out = image_to_rgb(msg_from(packed, encoding, pad))
    reference = cv2.cvtColor(packed, cv2.COLOR_YUV2RGB_UYVY if order == "uyvy" else cv2.COLOR_YUV2RGB_YUYV)
    assert np.array_equal(out, reference)
    # and it is the picture: within chroma subsampling error of the source
    assert np.abs(out.astype(int) - RGB.astype(int)).mean() < 40


def test_every_declared_encoding_is_tested():
    tested = set(EIGHT_BIT) | set(SIXTEEN) | {"mono8", "8UC1", "mono16", "16UC1",
                                              "yuv422", "uyvy", "yuyv", "yuv422_yuy2"}
    assert tested == set(ENCODINGS)


@pytest.mark.parametrize("mutate, match", [
    (lambda m: setattr(m, "encoding", "bayer_rggb8"), "unsupported encoding"),
    (lambda m: setattr(m, "data", bytes(m.data)[:-10]), "expected step"),
    (lambda m: (setattr(m, "height", 0), setattr(m, "data", b"")), "empty"),
    (lambda m: setattr(m, "step", 3), "step"),
])
def test_malformed_images_raise(mutate, match):
    m = msg_from(RGB, "rgb8")
    mutate(m)
    with pytest.raises(ImageError, match=match):
        image_to_rgb(m)


def test_array_to_image_round_trip_and_compressed():
    m = array_to_image(RGB, "rgb8")
    assert m.step == W * 3 and np.array_equal(image_to_rgb(m), RGB)
    ok, png = cv2.imencode(".png", RGB[..., ::-1])
    c = CompressedImage(format="png")
    c.data = png.tobytes()
    assert np.array_equal(compressed_to_rgb(c), RGB)
    c.data = b"not an image"
    with pytest.raises(ImageError):
        compressed_to_rgb(c)


def test_compressed_headers_declare_their_size_without_decoding():
    from mtl_hri.ros.image_conv import CompressedFrame, compressed_size

    img = np.zeros((37, 53, 3), np.uint8)
    for ext in (".png", ".jpg"):
        data = cv2.imencode(ext, img)[1].tobytes()
        assert compressed_size(data) == (53, 37)
        c = CompressedImage(format=ext[1:], data=data)
        frame = CompressedFrame(c)
        assert frame.size() == (53, 37) and frame.pixels().rgb().shape == (37, 53, 3)
    # an 86-byte PNG whose header claims 100000 x 100000: the size is known before anything is decoded
    png = bytearray(cv2.imencode(".png", img)[1].tobytes()[:86])
    png[16:24] = (100000).to_bytes(4, "big") * 2
    assert compressed_size(bytes(png)) == (100000, 100000)
    for bad in (b"", b"GIF89a....", b"\x89PNG\r\n\x1a\n\x00", b"\xff\xd8\xff\xe0\x00\x10JFIF"):
        with pytest.raises(ImageError):
            compressed_size(bad)


def test_image_frames_check_the_layout_once_and_convert_after_the_crop():
    from mtl_hri.ros.image_conv import ImageFrame

    bgr = RGB[..., ::-1]
    frame = ImageFrame(msg_from(np.ascontiguousarray(bgr), "bgr8", 0))
    assert frame.size() == (W, H)
    pixels = frame.pixels()
    assert np.array_equal(pixels.data, bgr)  # still in the camera's channel order: converted after the crop
    assert pixels.to_rgb == cv2.COLOR_BGR2RGB and np.array_equal(pixels.rgb(), RGB)
    bad = ImageFrame(msg_from(np.ascontiguousarray(bgr), "bayer_grbg8", 0))
    with pytest.raises(ImageError):
        bad.size()
