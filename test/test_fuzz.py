"""Property-based fuzzing of what the node must survive: image messages, stamp sequences and model cards.

Random inputs against invariants: nothing raises but the documented rejection, nothing non-finite comes out,
and every decision carries a stamp that was sent. Bounded to a few seconds per property.
"""
import json
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sensor_msgs.msg import CompressedImage, Image

from mtl_hri.model import InputSpec, ModelLoadError, load_card
from mtl_hri.model.card import CARD_FILE
from mtl_hri.ros.image_conv import ENCODINGS, CompressedFrame, ImageFrame, compressed_size
from mtl_hri.stream.engine import HandEstimate, HeadResult, RecognitionResult, Timings
from mtl_hri.stream.pipeline import CameraStream, Outcome
from mtl_hri.stream.preprocess import FrameError
from mtl_hri.stream.smoothing import SmoothingParams
from mtl_hri.stream.window_stream import finite

# Derandomised, so that CI runs the same examples every time. A longer, random campaign:
# MTL_HRI_FUZZ_EXAMPLES=20000 pytest test/test_fuzz.py
CAMPAIGN = int(os.environ.get("MTL_HRI_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=CAMPAIGN or 300, deadline=None, derandomize=not CAMPAIGN, database=None,
                suppress_health_check=[HealthCheck.too_slow])
SPEC = InputSpec(frames=4, size=16, resize=16, sample_fps=10.0)
LABELS = {"action": ["none", "walk"], "gesture": ["none", "wave"]}
U32 = st.integers(0, 2**32 - 1)


@st.composite
def image_messages(draw):
    """Layouts a publisher could send: any encoding string, sizes and steps up to 2^32-1, short or long data."""
    msg = Image()
    msg.encoding = draw(st.sampled_from(sorted(ENCODINGS)) | st.text(max_size=12))
    small = st.integers(0, 40)
    msg.height = draw(small | U32)
    msg.width = draw(small | U32)
    msg.step = draw(st.integers(0, 200) | U32)
    msg.is_bigendian = draw(st.integers(0, 1))
    n = draw(st.integers(0, 4 * 40 * 40 * 2))
    msg.data = bytes(draw(st.binary(min_size=0, max_size=64))) * (n // 64 + 1) if n else b""
    return msg


def stream(sample_fps=0.0, stride=1, gap=0.5) -> CameraStream:
    s = CameraStream()
    s.configure(SPEC, LABELS, sample_fps, stride, gap, SmoothingParams(), rebuild=True)
    return s


@FUZZ
@given(image_messages())
def test_any_image_layout_is_converted_or_rejected_as_bad_input(msg):
    frame = ImageFrame(msg)
    try:
        w, h = frame.size()
        pixels = frame.pixels()
    except FrameError:
        pass
    else:
        assert (w, h) == (msg.width, msg.height) and pixels.rgb().shape == (h, w, 3)
    got = stream().ingest(ImageFrame(msg), 1.0, None, 1.0)
    assert got.outcome in (Outcome.SAMPLED, Outcome.BAD) and got.fault is None, got


@st.composite
def compressed_payloads(draw):
    """Random bytes, and PNG / JPEG headers that declare any size (decompression bombs among them)."""
    body = draw(st.binary(max_size=200))
    kind = draw(st.sampled_from(["random", "png", "jpeg"]))
    if kind == "png":
        dims = draw(U32).to_bytes(4, "big") + draw(U32).to_bytes(4, "big")
        return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + dims + body
    if kind == "jpeg":
        h, w = draw(st.integers(0, 65535)), draw(st.integers(0, 65535))
        sof = b"\xff\xc0\x00\x11\x08" + h.to_bytes(2, "big") + w.to_bytes(2, "big") + b"\x03"
        return b"\xff\xd8" + draw(st.sampled_from([b"", b"\xff\xe0\x00\x04ab"])) + sof + body
    return body


@FUZZ
@given(compressed_payloads())
def test_any_compressed_payload_is_sized_from_its_header_or_rejected(data):
    try:
        w, h = compressed_size(data)
        assert w >= 0 and h >= 0
    except FrameError:
        pass
    got = stream().ingest(CompressedFrame(CompressedImage(format="png", data=data)), 1.0, None, 1.0)
    assert got.fault is None and got.outcome in (Outcome.SAMPLED, Outcome.BAD)


class Frame:
    """A well-formed frame of a given size; its pixels depend on the stamp."""

    def __init__(self, stamp: float, size: tuple[int, int]):
        self.stamp, self._size = stamp, size

    def size(self):
        return self._size

    def pixels(self):
        from mtl_hri.stream.preprocess import Pixels

        w, h = self._size
        return Pixels(np.full((h, w, 3), int(self.stamp * 7) % 256, np.uint8))


def result_for(job) -> RecognitionResult:
    """Fill the engine's output type from the job's pixels (the engine is not what is fuzzed here)."""
    level = float(job.frames[-1].mean()) / 255
    heads = {task: HeadResult(classes, np.array([1 - level, level])) for task, classes in LABELS.items()}
    hand = HandEstimate(np.array([[level * 10, 5.0]]), np.array([level]))
    return RecognitionResult(heads, hand, hand, Timings(0, 0, 0))


normal = st.floats(0.0, 0.1)  # a camera with jitter and repeated stamps
stamp_steps = st.one_of(
    normal, normal, normal, normal, normal, normal,
    st.floats(-0.3, 0.0),  # out of order
    st.floats(-1e9, 1e9, allow_nan=False),  # a stamp in 2100, a camera restarting at 0, anything
)
PREFIX = [(1 / 15, (32, 24), False)] * 20  # a camera that runs normally first: every example decides


@FUZZ
@given(st.lists(st.tuples(stamp_steps, st.sampled_from([(32, 24)] * 9 + [(40, 30)]),
                          st.integers(0, 19).map(lambda i: i == 0)), min_size=1, max_size=80),
       st.sampled_from([0.0, 5.0, 10.0, 30.0]), st.integers(1, 4), st.sampled_from([0.1, 0.5, 2.0]),
       st.booleans(), st.booleans())
def test_any_stamp_sequence_keeps_the_stream_deciding_on_stamps_that_were_sent(steps, fps, stride, gap, streaming,
                                                                                  offline):
    s = CameraStream(offline)
    s.configure(SPEC, LABELS, fps, stride, gap, SmoothingParams(), rebuild=True, max_clock_offset=0.0)
    sent, decided, t, now = set(), [], 1000.0, 1000.0
    for step, size, silence in PREFIX + steps:
        t += step
        now += 0.05
        if math.isfinite(t):
            got = s.ingest(Frame(t, size), t, t, now)
            assert got.fault is None
            if got.outcome is Outcome.SAMPLED:
                sent.add(t)
        if silence:
            now += gap * 2
            s.check_silence(now)
        while s.has_work(streaming):
            for job in s.next_jobs(streaming):
                assert list(job.geometries) and len(job.frames) == len(job.geometries)
                out = s.complete(job, result_for(job), "state" if streaming else None, now)
                if out is not None:
                    assert finite(out.result)
                    decided.append(out.stamp)
        assert s.window.count <= s.window.length
    assert decided and set(decided) <= sent


def valid_card(model_dir) -> dict:
    return json.loads((model_dir / CARD_FILE).read_text())


json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=4), max_leaves=12)


