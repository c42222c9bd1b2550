"""The `recognizer` node: camera frames -> sliding window -> multi-task network -> labels and hands.

A frame flows one way: the image callback hands it to the camera's `CameraStream.ingest` (bound, sample,
decode, crop, store); the worker thread takes every camera's next job, runs the engine once for all of
them, hands each result to `CameraStream.complete` (stream state, decision, smoothing) and publishes what
it returns. Work that went stale meanwhile is skipped, never queued, so the node cannot fall behind.
"""
from __future__ import annotations

import math
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseArray
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy._rclpy_pybind11 import RCLError
from rclpy.node import Node
from rclpy.qos import QoSDurabilityPolicy, QoSHistoryPolicy, QoSProfile, QoSReliabilityPolicy, qos_profile_sensor_data
from rclpy.qos_overriding_options import QoSOverridingOptions
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header, String

from ..model.card import ModelLoadError
from ..paths import bundled_model_dir
from ..perception.frontend import FrontEnd, FrontEndParams
from ..perception.models import FrontEndModelError
from ..perception.runtime import RUNTIMES
from ..stream.engine import ACCELS, BACKENDS, PRECISIONS, EngineBase, create_engine, max_threads
from ..stream.faults import FaultLog, RateLimit
from ..stream.pipeline import Admitted, CameraStream, Ingested, Job, LazyFrame, Outcome, run_jobs, sample_fps_for
from ..stream.smoothing import NONE, SmoothingParams
from ..stream.window import MAX_FRAME_GAP
from .bodies import BodyOutputs
from .camera import Camera
from .diagnostics import camera_status
from .image_conv import CompressedFrame, ImageFrame
from .runner import spin_node
from .stamps import stamp_seconds
from .vision import Classification, VisionInfo, labels_location, vision_info, vision_msgs_available

THROTTLE = 5.0  # s between repeated warnings of one kind
SILENCE_CHECK_PERIOD = 0.1  # s
RELIABLE = QoSProfile(depth=10, reliability=QoSReliabilityPolicy.RELIABLE)  # controllers see every change
LATCHED = QoSProfile(depth=1, reliability=QoSReliabilityPolicy.RELIABLE, durability=QoSDurabilityPolicy.TRANSIENT_LOCAL)
SMOOTHING = SmoothingParams()  # the defaults of the smoothing parameters
FRONT_END = FrontEndParams()
CAMERA_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")  # one token of a ROS topic name


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    description: str
    range: tuple[float, float] | None = None
    choices: tuple[str, ...] | None = None
    reload: bool = False  # a change reloads the engine
    reload_front_end: bool = False  # a change makes new front ends (the bodies tracked start over)


