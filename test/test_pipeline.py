"""CameraStream without ROS: the frame protocol (ingest / complete), scheduling, silence and the watchdog."""
import cv2
import numpy as np
import pytest

from mtl_hri.model import InputSpec
from mtl_hri.stream.engine import HandEstimate, HeadResult, RecognitionResult, Timings
from mtl_hri.stream.pipeline import Admitted, ArrayFrame, CameraStream, Job, Outcome
from mtl_hri.stream.preprocess import MAX_ASPECT, MAX_SIDE, Pixels
from mtl_hri.stream.smoothing import SmoothingParams
from mtl_hri.stream.window_stream import MAX_CATCH_UP, STALE_AFTER

SPEC = InputSpec(frames=4, size=16, resize=16, sample_fps=10.0)
LABELS = {"action": ["none", "walk"], "gesture": ["none", "wave", "stop"]}


class CountingFrame:
    """A lazy frame that records whether its pixels were decoded; `fail` makes decoding raise."""

    def __init__(self, value: int = 0, size=(32, 24), fail: Exception | None = None, header_fail=None):
        self._size, self.value, self.fail, self.header_fail = size, value, fail, header_fail
        self.decoded = False

    def size(self):
        if self.header_fail is not None:
            raise self.header_fail
        return self._size

    def pixels(self) -> Pixels:
        self.decoded = True
        if self.fail is not None:
            raise self.fail
        w, h = self._size
        return Pixels(np.full((h, w, 3), self.value, np.uint8), cv2.COLOR_BGR2RGB)


def one(jobs: list[Job]) -> Job | None:
    """Return the only job of a camera with one window (the scene's), or None."""
    assert len(jobs) <= 1
    return jobs[0] if jobs else None


def stream(offline=False, sample_fps=0.0, stride=1, gap=0.5) -> CameraStream:
    s = CameraStream(offline)
    s.configure(SPEC, LABELS, sample_fps, stride, gap, SmoothingParams(), rebuild=True)
    return s


def result(p_walk=0.9, finite=True) -> RecognitionResult:
    heads = {"action": HeadResult(LABELS["action"], np.array([1 - p_walk, p_walk])),
             "gesture": HeadResult(LABELS["gesture"], np.array([0.8, 0.1, 0.1]))}
    xy = np.array([[3.0, 4.0]]) if finite else np.array([[np.nan, 4.0]])
    hand = HandEstimate(xy, np.array([0.7]))
    return RecognitionResult(heads, hand, HandEstimate(np.array([[5.0, 6.0]]), np.array([0.2])), Timings(0, 1, 0))


def feed(s: CameraStream, n: int, t0=0.0, dt=0.1):
    return [s.ingest(CountingFrame(i), t0 + i * dt, f"frame{i}", t0 + i * dt) for i in range(n)]


def test_ingest_crops_converts_after_the_crop_and_stores():
    s = stream()
    frame = CountingFrame(value=7, size=(64, 32))
    got = s.ingest(frame, 0.0, "hdr", 0.0)
    assert got.outcome is Outcome.SAMPLED and frame.decoded
    assert s.window.count == 1
    snap = s.window.snapshot()
    assert snap.frames.shape == (1, 16, 16, 3) and snap.metas[0].source == "hdr"
    assert snap.metas[0].rgb is None  # kept only when asked (the debug overlay)
    s.ingest(CountingFrame(value=7, size=(64, 32)), 0.1, "hdr", 0.1, keep_rgb=True)
    assert s.window.snapshot().metas[-1].rgb.shape == (32, 64, 3)


def test_skipped_and_backwards_frames_are_never_decoded():
    s = stream(sample_fps=10.0)
    assert s.ingest(CountingFrame(), 1.0, None, 1.0).outcome is Outcome.SAMPLED
    skipped, backwards = CountingFrame(), CountingFrame()
    assert s.ingest(skipped, 1.02, None, 1.02).outcome is Outcome.SKIPPED
    assert s.ingest(backwards, 0.9, None, 1.03).outcome is Outcome.BACKWARDS
    assert not skipped.decoded and not backwards.decoded
    assert s.window.rejected_backwards == 1 and s.stats.frames_bad == 0


@pytest.mark.parametrize("size", [(1, 1_000_000), (100_000, 1), (MAX_SIDE + 1, MAX_SIDE), (0, 10),
                                  (int(20 * MAX_ASPECT) + 1, 20)])
def test_frames_beyond_the_limits_are_bad_before_decoding(size):
    s = stream()
    frame = CountingFrame(size=size)
    got = s.ingest(frame, 0.0, None, 0.0)
    assert got.outcome is Outcome.BAD and not frame.decoded and got.fault is None
    assert s.stats.frames_bad == 1 and s.window.count == 0


