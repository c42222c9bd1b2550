"""`mtl-hri-fetch-footage`: fetch real pedestrian footage (vtest.avi) from Debian's opencv-doc package.

The file is cached and its sha256 verified; a cached, verified copy is reused.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = "opencv-doc"
MEMBER = "./usr/share/doc/opencv-doc/examples/data/vtest.avi"
SHA256 = "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf"  # 768x576, 795 frames


def default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mtl_hri" / "vtest.avi"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def fetch(dest: Path) -> Path:
    """Download opencv-doc with apt, extract vtest.avi to `dest`, verify it."""
    if dest.is_file() and sha256(dest) == SHA256:
        return dest
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        got = _run(["apt-get", "download", PACKAGE], work)
        if got.returncode != 0 and os.geteuid() == 0:  # fresh machine: package lists not fetched yet
            _run(["apt-get", "update"], work)
            got = _run(["apt-get", "download", PACKAGE], work)
        debs = list(work.glob(f"{PACKAGE}_*.deb"))
        if got.returncode != 0 or not debs:
            raise RuntimeError(f"apt-get download {PACKAGE} failed: {got.stderr.strip()}")
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(debs[0])], stdout=subprocess.PIPE)
        extract = subprocess.run(["tar", "-x", "-C", str(work), MEMBER], stdin=tar.stdout, capture_output=True, text=True)
        tar.wait()
        src = work / MEMBER
        if extract.returncode != 0 or not src.is_file():
            raise RuntimeError(f"vtest.avi not found in {debs[0].name}: {extract.stderr.strip()}")
        digest = sha256(src)
        if digest != SHA256:
            raise RuntimeError(f"vtest.avi checksum mismatch: {digest} != {SHA256}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(src), dest)
    return dest


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
