"""The HRI label sets of the bundled model, derived from the one label registry.

The registry is `mtl_hri.data.synth.motions.REGISTRY`, where a label is added. Index 0 of each task is always `none`,
so that one network can answer both tasks for any clip (the task-agnostic setting that Spathis, Kardaris and Maragos,
"Multi-task Learning For Joint Action and Gesture Recognition", leave to future work).
"""
from .synth.motions import HRI_FLIP, HRI_LABELS

HRI_ACTIONS: list[str] = HRI_LABELS["action"]
HRI_GESTURES: list[str] = HRI_LABELS["gesture"]

__all__ = ["HRI_ACTIONS", "HRI_FLIP", "HRI_GESTURES", "HRI_LABELS"]
