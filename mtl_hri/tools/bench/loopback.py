"""What `e2e` and `soak` share: the node under test and a camera as processes on loopback DDS, this process listening.

rclpy is imported inside the functions, only once the caller has set the loopback environment.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .procs import RosProcess

if TYPE_CHECKING:
    from .listener import OutputListener

CAMERA_TOPIC = "/bench/image"
WARMUP_S = 8.0  # the first seconds after the camera starts are not counted


def spin(node, seconds: float, until: Callable[[], bool] = lambda: False, timeout: float = 0.05) -> None:
    """Serve `node`'s callbacks for `seconds`, or until `until()` holds."""
    import rclpy

    end = time.monotonic() + seconds
    while time.monotonic() < end and not until():
        rclpy.spin_once(node, timeout_sec=timeout)


def memory_mb(pid: int) -> tuple[float, float]:
    """Read the (current, peak) resident memory of a process: /proc where there is one, else psutil (no peak)."""
    status = Path(f"/proc/{pid}/status")
    if not status.is_file():
        import psutil  # not a dependency: only needed where there is no /proc

        return psutil.Process(pid).memory_info().rss / 2**20, math.nan
    fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time used so far, user + system: by process `pid`, or by the whole machine (all cores) when None.

    Linux /proc only; nan elsewhere. Differences over an interval tell a busy node from a busy machine.
    """
    import os

    tick = os.sysconf("SC_CLK_TCK")
    try:
        if pid is None:  # cpu  user nice system idle iowait irq softirq steal ...
            fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
            return sum(int(v) for i, v in enumerate(fields[:8]) if i not in (3, 4)) / tick
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # after "(comm)"
        return (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    except (OSError, IndexError, ValueError):
        return math.nan


def start_node(name: str, executable: str, params: list[str], env: dict[str, str]) -> tuple[OutputListener, RosProcess]:
    """Start `executable` in namespace /bench_<name> on the camera topic, and a listener; return once it is up."""
    from .listener import OutputListener

    ns = f"/bench_{name}"
    listener = OutputListener(ns, name=f"bench_listener_{name}")
    node = RosProcess(executable, ["-r", f"__ns:={ns}", "-r", f"image:={CAMERA_TOPIC}", *params], env)
    try:
        if executable == "recognizer":
            spin(listener, 60, until=lambda: bool(listener.received.diagnostics) or not node.alive(), timeout=0.1)
        else:
            spin(listener, 8, timeout=0.1)  # the naive node has no diagnostics: give it time to load
    except BaseException:
        node.stop()
        listener.destroy_node()
        raise
    return listener, node


def start_camera(video: Path, fps: float, frames: int, env: dict[str, str]) -> RosProcess:
    """Play `video` in a loop at `fps` on the camera topic, once the node subscribes; stop after `frames`."""
    return RosProcess("video_publisher", ["-r", f"image:={CAMERA_TOPIC}", "-p", f"video:={video}",
                                          "-p", f"rate:={float(fps)}", "-p", "loop:=true", "-p", "frame_id:=bench",
                                          "-p", f"max_frames:={frames}", "-p", "wait_for_subscribers:=1"], env)


def check_alive(name: str, camera: RosProcess, node: RosProcess) -> None:
    """Raise, naming the process and with both logs' tails, if the camera failed or the node is gone."""
    failed = [p for p, ok in ((camera, camera.proc.poll() in (0, None)), (node, node.alive())) if not ok]
    if failed:
        raise RuntimeError(f"{name}: " + ", ".join(f"{p.name} exited with {p.proc.returncode}" for p in failed)
                           + "".join(f"\n{p.log()[-1500:]}" for p in (camera, node)))
