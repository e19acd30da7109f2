"""Serve the reference moderation service on a loopback port, in-process."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn

from livify.platform.moderation import create_moderation_app

HOST = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 10.0


@asynccontextmanager
async def serve_moderation(**options: Any) -> AsyncIterator[str]:
    """Run the service on a free port in this event loop and yield its URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        create_moderation_app(**options),
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with asyncio.timeout(STARTUP_TIMEOUT_SECONDS):
            while not server.started:  # noqa: ASYNC110  # uvicorn offers only a flag
                await asyncio.sleep(0.01)
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        await task
        listener.close()


async def set_faults(url: str, **switches: float) -> dict[str, Any]:
    """Change fault switches through the service's control endpoint."""
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.put("/v1/faults", json=switches)
    assert response.status_code == 200, response.text
    faults: dict[str, Any] = response.json()
    return faults


async def stats(url: str) -> dict[str, int]:
    """Return how many checks the service ended in each outcome."""
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.get("/v1/stats")
    assert response.status_code == 200, response.text
    counts: dict[str, int] = response.json()
    return counts
