from glob import glob
from pathlib import Path

from setuptools import find_packages, setup

PACKAGE = "mtl_hri"


def share(subdir: str, pattern: str) -> tuple[str, list[str]]:
    return (f"share/{PACKAGE}/{subdir}", sorted(glob(f"{subdir}/{pattern}")))


data_files = [
    ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
    (f"share/{PACKAGE}", ["package.xml"]),
    share("launch", "*.launch.py"),
    share("config", "*.yaml"),
    share("config", "*.xml"),
]
if Path("models/default/model.json").is_file():  # made by `mtl-hri-init-model` or shipped trained
    data_files.append(share("models/default", "*"))

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*"]),
    data_files=data_files,
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="mtl_hri maintainers",
    maintainer_email="mtl-hri@example.com",
    description="Multi-task action, gesture and hand-keypoint recognition for human-robot interaction.",
    license="Apache-2.0",
    python_requires=">=3.10",
    entry_points={
        "console_scripts": [
            "recognizer = mtl_hri.ros.recognizer_node:main",
            "video_publisher = mtl_hri.ros.video_publisher:main",
            "mtl-hri-demo = mtl_hri.tools.demo:main",
            "mtl-hri-init-model = mtl_hri.tools.init_model:main",
            "mtl-hri-fetch-footage = mtl_hri.tools.fetch_footage:main",
            "mtl-hri-fetch-front-end = mtl_hri.tools.fetch_front_end:main",
            "mtl-hri-export = mtl_hri.tools.export:main",
            "mtl-hri-synth = mtl_hri.tools.synth:main",
            "mtl-hri-bench = mtl_hri.tools.bench:main",
            "mtl-hri-naive-recognizer = mtl_hri.tools.bench.naive_node:main",
            "mtl-hri-train = mtl_hri.tools.train:main",
            "mtl-hri-eval = mtl_hri.tools.evaluate:main",
            "mtl-hri-landmarks = mtl_hri.tools.landmarks:main",
            "mtl-hri-offline = mtl_hri.tools.offline:main",
            "mtl-hri-record = mtl_hri.tools.record:main",
            "mtl-hri-annotate-hands = mtl_hri.tools.annotate_hands:main",
        ],
    },
)