PARAMS = (
    Param("model", "", "Model directory (model.json + model.safetensors); empty selects the bundled model.",
          reload=True),
    Param("device", "auto", "auto, cpu, cuda or cuda:N; auto falls back to the CPU with a warning.", reload=True),
    Param("precision", "auto", "fp32, fp16, bf16 or auto (bf16 on CUDA, fp32 on the CPU).",
          choices=("auto", *PRECISIONS), reload=True),
    Param("sample_fps", -1.0, "Frames are sampled by stamp at this rate; -1 takes the model card's rate, 0 every "
          "frame.", range=(-1.0, 240.0)),
    Param("stride", 1, "Sampled frames between two decisions.", range=(1, 64)),
    Param("streaming", True, "Incremental per-frame inference when the trunk supports it."),
    Param("smoothing", SMOOTHING.smoothing, "EMA factor over window probabilities (0 = no smoothing).",
          range=(0.0, 0.99)),
    Param("enter_threshold", SMOOTHING.enter_threshold, "Smoothed probability at which a label is entered.",
          range=(0.0, 1.0)),
    Param("exit_threshold", SMOOTHING.exit_threshold, "Smoothed probability below which a label is left.",
          range=(0.0, 1.0)),
    Param("min_duration", SMOOTHING.min_duration, "Seconds a new label must hold before it is published.",
          range=(0.0, 30.0)),
    Param("max_frame_gap", MAX_FRAME_GAP, "A longer gap between stamps resets the window and publishes none (s).",
          range=(0.01, 60.0)),
    Param("max_clock_offset", 10.0, "Frames stamped further than this from the node's clock are dropped, so that "
          "one wrong stamp cannot stall the stream (s); 0 turns the check off. Off under use_sim_time and offline.",
          range=(0.0, 1e6)),
    Param("image_transport", "raw", "raw or compressed (subscribes to <image>/compressed).",
          choices=("raw", "compressed")),
    Param("num_threads", 0, "CPU threads for inference and for each front-end model, at most the machine's cores; 0 "
          "picks all cores. Takes effect at once (the ONNX Runtime engine and the front end reload).", range=(0, 1024),
          reload_front_end=True),
    Param("backend", "auto", "torch, onnxruntime, or auto (ONNX Runtime on the CPU when the model has an export).",
          choices=BACKENDS, reload=True),
    Param("accel", "auto", "GPU window forward: eager, graphs (CUDA-graph replay), compile (torch.compile), or auto "
          "(the fastest measured at warm-up). Ignored on the CPU.", choices=ACCELS, reload=True),
    Param("offline", False, "Process every window in order instead of skipping stale ones, and receive images "
          "reliably without dropping any: replaying a recording gives the same decisions at any speed."),
    Param("images", [""], "Camera names: each subscribes <name>/image and publishes under <name>/; "
          "[''] (default) is one camera on `image` with un-prefixed outputs."),
    Param("track_bodies", True, "Find and track each person in view (real pretrained detector, body and hand "
          "landmarks) and recognise each one on crops around them, with ROS4HRI outputs; false: the whole frame is "
          "one scene.", reload_front_end=True),
    Param("max_bodies", FRONT_END.max_bodies, "Bodies followed and recognised at once; the largest (nearest) win, "
          "and diagnostics count the rest.", range=(1, 32), reload_front_end=True),
    Param("body_timeout", FRONT_END.body_timeout, "A body unseen this long is dropped and its id retired (s).",
          range=(0.05, 60.0), reload_front_end=True),
    Param("detect_interval", FRONT_END.detect_interval, "Seconds between person detections while bodies are "
          "followed by their landmarks; 0: every sampled frame.", range=(0.0, 10.0), reload_front_end=True),
    Param("front_end_runtime", FRONT_END.runtime, "litert (the CPU's fastest) or onnxruntime: the front end's models "
          "converted to ONNX (`mtl-hri-fetch-front-end --onnx`), on the GPU through the TensorRT / CUDA providers "
          "of an onnxruntime-gpu install, else on the CPU.", choices=RUNTIMES, reload_front_end=True),
    Param("humans_prefix", "/humans", "Prefix of the ROS4HRI topics (<prefix>/bodies/tracked, "
          "<prefix>/bodies/<id>/...)."),
    Param("front_end_dir", "", "Folder of the front end's model files; empty: $MTL_HRI_FRONT_END_DIR, else "
          "~/.cache/mtl_hri/front_end (`mtl-hri-fetch-front-end` fills it)."),
)
READ_ONLY = ("image_transport", "images", "offline", "humans_prefix", "front_end_dir")  # and every `<task>_labels`
DEFAULT_TASKS = ("action", "gesture")  # label parameters declared before a model loads


