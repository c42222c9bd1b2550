import numpy as np
import pytest

from mtl_hri.stream.smoothing import DecisionSmoother, SmoothingParams

LABELS = ["none", "wave", "stop"]


def run(smoother, probs_seq, dt=0.1):
    return [smoother.update(np.array(p), i * dt).label for i, p in enumerate(probs_seq)]


def test_ema_without_and_with_smoothing():
    s = DecisionSmoother(LABELS, SmoothingParams(smoothing=0.5))
    s.update(np.array([1.0, 0.0, 0.0]), 0.0)
    s.update(np.array([0.0, 1.0, 0.0]), 0.1)
    assert s.smoothed == pytest.approx([0.5, 0.5, 0.0])
    s = DecisionSmoother(LABELS, SmoothingParams(smoothing=0.0))
    run(s, [[1, 0, 0], [0, 1, 0]])
    assert s.smoothed == pytest.approx([0, 1, 0])


def test_hysteresis_enters_high_and_leaves_low():
    s = DecisionSmoother(LABELS, SmoothingParams(smoothing=0.0, enter_threshold=0.6, exit_threshold=0.4))
    seq = [[0.5, 0.5, 0], [0.3, 0.65, 0.05], [0.5, 0.45, 0.05], [0.55, 0.41, 0.04], [0.65, 0.35, 0]]
    assert run(s, seq) == ["none", "wave", "wave", "wave", "none"]


def test_switch_needs_the_new_label_to_enter_and_lead():
    s = DecisionSmoother(LABELS, SmoothingParams(smoothing=0.0))
    seq = [[0.1, 0.9, 0], [0.0, 0.5, 0.5], [0.0, 0.3, 0.7]]
    assert run(s, seq) == ["wave", "wave", "stop"]


def test_min_duration_delays_changes_and_ignores_blips():
    s = DecisionSmoother(LABELS, SmoothingParams(smoothing=0.0, min_duration=0.25))
    wave, none = [0.1, 0.9, 0], [0.9, 0.1, 0]
    labels = run(s, [wave, none, wave, wave, wave, wave, none, wave])
    # the first blip never lasts 0.25 s; wave is wanted from t=0.2 and published at t=0.5; the none blip is ignored
    assert labels == ["none", "none", "none", "none", "none", "wave", "wave", "wave"]


def test_reset_and_validation():
    s = DecisionSmoother(LABELS, SmoothingParams(smoothing=0.0))
    run(s, [[0, 1, 0]])
    s.reset()
    assert s.label == "none" and s.smoothed is None
    with pytest.raises(ValueError):
        DecisionSmoother(LABELS, SmoothingParams(enter_threshold=0.3, exit_threshold=0.5))
