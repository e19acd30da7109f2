"""Graceful shutdown of `livify serve` on SIGTERM.

A request in flight when SIGTERM arrives still gets its response, the listener
closes at once, and idle keep-alive connections do not hold up the exit.
"""

from __future__ import annotations

import json
import secrets
import signal
import socket
import time

import pytest

from tests.live.server import HOST, LiveServer

pytestmark = pytest.mark.live

SOCKET_TIMEOUT_SECONDS = 10.0
LISTENER_CLOSE_TIMEOUT_SECONDS = 5.0
# Well under the server's default graceful-shutdown budget of 30 s, so a
# server that waits for idle connections to time out fails the test.
IDLE_SHUTDOWN_MAX_SECONDS = 10.0
POLL_INTERVAL_SECONDS = 0.05
RESPONSE_MAX_BYTES = 1024 * 1024


def assert_clean_exit(server: LiveServer, status: int) -> None:
    """Check that the server finished its shutdown and then exited."""
    # uvicorn re-raises the signal it caught once its shutdown is complete
    # (`Server.capture_signals`), so a clean exit may be death by SIGTERM.
    assert status in {0, -signal.SIGTERM}, server.log_tail()
    assert "lifespan.shutdown_complete" in server.log_tail(), server.log_tail()


def registration_body() -> bytes:
    name = f"slow_{secrets.token_hex(6)}"
    user = {"username": name, "email": f"{name}@example.com", "password": "x" * 12}
    return json.dumps({"user": user}).encode()


def read_until_closed(connection: socket.socket) -> bytes:
    chunks = []
    received = 0
    while received < RESPONSE_MAX_BYTES:
        chunk = connection.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)

    return b"".join(chunks)


def read_response(connection: socket.socket) -> bytes:
    """Read one response that has a Content-Length and leave the connection open."""
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = connection.recv(65536)
        assert chunk, f"connection closed mid-response: {response!r}"
        response += chunk

    head, _, body = response.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)

    while len(body) < length:
        chunk = connection.recv(65536)
        assert chunk, f"connection closed mid-body: {response!r}"
        body += chunk

    return head + b"\r\n\r\n" + body


def is_listening(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1.0):
            return True
    except OSError:
        return False


def wait_until_not_listening(port: int) -> bool:
    deadline = time.monotonic() + LISTENER_CLOSE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not is_listening(port):
            return True
        time.sleep(POLL_INTERVAL_SECONDS)

    return False


def test_sigterm_lets_request_finish(live_server: LiveServer) -> None:
    """A request whose body is still arriving at SIGTERM completes with 201."""
    body = registration_body()
    head = (
        f"POST /api/users HTTP/1.1\r\n"
        f"Host: {HOST}:{live_server.port}\r\n"
        f"Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Expect: 100-continue\r\n"
        f"\r\n"
    ).encode()

    with socket.create_connection(
        (HOST, live_server.port), timeout=SOCKET_TIMEOUT_SECONDS
    ) as connection:
        connection.sendall(head)
        # uvicorn sends 100 Continue when the application first reads the
        # body, so from here on the request is in flight.
        interim = connection.recv(1024)
        assert interim.startswith(b"HTTP/1.1 100 Continue"), interim

        live_server.send_sigterm()
        assert wait_until_not_listening(live_server.port), live_server.log_tail()
        assert live_server.is_running, live_server.log_tail()

        connection.sendall(body)
        response = read_until_closed(connection)

    status_line, _, rest = response.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 201 Created", response
    headers, _, payload = rest.partition(b"\r\n\r\n")
    assert b"connection: close" in headers.lower(), response
    user = json.loads(payload)["user"]
    assert user["token"], payload

    assert_clean_exit(live_server, live_server.wait())


def test_sigterm_closes_idle_connections(live_server: LiveServer) -> None:
    """An idle keep-alive connection is closed and does not delay the exit."""
    request = (
        f"GET /api/tags HTTP/1.1\r\nHost: {HOST}:{live_server.port}\r\n\r\n"
    ).encode()

    with socket.create_connection(
        (HOST, live_server.port), timeout=SOCKET_TIMEOUT_SECONDS
    ) as connection:
        connection.sendall(request)
        first = read_response(connection)
        assert first.startswith(b"HTTP/1.1 200 OK"), first
        assert first.endswith(b'{"tags":[]}'), first

        started = time.monotonic()
        live_server.send_sigterm()
        status = live_server.wait(IDLE_SHUTDOWN_MAX_SECONDS)
        elapsed = time.monotonic() - started

        assert connection.recv(65536) == b"", "the idle connection stayed open"

    assert elapsed < IDLE_SHUTDOWN_MAX_SECONDS, elapsed
    assert_clean_exit(live_server, status)
