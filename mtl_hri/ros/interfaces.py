"""Whether an optional message package (vision_msgs, hri_msgs) is usable: imported, and its C type support loads."""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=None)
def type_support_loads(*classes: type | None) -> bool:
    """Return True when every message class imported and its type support loads (a half install counts as absent)."""
    try:
        for cls in classes:
            meta = type(cls)
            if meta._TYPE_SUPPORT is None:
                meta.__import_type_support__()  # logs and leaves _TYPE_SUPPORT None if the C part cannot load
        return all(type(cls)._TYPE_SUPPORT is not None for cls in classes)
    except Exception:  # noqa: BLE001 - None (not installed) or a broken install: the package is absent
        return False
