"""Start and stop `livify serve` as a real process on a loopback port."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 30.0
SHUTDOWN_TIMEOUT_SECONDS = 15.0
POLL_INTERVAL_SECONDS = 0.1
# Another process can take the probed free port before the server binds it.
START_ATTEMPTS = 3
LOG_TAIL_LINES = 60


@dataclass
class LiveServer:
    """A running `livify serve` process and where to reach it."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.origin}/api"

    @property
    def is_running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """Return the last lines the server wrote to stdout and stderr."""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def send_sigterm(self) -> None:
        """Ask the server to shut down gracefully, as a process manager does."""
        if self.is_running:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout_seconds: float = SHUTDOWN_TIMEOUT_SECONDS) -> int:
        """Wait for the process to end and return its exit status.

        Raises AssertionError when it is still running after `timeout_seconds`;
        the process is then killed, so no server outlives the test.
        """
        try:
            return self.process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            msg = (
                f"livify serve (pid {self.process.pid}) did not exit within "
                f"{timeout_seconds} s of SIGTERM and was killed.\n{self.log_tail()}"
            )
            raise AssertionError(msg) from None

    def stop(self) -> int:
        """Send SIGTERM and wait for the process to end."""
        self.send_sigterm()
        return self.wait()


def livify_command() -> list[str]:
    """Return the command that runs the `livify` CLI of this interpreter."""
    script = Path(sys.executable).with_name("livify")
    if script.exists():
        return [str(script)]

    found = shutil.which("livify")
    if found:
        return [found]

    return [sys.executable, "-m", "livify.cli"]


def find_free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def start_live_server(
    data_dir: Path,
    database_url: str | None,
    *,
    extra_args: Sequence[str] = (),
    extra_environment: Mapping[str, str] | None = None,
) -> LiveServer:
    """Start `livify serve` on a free loopback port and wait until it responds.

    `database_url=None` serves the embedded SQLite file under `data_dir`.
    Raises AssertionError, with the server's log, when it does not respond
    within STARTUP_TIMEOUT_SECONDS.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, START_ATTEMPTS + 1):
        server = _spawn(
            data_dir, database_url, attempt, extra_args, extra_environment or {}
        )
        if _wait_until_ready(server):
            return server

        server.wait()
        if "address already in use" not in server.log_tail().lower():
            break

    msg = f"livify serve did not start; its log ends with:\n{server.log_tail()}"
    raise AssertionError(msg)


def _spawn(
    data_dir: Path,
    database_url: str | None,
    attempt: int,
    extra_args: Sequence[str],
    extra_environment: Mapping[str, str],
) -> LiveServer:
    port = find_free_port()
    command = [*livify_command(), "serve", "--host", HOST, "--port", str(port)]
    if database_url is not None:
        command += ["--database-url", database_url]
    command += extra_args

    environment = {
        **os.environ,
        "LIVIFY_DATA_DIR": str(data_dir),
        "LIVIFY_SECRET_KEY": secrets.token_urlsafe(32),
        # Conformance and load tests send more than the default limits allow.
        "LIVIFY_RATELIMIT_ENABLED": "false",
        **extra_environment,
    }
    log_path = data_dir / f"serve-{attempt}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    return LiveServer(process=process, port=port, log_path=log_path)


def _wait_until_ready(server: LiveServer) -> bool:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if not server.is_running:
                return False

            try:
                response = client.get(f"{server.api_url}/tags")
            except httpx.TransportError:
                time.sleep(POLL_INTERVAL_SECONDS)
                continue

            if response.status_code == 200:
                return True

            time.sleep(POLL_INTERVAL_SECONDS)

    server.stop()
    return False


def register_user(server: LiveServer) -> dict[str, str]:
    """Register a new user on the server and return the `user` object."""
    name = f"live_{secrets.token_hex(6)}"
    response = httpx.post(
        f"{server.api_url}/users",
        json={
            "user": {
                "username": name,
                "email": f"{name}@example.com",
                "password": secrets.token_urlsafe(16),
            }
        },
        timeout=10.0,
    )
    assert response.status_code == 201, response.text
    user: dict[str, str] = response.json()["user"]
    return user
