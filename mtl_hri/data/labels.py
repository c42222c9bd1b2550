"""The HRI label sets of the bundled model; index 0 is always `none` (task-agnostic inference)."""

HRI_ACTIONS = ["none", "walk", "sit_down", "stand_up", "jump", "bow", "turn_around"]
HRI_GESTURES = [
    "none", "wave", "beckon", "stop", "point_left", "point_right", "swipe_left", "swipe_right", "thumbs_up",
]
HRI_LABELS = {"action": HRI_ACTIONS, "gesture": HRI_GESTURES}