def paths(card, prefix=()):
    """Every (path, value) in a parsed card, for mutating one field at a time."""
    yield prefix
    if isinstance(card, dict):
        for k, v in card.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(card, list):
        for i, v in enumerate(card):
            yield from paths(v, (*prefix, i))


@pytest.fixture(scope="module")
def card_dir(model_dir, tmp_path_factory):
    return model_dir, tmp_path_factory.mktemp("fuzzed_cards")


@FUZZ
@given(data=st.data())
def test_any_model_card_loads_valid_or_is_refused_with_a_reason(card_dir, data):
    model_dir, out = card_dir
    card = valid_card(model_dir)
    where = data.draw(st.sampled_from(list(paths(card))))
    value = data.draw(json_values)
    if where:
        node = card
        for key in where[:-1]:
            node = node[key]
        node[where[-1]] = value
    else:
        card = value
    text = json.dumps(card, allow_nan=True)
    (out / CARD_FILE).write_text(text)
    try:
        loaded = load_card(out)
    except ModelLoadError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    i = loaded.input
    assert i.frames >= 1 and 16 <= i.size <= i.resize and i.sample_fps > 0 and math.isfinite(i.sample_fps)
    assert all(s > 0 and math.isfinite(s) for s in i.std) and all(0 <= m <= 1 for m in i.mean)
    assert all(classes and classes[0] == "none" for classes in loaded.labels.values())
