"""UCF-101 (Soomro et al. 2012) in its release layout; every clip is an action.

    <root>/UCF-101/<Class>/v_<Class>_gXX_cYY.avi
    <root>/ucfTrainTestlist/classInd.txt        "1 ApplyEyeMakeup"
    <root>/ucfTrainTestlist/trainlist0N.txt     "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1"
    <root>/ucfTrainTestlist/testlist0N.txt      "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi"

N in {1, 2, 3} is the official split ("fold" here). Labels are the classInd names, in classInd order; a
video's label is its class folder (file names may differ in case: HandstandPushups/v_HandStandPushups_...).
The group XX (the same actors and scene) is stored as the record's `subject`.
"""
from __future__ import annotations

import re
from pathlib import Path

from .records import ClipRecord, SourceData

GROUP = re.compile(r"_g(\d+)_c\d+\.avi$", re.IGNORECASE)
SPLITS = ("train", "test")


def read_class_index(path: Path) -> list[str]:
    """classInd.txt -> class names in index order (index 1 first)."""
    pairs = [line.split() for line in path.read_text().splitlines() if line.strip()]
    names = {int(i): name for i, name in pairs}
    if sorted(names) != list(range(1, len(names) + 1)):
        raise ValueError(f"{path}: class indices are not 1..{len(names)}")
    return [names[i] for i in range(1, len(names) + 1)]


def load_ucf101(
    root: Path | str, split: str = "train", fold: int = 1, videos: str = "UCF-101", lists: str = "ucfTrainTestlist"
) -> SourceData:
    if split not in SPLITS or fold not in (1, 2, 3):
        raise ValueError(f"UCF-101 has splits {SPLITS} and folds 1-3, got {split!r}, {fold}")
    root = Path(root)
    classes = read_class_index(root / lists / "classInd.txt")
    list_file = root / lists / f"{split}list0{fold}.txt"
    records = []
    for n, line in enumerate(list_file.read_text().splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        rel = fields[0]
        label = rel.split("/")[0]
        if label not in classes:
            raise ValueError(f"{list_file}:{n}: unknown class folder {label!r}")
        if len(fields) > 1 and classes[int(fields[1]) - 1] != label:
            raise ValueError(f"{list_file}:{n}: class index {fields[1]} is not {label!r}")
        group = GROUP.search(rel)
        records.append(ClipRecord(
            root / videos / rel, "action", label, source="ucf101", split=split,
            subject=int(group.group(1)) if group else None,
        ))
    return SourceData(records, {"action": classes})
