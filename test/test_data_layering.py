"""Layering: the data side never imports the training side (targets live in mtl_hri.data.targets)."""
import json
import subprocess
import sys

# Imports every module and subpackage of mtl_hri.data in a fresh interpreter, then lists what got loaded.
# mediapipe_hands is a worker script for its own environment: it may only fail for want of mediapipe.
PROBE = """
import importlib, json, pkgutil, sys
import mtl_hri.data as data
for info in pkgutil.walk_packages(data.__path__, "mtl_hri.data."):
    try:
        importlib.import_module(info.name)
    except ModuleNotFoundError as exc:
        if info.name != "mtl_hri.data.mediapipe_hands" or exc.name != "mediapipe":
            raise
print(json.dumps(sorted(name for name in sys.modules if name.startswith("mtl_hri."))))
"""


def test_data_modules_never_import_train():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300, check=True)
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert {"mtl_hri.data.clips", "mtl_hri.data.composite", "mtl_hri.data.targets"} <= set(loaded)
    assert [name for name in loaded if name == "mtl_hri.train" or name.startswith("mtl_hri.train.")] == []
