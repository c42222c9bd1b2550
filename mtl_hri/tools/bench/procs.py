"""Start the project's console scripts as real processes, and stop them as a user would (SIGINT)."""
from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from pathlib import Path


def script(name: str) -> str:
    """Return the console script installed beside this interpreter."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise FileNotFoundError(f"console script '{name}' is not installed beside {sys.executable}")
    return str(path)


class RosProcess:
    """A console script run with `--ros-args`; output goes to a log file."""

    def __init__(self, name: str, ros_args: list[str], env: dict[str, str], log_dir: Path | None = None) -> None:
        self.name = name
        log_dir = Path(log_dir or tempfile.mkdtemp(prefix="mtl_hri_"))
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [script(name), "--ros-args", *ros_args], env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 15.0) -> int:
        """SIGINT, then wait; SIGKILL only if it does not exit in time (returns -9 then)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode
