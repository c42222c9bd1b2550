"""FaultLog: counted per stage, reported with a traceback once per kind and throttled, active only while recent."""
import pytest

from mtl_hri.stream.faults import FaultLog, RateLimit


def boom(exc):
    try:
        raise exc
    except Exception as caught:  # noqa: BLE001
        return caught


def test_first_failure_of_a_kind_is_reported_with_its_traceback_then_throttled():
    log = FaultLog(throttle=5.0, recent=2.0)
    first = log.record("inference", boom(RuntimeError("CUDA out of memory")), 10.0)
    assert "inference failed: RuntimeError: CUDA out of memory" in first and "Traceback" in first
    assert log.record("inference", boom(RuntimeError("again")), 11.0) is None
    other_kind = log.record("inference", boom(KeyError("x")), 11.5)
    assert other_kind is not None and "KeyError" in other_kind
    later = log.record("inference", boom(RuntimeError("later")), 16.0)
    assert "2 times since the last report" in later
    assert log.counts["inference"] == 4 and log.total == 4


def test_active_only_while_recent_and_stages_are_checked():
    log = FaultLog(recent=2.0)
    assert not log.active(0.0)
    log.record("publishing", boom(ValueError("bad")), 1.0)
    assert log.active(2.5) and not log.active(3.5)
    with pytest.raises(ValueError):
        log.record("nowhere", boom(ValueError()), 1.0)


def test_a_rate_limit_holds_back_each_kind_on_its_own_and_counts_what_it_held():
    limit = RateLimit(period=5.0)
    assert limit.due("gap", 0.0) == 0 and limit.due("size", 0.1) == 0  # a burst of one kind does not hide another
    assert limit.due("gap", 1.0) is None and limit.due("gap", 2.0) is None
    assert limit.due("gap", 5.5) == 3 and limit.due("size", 5.5) == 1
