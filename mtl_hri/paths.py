"""Where the package's installed data lives, found without ROS's package index."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE = "mtl_hri"


def cache_dir() -> Path:
    """Where fetched files live (footage, photos, the front end's models): $XDG_CACHE_HOME/mtl_hri."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / PACKAGE


def bundled_model_dir() -> Path:
    """Return the model shipped with the package: `share/mtl_hri/models/default` of this copy's prefix.

    The prefix is the one this copy is installed in (a venv, a colcon install space); a source checkout has
    `models/default` instead.
    """
    here = Path(__file__).resolve().parent
    installed = [prefix / "share" / PACKAGE / "models" / "default" for prefix in list(here.parents)[:5]]
    for candidate in [*installed, here.parent / "models" / "default"]:
        if (candidate / "model.json").is_file():
            return candidate
    return here.parent / "models" / "default"  # absent: loading it names this path in the error
