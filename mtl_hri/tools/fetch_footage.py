"""`mtl-hri-fetch-footage`: fetch real pedestrian footage (vtest.avi) from Debian's opencv-doc package.

The file is cached and its sha256 verified; a cached, verified copy is reused.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..data.debian import fetch_verified
from ..paths import cache_dir

SHA256 = "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf"  # 768x576, 795 frames


def default_cache() -> Path:
    return cache_dir() / "vtest.avi"


def fetch(dest: Path) -> Path:
    """Download opencv-doc with apt, extract vtest.avi to `dest`, verify it."""
    return fetch_verified({dest: ("vtest.avi", SHA256)})[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=default_cache(), help="where to cache the video")
    args = parser.parse_args(argv)
    try:
        path = fetch(args.dest)
    except (RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
