"""Lint the package as ament_flake8 and ament_pep257 lint a ROS package: ruff with the repository's ruff.toml."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINTED = ["mtl_hri", "test", "examples", "launch", "scripts"]


def ruff(*args: str) -> subprocess.CompletedProcess:
    if importlib.util.find_spec("ruff") is None:
        pytest.fail(f"ruff is not installed in {sys.prefix}; it is pinned in requirements.txt "
                    "(pip install -r requirements.txt)")
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_ruff_reports_nothing():
    result = ruff("check", "--no-cache", "--no-fix", "--output-format", "concise", ".")
    assert result.returncode == 0, f"ruff check found problems:\n{result.stdout}{result.stderr}"


def test_ruff_covers_every_source_file():
    # The excludes are anchored at the root; an unanchored "data" would silently skip mtl_hri/data.
    result = ruff("check", "--no-cache", "--show-files", ".")
    assert result.returncode == 0, result.stderr
    shown = {Path(line).resolve() for line in result.stdout.splitlines() if line.endswith(".py")}
    sources = {p.resolve() for folder in LINTED for p in (ROOT / folder).rglob("*.py")} | {ROOT / "setup.py"}
    assert sources - shown == set()
