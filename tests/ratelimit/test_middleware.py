"""The middleware: client IP, tiers, soft limits, headers and exemptions."""

from __future__ import annotations

import orjson
import pytest
from prometheus_client import CollectorRegistry

from livify.ratelimit import (
    ClientIP,
    ConfigError,
    Identity,
    Limit,
    Policies,
    RateLimiter,
    RateLimitMetrics,
    RateLimitMiddleware,
    default_limits,
    report_results,
)
from livify.types import Receive, Scope, Send
from tests.ratelimit.conftest import FakeClock
from tests.ratelimit.helpers import call, ok_app


def make_app(
    clock: FakeClock, *limits: Limit, **options: object
) -> RateLimitMiddleware:
    policy_options = {
        key: options.pop(key) for key in ("allow_networks",) if key in options
    }
    policies = Policies(limits=limits or default_limits(), **policy_options)  # type: ignore[arg-type]
    limiter = RateLimiter(
        policies,
        clock=clock,
        sleep=clock.sleep,
        hooks=options.pop("hooks", None),  # type: ignore[arg-type]
    )
    return RateLimitMiddleware(ok_app, limiter=limiter, **options)  # type: ignore[arg-type]


def identify_by_header(scope: Scope) -> Identity | None:
    """Read `x-user: name/tier`, standing in for a decoded token."""
    for name, value in scope["headers"]:
        if name == b"x-user":
            user, _, tier = value.decode().partition("/")
            return Identity(user, tier)
    return None


async def test_forged_forwarded_for_ignored(clock: FakeClock) -> None:
    """An untrusted peer's X-Forwarded-For is ignored; its real address counts."""
    limit = Limit("ip", 2, 60.0, key="ip", block_ratio=1.0)
    app = make_app(clock, limit, client_ip=ClientIP(trusted_proxies=["10.0.0.0/8"]))
    statuses = [
        (await call(app, headers={"X-Forwarded-For": f"198.51.100.{n}"})).status
        for n in range(3)
    ]

    assert statuses == [200, 200, 429]


async def test_trusted_proxy_forwarded_address(clock: FakeClock) -> None:
    """Behind a trusted proxy the first untrusted address from the right counts."""
    limit = Limit("ip", 1, 60.0, key="ip", block_ratio=1.0)
    app = make_app(clock, limit, client_ip=ClientIP(trusted_proxies=["10.0.0.0/8"]))
    first = await call(
        app, peer="10.0.0.2", headers={"X-Forwarded-For": "203.0.113.9, 10.0.0.1"}
    )
    other_client = await call(
        app, peer="10.0.0.2", headers={"X-Forwarded-For": "203.0.113.8"}
    )
    same_client = await call(
        app,
        peer="10.0.0.2",
        headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.9, 10.0.0.1"},
    )

    assert first.status == 200
    assert other_client.status == 200
    assert same_client.status == 429


async def test_forwarded_header_rfc7239(clock: FakeClock) -> None:
    """`Forwarded: for=` is read like X-Forwarded-For, IPv6 in brackets too."""
    client_ip = ClientIP(trusted_proxies=["10.0.0.0/8"])
    scope: Scope = {
        "client": ("10.0.0.2", 1),
        "headers": [
            (b"forwarded", b'for="[2001:db8::1]:4711";proto=https, for=10.0.0.3')
        ],
    }

    assert client_ip(scope) == "2001:db8::1"


async def test_ipv6_grouped_by_64(clock: FakeClock) -> None:
    """Two addresses in one IPv6 /64 share a counter."""
    limit = Limit("ip", 1, 60.0, key="ip", block_ratio=1.0)
    app = make_app(clock, limit)
    first = await call(app, peer="2001:db8:1:2::1")
    second = await call(app, peer="2001:db8:1:2:ffff::9")
    other_network = await call(app, peer="2001:db8:1:3::1")

    assert first.status == 200
    assert second.status == 429
    assert other_network.status == 200


async def test_tiers_get_their_limits(clock: FakeClock) -> None:
    """Anonymous, authenticated and premium callers get 100, 1,000 and 5,000."""
    app = make_app(clock, identify=identify_by_header)
    anonymous = await call(app)
    user = await call(app, headers={"x-user": "ann/authenticated"})
    premium = await call(app, headers={"x-user": "bob/premium"})

    assert anonymous.headers["x-ratelimit-limit"] == "100"
    assert user.headers["x-ratelimit-limit"] == "1000"
    assert premium.headers["x-ratelimit-limit"] == "5000"