def test_a_failing_decoder_or_header_is_a_bad_frame_and_an_unexpected_error_is_a_fault():
    s = stream()
    assert s.ingest(CountingFrame(header_fail=ValueError("short step")), 0.0, None, 0.0).fault is None
    got = s.ingest(CountingFrame(fail=RuntimeError("decoder bug")), 0.1, None, 0.1)
    assert got.outcome is Outcome.BAD and isinstance(got.fault, RuntimeError) and "decoder bug" in got.error
    assert s.stats.frames_bad == 2
    assert s.ingest(CountingFrame(), 0.2, None, 0.2).outcome is Outcome.SAMPLED  # and the stream goes on


def test_a_gap_or_a_new_frame_size_restarts_the_stream_and_forgets_decisions():
    s = stream()
    feed(s, 4)
    job = one(s.next_jobs(streaming=False))
    decided = s.complete(job, result(), None, 0.5)
    assert decided.decisions["action"].label == "walk" and decided.trails[0]
    got = s.ingest(CountingFrame(), 2.0, None, 2.0)  # 1.7 s later
    assert got.outcome is Outcome.SAMPLED and "gap" in got.reset
    assert s.window.count == 1 and s.window.resets == 1 and not s.scene.trails[0]
    assert s.scene.smoothers["action"].label == "none"
    got = s.ingest(CountingFrame(size=(48, 48)), 2.1, None, 2.1)
    assert "32x24 to 48x48" in got.reset and s.window.count == 1 and s.window.resets == 2


def test_live_scheduling_primes_then_steps_then_reprimes_when_far_behind():
    s = stream()
    feed(s, 3)
    assert not s.has_work(streaming=False) and one(s.next_jobs(streaming=True)) is None  # window not full
    feed(s, 1, t0=0.3)
    job = one(s.next_jobs(streaming=True))
    assert job.kind == "window" and job.due and len(job.frames) == SPEC.frames
    s.complete(job, result(), "state after window", 0.4)
    feed(s, 2, t0=0.4)
    job = one(s.next_jobs(streaming=True))
    assert job.kind == "frames" and len(job.frames) == 2 and job.state == "state after window"
    s.complete(job, result(), "state 2", 0.6)
    feed(s, MAX_CATCH_UP + 1, t0=0.6)  # fell further behind: prime again on the newest window
    job = one(s.next_jobs(streaming=True))
    assert job.kind == "window" and job.stamp == pytest.approx(0.6 + MAX_CATCH_UP * 0.1)


def test_live_whole_window_scheduling_skips_stale_windows_and_counts_them():
    s = stream()
    feed(s, 4 + 3)  # 4 windows due, worker took none
    job = one(s.next_jobs(streaming=False))
    assert job.due and job.stamp == pytest.approx(0.6) and s.stats.windows_skipped == 3
    assert not s.has_work(streaming=False)


def test_a_state_never_crosses_a_reset():
    s = stream()
    feed(s, 4)
    job = one(s.next_jobs(streaming=True))
    feed(s, 1, t0=5.0)  # a gap while the job ran
    s.complete(job, result(), "old state", 5.0)
    feed(s, 3, t0=5.1)
    job = one(s.next_jobs(streaming=True))
    assert job.kind == "window" and job.state is None


def test_results_of_another_configuration_are_dropped():
    s = stream()
    feed(s, 4)
    job = one(s.next_jobs(streaming=False))
    s.configure(SPEC, LABELS, 0.0, 1, 0.5, SmoothingParams(), rebuild=True)  # a new model
    assert s.complete(job, result(), None, 1.0) is None


def test_non_finite_outputs_raise_and_drop_the_state():
    s = stream()
    feed(s, 4)
    job = one(s.next_jobs(streaming=True))
    with pytest.raises(ValueError, match="non-finite"):
        s.complete(job, result(finite=False), "poisoned", 0.5)
    feed(s, 1, t0=0.4)
    assert one(s.next_jobs(streaming=True)).kind == "window"  # re-primes instead of stepping from the bad state


def test_abandon_after_a_failed_inference_reprimes():
    s = stream()
    feed(s, 4)
    s.complete(one(s.next_jobs(streaming=True)), result(), "state", 0.4)
    feed(s, 1, t0=0.4)
    job = one(s.next_jobs(streaming=True))
    assert job.kind == "frames"
    s.abandon(job)
    feed(s, 1, t0=0.5)
    assert one(s.next_jobs(streaming=True)).kind == "window"


