"""mtl-hri-offline on bad inputs and flags: one line and exit code 2, before any work.

Bad frames inside a recording are skipped and counted, and a source that breaks off still gives the decisions
made up to there.
"""
import json
import subprocess
import sys

import numpy as np
import pytest

ROS2 = "sensor_msgs/msg/Image"


def run_offline(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "mtl_hri.tools.offline", *map(str, args)], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


def write_bag(path, frames, topic="/cam/image", extra_topic=None):
    """Write a real rosbag2 (MCAP) of sensor_msgs/Image with rosbags, as `ros2 bag record` would."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_KILTED)
    image_t, header_t, time_t = (store.types[n] for n in (ROS2, "std_msgs/msg/Header", "builtin_interfaces/msg/Time"))
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        if extra_topic:
            string_t = store.types["std_msgs/msg/String"]
            conn = writer.add_connection(extra_topic, "std_msgs/msg/String", typestore=store)
            writer.write(conn, 1, store.serialize_cdr(string_t(data="hello"), "std_msgs/msg/String"))
        if not frames:
            return path
        conn = writer.add_connection(topic, ROS2, typestore=store)
        for i, (height, width) in enumerate(frames):
            t = 100.0 + i / 15
            data = np.random.default_rng(i).integers(0, 256, height * width * 3, np.uint8)
            msg = image_t(header=header_t(stamp=time_t(sec=int(t), nanosec=int(t % 1 * 1e9)), frame_id="cam"),
                          height=height, width=width, encoding="rgb8", is_bigendian=0, step=width * 3, data=data)
            writer.write(conn, int(t * 1e9), store.serialize_cdr(msg, ROS2))
    return path


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory, footage):
    d = tmp_path_factory.mktemp("offline_inputs")
    (d / "a.gif").write_bytes(b"GIF89a\x01\x00\x01\x00")
    (d / "empty.mp4").write_bytes(b"")
    (d / "truncated.avi").write_bytes(footage.read_bytes()[:4000])
    (d / "header_only.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
    (d / "not_a_bag").mkdir()
    write_bag(d / "no_images", [], extra_topic="/chatter")
    write_bag(d / "images", [(48, 64)] * 3)
    return d


@pytest.mark.parametrize("name, flags, says", [
    ("a.gif", [], "neither a video"),
    ("empty.mp4", [], "cannot read a frame"),
    ("truncated.avi", [], "cannot read a frame"),
    ("header_only.mp4", [], "cannot read a frame"),
    ("not_a_bag", [], "as a rosbag2 recording"),
    ("no_images", [], "no image topic"),
    ("images", ["--topic", "/wrong"], "no image topic /wrong"),
    ("missing.mp4", [], "does not exist"),
    ("images", ["--stride", "0"], "--stride"),
    ("images", ["--smoothing", "1.5"], "smoothing"),
    ("images", ["--sample-fps", "nan"], "--sample-fps"),
    ("images", ["--sample-fps", "-3"], "--sample-fps"),
    ("images", ["--max-frame-gap", "inf"], "--max-frame-gap"),
    ("images", ["--out", "OUTDIR"], "is a directory"),
    ("images", ["--out", "decisions.txt"], "must end in .json or .csv"),
    ("images", ["--video-out", "v.avi"], "must end in .mp4"),
])
def test_a_bad_input_or_flag_is_one_line_and_exit_code_2(bad_inputs, tmp_path, name, flags, says):
    flags = [str(tmp_path) if f == "OUTDIR" else f for f in flags]
    run = run_offline(bad_inputs / name, "--device", "cpu", *flags, cwd=tmp_path)
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert run.returncode == 2, run.stderr
    assert len(lines) == 1 and lines[0].startswith("mtl-hri-offline: error: ") and says in lines[0], run.stderr
    assert "Traceback" not in run.stderr and not list(tmp_path.glob("*.json"))


def test_bad_frames_inside_a_recording_are_skipped_and_a_broken_recording_keeps_its_decisions(tmp_path, model_dir):
    sizes = [(48, 64)] * 30
    sizes[5] = (1, 1_000_000 // 3)  # far beyond the aspect limit: refused from its header
    sizes[9] = (0, 0)
    bag = write_bag(tmp_path / "mixed", sizes)
    out = tmp_path / "decisions.json"
    run = run_offline(bag, "--model", model_dir, "--device", "cpu", "--sample-fps", "0", "--out", out)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["counts"]["bad"] == 2 and result["counts"]["frames"] == 30
    assert len(result["decisions"]) == 28 - 15  # every good frame once the window is full
    # a recording truncated on disk is refused when it is opened, in one line
    mcap = next(bag.glob("*.mcap"))
    truncated = tmp_path / "truncated"
    truncated.mkdir()
    (truncated / "metadata.yaml").write_text((bag / "metadata.yaml").read_text())
    (truncated / mcap.name).write_bytes(mcap.read_bytes()[: mcap.stat().st_size * 2 // 3])
    run = run_offline(truncated, "--model", model_dir, "--device", "cpu", "--out", tmp_path / "t.json")
    assert run.returncode == 2 and "as a rosbag2 recording" in run.stderr and "Traceback" not in run.stderr


def test_a_source_that_breaks_off_keeps_the_decisions_made_before(model_dir):
    """A disk or network error in the middle of a recording ends the run with what was decided up to there."""
    from mtl_hri.stream.engine import create_engine
    from mtl_hri.stream.pipeline import ArrayFrame, CameraStream
    from mtl_hri.stream.preprocess import Pixels
    from mtl_hri.stream.smoothing import SmoothingParams
    from mtl_hri.tools.offline import Frame, process

    engine = create_engine(model_dir, "torch", device="cpu")
    stream = CameraStream(offline=True)
    stream.configure(engine.spec, engine.labels, 0.0, 1, 0.5, SmoothingParams(), rebuild=True)

    def frames():
        for i in range(20):
            yield Frame(i / 15, "cam", i, ArrayFrame(Pixels(np.full((48, 64, 3), i, np.uint8))))
        raise OSError("Input/output error")

    rows, counts = process(frames(), engine, stream)
    assert counts["frames"] == 20 and counts["read_errors"] == 1 and len(rows) == 20 - 15