class StartupError(Exception):
    """Arguments the node cannot start with (a bad camera name); `main` reports it in one line, exit code 2."""


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
    """Recognise what the people in view do, per camera.

    Topics, per camera under `<name>/` (no prefix for the default camera); all names are relative:

    | topic | type | |
    |---|---|---|
    | image (sub) | sensor_msgs/Image | or `image/compressed`, sensor_msgs/CompressedImage |
    | `<task>` | std_msgs/String | the decided label of each task of the model card (action, gesture) |
    | `<task>/classification` | vision_msgs/Classification | top-k scores, where vision_msgs is installed |
    | vision_info | vision_msgs/VisionInfo | latched, where vision_msgs is installed |
    | hands | geometry_msgs/PoseArray | left, right: source pixels, z = confidence |
    | debug_image | sensor_msgs/Image | the overlay, drawn only while subscribed |
    | /diagnostics | diagnostic_msgs/DiagnosticArray | 1 Hz, one status per camera |

    With `track_bodies`, the plain topics describe the primary body (the largest seen whose window is full), and
    every body gets ROS4HRI topics under `<humans_prefix>/bodies/<id>/` (see `mtl_hri.ros.bodies`); while no body
    is primary, the plain topics describe the whole frame.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("recognizer", **kwargs)
        self._lock = threading.Condition()  # the engine and the streams: image callbacks vs the worker
        self._outputs_lock = threading.Lock()  # the per-task publishers: a reload vs the worker publishing
        self.engine: EngineBase | None = None
        self.load_error = ""
        self.faults = FaultLog(throttle=THROTTLE)
        self._restarts = RateLimit(THROTTLE)  # per camera and cause: one cause's burst must not hide another
        self._stopping = False

        self._declare_parameters()

        self.pub_diagnostics = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self.cameras = [self._create_camera(name) for name in dict.fromkeys(self._p("images")) or [""]]
        self.bodies = BodyOutputs(self, self._p("humans_prefix"))
        error = self._build_front_ends({})
        if error:  # asked to track people but cannot: say so and stop, never run without saying
            raise StartupError(error)

        error = self._load_engine({})  # also creates the `<task>` publishers of the model's tasks
        if error:
            self.get_logger().error(f"{error}. The node keeps running without a model; set 'model' to a valid "
                                    "directory.")

        self.create_timer(1.0, self.on_diagnostics_timer)
        self.create_timer(SILENCE_CHECK_PERIOD, self.on_silence_timer)
        self.add_on_set_parameters_callback(self.on_set_parameters)

        self._worker = threading.Thread(target=self.run_worker, name="mtl_hri_inference", daemon=True)
        self._worker.start()

    def _create_camera(self, name: str) -> Camera:
        prefix = f"{name}/" if name else ""
        vision = vision_msgs_available()
        camera = Camera(
            name, CameraStream(self._p("offline")),
            hands=self.create_publisher(PoseArray, f"{prefix}hands", RELIABLE),
            debug_image=self.create_publisher(Image, f"{prefix}debug_image", 1),
            vision_info=self.create_publisher(VisionInfo, f"{prefix}vision_info", LATCHED) if vision else None,
        )
        # Live: sensor-data QoS, depth 1 (never build lag). Offline: reliable and keep everything (never drop).
        qos = QoSProfile(depth=1, reliability=QoSReliabilityPolicy.RELIABLE, history=QoSHistoryPolicy.KEEP_ALL) \
            if self._p("offline") else qos_profile_sensor_data
        overrides = QoSOverridingOptions.with_default_policies()
        if self._p("image_transport") == "compressed":
            topic = self.resolve_topic_name(f"{prefix}image") + "/compressed"
            self.create_subscription(CompressedImage, topic, lambda msg: self.on_compressed_image(camera, msg), qos,
                                     qos_overriding_options=overrides)
        else:
            self.create_subscription(Image, f"{prefix}image", lambda msg: self.on_image(camera, msg), qos,
                                     qos_overriding_options=overrides)
        return camera

    def _create_task_publishers(self, camera: Camera, tasks: list[str]) -> None:
        """`<task>` (and `<task>/classification`) for each task of the model card; those of other tasks go."""
        with self._outputs_lock:
            for task in [t for t in camera.labels if t not in tasks]:
                self.destroy_publisher(camera.labels.pop(task))
                if task in camera.classifications:
                    self.destroy_publisher(camera.classifications.pop(task))
            for task in tasks:
                if task not in camera.labels:
                    camera.labels[task] = self.create_publisher(String, f"{camera.prefix}{task}", RELIABLE)
                    if camera.vision_info is not None:
                        camera.classifications[task] = self.create_publisher(
                            Classification, f"{camera.prefix}{task}/classification", RELIABLE)

    # ----------------------------------------------------------------- parameters
    def _declare_parameters(self) -> None:
        """Declare everything first (some checks involve two parameters), then validate the overrides."""
        for p in PARAMS:
            try:
                self.declare_parameter(p.name, p.default, _descriptor(p))
            except Exception as exc:  # noqa: BLE001 - an override of the wrong type or out of range
                self.get_logger().error(f"parameter '{p.name}' rejected: {exc}; using the default {p.default!r}")
                self.declare_parameter(p.name, p.default, _descriptor(p), ignore_override=True)
        for p in PARAMS:
            error = self._validate(p.name, self._p(p.name))
            if error and p.name in READ_ONLY:  # nothing to fall back to: the node would not be what was asked for
                raise StartupError(f"parameter '{p.name}' rejected: {error}")
            if error:
                self.get_logger().error(f"parameter '{p.name}' rejected: {error}; using the default {p.default!r}")
                self.set_parameters([rclpy.parameter.Parameter(p.name, value=p.default)])
        self._declare_labels(DEFAULT_TASKS)

    def _declare_labels(self, tasks) -> None:
        for task in tasks:
            if not self.has_parameter(f"{task}_labels"):
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
        if isinstance(value, float) and not math.isfinite(value):
            return f"{name} must be a finite number, not {value}"
        if name == "num_threads" and not 0 <= value <= max_threads():
            return f"num_threads must be 0 (all cores) to {max_threads()} (this machine's cores), not {value}"
        if name == "images":
            bad = [n for n in value if n and not CAMERA_NAME.fullmatch(n)]
            if bad:
                return (f"camera names must be topic-name tokens (a letter, then letters, digits or _), "
                        f"not {', '.join(repr(n) for n in bad)}")
        return None

    def on_set_parameters(self, params: list) -> SetParametersResult:
        pending = {p.name: p.value for p in params}
        for p in params:
            read_only = p.name in READ_ONLY or p.name.endswith("_labels")
            if read_only and not getattr(self, "_internal_set", False):
                return SetParametersResult(successful=False, reason=f"'{p.name}' is read-only")
            error = self._validate(p.name, p.value, pending)
            if error:
                return SetParametersResult(successful=False, reason=error)
        if any(p.reload_front_end and p.name in pending for p in PARAMS):
            error = self._build_front_ends(pending)
            if error:
                return SetParametersResult(successful=False, reason=error)
        reload = [p.name for p in PARAMS if p.reload and p.name in pending]
        if "num_threads" in pending and self.engine is not None and self.engine.fixed_threads:
            reload.append("num_threads")
        if reload:
            error = self._load_engine(pending)
            if error:
                return SetParametersResult(successful=False, reason=error)
            self.get_logger().info(f"reloaded the engine for {', '.join(reload)}")
        elif not getattr(self, "_internal_set", False):  # the engine's own label update, during a reload, is not
            # a parameter change: applying the streams' parameters here would read the others' old values
            with self._lock:
                if "streaming" in pending and self.engine is not None:
                    try:  # ONNX Runtime opens the graph the new mode serves with now
                        self.engine.set_streaming(pending["streaming"])
                    except ModelLoadError as exc:
                        return SetParametersResult(successful=False, reason=str(exc))
                if "num_threads" in pending and self.engine is not None:
                    self.engine.set_threads(pending["num_threads"] or max_threads())
                self._configure(pending, rebuild=False)
        return SetParametersResult(successful=True)

    # ----------------------------------------------------------------- the front end
    def _build_front_ends(self, pending: dict[str, Any]) -> str | None:
        """Make each camera's front end with the parameters in `pending` over the current ones (or none).

        On failure (a model file missing or altered, bad values) the current ones stay and the reason is returned.
        """
        def get(n: str) -> Any:
            return pending.get(n, self._p(n))

        params = FrontEndParams(max_bodies=get("max_bodies"), body_timeout=get("body_timeout"),
                                detect_interval=get("detect_interval"), threads=get("num_threads") or max_threads(),
                                runtime=get("front_end_runtime"))
        if params.problem():
            return params.problem()
        directory = Path(get("front_end_dir")) if get("front_end_dir") else None
        try:
            # Live, newcomers are found beside the following of bodies; offline, in line (the same bodies each run).
            front_ends = [FrontEnd(params, directory, background=not self._p("offline")) if get("track_bodies")
                          else None for _ in self.cameras]
        except FrontEndModelError as exc:
            return f"cannot track bodies: {exc} (or set track_bodies:=false)"
        with self._lock:
            dropped = [i for camera, fe in zip(self.cameras, front_ends) for i in camera.stream.set_front_end(fe)]
        with self._outputs_lock:
            for body_id in dropped:
                self.bodies.remove(body_id)
        return None

    # ----------------------------------------------------------------- the engine
    def _load_engine(self, pending: dict[str, Any]) -> str | None:
        """Load a new engine with the parameters in `pending` over the current ones.

        On failure the current engine stays, and the reason is returned.
        """
        def get(n: str) -> Any:
            return pending.get(n, self._p(n))

        model_dir = Path(get("model")) if get("model") else bundled_model_dir()
        try:
            engine = create_engine(model_dir, get("backend"), device=get("device"), precision=get("precision"),
                                   streaming=get("streaming"), accel=get("accel"), threads=get("num_threads"))
        except Exception as exc:  # noqa: BLE001 - whatever a bad model directory raises, the old model stays
            with self._lock:
                self.load_error = f"cannot load model '{model_dir}': {exc}"
            return self.load_error
        if engine.device_warning:
            self.get_logger().warning(engine.device_warning)
        with self._lock:
            self.engine = engine
            self.load_error = ""
            self._configure(pending, rebuild=True)
        tasks = list(engine.labels)
        self._declare_labels(tasks)
        self._internal_set = True
        try:
            self.set_parameters([rclpy.parameter.Parameter(f"{task}_labels", value=engine.labels[task])
                                 for task in tasks])
        finally:
            self._internal_set = False
        for camera in self.cameras:
            self._create_task_publishers(camera, tasks)
            if camera.vision_info is not None:  # after the label parameters, which VisionInfo points at
                version = camera.info_version.update(engine.card.name, engine.labels)
                info = vision_info(engine.card.name, labels_location(self.get_fully_qualified_name(), tasks), version)
                info.header.stamp = self.get_clock().now().to_msg()
                camera.vision_info.publish(info)
        self.get_logger().info(
            f"model '{engine.card.name}' from {model_dir} on {engine.device} ({engine.backend}"
            f"{', streaming' if engine.streaming else ''}; "
            f"{'trained' if engine.card.provenance.trained else 'UNTRAINED: outputs are not meaningful'})"
        )
        return None

    def _configure(self, pending: dict[str, Any], rebuild: bool) -> None:
        """Apply parameters to every camera's stream; called with the lock held."""
        if self.engine is None:
            return
        get = lambda n: pending.get(n, self._p(n))  # noqa: E731
        fps = sample_fps_for(self.engine, get("sample_fps"))
        smoothing = SmoothingParams(get("smoothing"), get("enter_threshold"), get("exit_threshold"),
                                    get("min_duration"))
        replay = self._p("use_sim_time") or self._p("offline")  # a recording's stamps are its own
        clock_offset = 0.0 if replay else get("max_clock_offset")
        for camera in self.cameras:
            camera.stream.configure(self.engine.spec, self.engine.labels, fps, get("stride"), get("max_frame_gap"),
                                    smoothing, rebuild, clock_offset)

    # ----------------------------------------------------------------- callbacks
    def on_image(self, camera: Camera, msg: Image) -> None:
        self._ingest(camera, ImageFrame(msg), msg.header)

    def on_compressed_image(self, camera: Camera, msg: CompressedImage) -> None:
        self._ingest(camera, CompressedFrame(msg), msg.header)

    def _ingest(self, camera: Camera, frame: LazyFrame, header: Header) -> None:
        now, stamp = self._now(), stamp_seconds(header.stamp)
        keep_rgb = camera.wants_debug_image()
        with self._lock:
            if self.engine is None:
                camera.stream.stats.frames_in.tick(now)
                self.get_logger().error(f"dropping frames: {self.load_error}", throttle_duration_sec=THROTTLE)
                return
            got = camera.stream.admit(frame, stamp, header, now, keep_rgb)
        if isinstance(got, Admitted):  # decoding and the front end run outside the lock: the worker goes on
            CameraStream.perceive(got)
            with self._lock:
                got = camera.stream.store(got, self._now())
                if got.outcome is Outcome.SAMPLED:
                    self._lock.notify()
        with self._lock:
            tracked = [b.id for c in self.cameras for b in c.stream.tracked]
            tasks = list(self.engine.labels) if self.engine else []
        if got.outcome is Outcome.SAMPLED:
            camera.last_header = header
        if got.created or got.dropped or (got.outcome is Outcome.SAMPLED and camera.stream.front_end):
            with self._outputs_lock:
                for body_id in got.dropped:
                    self.bodies.remove(body_id)
                for body_id in got.created:
                    self.bodies.add(body_id, tasks)
                self.bodies.publish_tracked(header, tracked)
        self._report_ingest(camera, got, stamp, now)

    def _report_ingest(self, camera: Camera, got: Ingested, stamp: float, now: float) -> None:
        logger = self.get_logger()
        if got.reset:
            since = self._restarts.due((camera.name, re.sub(r"\d+(\.\d+)?", "#", got.reset)), now)
            if since is not None:
                more = f" ({since} restarts for this cause since the last report)" if since else ""
                logger.warning(f"{camera.where}the stream restarts after {got.reset}{more}")
            self._publish_none(camera)
        if got.fault is not None:
            self._fault("conversion", got.fault, now)
        if got.outcome is Outcome.BAD:
            logger.warning(f"{camera.where}dropping a malformed image: {got.error} "
                           f"({camera.stream.stats.frames_bad} so far)", throttle_duration_sec=THROTTLE)
        elif got.outcome is Outcome.OFF_CLOCK:
            logger.warning(f"{camera.where}dropping a frame: {got.error} (max_clock_offset; "
                           f"{camera.stream.stats.frames_off_clock} so far)", throttle_duration_sec=THROTTLE)
        elif got.outcome is Outcome.BACKWARDS:
            logger.warning(f"{camera.where}dropping a frame whose stamp {stamp:.3f} does not follow the previous "
                           f"one ({camera.stream.window.rejected_backwards} so far)", throttle_duration_sec=THROTTLE)

    def on_silence_timer(self) -> None:
        now = self._now()
        with self._lock:
            silent = [(camera, dropped) for camera in self.cameras
                      if (dropped := camera.stream.check_silence(now)) is not None]
            tracked = [b.id for c in self.cameras for b in c.stream.tracked]
        for camera, dropped in silent:
            with self._outputs_lock:
                for body_id in dropped:
                    self.bodies.remove(body_id)
                if dropped and camera.last_header is not None:  # as of the last frame the camera sent
                    self.bodies.publish_tracked(camera.last_header, tracked)
            self._publish_none(camera)

    def on_diagnostics_timer(self) -> None:
        now = self._now()
        name = self.get_fully_qualified_name()
        with self._lock:
            statuses = [camera_status(f"mtl_hri: {name}" + (f"/{c.name}" if c.name else ""), c.stream, self.engine,
                                      self.load_error, self.faults, now) for c in self.cameras]
        for camera, status in zip(self.cameras, statuses):
            if status.message.startswith("no images"):
                self.get_logger().warning(f"{camera.where}{status.message}", throttle_duration_sec=THROTTLE)
        array = DiagnosticArray(status=statuses)
        array.header.stamp = self.get_clock().now().to_msg()
        self.pub_diagnostics.publish(array)

    # ----------------------------------------------------------------- the worker
    def _work_ready(self) -> bool:
        if self._stopping:
            return True
        return self.engine is not None and any(c.stream.has_work(self.engine.streaming) for c in self.cameras)

    def run_worker(self) -> None:
        """Run cycles: every camera's next job, one batched engine run, decisions, publishing.

        A failure in any stage is caught, logged, counted and shown in diagnostics; the worker goes on.
        """
        while True:
            with self._lock:
                self._lock.wait_for(self._work_ready)
                if self._stopping:
                    return
                engine = self.engine
                try:
                    work = [(c, job) for c in self.cameras for job in c.stream.next_jobs(engine.streaming)]
                except Exception as exc:  # noqa: BLE001 - the worker must not die
                    self._fault("scheduling", exc, self._now())
                    continue
            if work:
                self._run_cycle(engine, work)

    def _run_cycle(self, engine: EngineBase, work: list[tuple[Camera, Job]]) -> None:
        try:
            outputs = run_jobs(engine, [job for _, job in work])
        except Exception as exc:  # noqa: BLE001 - e.g. CUDA out of memory: report, re-prime, keep serving
            with self._lock:
                for camera, job in work:
                    camera.stream.abandon(job)
            self._fault("inference", exc, self._now())
            return
        now = self._now()
        for (camera, job), (result, state) in zip(work, outputs):
            try:
                with self._lock:
                    if engine is not self.engine:
                        return  # the model was swapped meanwhile: these results belong to the old one
                    decided = camera.stream.complete(job, result, state, now)
            except Exception as exc:  # noqa: BLE001
                self._fault("decision", exc, now)
                continue
            if decided is None:
                continue
            try:
                with self._outputs_lock:
                    if decided.body is not None:
                        self.bodies.publish(decided, engine.card)
                        camera.note_body(decided)
                    if decided.newest.primary:  # the primary body's, or the whole scene's when there is none
                        camera.publish(decided, camera.stream.tracked)
            except Exception as exc:  # noqa: BLE001
                self._fault("publishing", exc, now)

    def _fault(self, stage: str, exc: Exception, now: float) -> None:
        if not self.context.ok():
            return  # shutting down (Ctrl-C invalidates the context before stop() runs): not a failure
        with self._lock:
            report = self.faults.record(stage, exc, now)
        if report:
            self.get_logger().error(report)

    def _publish_none(self, camera: Camera) -> None:
        try:
            with self._outputs_lock:
                camera.publish_none()
        except Exception as exc:  # noqa: BLE001
            self._fault("publishing", exc, self._now())

    def _now(self) -> float:
        """Read the node's clock (simulated time under use_sim_time): rates, silence and latencies follow it."""
        return self.get_clock().now().nanoseconds * 1e-9

    @property
    def worker_alive(self) -> bool:
        return self._worker.is_alive()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        self._worker.join(timeout=5.0)
        with self._lock:
            for camera in self.cameras:
                camera.stream.set_front_end(None)


def main(args: list[str] | None = None) -> int:
    try:
        return spin_node(RecognizerNode, args)
    except StartupError as exc:
        print(f"recognizer: {exc}", file=sys.stderr)
        return 2
    except RCLError as exc:  # rclpy.init refused the arguments, e.g. a parameter file it cannot parse
        print(f"recognizer: cannot start: {str(exc).split(', at /')[0].strip()}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