def test_offline_queues_every_window_in_order_and_steps_one_frame_each():
    s = stream(offline=True)
    feed(s, 7)
    kinds, stamps = [], []
    while s.has_work(streaming=True):
        job = one(s.next_jobs(streaming=True))
        kinds.append(job.kind)
        stamps.append(job.stamp)
        s.complete(job, result(), f"state {job.stamp}", job.stamp)
    assert kinds == ["window", "frames", "frames", "frames"]
    assert stamps == pytest.approx([0.3, 0.4, 0.5, 0.6])


def test_silence_counts_from_when_the_last_frame_was_done_with():
    # A caller that perceives in its frame callback (offline) takes no frame while the front end runs: a frame that
    # took longer than max_frame_gap to perceive is not a silent camera.
    s = stream(offline=True, sample_fps=10.0)
    feed(s, 3)
    got = s.admit(CountingFrame(3), 0.3, "frame3", 0.3)
    assert isinstance(got, Admitted)
    assert s.store(CameraStream.perceive(got), 1.2).outcome is Outcome.SAMPLED  # 0.9 s in the front end
    assert s.check_silence(1.5) is None and s.window.count == 4
    assert s.check_silence(1.8) == [] and s.window.count == 0


def test_silence_resets_once_and_the_watchdog_reports_a_stalled_worker():
    s = stream(sample_fps=10.0)
    feed(s, 4)
    assert s.check_silence(0.6) is None and s.check_silence(1.0) == [] and s.check_silence(1.5) is None
    assert s.window.count == 0
    feed(s, 40, t0=2.0)  # 4 s of frames into a full window, and the worker never decides
    now = 2.0 + 39 * 0.1
    assert s.stale(now)
    s.complete(one(s.next_jobs(streaming=False)), result(), None, now)
    assert not s.stale(now + 0.1)
    assert not s.stale(now + STALE_AFTER + 5.0)  # the camera went quiet: silence, not a stalled worker


def test_array_frames_report_their_size():
    pixels = Pixels(np.zeros((24, 32, 3), np.uint8))
    assert ArrayFrame(pixels).size() == (32, 24) and ArrayFrame(pixels).pixels() is pixels


def test_stamps_that_jump_back_further_than_the_gap_start_a_new_stream_once():
    s = stream()
    feed(s, 4, t0=100.0)
    got = s.ingest(CountingFrame(), 0.0, None, 100.4)  # the camera (or a bag replay) restarts at 0
    assert got.outcome is Outcome.SAMPLED and "jumping back by 100.30 s" in got.reset
    outs = feed(s, 4, t0=0.1)
    assert all(o.outcome is Outcome.SAMPLED and not o.reset for o in outs)
    assert s.stats.restarts == 1 and s.window.rejected_backwards == 0 and s.window.full
    # a small step back is an out-of-order frame, rejected, and the stream goes on
    assert s.ingest(CountingFrame(), 0.3, None, 0.5).outcome is Outcome.BACKWARDS


def test_a_stamp_far_from_the_clock_is_rejected_and_cannot_poison_the_order():
    s = stream()
    s.configure(SPEC, LABELS, 0.0, 1, 0.5, SmoothingParams(), rebuild=True, max_clock_offset=10.0)
    feed(s, 2, t0=1000.0)
    year_2100 = 4_102_444_800.0
    got = s.ingest(CountingFrame(), year_2100, None, 1000.2)
    assert got.outcome is Outcome.OFF_CLOCK and "from the clock" in got.error and s.stats.frames_off_clock == 1
    outs = feed(s, 3, t0=1000.2)
    assert all(o.outcome is Outcome.SAMPLED for o in outs) and s.window.count == 5 - 1  # window of 4, still going
    assert s.stats.recent(1000.5, 5.0) == ["stamps far from the clock"]
    assert s.stats.recent(1010.0, 5.0) == []  # the cause has gone


def test_a_restart_after_a_decision_fell_due_leaves_nothing_to_decide():
    """Found by test_fuzz: silence (or a gap) emptied the window before the worker took the due decision."""
    s = stream(gap=0.1)
    feed(s, 4, dt=1 / 15)
    assert s.check_silence(1.0) is not None
    assert s.has_work(streaming=False) and one(s.next_jobs(streaming=False)) is None
    assert not s.has_work(streaming=False)
    s.ingest(CountingFrame(), 5.0, None, 5.0)  # a gap, then one frame: not a window
    assert one(s.next_jobs(streaming=False)) is None and one(s.next_jobs(streaming=True)) is None
