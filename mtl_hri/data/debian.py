"""Files from Debian's opencv-doc package (real footage and photographs), fetched with apt and checksummed."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..checksum import file_sha256

PACKAGE = "opencv-doc"
DATA_DIR = "./usr/share/doc/opencv-doc/examples/data"


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def download_deb(work: Path) -> Path:
    """`apt-get download` the package into `work` (fetching the package lists once if root)."""
    got = _run(["apt-get", "download", PACKAGE], work)
    if got.returncode != 0 and os.geteuid() == 0:  # fresh machine: package lists not fetched yet
        _run(["apt-get", "update"], work)
        got = _run(["apt-get", "download", PACKAGE], work)
    debs = sorted(work.glob(f"{PACKAGE}_*.deb"))
    if got.returncode != 0 or not debs:
        raise RuntimeError(f"apt-get download {PACKAGE} failed: {got.stderr.strip()}")
    return debs[0]


def extract_members(deb: Path, members: list[str], work: Path) -> None:
    """Extract only `members` of the package's file system into `work` (the .deb is ~95 MB)."""
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    extract = subprocess.run(["tar", "-x", "-C", str(work), *members], stdin=tar.stdout,
                             capture_output=True, text=True)
    tar.wait()
    if extract.returncode != 0:
        raise RuntimeError(f"extracting {members} from {deb.name} failed: {extract.stderr.strip()}")


def fetch_verified(wanted: dict[Path, tuple[str, str]]) -> list[Path]:
    """Fetch files of the package's examples/data: {destination: (file name, sha256)}.

    Cached, verified copies are reused; otherwise the package is downloaded once and every missing file extracted and
    checked.
    """
    missing = {dest: (name, digest) for dest, (name, digest) in wanted.items()
               if not (dest.is_file() and file_sha256(dest) == digest)}
    if missing:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            extract_members(download_deb(work), sorted({f"{DATA_DIR}/{name}" for name, _ in missing.values()}), work)
            for dest, (name, digest) in missing.items():
                src = work / DATA_DIR / name
                got = file_sha256(src)
                if got != digest:
                    raise RuntimeError(f"{name} checksum mismatch: {got} != {digest}")
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
    return list(wanted)
