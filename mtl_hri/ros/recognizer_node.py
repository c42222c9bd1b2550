"""The `recognizer` node: camera frames -> sliding window -> multi-task network -> labels and hands.

The image callback only converts, resizes and stores a frame. A worker thread runs the network on
the newest work of every camera, batching cameras that are due together into one forward pass;
windows that became stale meanwhile are skipped, never queued, so the node cannot fall behind.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import rclpy
import torch
from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.node import Node
from std_msgs.msg import Header

from ..model import ModelLoadError
from ..stream import SmoothingParams
from ..stream.pipeline import Job, run_jobs, sample_fps_for
from ..stream.engine import BACKENDS, EngineBase, create_engine
from .camera import NONE, THROTTLE, Camera
from .runner import spin_node

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
    Param("backend", "auto", "torch, onnxruntime, or auto (ONNX Runtime on the CPU when the model has an export).",
          choices=BACKENDS, reload=True),
    Param("accel", "auto", "GPU window forward: eager, graphs (CUDA-graph replay), compile (torch.compile), or auto "
          "(the fastest measured at warm-up). Ignored on the CPU.", choices=("auto", "eager", "graphs", "compile"),
          reload=True),
    Param("offline", False, "Process every window in order instead of skipping stale ones, and receive images "
          "reliably without dropping any: replaying a recording gives the same decisions at any speed."),
    Param("images", [""], "Camera names: each subscribes <name>/image and publishes under <name>/; "
          "[''] (default) is one camera on `image` with un-prefixed outputs."),
)
READ_ONLY = ("image_transport", "images", "offline", "action_labels", "gesture_labels")


def bundled_model_dir() -> Path:
    """The model installed with the package (share/mtl_hri/models/default)."""
    try:
        return Path(get_package_share_directory("mtl_hri")) / "models" / "default"
    except PackageNotFoundError:
        return Path(__file__).resolve().parents[2] / "models" / "default"


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
        self.pub_diag = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        names = list(dict.fromkeys(self._p("images"))) or [""]
        self.cameras = [Camera(self, name, self._p("image_transport"), self._ingest, self._p("offline"))
                        for name in names]
        self.engine: EngineBase | None = None
        self.last_error = ""
        self._stopping = False
        error = self._load_engine(self._p("model"), self._p("device"), self._p("precision"), self._p("backend"))
        if error:
            self.get_logger().error(f"{error}. The node keeps running without a model; set 'model' to a valid directory.")
        self.create_timer(1.0, self._on_diagnostics_timer)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self._worker = threading.Thread(target=self._run_worker, name="mtl_hri_inference", daemon=True)
        self._worker.start()

    # ----------------------------------------------------------------- parameters
    def _declare_parameters(self) -> None:
        """Declare everything first (some checks involve two parameters), then validate the overrides."""
        for p in PARAMS:
            try:
                self.declare_parameter(p.name, p.default, _descriptor(p))
            except Exception as exc:  # an override of the wrong type or out of range
                self.get_logger().error(f"parameter '{p.name}' rejected: {exc}; using the default {p.default!r}")
                self.declare_parameter(p.name, p.default, _descriptor(p), ignore_override=True)
        for p in PARAMS:
            error = self._validate(p.name, self._p(p.name))
            if error:
                self.get_logger().error(f"parameter '{p.name}' rejected: {error}; using the default {p.default!r}")
                self.set_parameters([rclpy.parameter.Parameter(p.name, value=p.default)])
        for task in ("action", "gesture"):
            self.declare_parameter(f"{task}_labels", [NONE],
                                   ParameterDescriptor(description=f"The model's {task} classes (read-only)."),
                                   ignore_override=True)

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
        if name == "images" and any("/" in n.strip("/") or " " in n for n in value):
            return "camera names must be single topic-name tokens"
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
            error = self._load_engine(*(pending.get(n, self._p(n)) for n in ("model", "device", "precision", "backend")))
            if error:
                return SetParametersResult(successful=False, reason=error)
            self.get_logger().info(f"reloaded the engine for {', '.join(p.name for p in reload)}")
        else:
            with self._cond:
                if "streaming" in pending and self.engine is not None:
                    self.engine.set_streaming(pending["streaming"])
                self._configure(pending, rebuild=False)
        return SetParametersResult(successful=True)

    # ----------------------------------------------------------------- engine and cameras
    def _load_engine(self, model: str, device: str, precision: str, backend: str) -> str | None:
        """Load a new engine; on failure keep the current one and return the reason."""
        model_dir = Path(model) if model else bundled_model_dir()
        try:
            if self._p("num_threads"):
                torch.set_num_threads(self._p("num_threads"))
            engine = create_engine(model_dir, backend, device=device, precision=precision,
                                   streaming=self._p("streaming"), accel=self._p("accel"))
        except (ModelLoadError, ValueError, RuntimeError, OSError) as exc:
            with self._cond:
                self.last_error = f"cannot load model '{model_dir}': {exc}"
            return self.last_error
        if engine.device_warning:
            self.get_logger().warning(engine.device_warning)
        with self._cond:
            self.engine = engine
            self.last_error = ""
            self._configure({}, rebuild=True)
        self._internal_set = True
        try:
            self.set_parameters([
                rclpy.parameter.Parameter(f"{task}_labels", value=engine.labels.get(task, [NONE]))
                for task in ("action", "gesture")
            ])
        finally:
            self._internal_set = False
        for camera in self.cameras:  # after the label parameters, which VisionInfo points at
            if camera.vision is not None:
                camera.vision.publish_info(engine.card.name)
        self.get_logger().info(
            f"model '{engine.card.name}' from {model_dir} on {engine.device} ({engine.backend}"
            f"{', streaming' if engine.streaming else ''}; "
            f"{'trained' if engine.card.provenance.trained else 'UNTRAINED: outputs are not meaningful'})"
        )
        return None

    def _configure(self, pending: dict[str, Any], rebuild: bool) -> None:
        """Apply parameters to every camera; called with the lock held."""
        if self.engine is None:
            return
        get = lambda n: pending.get(n, self._p(n))  # noqa: E731
        fps = sample_fps_for(self.engine, get("sample_fps"))
        smoothing = SmoothingParams(get("smoothing"), get("enter_threshold"), get("exit_threshold"), get("min_duration"))
        for camera in self.cameras:
            camera.stream.configure(self.engine, fps, get("stride"), get("max_frame_gap"), smoothing, rebuild)

    # ----------------------------------------------------------------- input
    def _ingest(self, camera: Camera, header: Header, convert: Callable[[], np.ndarray],
                check: Callable[[], object] | None) -> None:
        with self._cond:
            if self.engine is None:
                camera.frames_in.tick(camera.now())
                self.get_logger().error(f"dropping frames: {self.last_error}", throttle_duration_sec=THROTTLE)
                return
            if camera.ingest(self.engine, header, convert, check):
                self._cond.notify()

    # ----------------------------------------------------------------- inference
    def _work_ready(self) -> bool:
        if self._stopping:
            return True
        return self.engine is not None and any(c.stream.has_work(self.engine.streaming) for c in self.cameras)

    def _run_worker(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(self._work_ready)
                if self._stopping:
                    return
                engine = self.engine
                jobs = [job for c in self.cameras if (job := c.stream.next_job(engine.streaming)) is not None]
            if jobs:
                self._run_jobs(engine, jobs)

    def _run_jobs(self, engine: EngineBase, jobs: list[Job]) -> None:
        try:
            done = run_jobs(engine, jobs)
        except RuntimeError as exc:  # e.g. CUDA out of memory: report, re-prime, keep serving
            with self._cond:
                for job in jobs:
                    job.stream.stream_state = None
            self.get_logger().error(f"inference failed: {exc}", throttle_duration_sec=THROTTLE)
            return
        now = self.get_clock().now().nanoseconds * 1e-9
        cameras = {id(c.stream): c for c in self.cameras}
        for job, result, state in done:
            camera = cameras[id(job.stream)]
            latency = (now - job.stamp) * 1e3
            with self._cond:
                if engine is not self.engine:
                    return  # the model was swapped meanwhile: these results belong to the old one
                job.stream.stream_state = state
                if not job.due:
                    continue
                decisions = job.stream.decide(result, job.stamp)
                camera.decisions.tick(camera.now())
                camera.inference_ms.add(result.timings.inference_ms)
                camera.latency_ms.add(latency)
            camera.publish(result, decisions, job.newest, latency)

    # ----------------------------------------------------------------- diagnostics
    def _on_diagnostics_timer(self) -> None:
        now = self.get_clock().now().nanoseconds * 1e-9
        with self._cond:
            statuses = [c.status(self.get_fully_qualified_name(), self.engine, self.last_error, now)
                        for c in self.cameras]
        array = DiagnosticArray(status=statuses)
        array.header.stamp = self.get_clock().now().to_msg()
        self.pub_diag.publish(array)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._worker.join(timeout=5.0)


def main(args: list[str] | None = None) -> int:
    return spin_node(RecognizerNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
