"""One camera's diagnostic_msgs/DiagnosticStatus, from its stream's counters and the worker's faults.

The level follows what is happening now (a recent failure, silence, a stalled worker, recent bad frames);
the counters are lifetime totals.
"""
from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue

from ..stream.engine import EngineBase
from ..stream.faults import FaultLog
from ..stream.pipeline import CameraStream

CAMERA_SILENT_AFTER = 2.0  # s without images before diagnostics warn
RECENT = 5.0  # s a rejected frame keeps the level at WARN


def camera_status(name: str, stream: CameraStream, engine: EngineBase | None, load_error: str, faults: FaultLog,
                  now: float) -> DiagnosticStatus:
    stats, w = stream.stats, stream.window
    silent = now - stats.last_frame if stats.last_frame is not None else 0.0
    status = DiagnosticStatus(name=name, hardware_id=str(engine.device) if engine else "none")
    values = {
        "input_fps": f"{stats.frames_in.rate(now):.2f}",
        "sampled_fps": f"{stats.frames_sampled.rate(now):.2f}",
        "decision_rate": f"{stats.decisions.rate(now):.2f}",
        "inference_ms_p50": f"{stats.inference_ms.percentile(50):.1f}",
        "inference_ms_p99": f"{stats.inference_ms.percentile(99):.1f}",
        "latency_ms_p50": f"{stats.latency_ms.percentile(50):.1f}",
        "latency_ms_p99": f"{stats.latency_ms.percentile(99):.1f}",
        "frames_in": str(stats.frames_in.total),
        "frames_bad": str(stats.frames_bad),
        "frames_backwards": str(w.rejected_backwards if w else 0),
        "frames_off_clock": str(stats.frames_off_clock),
        "stream_restarts": str(stats.restarts),
        "windows_skipped": str(stats.windows_skipped),
        "window_resets": str(w.resets if w else 0),
        "window_fill": f"{w.count if w else 0}/{w.length if w else 0}",
        "bodies_tracked": str(len(stream.tracked)),
        "bodies_created": str(stats.bodies_created),
        "bodies_dropped": str(stats.bodies_dropped),
        "bodies_left_out": str(stats.bodies_left_out),
        "front_end": "on" if stream.front_end else "off",
        "detect_ms_p50": f"{stats.detect_ms.percentile(50):.1f}",
        "landmarks_ms_p50": f"{stats.landmarks_ms.percentile(50):.1f}",
        "hands_ms_p50": f"{stats.hands_ms.percentile(50):.1f}",
        "worker_errors": str(faults.total),
        **{f"errors_{stage}": str(n) for stage, n in sorted(faults.counts.items())},
        "device": str(engine.device) if engine else "none",
        "backend": engine.backend if engine else "none",
        "accel": engine.accel if engine else "none",
        "model": engine.card.name if engine else "none",
        "model_trained": str(engine.card.provenance.trained).lower() if engine else "false",
        "streaming": str(engine.streaming).lower() if engine else "false",
        "input": engine.card.input.modality if engine else "none",
        "hands_source": engine.card.hands_source if engine else "none",
    }
    recent = stats.recent(now, RECENT)
    if engine is None:
        status.level, status.message = DiagnosticStatus.ERROR, load_error
    elif faults.active(now):
        status.level, status.message = DiagnosticStatus.ERROR, faults.last
    elif stream.stale(now):
        status.level, status.message = DiagnosticStatus.STALE, "frames arrive but no decision comes out"
    elif stats.frames_in.total and silent > CAMERA_SILENT_AFTER:
        status.level, status.message = DiagnosticStatus.WARN, f"no images for {silent:.1f} s"
    elif recent:
        status.level, status.message = DiagnosticStatus.WARN, f"in the last {RECENT:g} s: {', '.join(recent)}"
    else:
        status.level, status.message = DiagnosticStatus.OK, "running"
    status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
    return status
