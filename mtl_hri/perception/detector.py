"""People in a frame: MediaPipe Objectron's SSD-MobileNetV2 (Open Images v4), decoded as MediaPipe's graph does.

The model's 1917 raw boxes are offsets from SSD anchors (Liu et al., "SSD: Single Shot MultiBox Detector"), laid out
by MediaPipe's SsdAnchorsCalculator with the options of `object_detection_oid_v4_cpu.pbtxt`; its 24 scores per box
are logits over the Open Images label map, where `Person` is class 4.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from .models import PERSON_DETECTOR
from .runtime import load_model

INPUT = 300
PERSON = 4
STRIDES = (16, 32, 64, 128, 256, 512)
ASPECTS = (1.0, 2.0, 0.5, 3.0, 0.3333)
MIN_SCALE, MAX_SCALE = 0.2, 0.95
XY_SCALE, WH_SCALE = 10.0, 5.0  # the box coder's variances


@dataclass(frozen=True)
class Detection:
    box: np.ndarray  # (x0, y0, x1, y1) source pixels
    score: float


@lru_cache(maxsize=1)
def ssd_anchors() -> np.ndarray:
    """(1917, 4) anchors (cx, cy, w, h), normalised: per layer, per cell (row-major), per aspect ratio."""
    def scale(i: int) -> float:
        return MIN_SCALE + (MAX_SCALE - MIN_SCALE) * i / (len(STRIDES) - 1) if i < len(STRIDES) else 1.0

    out = []
    for i, stride in enumerate(STRIDES):
        if i == 0:  # reduce_boxes_in_lowest_layer: three small boxes on the finest map
            shapes = [(1.0, 0.1), (2.0, scale(0)), (0.5, scale(0))]
        else:  # every aspect ratio, plus one square between this layer's scale and the next
            shapes = [(a, scale(i)) for a in ASPECTS] + [(1.0, math.sqrt(scale(i) * scale(i + 1)))]
        cells = math.ceil(INPUT / stride)
        for y in range(cells):
            for x in range(cells):
                out += [((x + 0.5) / cells, (y + 0.5) / cells, s * math.sqrt(a), s / math.sqrt(a)) for a, s in shapes]
    return np.array(out, np.float32)


def decode(boxes: np.ndarray, logits: np.ndarray, width: int, height: int, min_score: float, nms_iou: float
           ) -> list[Detection]:
    """Person detections in source pixels from the raw (1917, 4) (dy, dx, dh, dw) boxes and (1917, 24) logits."""
    a = ssd_anchors()
    score = 1 / (1 + np.exp(-logits[:, PERSON]))
    keep = np.flatnonzero(score >= min_score)
    if not len(keep):
        return []
    b, a, score = boxes[keep], a[keep], score[keep]
    cx, cy = b[:, 1] / XY_SCALE * a[:, 2] + a[:, 0], b[:, 0] / XY_SCALE * a[:, 3] + a[:, 1]
    w, h = np.exp(b[:, 3] / WH_SCALE) * a[:, 2], np.exp(b[:, 2] / WH_SCALE) * a[:, 3]
    xywh = np.stack([(cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height], axis=1)
    chosen = np.asarray(cv2.dnn.NMSBoxes(xywh.tolist(), score.tolist(), min_score, nms_iou), int).ravel()
    out = []
    for i in chosen:
        x, y, bw, bh = xywh[i]
        box = np.clip([x, y, x + bw, y + bh], 0, [width, height, width, height])
        if box[2] > box[0] and box[3] > box[1]:
            out.append(Detection(box.astype(np.float32), float(score[i])))
    return sorted(out, key=lambda d: -d.score)


class PersonDetector:
    """The whole frame, stretched to 300x300 (the model is trained that way), in [-1, 1]."""

    def __init__(self, directory: Path | None = None, threads: int = 1, min_score: float = 0.3,
                 nms_iou: float = 0.4, runtime: str = "litert") -> None:
        self.model = load_model(PERSON_DETECTOR, directory, (INPUT, INPUT), threads, runtime)
        self.min_score, self.nms_iou = min_score, nms_iou

    def __call__(self, rgb: np.ndarray) -> list[Detection]:
        height, width = rgb.shape[:2]
        x = cv2.resize(rgb, (INPUT, INPUT), interpolation=cv2.INTER_AREA).astype(np.float32) * (2 / 255) - 1
        out = self.model.run(x)
        return decode(out["raw_outputs/box_encodings"], out["raw_outputs/class_predictions"], width, height,
                      self.min_score, self.nms_iou)
