"""Start and stop `livify moderation serve` as a real process on a loopback port."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

from tests.live.server import HOST, livify_command

STARTUP_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.1


class ModerationProcess:
    """A `livify moderation serve` process on a fixed loopback port."""

    def __init__(self, port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        command = [
            *livify_command(),
            "moderation",
            "serve",
            "--host",
            HOST,
            "--port",
            str(self.port),
        ]
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(POLL_SECONDS)

        self.stop()
        log = self.log_path.read_text(errors="replace")
        msg = f"livify moderation serve did not start; its log:\n{log}"
        raise AssertionError(msg)

    def stop(self) -> None:
        if self.process is None:
            return

        self.process.terminate()
        try:
            self.process.wait(timeout=STARTUP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def set_faults(self, **switches: float) -> None:
        response = httpx.put(f"{self.url}/v1/faults", json=switches, timeout=5.0)
        assert response.status_code == 200, response.text
