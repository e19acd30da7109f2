"""Policies from a TOML or YAML file, reloaded while serving."""

from __future__ import annotations

from pathlib import Path

import pytest

from livify.ratelimit import ConfigError, RateLimiter, Request, load_policies
from tests.ratelimit.conftest import FakeClock

TOML = """
exempt_paths = ["/livez"]
allow = ["10.0.0.0/8"]

[[limits]]
name = "default"
rate = "{rate}"
key = "ip"
block_ratio = 1.0
"""


async def test_reload_changes_limit(tmp_path: Path, clock: FakeClock) -> None:
    """Lowering a limit in the file takes effect at `reload()`, counts kept."""
    path = tmp_path / "limits.toml"
    path.write_text(TOML.format(rate="5/minute"))
    limiter = RateLimiter(config_path=path, clock=clock)
    request = Request("192.0.2.1")
    before = [(await limiter.decide(request)).is_allowed for _ in range(3)]

    path.write_text(TOML.format(rate="3/minute"))
    limiter.reload()
    after = await limiter.decide(request)

    assert before == [True, True, True]
    assert not after.is_allowed
    assert after.results[0].quota == 3


async def test_invalid_reload_keeps_policies(tmp_path: Path, clock: FakeClock) -> None:
    """A broken file raises ConfigError and the old limits stay in force."""
    path = tmp_path / "limits.toml"
    path.write_text(TOML.format(rate="5/minute"))
    limiter = RateLimiter(config_path=path, clock=clock)
    path.write_text(TOML.format(rate="five a minute"))

    with pytest.raises(ConfigError, match="invalid rate"):
        limiter.reload()
    assert limiter.policies.limits[0].limit == 5


async def test_event_multiplier_expires(tmp_path: Path, clock: FakeClock) -> None:
    """An event multiplier raises limits until its end time."""
    path = tmp_path / "limits.yaml"
    path.write_text(
        "event: {multiplier: 2.0, until: %r}\n"
        "limits:\n"
        "  - {name: default, rate: 10/minute, key: ip}\n" % (clock.now + 60)
    )
    limiter = RateLimiter(config_path=path, clock=clock)
    during = await limiter.decide(Request("192.0.2.1"))
    clock.advance(61)
    after = await limiter.decide(Request("192.0.2.1"))

    assert during.results[0].quota == 20
    assert after.results[0].quota == 10


def test_toml_fields_parsed(tmp_path: Path) -> None:
    """Exempt paths, allow list, rates and TOML datetimes are read."""
    path = tmp_path / "limits.toml"
    path.write_text(
        TOML.format(rate="10/30 seconds")
        + "\n[event]\nmultiplier = 1.5\nuntil = 2030-01-01T00:00:00Z\n"
    )
    policies = load_policies(path)

    assert policies.exempt_paths == frozenset({"/livez"})
    assert str(policies.allow_networks[0]) == "10.0.0.0/8"
    assert policies.limits[0].window_seconds == 30.0
    assert policies.multiplier_until == 1_893_456_000.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bogus = 1\n", "unknown keys"),
        ('[[limits]]\nname = "x"\n', "needs a rate"),
        ('[[limits]]\nname = "x"\nrate = "1/minute"\nkey = "planet"\n', "key 'planet'"),
        ('[[limits]]\nname = "x"\nrate = "1/minute"\ncolour = 1\n', "colour"),
    ],
)
def test_invalid_files_rejected(tmp_path: Path, text: str, message: str) -> None:
    """Unknown keys, missing rates and bad values raise ConfigError."""
    path = tmp_path / "limits.toml"
    path.write_text(text)

    with pytest.raises(ConfigError, match=message):
        load_policies(path)