async def test_soft_limit_warns_then_blocks(clock: FakeClock) -> None:
    """Past 80 of 100 a warning header appears; the 121st request is rejected."""
    app = make_app(clock, Limit("default", 100, 60.0, key="ip"))
    responses = [await call(app) for _ in range(121)]

    assert "x-ratelimit-warning" not in responses[79].headers
    assert responses[80].headers["x-ratelimit-warning"].startswith('"default"')
    assert [r.status for r in responses[:120]] == [200] * 120
    assert responses[120].status == 429
    assert responses[99].headers["x-ratelimit-remaining"] == "0"


async def test_retry_after_correct_to_second(clock: FakeClock) -> None:
    """Retry-After seconds later the request passes, one second earlier it does not."""
    clock.now = 1_700_000_057.4  # 17.4 s into a 60 s window
    app = make_app(clock, Limit("w", 3, 60.0, key="ip", algorithm="fixed_window"))
    for _ in range(3):
        await call(app)
    rejected = await call(app)
    retry_after = int(rejected.headers["retry-after"])

    assert rejected.status == 429
    assert retry_after == 43
    clock.advance(retry_after - 1)
    assert (await call(app)).status == 429
    clock.advance(1)
    assert (await call(app)).status == 200


async def test_rejection_body_and_headers(clock: FakeClock) -> None:
    """A 429 carries the API's error body and the draft's fields."""
    app = make_app(clock, Limit("default", 1, 60.0, key="ip", block_ratio=1.0))
    await call(app)
    rejected = await call(app)

    assert rejected.status == 429
    assert orjson.loads(rejected.body)["errors"]["rate_limit"]
    assert rejected.headers["ratelimit-policy"] == '"default";q=1;w=60'
    assert rejected.headers["ratelimit"].startswith('"default";r=0;t=')
    assert rejected.headers["x-ratelimit-remaining"] == "0"
    assert rejected.headers["cache-control"] == "no-store"


async def test_app_429_keeps_own_fields(clock: FakeClock) -> None:
    """An app's 429 with its own rate limit fields gets none from the middleware."""
    own_fields = [
        (b"ratelimit-policy", b'"login-account";q=3;w=60'),
        (b"ratelimit", b'"login-account";r=0;t=42'),
        (b"x-ratelimit-limit", b"3"),
    ]

    async def limited_app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": 429, "headers": own_fields}
        )
        await send({"type": "http.response.body", "body": b""})

    limit = Limit("default", 10, 60.0, key="ip")
    limiter = RateLimiter(Policies(limits=(limit,)), clock=clock)
    app = RateLimitMiddleware(limited_app, limiter=limiter)
    response = await call(app)

    assert response.status == 429
    assert response.headers == {
        name.decode(): value.decode() for name, value in own_fields
    }


async def test_reported_limit_joins_fields(clock: FakeClock) -> None:
    """A limit the app checked itself is listed with the middleware's own."""
    account = Limit("login-account", 3, 60.0, key="account")
    limiter = RateLimiter(
        Policies(limits=(Limit("default", 10, 60.0, key="ip"), account)),
        clock=clock,
    )

    async def checking_app(scope: Scope, receive: Receive, send: Send) -> None:
        for _ in range(3):
            decision = await limiter.check("login-account", "someone@example.com")
        report_results(scope, decision)
        await ok_app(scope, receive, send)

    response = await call(RateLimitMiddleware(checking_app, limiter=limiter))

    assert response.headers["ratelimit-policy"] == (
        '"default";q=10;w=60, "login-account";q=3;w=60'
    )
    assert '"login-account";r=0;' in response.headers["ratelimit"]
    assert response.headers["x-ratelimit-limit"] == "3"
    assert response.headers["x-ratelimit-remaining"] == "0"


async def test_headers_on_allowed_response(clock: FakeClock) -> None:
    """An allowed response lists every applied limit in the draft's fields."""
    app = make_app(
        clock,
        Limit("default", 10, 60.0, key="ip"),
        Limit("writes", 5, 60.0, key="ip", methods=("POST",), algorithm="gcra"),
    )
    response = await call(app, method="POST")

    assert response.headers["ratelimit-policy"] == (
        '"default";q=10;w=60, "writes";q=5;w=60'
    )
    assert response.headers["ratelimit"].startswith('"default";r=9;t=')
    assert '"writes";r=4;t=12' in response.headers["ratelimit"]
    assert response.headers["x-ratelimit-limit"] == "5"


async def test_login_stricter_per_ip(clock: FakeClock) -> None:
    """Login attempts per IP stop at 10 while reads go on."""
    app = make_app(clock)
    logins = [
        (await call(app, "/api/users/login", method="POST")).status for _ in range(11)
    ]
    read = await call(app, "/api/tags")

    assert logins == [200] * 10 + [429]
    assert read.status == 200


