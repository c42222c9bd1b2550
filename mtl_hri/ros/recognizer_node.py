"""The `recognizer` node: camera frames -> sliding window -> multi-task network -> labels and hands.

The image callback only converts, resizes and stores a frame. A worker thread runs the network on
the newest complete window; windows that became stale meanwhile are skipped, never queued, so the
node cannot fall behind the camera.
"""
from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import rclpy
import torch
from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Pose, PoseArray
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import QoSProfile, QoSReliabilityPolicy, qos_profile_sensor_data
from rclpy.qos_overriding_options import QoSOverridingOptions
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header, String

from ..model import ModelLoadError
from ..stream import DecisionSmoother, FrameGeometry, FrameWindow, Push, RecognitionResult, Recognizer, SmoothingParams
from ..stream.overlay import OverlayInfo, draw_overlay
from ..stream.stats import RateMeter, RollingStats
from .image_conv import ImageError, array_to_image, check_image, compressed_to_rgb, message_to_rgb

NONE = "none"
CAMERA_SILENT_AFTER = 2.0  # s without images before diagnostics warn
TRAIL = 12  # hand positions kept for the debug trail
THROTTLE = 5.0  # s between repeated warnings of one kind


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    description: str
    range: tuple[float, float] | None = None
    choices: tuple[str, ...] | None = None
    reload: bool = False  # a change reloads the engine


PARAMS = (
    Param("model", "", "Model directory (model.json + model.safetensors); empty selects the bundled model.", reload=True),
    Param("device", "auto", "auto, cpu, cuda or cuda:N; auto falls back to the CPU with a warning.", reload=True),
    Param("precision", "auto", "fp32, fp16, bf16 or auto (bf16 on CUDA, fp32 on the CPU).",
          choices=("auto", "fp32", "fp16", "bf16"), reload=True),
    Param("sample_fps", -1.0, "Frames are sampled by stamp at this rate; -1 takes the model card's rate, 0 every frame.",
          range=(-1.0, 240.0)),
    Param("stride", 1, "Sampled frames between two decisions.", range=(1, 64)),
    Param("streaming", True, "Incremental per-frame inference when the trunk supports it."),
    Param("smoothing", 0.5, "EMA factor over window probabilities (0 = no smoothing).", range=(0.0, 0.99)),
    Param("enter_threshold", 0.6, "Smoothed probability at which a label is entered.", range=(0.0, 1.0)),
    Param("exit_threshold", 0.4, "Smoothed probability below which a label is left.", range=(0.0, 1.0)),
    Param("min_duration", 0.0, "Seconds a new label must hold before it is published.", range=(0.0, 30.0)),
    Param("max_frame_gap", 0.5, "A longer gap between stamps resets the window and publishes none (s).",
          range=(0.01, 60.0)),
    Param("image_transport", "raw", "raw or compressed (subscribes to <image>/compressed).", choices=("raw", "compressed")),
    Param("num_threads", 0, "CPU threads for inference; 0 picks all cores.", range=(0, 256)),
)
READ_ONLY = ("image_transport", "action_labels", "gesture_labels")


@dataclass
class FrameMeta:
    geometry: FrameGeometry
    header: Header
    rgb: np.ndarray | None  # the source frame, kept only while debug_image has subscribers


def bundled_model_dir() -> Path:
    """The model installed with the package (share/mtl_hri/models/default)."""
    try:
        return Path(get_package_share_directory("mtl_hri")) / "models" / "default"
    except PackageNotFoundError:
        return Path(__file__).resolve().parents[2] / "models" / "default"


def stamp_seconds(header: Header) -> float:
    return header.stamp.sec + header.stamp.nanosec * 1e-9


def _descriptor(p: Param) -> ParameterDescriptor:
    d = ParameterDescriptor(description=p.description)
    if p.choices:
        d.additional_constraints = "one of: " + ", ".join(p.choices)
    if p.range is not None and isinstance(p.default, float):
        d.floating_point_range = [FloatingPointRange(from_value=p.range[0], to_value=p.range[1], step=0.0)]
    elif p.range is not None:
        d.integer_range = [IntegerRange(from_value=int(p.range[0]), to_value=int(p.range[1]), step=1)]
    return d


