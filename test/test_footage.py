"""`mtl-hri-eval --footage`: segments read and checked, scores computed right, the whole pipeline run on real video."""
import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from mtl_hri.tools.footage import SCENE, Decision, Segment, evaluate_footage, load_segments, score

LABELS = {"action": ["none", "walk", "sit_down"], "gesture": ["none", "wave", "stop", "point"]}


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(["video,first,last,task,label", *rows]) + "\n")
    return path


def test_segments_are_checked_against_the_model_and_name_their_line(tmp_path):
    video = tmp_path / "clip.avi"
    video.write_bytes(b"")
    got = load_segments(write_csv(tmp_path / "ok.csv", ["clip.avi,0,9,action,walk"]), LABELS)
    assert got == [Segment(video.resolve(), 0, 9, "action", "walk")]
    for row, says in [("clip.avi,x,9,action,walk", "line 2: first and last must be frame numbers"),
                      ("clip.avi,9,3,action,walk", "line 2: needs 0 <= first <= last, got 9, 3"),
                      ("clip.avi,0,9,posture,sitting", "line 2: the model has no task 'posture'"),
                      ("clip.avi,0,9,gesture,walk", "line 2: 'walk' is not a gesture label of the model"),
                      ("nowhere.avi,0,9,action,walk", "line 2: no video 'nowhere.avi'")]:
        with pytest.raises(ValueError, match=says):
            load_segments(write_csv(tmp_path / "bad.csv", [row]), LABELS)
    (tmp_path / "header.csv").write_text("video,start,end,task,label\n")
    with pytest.raises(ValueError, match="the header must be video,first,last,task,label"):
        load_segments(tmp_path / "header.csv", LABELS)


def test_scores_count_right_decisions_segments_and_false_decisions_per_minute():
    v = Path("v.avi")
    segments = [Segment(v, 0, 59, "action", "walk"), Segment(v, 0, 59, "gesture", "none")]
    decided = [Decision("a", f, {"action": "walk" if f < 40 else "sit_down", "gesture": g})
               for f, g in zip(range(60), ["none"] * 10 + ["wave"] * 5 + ["none"] * 10 + ["wave"] * 35)]
    decided += [Decision(SCENE, f, {"action": "none", "gesture": "none"}) for f in range(30, 60)]
    scores = score(segments, {v: decided}, {v: 10.0})
    action, gesture = scores["action"], scores["gesture"]
    assert (action.decisions, action.correct, action.segments_correct) == (90, 40, 1)  # walk is the most frequent
    assert action.confusions == {"sit_down": 20, "none": 30}
    assert gesture.false_decisions == 2  # "a" entered wave twice; the scene never left none
    assert gesture.none_minutes == pytest.approx(6.0 / 60)  # 60 frames at 10 FPS
    assert gesture.none_person_minutes == pytest.approx((6.0 + 3.0) / 60)
    assert gesture.false_per_minute == pytest.approx(20.0) and gesture.segments_correct == 1


def test_the_whole_pipeline_runs_on_a_real_clip_and_draws_its_timeline(model_dir, footage, tmp_path):
    from mtl_hri.stream.engine import create_engine

    capture, clip = cv2.VideoCapture(str(footage)), tmp_path / "street.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (768, 576))
    for _ in range(40):
        writer.write(capture.read()[1])
    writer.release()
    engine = create_engine(model_dir, "torch", device="cpu")
    csv_path = write_csv(tmp_path / "segments.csv", ["street.avi,0,39,action,walk", "street.avi,0,39,gesture,none"])
    report = evaluate_footage(csv_path, engine, tmp_path / "out")
    (info,) = report["videos"].values()
    assert info["fps"] == pytest.approx(10.0) and info["streams"] >= 2  # several pedestrians, each their stream
    for task in ("action", "gesture"):
        s = report["tasks"][task]
        assert s["decisions"] == info["decisions"] > 0 and 0 <= s["correct"] <= s["decisions"]
    assert report["tasks"]["gesture"]["none_minutes"] == pytest.approx(4.0 / 60)
    assert [(r["task"], r["decisions"]) for r in report["per_segment"]] == [("action", info["decisions"]),
                                                                            ("gesture", info["decisions"])]
    (plot,) = report["plots"]
    assert Path(plot).stat().st_size > 10_000 and cv2.imread(plot) is not None
    json.dumps(report)  # what the CLI writes


def test_the_command_line_refuses_a_bad_segments_file_in_one_line(tmp_path):
    bad = write_csv(tmp_path / "bad.csv", ["missing.avi,0,9,action,walk"])
    run = subprocess.run([sys.executable, "-m", "mtl_hri.tools.evaluate", "--footage", str(bad), "--out",
                          str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip().startswith("mtl-hri-eval: error: ") and "no video 'missing.avi'" in run.stderr


def test_a_keypoint_model_runs_the_whole_pipeline_on_real_footage(footage, tmp_path):
    """Run a keypoint model offline and in the footage evaluation.

    Per-body landmarks go in, the front end's hands come out, and while nobody is tracked there are no hands (null
    in the JSON, not an error).
    """
    from mtl_hri.stream.engine import create_engine

    from .test_body_streams import keypoint_model

    capture, clip = cv2.VideoCapture(str(footage)), tmp_path / "street.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (768, 576))
    for _ in range(30):
        writer.write(capture.read()[1])
    writer.release()
    model = keypoint_model(tmp_path / "kp")
    run = subprocess.run([sys.executable, "-m", "mtl_hri.tools.offline", str(clip), "--model", str(model), "--out",
                          str(tmp_path / "out.json")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    decisions = json.loads((tmp_path / "out.json").read_text())["decisions"]
    assert decisions and all((d["left_x"] is None) == (d["left_conf"] is None) for d in decisions)
    assert any(d["left_x"] is not None for d in decisions)  # a body's decisions carry the front end's hands
    engine = create_engine(model, "onnxruntime", device="cpu")
    report = evaluate_footage(write_csv(tmp_path / "s.csv", ["street.avi,0,29,action,walk"]), engine, tmp_path / "e")
    assert report["tasks"]["action"]["decisions"] > 0
