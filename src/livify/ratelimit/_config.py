"""Read `Policies` from a TOML or YAML file.

    exempt_paths = ["/livez", "/readyz", "/metrics"]
    allow = ["10.0.0.0/8"]
    route_templates = ["/api/articles/{slug}"]

    [event]                  # optional temporary multiplier
    multiplier = 2.0
    until = 2026-06-01T18:00:00Z

    [[limits]]
    name = "default"
    rate = "100/minute"
    key = "user_or_ip"       # or ip, user, route, ip_route, user_route, ...
    algorithm = "sliding_window"
    tiers = { anonymous = 100, authenticated = 1000, premium = 5000 }

Limits take the fields of `Limit`, with `rate` in place of `limit` and
`window_seconds`. A file without `limits` keeps livify's default limits.
"""

from __future__ import annotations

import datetime
import ipaddress
import tomllib
from pathlib import Path
from typing import Any

import yaml

from livify.ratelimit._exceptions import ConfigError
from livify.ratelimit._policy import (
    DEFAULT_EXEMPT_PATHS,
    Limit,
    Policies,
    default_limits,
    parse_rate,
)

_TOP_LEVEL_KEYS = {"exempt_paths", "allow", "route_templates", "event", "limits"}


def load_policies(path: str | Path) -> Policies:
    """Read the policies in `path` (`.toml`, `.yaml` or `.yml`).

    Raise `ConfigError` when the file cannot be read or parsed, or names an
    unknown field or an invalid value.
    """
    path = Path(path)
    data = _read(path)
    unknown = sorted(set(data) - _TOP_LEVEL_KEYS)
    if unknown:
        msg = (
            f"unknown keys {unknown!r} in {str(path)!r}; "
            f"expected {sorted(_TOP_LEVEL_KEYS)}"
        )
        raise ConfigError(msg)

    try:
        return _build(data)
    except (TypeError, ValueError) as exc:
        msg = f"invalid rate limits in {str(path)!r}: {exc}"
        raise ConfigError(msg) from exc


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        else:
            msg = f"unknown limits file type {path.suffix!r}; use .toml, .yaml or .yml"
            raise ConfigError(msg)
    except (OSError, tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        msg = f"cannot read rate limits from {str(path)!r}: {exc}"
        raise ConfigError(msg) from exc

    if not isinstance(data, dict):
        msg = f"{str(path)!r} must hold a table of settings, got {type(data).__name__}"
        raise ConfigError(msg)

    return data


def _build(data: dict[str, Any]) -> Policies:
    limits = (
        tuple(_limit(entry) for entry in data["limits"])
        if "limits" in data
        else default_limits()
    )
    event = data.get("event", {})
    return Policies(
        limits=limits,
        exempt_paths=frozenset(data.get("exempt_paths", DEFAULT_EXEMPT_PATHS)),
        allow_networks=tuple(
            ipaddress.ip_network(item, strict=False) for item in data.get("allow", [])
        ),
        route_templates=tuple(data.get("route_templates", ())),
        multiplier=float(event.get("multiplier", 1.0)),
        multiplier_until=_unix_seconds(event.get("until")),
    )


def _limit(entry: dict[str, Any]) -> Limit:
    options = dict(entry)
    rate = options.pop("rate", None)
    if not isinstance(rate, str):
        name = options.get("name")
        msg = f"limit {name!r} needs a rate such as '100/minute', got {rate!r}"
        raise ConfigError(msg)

    limit, window_seconds = parse_rate(rate)
    for name in ("routes", "methods"):
        if name in options:
            options[name] = tuple(options[name])
    return Limit(limit=limit, window_seconds=window_seconds, **options)


def _unix_seconds(value: Any) -> float | None:
    if value is None:
        return None

    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        timestamp: float = value.timestamp()
        return timestamp

    if isinstance(value, str):
        return datetime.datetime.fromisoformat(value).timestamp()

    return float(value)
