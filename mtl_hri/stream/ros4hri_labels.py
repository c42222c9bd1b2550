"""Which ROS4HRI (hri_msgs, REP-155) constant each of mtl_hri's labels is published as. Plain data, no rclpy.

The tables give constant *names* of hri_msgs `Gesture` and `BodyPosture`, so that the model card, the offline tool
and anything else without hri_msgs can say what a label becomes; `mtl_hri.ros.hri` resolves the names to the
constants. A label of the models' vocabulary missing from a table (beckon, point_left, swipe_*, none, ...) has no
ROS4HRI counterpart and is published as OTHER; the classes with scores go out as vision_msgs/Classification.
"""
from __future__ import annotations

OTHER = "OTHER"  # the name of the catch-all constant, in both Gesture and BodyPosture

# mtl_hri gesture label -> hri_msgs/Gesture constant. Several spellings of one gesture (custom models' vocabularies).
GESTURE_CONSTANTS: dict[str, str] = {
    "wave": "WAVING",
    "stop": "OPEN_PALM",  # the stop sign is an open palm held toward the robot
    "thumbs_up": "THUMB_UP",
    "thumbs_down": "THUMB_DOWN",
    "fist": "CLOSED_FIST",
    "closed_fist": "CLOSED_FIST",
    "pointing_up": "POINTING_UP",
    "victory": "VICTORY",
    "v_sign": "VICTORY",
    "love": "LOVE",
    "ily": "LOVE",
    "hands_on_face": "HANDS_ON_FACE",
    "arms_crossed": "ARMS_CROSSED",
    "left_hand_raised": "LEFT_HAND_RAISED",
    "right_hand_raised": "RIGHT_HAND_RAISED",
    "both_hands_raised": "BOTH_HANDS_RAISED",
}

# Posture label -> hri_msgs/BodyPosture constant (the message spells lying "LAYING").
POSTURE_CONSTANTS: dict[str, str] = {
    "standing": "STANDING",
    "sitting": "SITTING",
    "crouching": "CROUCHING",
    "lying": "LAYING",
}

# The hand that makes a gesture -> hri_msgs/Gesture handedness constant; "" when it is not one hand's.
HANDEDNESS_CONSTANTS: dict[str, str] = {
    "left": "LEFT",
    "right": "RIGHT",
    "": "INDEPENDENT",
}


def gesture_constant(label: str) -> str:
    """Return the name of the Gesture constant for a gesture label: OTHER for one ROS4HRI has no constant for."""
    return GESTURE_CONSTANTS.get(label, OTHER)


def posture_constant(label: str) -> str:
    """Return the name of the BodyPosture constant for a posture label: OTHER for anything else."""
    return POSTURE_CONSTANTS.get(label, OTHER)


def handedness_constant(handedness: str) -> str:
    """Return the name of the Gesture handedness constant; a value other than "left", "right", "" is an error."""
    try:
        return HANDEDNESS_CONSTANTS[handedness]
    except KeyError:
        raise ValueError(f"handedness must be one of {sorted(HANDEDNESS_CONSTANTS)}, not {handedness!r}") from None
