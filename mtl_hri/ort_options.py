"""How every ONNX Runtime session of the project is made: its execution providers and its threads.

The recognizer's engine and the front end's ONNX route share it. It imports nothing but onnxruntime, so the front
end's route does not pull in torch.
"""
from __future__ import annotations

from typing import Any


def providers_for(device: str) -> list[str]:
    """TensorRT, then CUDA, then CPU, as far as this onnxruntime build has them and the device asks."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    wanted = ["CPUExecutionProvider"]
    if device != "cpu":
        wanted = ["TensorrtExecutionProvider", "CUDAExecutionProvider", *wanted]
    return [p for p in wanted if p in available]


def session_options(threads: int) -> Any:
    """`threads` intra-op threads that sleep when idle: the node's other models need those cores between runs."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options
