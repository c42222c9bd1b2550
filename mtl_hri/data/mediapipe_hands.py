"""MediaPipe Hands over videos, one JSON line per frame on stdout: the hand teacher's worker process.

Runs under the interpreter of the MediaPipe environment (mediapipe 0.10.21 pins numpy<2), never under
the project's: it imports nothing of mtl_hri, and `mtl_hri.data.hand_teacher` starts it by file path.

    python mediapipe_hands.py [--min-confidence C] VIDEO ...

Lines: {"video": i, "frame": t, "hands": [[label, score, x, y], ...]} per frame, with
(x, y) the palm centre in pixels and label MediaPipe's handedness (which assumes a mirrored image);
then {"video": i, "frames": n} when a video ends, or {"video": i, "error": "..."} if it cannot be read.
"""
import argparse
import json
import sys

import cv2
import mediapipe as mp

PALM = (0, 5, 9, 13, 17)  # wrist and the four finger bases: their mean is the centre of the palm


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--min-confidence", type=float, default=0.5)
    parser.add_argument("videos", nargs="+")
    args = parser.parse_args()
    for i, path in enumerate(args.videos):
        cap = cv2.VideoCapture(path)
        if not cap.isOpened():
            print(json.dumps({"video": i, "error": f"cannot open {path}"}), flush=True)
            continue
        # tracking mode: landmarks of one frame seed the next, as on a video; a fresh tracker per video
        with mp.solutions.hands.Hands(static_image_mode=False, max_num_hands=2,
                                      min_detection_confidence=args.min_confidence,
                                      min_tracking_confidence=args.min_confidence) as hands:
            t = 0
            while True:
                ok, bgr = cap.read()
                if not ok:
                    break
                h, w = bgr.shape[:2]
                found = hands.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                out = []
                for marks, side in zip(found.multi_hand_landmarks or [], found.multi_handedness or []):
                    x = sum(marks.landmark[k].x for k in PALM) / len(PALM) * w
                    y = sum(marks.landmark[k].y for k in PALM) / len(PALM) * h
                    best = side.classification[0]
                    out.append([best.label, round(best.score, 4), round(x, 3), round(y, 3)])
                print(json.dumps({"video": i, "frame": t, "hands": out}), flush=True)
                t += 1
        cap.release()
        print(json.dumps({"video": i, "frames": t}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
