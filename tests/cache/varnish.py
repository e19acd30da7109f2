"""Start a real varnishd with livify's VCL on a loopback port, for tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VCL_PATH = REPO_ROOT / "deploy" / "varnish" / "livify.vcl"
START_TIMEOUT_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def require_varnishd() -> str:
    path = shutil.which("varnishd") or (
        "/usr/sbin/varnishd" if Path("/usr/sbin/varnishd").exists() else None
    )
    if path is not None:
        return path

    msg = "varnishd not found; install it with `apt-get install -y varnish`"
    if os.environ.get("CI") == "true":
        pytest.fail(msg)
    pytest.skip(msg)


@contextmanager
def running_varnish(backend_port: int, port: int | None = None) -> Iterator[str]:
    """Run varnishd in front of 127.0.0.1:`backend_port`; yield its base URL.

    `port` is where Varnish listens; a free one is picked when it is None.
    """
    binary = require_varnishd()
    # varnishd drops root for its own users, which must reach the VCL and the
    # work dir, so both live in a world-readable directory of their own.
    work_dir = Path(tempfile.mkdtemp(prefix="livify-varnish-"))
    work_dir.chmod(0o755)
    vcl = VCL_PATH.read_text().replace('.port = "8000";', f'.port = "{backend_port}";')
    vcl_path = work_dir / "livify.vcl"
    vcl_path.write_text(vcl)
    vcl_path.chmod(0o644)

    port = port or free_port()
    log_path = work_dir / "varnishd.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [
                binary,
                "-F",
                "-a",
                f"127.0.0.1:{port}",
                "-f",
                str(vcl_path),
                "-n",
                str(work_dir / "instance"),
                "-s",
                "malloc,32m",
                "-T",
                "none",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_listening(process, port, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(work_dir, ignore_errors=True)


def _wait_until_listening(
    process: subprocess.Popen[bytes], port: int, log_path: Path
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            httpx.request("OPTIONS", f"http://127.0.0.1:{port}/", timeout=1.0)
        except httpx.TransportError:
            time.sleep(0.1)
            continue
        return

    msg = f"varnishd did not start:\n{log_path.read_text(errors='replace')}"
    raise AssertionError(msg)
