"""A throwaway local `livify serve` to load-test when no URL is given.

It seeds a fresh SQLite data directory with `livify seed`, serves it on a
free loopback port, and on exit stops the server by its process id and
deletes the directory. Both run as child processes of this interpreter's
`livify` command, so the toolkit never imports the platform.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

import structlog

from livify.loadtest._exceptions import TargetUnavailable

logger = structlog.get_logger(__name__)

HOST = "127.0.0.1"
DEFAULT_SEED_SCALE = 0.05
STARTUP_TIMEOUT_SECONDS = 60.0
SEED_TIMEOUT_SECONDS = 600.0
SHUTDOWN_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.2


class LocalTarget:
    """A seeded `livify serve` on a free loopback port, as a context manager.

    `url` is set once `__enter__` returns. Raises TargetUnavailable when
    seeding fails or the server does not respond within `startup_timeout_seconds`.
    """

    def __init__(
        self,
        *,
        seed_scale: float = DEFAULT_SEED_SCALE,
        startup_timeout_seconds: float = STARTUP_TIMEOUT_SECONDS,
    ) -> None:
        self.seed_scale = seed_scale
        self.startup_timeout_seconds = startup_timeout_seconds
        self.url = ""
        self.pid: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._data_dir: Path | None = None

    def __enter__(self) -> LocalTarget:
        self._data_dir = Path(tempfile.mkdtemp(prefix="livify-loadtest-"))
        try:
            self._seed(self._data_dir)
            self._serve(self._data_dir)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def log_path(self) -> Path | None:
        return None if self._data_dir is None else self._data_dir / "serve.log"

    def close(self) -> None:
        """Stop the server by SIGTERM (SIGKILL after a timeout), delete its data."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=SHUTDOWN_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                logger.warning("loadtest.target_killed", pid=process.pid)
                process.kill()
                process.wait()
            # The command prints its own line; this one is for debugging.
            logger.debug("loadtest.target_stopped", pid=process.pid)

        if self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)
            self._data_dir = None

    def _environment(self, data_dir: Path) -> dict[str, str]:
        return {
            **os.environ,
            "LIVIFY_DATA_DIR": str(data_dir),
            "LIVIFY_LOG_LEVEL": "warning",
            # The load comes from one address; the limits would measure
            # themselves instead of the application.
            "LIVIFY_RATELIMIT_ENABLED": "false",
        }

    def _seed(self, data_dir: Path) -> None:
        command = [*_livify_command(), "seed", "--scale", str(self.seed_scale)]
        completed = subprocess.run(
            command,
            env=self._environment(data_dir),
            capture_output=True,
            timeout=SEED_TIMEOUT_SECONDS,
            check=False,
        )
        if completed.returncode != 0:
            output = completed.stderr.decode(errors="replace")[-2000:]
            msg = (
                f"livify seed failed with exit status {completed.returncode}: {output}"
            )
            raise TargetUnavailable(msg)

    def _serve(self, data_dir: Path) -> None:
        port = _free_port()
        command = [*_livify_command(), "serve", "--host", HOST, "--port", str(port)]
        assert self.log_path is not None
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command,
                env=self._environment(data_dir),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.url = f"http://{HOST}:{port}"
        self.pid = self._process.pid
        logger.debug("loadtest.target_starting", pid=self._process.pid, url=self.url)
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout_seconds
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            if _answers(f"{self.url}/api/tags"):
                return
            time.sleep(POLL_SECONDS)

        log = self.log_path.read_text(errors="replace")[-2000:] if self.log_path else ""
        msg = (
            f"livify serve did not answer on {self.url} within "
            f"{self.startup_timeout_seconds:.0f} s; its log ends with:\n{log}"
        )
        raise TargetUnavailable(msg)


def _livify_command() -> list[str]:
    return [sys.executable, "-m", "livify.cli"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
