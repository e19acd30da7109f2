"""Error ratio and p99 of a mixed journey while moderation hangs or is slow.

One reference moderation service (`livify moderation serve`) and, per case,
one `livify serve` process (one worker, SQLite) run on loopback. Each case
makes moderation hang on every check, or respond after 3 s, and then runs
a closed loop of virtual users, each repeating: list articles, read an
article, read its comments, then write (a new article or a comment, in
turn). So a quarter of the requests are writes that call moderation.

Two client setups face each fault:

- `breaker`: livify's moderation defaults, 1 s timeouts, 2 attempts, a
  bulkhead of 10 calls and a circuit breaker;
- `naive`: what a plain client does, 5 s timeouts, 3 attempts, no breaker
  and no bulkhead to speak of (1,000 calls).

Load shedding is off in both, so that only the moderation client differs.
An error is a response other than 2xx, or no response within 12 s (the
server's write deadline is 10 s). p99 is over every request of the case.
Load, time and users are bounded; everything listens on 127.0.0.1 only.

Run: .venv/bin/python bench/moderation_outage.py [--seconds 15 --users 16]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from tests.live.moderation import ModerationProcess
from tests.live.server import LiveServer, find_free_port, start_live_server

CLIENT_TIMEOUT_SECONDS = 12.0
SLOW_LATENCY_MS = 3000.0
FAULTS = {
    "hanging": {"hang_rate": 1.0, "latency_ms": 0.0},
    "slow (3 s)": {"hang_rate": 0.0, "latency_ms": SLOW_LATENCY_MS},
}
SETUPS = {
    "breaker": {},
    "naive": {
        "LIVIFY_MODERATION_TIMEOUT_SECONDS": "5",
        "LIVIFY_MODERATION_MAX_ATTEMPTS": "3",
        "LIVIFY_MODERATION_MAX_CONCURRENT": "1000",
        "LIVIFY_MODERATION_BREAKER_ENABLED": "false",
    },
}
SEED_ARTICLES = 20
MAX_USERS = 64
MAX_SECONDS = 120.0


@dataclass
class CaseResult:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: Counter[str] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def error_ratio(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    @property
    def p99_seconds(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def timed(
    result: CaseResult, client: httpx.AsyncClient, method: str, path: str, **kw: Any
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = await client.request(method, path, **kw)
    except httpx.HTTPError:
        response = None

    result.latencies.append(time.perf_counter() - started)
    if response is None or not response.is_success:
        result.errors += 1
        result.error_kinds[
            "timeout" if response is None else str(response.status_code)
        ] += 1
    return response


async def user_loop(
    server: LiveServer, token: str, slugs: list[str], seconds: float, result: CaseResult
) -> None:
    headers = {"Authorization": f"Token {token}"}
    stop_at = time.monotonic() + seconds
    async with httpx.AsyncClient(
        base_url=server.api_url, headers=headers, timeout=CLIENT_TIMEOUT_SECONDS
    ) as client:
        turn = 0
        while time.monotonic() < stop_at:
            slug = slugs[turn % len(slugs)]
            await timed(result, client, "GET", "/articles", params={"limit": 10})
            await timed(result, client, "GET", f"/articles/{slug}")
            await timed(result, client, "GET", f"/articles/{slug}/comments")
            if turn % 2 == 0:
                body = {"article": article(f"bench {secrets.token_hex(4)}")}
                await timed(result, client, "POST", "/articles", json=body)
            else:
                body = {"comment": {"body": "a comment"}}
                await timed(
                    result, client, "POST", f"/articles/{slug}/comments", json=body
                )
            turn += 1


def article(title: str) -> dict[str, str]:
    return {"title": title, "description": "bench", "body": "measured text"}


async def prepare(server: LiveServer, users: int) -> tuple[list[str], list[str]]:
    """Register users and publish the articles they read (moderation healthy)."""
    tokens = []
    slugs = []
    async with httpx.AsyncClient(base_url=server.api_url, timeout=30.0) as client:
        for _ in range(users):
            name = f"bench_{secrets.token_hex(5)}"
            response = await client.post(
                "/users",
                json={
                    "user": {
                        "username": name,
                        "email": f"{name}@example.com",
                        "password": secrets.token_urlsafe(12),
                    }
                },
            )
            response.raise_for_status()
            tokens.append(response.json()["user"]["token"])

        headers = {"Authorization": f"Token {tokens[0]}"}
        for number in range(SEED_ARTICLES):
            response = await client.post(
                "/articles",
                headers=headers,
                json={"article": article(f"seed {number}")},
            )
            response.raise_for_status()
            slugs.append(response.json()["article"]["slug"])

    return tokens, slugs


async def run_case(
    server: LiveServer,
    moderation: ModerationProcess,
    faults: dict[str, float],
    *,
    users: int,
    seconds: float,
) -> CaseResult:
    moderation.set_faults(hang_rate=0.0, latency_ms=0.0)
    tokens, slugs = await prepare(server, users)
    moderation.set_faults(**faults)
    result = CaseResult()
    await asyncio.gather(
        *(user_loop(server, token, slugs, seconds, result) for token in tokens)
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--users", type=int, default=16)
    args = parser.parse_args()
    if not 0 < args.seconds <= MAX_SECONDS or not 0 < args.users <= MAX_USERS:
        msg = f"--seconds must be in (0, {MAX_SECONDS}] and --users in 1..{MAX_USERS}"
        parser.error(msg)

    rows = []
    with tempfile.TemporaryDirectory(prefix="livify-moderation-bench-") as tmp:
        moderation = ModerationProcess(find_free_port(), Path(tmp) / "moderation.log")
        moderation.start()
        try:
            for fault_name, faults in FAULTS.items():
                for setup_name, environment in SETUPS.items():
                    data_dir = Path(tmp) / f"{fault_name}-{setup_name}".replace(" ", "")
                    server = start_live_server(
                        data_dir,
                        None,
                        extra_environment={
                            "LIVIFY_MODERATION_URL": moderation.url,
                            "LIVIFY_LOG_LEVEL": "warning",
                            # Shedding returns 503 when writes slow down, which
                            # would mix its effect into the moderation client's.
                            "LIVIFY_SHEDDING_ENABLED": "false",
                            **environment,
                        },
                    )
                    try:
                        result = asyncio.run(
                            run_case(
                                server,
                                moderation,
                                faults,
                                users=args.users,
                                seconds=args.seconds,
                            )
                        )
                    finally:
                        server.stop()
                    rows.append((fault_name, setup_name, result))
        finally:
            moderation.stop()

    print(
        f"moderation outage, {args.users} users, {args.seconds:.0f} s per case, "
        "a quarter of requests are writes"
    )
    print(
        f"{'moderation':<12} {'client':<8} {'requests':>9} {'errors':>8} "
        f"{'p99':>9}  errors by status"
    )
    for fault_name, setup_name, result in rows:
        kinds = ", ".join(
            f"{kind}: {n}" for kind, n in sorted(result.error_kinds.items())
        )
        print(
            f"{fault_name:<12} {setup_name:<8} {result.requests:>9} "
            f"{result.error_ratio:>8.2%} {result.p99_seconds * 1000:>7.0f}ms  {kinds}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
