"""What every bench command shares on the way out: fixed-width tables, and the results as JSON."""
from __future__ import annotations

import json
import platform
from pathlib import Path

import torch

from .timing import Timing


def print_table(head: str, lines: list[str]) -> None:
    print(head)
    print("-" * len(head))
    for line in lines:
        print(line)


def fmt_timing(t: Timing | None) -> str:
    return f"{t.p50_ms:8.1f} / {t.p99_ms:6.1f}" if t else f"{'-':>17}"


def machine() -> dict:
    return {"cpu_threads": torch.get_num_threads(), "platform": platform.platform(), "torch": torch.__version__,
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def write_json(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    print(f"wrote {path}")