class RecognizerNode(Node):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__("recognizer", **kwargs)
        self._cond = threading.Condition()
        self._declare_parameters()

        # Outputs. Decisions are reliable so a controller sees every change.
        reliable = QoSProfile(depth=10, reliability=QoSReliabilityPolicy.RELIABLE)
        self.pub_action = self.create_publisher(String, "action", reliable)
        self.pub_gesture = self.create_publisher(String, "gesture", reliable)
        self.pub_hands = self.create_publisher(PoseArray, "hands", reliable)
        self.pub_debug = self.create_publisher(Image, "debug_image", 1)
        self.pub_diag = self.create_publisher(DiagnosticArray, "/diagnostics", 10)

        # Counters and statistics (guarded by self._cond).
        self.frames_in = RateMeter()
        self.frames_sampled = RateMeter()
        self.decisions = RateMeter()
        self.frames_bad = 0
        self.windows_skipped = 0
        self.inference_ms = RollingStats()
        self.latency_ms = RollingStats()
        self.last_error = ""
        self._last_frame_wall = time.monotonic()
        self._silent_reported = False
        self._trails = (collections.deque(maxlen=TRAIL), collections.deque(maxlen=TRAIL))

        self.engine: Recognizer | None = None
        self.window: FrameWindow[FrameMeta] | None = None
        self.smoothers: dict[str, DecisionSmoother] = {}
        self._taken_seq = self._processed = self._resets_seen = 0
        self._stopping = False
        error = self._load_engine(self._p("model"), self._p("device"), self._p("precision"))
        if error:
            self.get_logger().error(f"{error}. The node keeps running without a model; set 'model' to a valid directory.")

        qos_overrides = QoSOverridingOptions.with_default_policies()
        if self._p("image_transport") == "compressed":
            topic = self.resolve_topic_name("image") + "/compressed"
            self.create_subscription(CompressedImage, topic, self._on_compressed, qos_profile_sensor_data,
                                     qos_overriding_options=qos_overrides)
        else:
            self.create_subscription(Image, "image", self._on_image, qos_profile_sensor_data,
                                     qos_overriding_options=qos_overrides)
        self.create_timer(1.0, self._on_diagnostics_timer)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self._worker = threading.Thread(target=self._run_worker, name="mtl_hri_inference", daemon=True)
        self._worker.start()

    # ----------------------------------------------------------------- parameters
    def _declare_parameters(self) -> None:
        for p in PARAMS:
            descriptor = _descriptor(p)
            try:
                self.declare_parameter(p.name, p.default, descriptor)
                error = self._validate(p.name, self._p(p.name))
            except Exception as exc:  # an override of the wrong type or out of range
                error = str(exc)
            if error:
                self.get_logger().error(f"parameter '{p.name}' rejected: {error}; using the default {p.default!r}")
                self.undeclare_parameter(p.name)
                self.declare_parameter(p.name, p.default, descriptor, ignore_override=True)
        for task in ("action", "gesture"):
            self.declare_parameter(
                f"{task}_labels", [NONE],
                ParameterDescriptor(description=f"The model's {task} classes (read-only)."),
                ignore_override=True,
            )

    def _p(self, name: str) -> Any:
        return self.get_parameter(name).value

    def _validate(self, name: str, value: Any, pending: dict[str, Any] | None = None) -> str | None:
        """None when `value` is acceptable for `name`, else the reason."""
        def get(n: str) -> Any:
            return (pending or {}).get(n, self._p(n))

        spec = next((p for p in PARAMS if p.name == name), None)
        if spec and spec.choices and value not in spec.choices:
            return f"'{value}' is not one of {', '.join(spec.choices)}"
        if name == "device" and not (value in ("auto", "cpu", "cuda") or
                                     (value.startswith("cuda:") and value[5:].isdigit())):
            return f"'{value}' is not auto, cpu, cuda or cuda:N"
        if name == "sample_fps" and value < 0 and value != -1.0:
            return "sample_fps must be -1 (model card), 0 (every frame) or positive"
        if name in ("enter_threshold", "exit_threshold"):
            enter, exit_ = get("enter_threshold"), get("exit_threshold")
            if not 0.0 < exit_ <= enter:
                return f"need 0 < exit_threshold ({exit_}) <= enter_threshold ({enter})"
        return None

    def _on_set_parameters(self, params: list) -> SetParametersResult:
        pending = {p.name: p.value for p in params}
        for p in params:
            if p.name in READ_ONLY and not getattr(self, "_internal_set", False):
                return SetParametersResult(successful=False, reason=f"'{p.name}' is read-only")
            error = self._validate(p.name, p.value, pending)
            if error:
                return SetParametersResult(successful=False, reason=error)
        reload = [p for p in PARAMS if p.reload and p.name in pending]
        if reload:
            error = self._load_engine(*(pending.get(n, self._p(n)) for n in ("model", "device", "precision")))
            if error:
                return SetParametersResult(successful=False, reason=error)
            self.get_logger().info(f"reloaded the engine for {', '.join(p.name for p in reload)}")
        else:
            with self._cond:
                self._configure(pending)
        return SetParametersResult(successful=True)

    # ----------------------------------------------------------------- engine and window
    def _load_engine(self, model: str, device: str, precision: str) -> str | None:
        """Load a new engine; on failure keep the current one and return the reason."""
        model_dir = Path(model) if model else bundled_model_dir()
        try:
            if self._p("num_threads"):
                torch.set_num_threads(self._p("num_threads"))
            engine = Recognizer(model_dir, device=device, precision=precision, streaming=self._p("streaming"))
        except (ModelLoadError, ValueError, RuntimeError, OSError) as exc:
            with self._cond:
                self.last_error = f"cannot load model '{model_dir}': {exc}"
            return self.last_error
        if engine.device_warning:
            self.get_logger().warning(engine.device_warning)
        with self._cond:
            self.engine = engine
            self.window = None
            self.last_error = ""
            self._configure({})
        self._internal_set = True
        try:
            self.set_parameters([
                rclpy.parameter.Parameter(f"{task}_labels", value=engine.labels.get(task, [NONE]))
                for task in ("action", "gesture")
            ])
        finally:
            self._internal_set = False
        self.get_logger().info(
            f"model '{engine.card.name}' from {model_dir} on {engine.device} "
            f"({'trained' if engine.card.provenance.trained else 'UNTRAINED: outputs are not meaningful'})"
        )
        return None

    def _configure(self, pending: dict[str, Any]) -> None:
        """(Re)build the window and smoothers from parameters; called with the lock held."""
        if self.engine is None:
            return
        get = lambda n: pending.get(n, self._p(n))  # noqa: E731
        spec = self.engine.spec
        fps = spec.sample_fps if get("sample_fps") == -1.0 else get("sample_fps")
        if self.window is None or self.window.sample_fps != fps:
            self.window = FrameWindow(spec.frames, (spec.size, spec.size, 3), fps, get("stride"), get("max_frame_gap"))
            self._taken_seq = self._processed = self._resets_seen = 0
        if "streaming" in pending:
            self.engine.set_streaming(pending["streaming"])
        self.window.stride = get("stride")
        self.window.max_frame_gap = get("max_frame_gap")
        params = SmoothingParams(get("smoothing"), get("enter_threshold"), get("exit_threshold"), get("min_duration"))
        if set(self.smoothers) != set(self.engine.labels):
            self.smoothers = {task: DecisionSmoother(labels, params) for task, labels in self.engine.labels.items()}
        for smoother in self.smoothers.values():
            smoother.params = params

    # ----------------------------------------------------------------- input
    def _on_image(self, msg: Image) -> None:
        self._ingest(msg.header, lambda: message_to_rgb(msg), lambda: check_image(msg))

    def _on_compressed(self, msg: CompressedImage) -> None:
        self._ingest(msg.header, lambda: compressed_to_rgb(msg))

    def _ingest(self, header: Header, convert: Callable[[], np.ndarray],
                check: Callable[[], object] | None = None) -> None:
        """Validate every frame; convert and store only the frames the window samples."""
        stamp = stamp_seconds(header)
        now = time.monotonic()
        with self._cond:
            self.frames_in.tick(now)
            self._last_frame_wall = now
            self._silent_reported = False
            if self.engine is None or self.window is None:
                self.get_logger().error(f"dropping frames: {self.last_error}", throttle_duration_sec=THROTTLE)
                return
            try:
                if check is not None:
                    check()
                if self.window.check_gap(stamp):
                    self._publish_none(header)
                kind = self.window.classify(stamp)
                if kind is Push.SAMPLED:
                    rgb = convert()
            except ImageError as exc:
                self.frames_bad += 1
                self.get_logger().warning(f"dropping a malformed image: {exc} ({self.frames_bad} so far)",
                                          throttle_duration_sec=THROTTLE)
                return
            if kind is Push.BACKWARDS:
                self.window.push(stamp, None)
                self.get_logger().warning(
                    f"dropping a frame whose stamp {stamp:.3f} does not follow the previous one "
                    f"({self.window.rejected_backwards} so far)", throttle_duration_sec=THROTTLE)
                return
            if kind is Push.SKIPPED:
                self.window.push(stamp, None)
                return
            crop, geometry = self.engine.prepare(rgb)
            keep = rgb if self.pub_debug.get_subscription_count() > 0 else None
            self.frames_sampled.tick(now)
            self.window.push(stamp, crop, FrameMeta(geometry, header, keep))
            self._cond.notify()

    # ----------------------------------------------------------------- inference
    def _work_ready(self) -> bool:
        w = self.window
        if self._stopping:
            return True
        if w is None or self.engine is None:
            return False
        return w.sampled_total > self._processed if self.engine.streaming else w.decisions_due > self._taken_seq

    def _next_job(self) -> tuple | None:
        """Called with the lock held: what the worker should run now, or None.

        Streaming steps one frame when exactly one is new; after a reset, or when the worker fell
        behind, it primes on the newest full window instead (stale frames are skipped, not queued).
        """
        w, engine = self.window, self.engine
        due = w.decisions_due > self._taken_seq
        self.windows_skipped += max(0, w.decisions_due - self._taken_seq - 1)
        self._taken_seq = w.decisions_due
        if not engine.streaming:
            snap = w.snapshot()
            return "window", engine, snap.frames, [m.geometry for m in snap.metas], snap.metas[-1], snap.stamps[-1], due
        new = w.sampled_total - self._processed
        self._processed = w.sampled_total
        if w.resets != self._resets_seen:
            self._resets_seen = w.resets
            engine.reset_stream()
        if not w.full:
            return None
        if new == 1 and engine.stream_ready:
            frame, stamp, meta = w.newest()
            return "frame", engine, frame, meta.geometry, meta, stamp, due
        snap = w.snapshot()
        return "window", engine, snap.frames, [m.geometry for m in snap.metas], snap.metas[-1], snap.stamps[-1], due

    def _run_worker(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(self._work_ready)
                if self._stopping:
                    return
                job = self._next_job()
                smoothers = self.smoothers
            if job is None:
                continue
            kind, engine, frames, geometry, newest, stamp, due = job
            try:
                result = engine.step(frames, geometry) if kind == "frame" else engine.infer(frames, geometry)
            except RuntimeError as exc:  # e.g. CUDA out of memory: report, keep serving
                engine.reset_stream()
                self.get_logger().error(f"inference failed: {exc}", throttle_duration_sec=THROTTLE)
                continue
            if due:
                self._publish(result, newest, float(stamp), smoothers)

    def _publish(self, result: RecognitionResult, newest: FrameMeta, stamp: float,
                 smoothers: dict[str, DecisionSmoother]) -> None:
        with self._cond:
            decisions = {task: smoothers[task].update(head.probs, stamp) for task, head in result.heads.items()}
        for task, pub in (("action", self.pub_action), ("gesture", self.pub_gesture)):
            if task in decisions:
                pub.publish(String(data=decisions[task].label))
        if result.left is not None:
            hands = PoseArray(header=newest.header)
            for track, trail in zip((result.left, result.right), self._trails):
                x, y = (float(v) for v in track.xy[-1])
                pose = Pose()
                pose.position.x, pose.position.y, pose.position.z = x, y, float(track.confidence[-1])
                hands.poses.append(pose)
                trail.append((x, y, float(track.confidence[-1])))
            self.pub_hands.publish(hands)
        latency = (self.get_clock().now().nanoseconds * 1e-9 - stamp) * 1e3
        with self._cond:
            self.decisions.tick(time.monotonic())
            self.inference_ms.add(result.timings.inference_ms)
            self.latency_ms.add(latency)
        if newest.rgb is not None and self.pub_debug.get_subscription_count() > 0:
            info = OverlayInfo(
                decisions={t: (d.label, d.score) for t, d in decisions.items()},
                probs={t: (h.labels, h.probs) for t, h in result.heads.items()},
                trails=[list(t) for t in self._trails],
                lines=[f"window {self.window.count}/{self.window.length}  "
                       f"inference {result.timings.inference_ms:.0f} ms  latency {latency:.0f} ms"],
            )
            self.pub_debug.publish(array_to_image(draw_overlay(newest.rgb, info), "rgb8", newest.header))

    def _publish_none(self, header: Header) -> None:
        """After a reset: forget the smoothed state and tell subscribers nobody is doing anything."""
        for smoother in self.smoothers.values():
            smoother.reset()
        for trail in self._trails:
            trail.clear()
        self.pub_action.publish(String(data=NONE))
        self.pub_gesture.publish(String(data=NONE))

    # ----------------------------------------------------------------- diagnostics
    def _on_diagnostics_timer(self) -> None:
        now = time.monotonic()
        with self._cond:
            silent = now - self._last_frame_wall
            if (self.window is not None and self.window.count and silent > self.window.max_frame_gap
                    and not self._silent_reported):
                self._silent_reported = True
                self.window.reset()
                self.window.resets += 1
                self._publish_none(Header())
            status = DiagnosticStatus(name=f"mtl_hri: {self.get_fully_qualified_name()}",
                                      hardware_id=str(self.engine.device) if self.engine else "none")
            w = self.window
            values = {
                "input_fps": f"{self.frames_in.rate(now):.2f}",
                "sampled_fps": f"{self.frames_sampled.rate(now):.2f}",
                "decision_rate": f"{self.decisions.rate(now):.2f}",
                "inference_ms_p50": f"{self.inference_ms.percentile(50):.1f}",
                "inference_ms_p99": f"{self.inference_ms.percentile(99):.1f}",
                "latency_ms_p50": f"{self.latency_ms.percentile(50):.1f}",
                "latency_ms_p99": f"{self.latency_ms.percentile(99):.1f}",
                "frames_in": str(self.frames_in.total),
                "frames_bad": str(self.frames_bad),
                "frames_backwards": str(w.rejected_backwards if w else 0),
                "windows_skipped": str(self.windows_skipped),
                "window_resets": str(w.resets if w else 0),
                "window_fill": f"{w.count if w else 0}/{w.length if w else 0}",
                "device": str(self.engine.device) if self.engine else "none",
                "model": self.engine.card.name if self.engine else "none",
                "model_trained": str(self.engine.card.provenance.trained) if self.engine else "false",
                "streaming": str(self.engine.streaming).lower() if self.engine else "false",
            }
            if self.engine is None:
                status.level, status.message = DiagnosticStatus.ERROR, self.last_error
            elif self.frames_in.total and silent > CAMERA_SILENT_AFTER:
                status.level, status.message = DiagnosticStatus.WARN, f"no images for {silent:.1f} s"
            elif self.frames_bad or (w and w.rejected_backwards):
                status.level, status.message = DiagnosticStatus.WARN, "malformed or out-of-order frames dropped"
            else:
                status.level, status.message = DiagnosticStatus.OK, "running"
        status.values = [KeyValue(key=k, value=v) for k, v in values.items()]
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self.pub_diag.publish(array)
        if status.level == DiagnosticStatus.WARN and silent > CAMERA_SILENT_AFTER:
            self.get_logger().warning(status.message, throttle_duration_sec=THROTTLE)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._worker.join(timeout=5.0)


def main(args: list[str] | None = None) -> int:
    rclpy.init(args=args)
    node = RecognizerNode()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.stop()
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
