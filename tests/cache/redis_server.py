"""A redis-server of the test's own on a free loopback port, to stop and restart.

The shared server on 127.0.0.1:6379 is never stopped; outages are simulated
on this one, by PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

START_TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def require_redis_server() -> str:
    path = shutil.which("redis-server")
    if path is not None:
        return path

    msg = "redis-server not found; run scripts/ensure-redis.sh to install it"
    if os.environ.get("CI") == "true":
        pytest.fail(msg)
    pytest.skip(msg)


class RedisServer:
    """Run redis-server without persistence on one port, across restarts."""

    def __init__(self, work_dir: Path) -> None:
        self.binary = require_redis_server()
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.work_dir = work_dir
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        if self._process is not None:
            msg = "the test Redis server is already running"
            raise RuntimeError(msg)

        self._process = subprocess.Popen(
            [
                self.binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.work_dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._accepts_connections():
            if time.monotonic() > deadline or self._process.poll() is not None:
                self.stop()
                msg = f"redis-server did not start on port {self.port}"
                raise RuntimeError(msg)
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the server by its PID and wait for it to exit."""
        process, self._process = self._process, None
        if process is None:
            return

        if process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open, replies stop."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def _accepts_connections(self) -> bool:
        try:
            with socket.create_connection(
                ("127.0.0.1", self.port), timeout=0.2
            ) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False
