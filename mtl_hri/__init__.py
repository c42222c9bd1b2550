"""mtl_hri: multi-task action, gesture and hand recognition for human-robot interaction."""

__version__ = "0.1.0"
