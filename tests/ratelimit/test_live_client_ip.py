"""Through a real `livify serve`, a forged X-Forwarded-For changes nothing.

uvicorn rewrites the client address from forwarded headers for peers it
trusts (127.0.0.1 by default). livify must see the socket peer unless the
peer is in LIVIFY_TRUSTED_PROXIES, so `livify serve` turns that off.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live.server import LiveServer, start_live_server

pytestmark = pytest.mark.live

LIMIT = 3


@pytest.fixture(params=[False, True], ids=["no-proxies", "loopback-trusted"])
def limited(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[LiveServer, bool]]:
    """A server allowing 3 article lists a minute per client, and its trust.

    The second value is true when loopback is a trusted proxy.
    """
    config = tmp_path / "limits.toml"
    config.write_text(
        "[[limits]]\n"
        'name = "forged"\n'
        f'rate = "{LIMIT}/minute"\n'
        'key = "ip"\n'
        'routes = ["/api/articles"]\n'
        'methods = ["GET"]\n'
        "block_ratio = 1.0\n",
        encoding="utf-8",
    )
    environment = {
        "LIVIFY_RATELIMIT_ENABLED": "true",
        "LIVIFY_RATELIMIT_CONFIG": str(config),
    }
    if request.param:
        environment["LIVIFY_TRUSTED_PROXIES"] = '["127.0.0.1/32"]'
    server = start_live_server(tmp_path / "data", None, extra_environment=environment)
    try:
        yield server, request.param
    finally:
        server.stop()


def test_forwarded_for_believed_only_from_trusted_proxies(
    limited: tuple[LiveServer, bool],
) -> None:
    """Each request claims another address.

    Untrusted, every request counts against 127.0.0.1; behind a trusted
    loopback proxy, each claimed address has its own quota.
    """
    server, trusts_loopback = limited
    statuses = [
        httpx.get(
            f"{server.api_url}/articles",
            headers={"X-Forwarded-For": f"203.0.113.{index}"},
            timeout=10.0,
        ).status_code
        for index in range(LIMIT + 2)
    ]

    if trusts_loopback:
        assert statuses == [200] * (LIMIT + 2)
    else:
        assert statuses == [200] * LIMIT + [429, 429]
