"""NVIDIA Dynamic Hand Gesture (NVGesture, Molchanov et al. 2016) in its release layout; every clip is a gesture.

    <root>/nvgesture_train_correct_cvpr2016_v2.lst | nvgesture_test_correct_cvpr2016_v2.lst
        path:./Video_data/class_01/subject1_r0 depth:sk_depth:38:118 color:sk_color:38:118 ... label:1
    <root>/Video_data/class_01/subject1_r0/sk_color.avi

A sensor field is <sensor>:<file stem>:<start>:<end>; as in the dataset's own loader the gesture is the
colour frames range(start, end). Labels are the class folders "class_01".."class_25" (label:N -> class_NN).
"""
from __future__ import annotations

import re
from pathlib import Path

from .records import ClipRecord, SourceData

CLASSES = [f"class_{i:02d}" for i in range(1, 26)]
SPLITS = ("train", "test")
SUBJECT = re.compile(r"subject(\d+)_r\d+")


def load_nvgesture(root: Path | str, split: str = "train", list_file: str | None = None) -> SourceData:
    if split not in SPLITS:
        raise ValueError(f"NVGesture has splits {SPLITS}, got {split!r}")
    root = Path(root)
    path = root / (list_file or f"nvgesture_{split}_correct_cvpr2016_v2.lst")
    records = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        fields = dict(token.split(":", 1) for token in line.split())
        try:
            stem, start, end = fields["color"].split(":")
            number = int(fields["label"])
            clip_dir = fields["path"]
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{path}:{n}: cannot parse {line.strip()!r} ({exc})") from exc
        if not 1 <= number <= len(CLASSES):
            raise ValueError(f"{path}:{n}: label {number} outside 1..{len(CLASSES)}")
        label = CLASSES[number - 1]
        subject = SUBJECT.search(clip_dir)
        records.append(ClipRecord(
            root / clip_dir / f"{stem}.avi", "gesture", label, int(start), int(end), source="nvgesture",
            subject=int(subject.group(1)) if subject else None, split=split,
        ))
    return SourceData(records, {"gesture": list(CLASSES)})
