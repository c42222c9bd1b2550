"""Which ROS4HRI (hri_msgs, REP-155) constant each of mtl_hri's labels is published as. Plain data, no rclpy.

The tables give constant *names* of hri_msgs `Gesture` and `BodyPosture`. A model card carries the map of its own
labels (`card_map`, in `ModelCard.ros4hri`), so that a card says what each label becomes without hri_msgs and a
custom model can map its own vocabulary; `mtl_hri.ros.hri` resolves the names to the constants. A label missing
from a table (beckon, point_left, swipe_*, none, ...) has no ROS4HRI counterpart and is published as OTHER; the
classes with scores go out as vision_msgs/Classification.
"""
from __future__ import annotations

OTHER = "OTHER"  # the name of the catch-all constant, in both Gesture and BodyPosture

# Every constant of hri_msgs 2.3's Gesture.gesture and BodyPosture.posture, in value order (0 = OTHER).
GESTURE_NAMES = ("OTHER", "HANDS_ON_FACE", "ARMS_CROSSED", "LEFT_HAND_RAISED", "RIGHT_HAND_RAISED",
                 "BOTH_HANDS_RAISED", "WAVING", "CLOSED_FIST", "OPEN_PALM", "POINTING_UP", "THUMB_DOWN", "THUMB_UP",
                 "VICTORY", "LOVE")
POSTURE_NAMES = ("OTHER", "STANDING", "SITTING", "CROUCHING", "LAYING")

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


# The tasks that ROS4HRI has a message for: task -> (the default table's lookup, the message's constant names).
MAPPED_TASKS = {"gesture": (gesture_constant, GESTURE_NAMES), "posture": (posture_constant, POSTURE_NAMES)}


def card_map(labels: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    """Return the default map of a card's labels: task -> label -> constant name, for the tasks of MAPPED_TASKS."""
    return {task: {label: MAPPED_TASKS[task][0](label) for label in classes}
            for task, classes in labels.items() if task in MAPPED_TASKS}


def check_card_map(mapping: dict[str, dict[str, str]], labels: dict[str, list[str]], where: str) -> None:
    """ValueError "`where`: ros4hri.<task>...: problem" unless `mapping` maps each label of its tasks to a constant."""
    for task, table in mapping.items():
        if task not in MAPPED_TASKS or task not in labels:
            raise ValueError(f"{where}: ros4hri.{task}: not a task of the card that ROS4HRI has a message for "
                             f"(the card's: {sorted(set(labels) & set(MAPPED_TASKS))})")
        missing = [label for label in labels[task] if label not in table]
        extra = sorted(set(table) - set(labels[task]))
        if missing or extra:
            raise ValueError(f"{where}: ros4hri.{task}: must map exactly the task's labels "
                             f"(missing {missing}, not a label {extra})")
        names = MAPPED_TASKS[task][1]
        for label, name in table.items():
            if name not in names:
                raise ValueError(f"{where}: ros4hri.{task}.{label}: {name!r} is not a constant of hri_msgs "
                                 f"(one of {', '.join(names)})")
