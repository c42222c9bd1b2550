"""The `ros2` command line as a user runs it.

Each command runs in its own session, its output goes to a log file, and it is stopped by Ctrl-C to its whole
process group (as a terminal and `timeout -s INT` deliver it).
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

NO_ROS2_CLI = "no ros2 command line: make test ROS2_CLI_WHEELS=DIR (the launch/CLI wheels), or source a ROS 2 distro"


def ros2_executable() -> str | None:
    """Return the venv's `ros2` (installed from the wheels), else a sourced distro's."""
    venv = Path(sys.executable).parent / "ros2"
    return str(venv) if venv.is_file() else shutil.which("ros2")


def ros2(args: list[str], env: dict[str, str], timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run a short `ros2 ...` command (pass --no-daemon where it applies: no daemon may outlive the tests)."""
    return subprocess.run([ros2_executable(), *args], env=env, capture_output=True, text=True, timeout=timeout)


class Ros2Session:
    """A long-running `ros2 launch ...` or `ros2 run ...` in its own process group."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log_path = log
        self._log = open(log, "w")
        self.proc = subprocess.Popen([ros2_executable(), *args], env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float, count: int = 1) -> list[re.Match]:
        """Return the matches of `pattern` in the output once there are `count`, it exited, or time ran out."""
        deadline = time.monotonic() + timeout
        while True:
            matches = list(re.finditer(pattern, self.output()))
            if len(matches) >= count or self.proc.poll() is not None or time.monotonic() > deadline:
                return matches
            time.sleep(0.2)

    def started_pids(self, name: str = r"[\w-]+") -> list[int]:
        """Pids of the processes launch started (for executable `name`), respawns included."""
        return [int(m.group(1)) for m in re.finditer(rf"\[{name}-\d+\]: process started with pid \[(\d+)\]",
                                                     self.output())]

    def wait(self, timeout: float) -> int | None:
        """Return the exit code, or None if the command still runs after `timeout` (then its group is killed)."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        finally:
            self._log.close()

    def interrupt(self, signals: int = 3, timeout: float = 40.0) -> int | None:
        """Ctrl-C to the whole group `signals` times, 0.2 s apart, then wait as `wait` does."""
        return interrupt_all([self], signals, timeout)[0]

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()


def interrupt_all(sessions: list[Ros2Session], signals: int = 3, timeout: float = 40.0) -> list[int | None]:
    """Ctrl-C to every session's group at once, `signals` times, 0.2 s apart; their exit codes (None: hung)."""
    for _ in range(signals):
        for session in sessions:
            try:
                os.killpg(session.proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    return [session.wait(timeout) for session in sessions]


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False
