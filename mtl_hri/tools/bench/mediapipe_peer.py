"""The peer baseline: MediaPipe's own pose and hands solutions on every frame, one JSON line per frame on stdout.

This is what a ROS4HRI body node built on MediaPipe runs (the legacy `mp.solutions` graphs, landmarks of one frame
seeding the next). It runs under the interpreter of the MediaPipe environment (`make mediapipe`; mediapipe 0.10.21
pins numpy<2), never under the project's: it imports nothing of mtl_hri, and `mtl-hri-bench frontend` starts it by
file path on the very frames it gave its own front end.

    python mediapipe_peer.py FRAMES.npy

FRAMES.npy: (N, H, W, 3) uint8 RGB. Lines: {"frame": i, "pose_ms", "hands_ms", "pose": found, "hands": count}.
"""
import json
import sys
import time

import mediapipe as mp
import numpy as np


def main() -> int:
    frames = np.load(sys.argv[1], mmap_mode="r")
    # Complexity 1 is the "full" landmark model, the one our front end runs; the wheel ships no other offline.
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1) as pose, \
            mp.solutions.hands.Hands(static_image_mode=False, max_num_hands=2, model_complexity=1) as hands:
        for i in range(len(frames)):
            rgb = np.ascontiguousarray(frames[i])
            t0 = time.perf_counter()
            body = pose.process(rgb)
            t1 = time.perf_counter()
            found = hands.process(rgb)
            t2 = time.perf_counter()
            print(json.dumps({"frame": i, "pose_ms": (t1 - t0) * 1e3, "hands_ms": (t2 - t1) * 1e3,
                              "pose": body.pose_landmarks is not None,
                              "hands": len(found.multi_hand_landmarks or [])}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
