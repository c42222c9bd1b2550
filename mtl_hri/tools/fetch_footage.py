"""`mtl-hri-fetch-footage`: fetch real footage from Debian's opencv-doc package.

vtest.avi (pedestrians walking), and the clips the footage evaluation uses as negatives: tree.avi (a tree, no
person, until a hand passes at the end) and Megamind.avi (animated people talking, no gesture). Files are cached
and their sha256 verified; cached, verified copies are reused.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..data.debian import fetch_verified
from ..paths import cache_dir

SHA256 = "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf"  # 768x576, 795 frames
NEGATIVES = {"tree.avi": "4666099d0f704e310047b2f0a5ec9f936cb76a7271de9a2e70a0c57f82ac82dc",  # 320x240, 68 frames
             "Megamind.avi": "0057387cb7e75c8fd1663b62cfdc51fa53f527795d0fe3c1fea2fd159d3130b5"}  # 720x528, 270


def default_cache() -> Path:
    return cache_dir() / "vtest.avi"


def fetch(dest: Path) -> Path:
    """Download opencv-doc with apt, extract vtest.avi to `dest`, verify it."""
    return fetch_verified({dest: ("vtest.avi", SHA256)})[0]


def fetch_negatives(directory: Path) -> list[Path]:
    """Fetch the negative clips of NEGATIVES into `directory`, verified."""
    return fetch_verified({directory / name: (name, digest) for name, digest in NEGATIVES.items()})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=default_cache(), help="where to cache the video")
    args = parser.parse_args(argv)
    try:
        paths = [fetch(args.dest), *fetch_negatives(args.dest.parent)]
    except (RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(*paths, sep="\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