async def test_login_per_account_check(clock: FakeClock) -> None:
    """`check` limits attempts per account from any address."""
    limiter = RateLimiter(Policies(), clock=clock)
    decisions = [
        await limiter.check("login-account", "ann@example.com") for _ in range(6)
    ]

    assert [d.is_allowed for d in decisions] == [True] * 5 + [False]
    with pytest.raises(KeyError):
        await limiter.check("no-such-limit", "x")


async def test_exempt_paths_and_allow_list(clock: FakeClock) -> None:
    """Health paths and allowed networks are never counted nor given headers."""
    import ipaddress

    app = make_app(
        clock,
        Limit("default", 1, 60.0, key="ip", block_ratio=1.0),
        allow_networks=(ipaddress.ip_network("198.51.100.0/24"),),
    )
    health = [(await call(app, "/livez")).status for _ in range(3)]
    allowed = [(await call(app, peer="198.51.100.5")).status for _ in range(3)]

    assert health == [200, 200, 200]
    assert allowed == [200, 200, 200]
    assert "ratelimit" not in (await call(app, "/metrics")).headers


async def test_delay_instead_of_reject(clock: FakeClock) -> None:
    """With delay_max_seconds a short wait replaces the 429."""
    limit = Limit(
        "gentle",
        2,
        2.0,
        key="ip",
        algorithm="gcra",
        block_ratio=1.0,
        delay_max_seconds=1.5,
    )
    app = make_app(clock, limit)
    statuses = [(await call(app)).status for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert clock.slept == [pytest.approx(1.0)]


async def test_metrics_count_outcomes(clock: FakeClock) -> None:
    """Allowed, warned and limited requests are counted per limit."""
    registry = CollectorRegistry()
    app = make_app(
        clock,
        Limit("default", 5, 60.0, key="ip", block_ratio=1.0),
        hooks=RateLimitMetrics(registry),
    )
    for _ in range(7):
        await call(app)

    def count(outcome: str) -> float | None:
        return registry.get_sample_value(
            "livify_ratelimit_decisions_total",
            {"limit": "default", "outcome": outcome},
        )

    assert count("allowed") == 4
    assert count("warned") == 1
    assert count("limited") == 2


async def test_route_templates_key_user_route(clock: FakeClock) -> None:
    """A user+route limit counts `/api/articles/{slug}` once for all slugs."""
    limit = Limit(
        "article",
        2,
        60.0,
        key="user_route",
        routes=("/api/articles/{slug}",),
        block_ratio=1.0,
    )
    app = make_app(clock, limit, identify=identify_by_header)
    user = {"x-user": "ann/authenticated"}
    statuses = [
        (await call(app, f"/api/articles/a-{n}", headers=user)).status for n in range(3)
    ]
    other_route = await call(app, "/api/articles", headers=user)
    anonymous = await call(app, "/api/articles/a-1")

    assert statuses == [200, 200, 429]
    assert "ratelimit" not in other_route.headers
    assert "ratelimit" not in anonymous.headers


@pytest.mark.parametrize("algorithm", ["fixed_window", "sliding_window", "gcra"])
async def test_retry_after_not_before_reset(clock: FakeClock, algorithm: str) -> None:
    """On a 429 the rejecting limit's `t` equals Retry-After, never more."""
    clock.now = 1_700_000_030.0
    limit = Limit("w", 4, 60.0, key="ip", algorithm=algorithm, block_ratio=1.0)  # type: ignore[arg-type]
    app = make_app(clock, limit)
    for _ in range(4):
        await call(app)
        clock.advance(1.0)
    rejected = await call(app)
    reset = rejected.headers["ratelimit"].rpartition(";t=")[2]

    assert rejected.status == 429
    assert reset == rejected.headers["retry-after"]
    assert rejected.headers["x-ratelimit-reset"] == reset


async def test_policy_name_is_escaped(clock: FakeClock) -> None:
    """A quote or backslash in a limit name is escaped as the draft's strings are."""
    app = make_app(clock, Limit('a"b\\c', 5, 60.0, key="ip"))
    response = await call(app)

    assert response.headers["ratelimit-policy"] == '"a\\"b\\\\c";q=5;w=60'
    assert response.headers["ratelimit"].startswith('"a\\"b\\\\c";r=4;t=')


def test_non_ascii_limit_name_rejected() -> None:
    """A limit name that a Structured Fields string cannot carry is invalid."""
    with pytest.raises(ConfigError, match="printable ASCII"):
        Limit("défaut", 5, 60.0)
