"""A small HTTP/1.1 server on 127.0.0.1 whose responses tests script.

It runs its own event loop in a background thread, so the client under
test and the server never share a loop. Each request takes the next
`Fault` from the script, or the default fault when the script is empty.
The server counts the requests it received, the requests in progress and
the connections open, so tests can check what reached it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

STOP_TIMEOUT_SECONDS = 5.0
POLL_INTERVAL_SECONDS = 0.01


@dataclass(frozen=True)
class Fault:
    """Response to one request, sent after `delay_seconds` or never (`hang`)."""

    status: int = 200
    delay_seconds: float = 0.0
    hang: bool = False
    retry_after: str | None = None
    body: bytes = b'{"ok": true}'


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    received_at: float = field(default_factory=time.monotonic)


class FaultyServer:
    """The server's switches and counters; use `running()` to start it."""

    def __init__(self) -> None:
        self.port = 0
        self._lock = threading.Lock()
        self._default = Fault()
        self._script: deque[Fault] = deque()
        self._requests: list[ReceivedRequest] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._open_connections = 0
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_default(self, fault: Fault) -> None:
        with self._lock:
            self._default = fault

    def script(self, *faults: Fault) -> None:
        """Respond to the next requests with `faults`, in order, then the default."""
        with self._lock:
            self._script.extend(faults)

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    @property
    def max_in_flight(self) -> int:
        with self._lock:
            return self._max_in_flight

    @property
    def open_connections(self) -> int:
        with self._lock:
            return self._open_connections

    async def wait_until(
        self, condition: Callable[[FaultyServer], bool], timeout_seconds: float = 2.0
    ) -> bool:
        """Poll `condition` until it is true or the timeout passes; return it."""
        give_up_at = time.monotonic() + timeout_seconds
        while not condition(self):
            if time.monotonic() >= give_up_at:
                return False

            await asyncio.sleep(POLL_INTERVAL_SECONDS)

        return True

    async def _handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        with self._lock:
            self._open_connections += 1

        try:
            while await self._answer_one(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with self._lock:
                self._open_connections -= 1
            self._handlers.discard(task)

    async def _answer_one(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, path, _ = request_line.split(" ", 2)
        headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()

        await reader.readexactly(int(headers.get("content-length", "0")))
        fault = self._receive(ReceivedRequest(method, path, headers))
        try:
            if fault.hang:
                # Hold the request until the client closes the connection.
                await reader.read()
                return False

            await asyncio.sleep(fault.delay_seconds)
            writer.write(_response_bytes(fault))
            await writer.drain()
        finally:
            with self._lock:
                self._in_flight -= 1

        return True

    def _receive(self, request: ReceivedRequest) -> Fault:
        with self._lock:
            self._requests.append(request)
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            return self._script.popleft() if self._script else self._default

    async def _shut_down(self, server: asyncio.Server) -> None:
        server.close()
        for task in list(self._handlers):
            task.cancel()

        await asyncio.gather(*self._handlers, return_exceptions=True)
        await server.wait_closed()


def _response_bytes(fault: Fault) -> bytes:
    lines = [
        f"HTTP/1.1 {fault.status} Scripted",
        "Content-Type: application/json",
        f"Content-Length: {len(fault.body)}",
    ]
    if fault.retry_after is not None:
        lines.append(f"Retry-After: {fault.retry_after}")

    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + fault.body


@contextmanager
def running() -> Iterator[FaultyServer]:
    """Run a `FaultyServer` on a free loopback port for the `with` block."""
    faulty = FaultyServer()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(
        asyncio.start_server(faulty._handle, "127.0.0.1", 0), loop
    ).result(STOP_TIMEOUT_SECONDS)
    faulty.port = server.sockets[0].getsockname()[1]
    try:
        yield faulty
    finally:
        asyncio.run_coroutine_threadsafe(faulty._shut_down(server), loop).result(
            STOP_TIMEOUT_SECONDS
        )
        loop.call_soon_threadsafe(loop.stop)
        thread.join(STOP_TIMEOUT_SECONDS)
        loop.close()
