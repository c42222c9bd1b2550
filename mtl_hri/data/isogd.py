"""ChaLearn LAP IsoGD (Wan et al. 2016) in its release layout; every clip is a gesture.

    <root>/train.txt | valid.txt | test.txt    "train/001/M_00001.avi train/001/K_00001.avi 10"
    <root>/train/001/M_00001.avi               RGB (M_*); K_* is the depth video, not used

Labels are the class numbers 1..249 as strings ("10"). Every list line must carry its label (use the
labelled lists of the valid/test phases).
"""
from __future__ import annotations

from pathlib import Path

from .records import ClipRecord, SourceData

CLASSES = [str(i) for i in range(1, 250)]
SPLITS = ("train", "valid", "test")


def load_isogd(root: Path | str, split: str = "train", list_file: str | None = None) -> SourceData:
    if split not in SPLITS:
        raise ValueError(f"IsoGD has splits {SPLITS}, got {split!r}")
    root = Path(root)
    path = root / (list_file or f"{split}.txt")
    records = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 3:
            raise ValueError(f"{path}:{n}: want '<rgb> <depth> <label>', got {line.strip()!r}")
        label = str(int(fields[2]))
        if label not in CLASSES:
            raise ValueError(f"{path}:{n}: label {label} outside 1..249")
        records.append(ClipRecord(root / fields[0], "gesture", label, source="isogd", split=split))
    return SourceData(records, {"gesture": list(CLASSES)})
