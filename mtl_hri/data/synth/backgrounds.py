"""What the figure stands in front of: a photo, a procedural room, or a flat colour for pixel-exact checks.

The photos are opencv-doc's scenes, or a directory of one's own.
"""
from __future__ import annotations

import warnings
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from ...paths import cache_dir
from ..debian import fetch_verified

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
PLAIN_RGB = (0, 255, 0)  # the "plain" background: far from every skin, clothing and hair colour
BACKGROUND_MODES = ("photo", "procedural", "plain")


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
    """Cut a random crop of the frame's aspect ratio (55-100 % of the largest), resized, maybe mirrored."""
    ph, pw = photo.shape[:2]
    cw = min(pw, ph * width / height) * rng.uniform(0.55, 1.0)
    ch = cw * height / width
    x0, y0 = rng.uniform(0, pw - cw), rng.uniform(0, ph - ch)
    crop = photo[int(y0):int(y0 + ch), int(x0):int(x0 + cw)]
    interp = cv2.INTER_AREA if crop.shape[1] > width else cv2.INTER_LINEAR
    out = cv2.resize(crop, (width, height), interpolation=interp)
    return out[:, ::-1].copy() if rng.random() < 0.5 else out


def _procedural_background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """Paint a textured room: wall and floor, a few rectangles (doors, windows, pictures), soft shading, grain."""
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


def background(mode: str, photos_dir: Path | None, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """Make one clip's (height, width, 3) RGB background of `mode` (see BACKGROUND_MODES).

    "photo" falls back to a procedural room when no photos can be had.
    """
    if mode == "plain":
        return np.full((height, width, 3), PLAIN_RGB, np.uint8)
    photos = load_photos(photos_dir) if mode == "photo" else ()
    if photos:
        return _photo_crop(photos[int(rng.integers(len(photos)))], width, height, rng)
    return _procedural_background(width, height, rng)
