"""The one configuration object, read from `LIVIFY_*` environment variables.

Only the composition root (`livify.app`) and the command line read `Settings`;
toolkit packages receive plain values as constructor arguments.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from livify.db import normalise_database_url
from livify.db._database import DEFAULT_POOL_SIZE, DEFAULT_POOL_TIMEOUT_SECONDS

# Defaults of the application. They are written out rather than imported
# from the toolkit and platform modules, so that reading Settings stays cheap
# for every command and loads neither the web stack nor prometheus_client.
DEFAULT_REQUEST_READ_TIMEOUT_SECONDS = 3.0
DEFAULT_REQUEST_WRITE_TIMEOUT_SECONDS = 10.0
DEFAULT_SHEDDING_INITIAL_LIMIT = 32
DEFAULT_SHEDDING_MIN_LIMIT = 4
DEFAULT_SHEDDING_MAX_LIMIT = 512
DEFAULT_SHEDDING_LATENCY_TARGET_SECONDS = 0.1
DEFAULT_SHEDDING_QUEUE_SIZE = 128
DEFAULT_SHEDDING_QUEUE_TIMEOUT_SECONDS = 0.05
DEFAULT_SHEDDING_RETRY_AFTER_SECONDS = 1
DEFAULT_MODERATION_TIMEOUT_SECONDS = 1.0
DEFAULT_MODERATION_MAX_ATTEMPTS = 2
DEFAULT_MODERATION_MAX_CONCURRENT = 10
DEFAULT_MODERATION_BREAKER_OPEN_SECONDS = 10.0
DEFAULT_MODERATION_WORKER_INTERVAL_SECONDS = 1.0
DEFAULT_MODERATION_RETRY_INITIAL_SECONDS = 5.0
DEFAULT_MODERATION_RETRY_MAX_SECONDS = 300.0

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_TOKEN_TTL_SECONDS = 7 * 24 * 3600.0
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_GRACEFUL_SHUTDOWN_SECONDS = 30.0
# Under the read deadline, so a runaway query ends before its request does.
DEFAULT_STATEMENT_TIMEOUT_SECONDS = 2.5
SQLITE_FILE_NAME = "livify.sqlite3"
# The platform's VIEW_TTL_SECONDS, written out like the defaults above.
DEFAULT_CACHE_TTL_SECONDS = 300.0


def default_data_dir() -> Path:
    """Return the XDG data directory for livify (`~/.local/share/livify`)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "livify"


class Settings(BaseSettings):
    """Runtime configuration; each field is read from `LIVIFY_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="LIVIFY_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; unset means a SQLite file in data_dir.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="JWT signing key; unset means a random key kept in data_dir.",
    )
    token_ttl_seconds: float = Field(default=DEFAULT_TOKEN_TTL_SECONDS, gt=0)
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, gt=0)
    cors_origins: list[str] = Field(default_factory=list)
    pool_size: int = Field(default=DEFAULT_POOL_SIZE, gt=0)
    pool_timeout_seconds: float = Field(default=DEFAULT_POOL_TIMEOUT_SECONDS, gt=0)
    statement_timeout_seconds: float = Field(
        default=DEFAULT_STATEMENT_TIMEOUT_SECONDS,
        gt=0,
        description="PostgreSQL statement_timeout for the API's queries, "
        "in seconds (SQLite has none)",
    )
    request_read_timeout_seconds: float = Field(
        default=DEFAULT_REQUEST_READ_TIMEOUT_SECONDS,
        gt=0,
        description="deadline of GET, HEAD and OPTIONS requests in seconds; "
        "past it the request is cancelled and answered 504",
    )
    request_write_timeout_seconds: float = Field(
        default=DEFAULT_REQUEST_WRITE_TIMEOUT_SECONDS,
        gt=0,
        description="deadline of every other request in seconds",
    )
    shedding_enabled: bool = Field(
        default=True,
        description="respond 503 with Retry-After to requests beyond the "
        "adaptive concurrency limit",
    )
    shedding_latency_target_seconds: float = Field(
        default=DEFAULT_SHEDDING_LATENCY_TARGET_SECONDS,
        gt=0,
        description="mean latency of admitted requests above which the "
        "concurrency limit shrinks, in seconds",
    )
    shedding_initial_limit: int = Field(default=DEFAULT_SHEDDING_INITIAL_LIMIT, ge=1)
    shedding_min_limit: int = Field(
        default=DEFAULT_SHEDDING_MIN_LIMIT,
        ge=1,
        description="concurrent requests per worker the limit never goes below",
    )
    shedding_max_limit: int = Field(default=DEFAULT_SHEDDING_MAX_LIMIT, ge=1)
    shedding_queue_size: int = Field(
        default=DEFAULT_SHEDDING_QUEUE_SIZE,
        ge=0,
        description="requests per worker that may wait for a slot",
    )
    shedding_queue_timeout_seconds: float = Field(
        default=DEFAULT_SHEDDING_QUEUE_TIMEOUT_SECONDS,
        gt=0,
        description="maximum wait for a slot in seconds, while the queue "
        "is not standing",
    )
    shedding_retry_after_seconds: int = Field(
        default=DEFAULT_SHEDDING_RETRY_AFTER_SECONDS,
        ge=0,
        description="Retry-After of shed requests, in seconds",
    )
    migrate_on_start: bool = True
    host: str = DEFAULT_HOST
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    workers: int = Field(default=1, ge=1)
    graceful_shutdown_seconds: float = Field(
        default=DEFAULT_GRACEFUL_SHUTDOWN_SECONDS, gt=0
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"
    metrics_enabled: bool = True
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="serve /metrics on this port instead of the API's port",
    )
    # One line per request costs about as much as the rest of the metrics
    # middleware together (bench/observability_overhead.py). Failed and slow
    # requests are logged whatever the ratio.
    access_log_sample_ratio: float = Field(default=0.01, ge=0.0, le=1.0)
    # Which responses carry X-Request-ID: 5xx alone (always logged, so the id
    # finds a line) or every response, which costs an id and a header each.
    request_id_header: Literal["always", "errors"] = "errors"
    slow_request_seconds: float = Field(default=1.0, gt=0)
    slow_query_seconds: float = Field(default=0.1, gt=0)
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector such as http://127.0.0.1:4318 (unset: off)",
    )
    trace_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    cache_url: str | None = Field(
        default="memory://",
        description="memory:// (in-process only) or redis://host:port/db; "
        "empty turns the application cache off",
    )
    cache_key_prefix: str = "livify"
    cache_ttl_seconds: float = Field(
        default=DEFAULT_CACHE_TTL_SECONDS,
        gt=0,
        le=86_400,
        description="how long a cached view lives; writes invalidate views at "
        "once, so this only bounds staleness after a lost invalidation",
    )
    edge_purge_urls: list[str] = Field(
        default_factory=list,
        description="edge caches (Varnish) to purge after writes, "
        'as a JSON list such as ["http://127.0.0.1:6081"]',
    )
    ratelimit_enabled: bool = True
    ratelimit_url: str = Field(
        default="memory://",
        description="memory:// (per process) or redis://host:port/db (shared)",
    )
    ratelimit_config: Path | None = Field(
        default=None,
        description="TOML or YAML file of limits, reloaded on SIGHUP; "
        "unset: the built-in defaults",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="networks whose X-Forwarded-For / Forwarded are believed, "
        'as a JSON list such as ["10.0.0.0/8"]',
    )
    warm_on_start: int = Field(
        default=0,
        ge=0,
        description="warm the caches with this many of the most favorited "
        "articles when each worker starts (0: off)",
    )
    http_max_age_seconds: int = Field(default=5, ge=0)
    http_shared_max_age_seconds: int = Field(default=60, ge=0)
    moderation_url: str | None = Field(
        default=None,
        description="moderation service such as http://127.0.0.1:9000, which "
        "checks new and edited posts (unset: off, every post is published)",
    )
    moderation_timeout_seconds: float = Field(
        default=DEFAULT_MODERATION_TIMEOUT_SECONDS,
        gt=0,
        description="connect, read and write timeout of one moderation call; "
        "a write waits at most about max_attempts times this",
    )
    moderation_max_attempts: int = Field(default=DEFAULT_MODERATION_MAX_ATTEMPTS, ge=1)
    moderation_max_concurrent: int = Field(
        default=DEFAULT_MODERATION_MAX_CONCURRENT,
        gt=0,
        description="moderation calls in flight per process (bulkhead)",
    )
    moderation_breaker_enabled: bool = Field(
        default=True,
        description="false keeps calling a failing service (for comparisons only)",
    )
    moderation_breaker_open_seconds: float = Field(
        default=DEFAULT_MODERATION_BREAKER_OPEN_SECONDS, gt=0
    )
    moderation_retry_initial_seconds: float = Field(
        default=DEFAULT_MODERATION_RETRY_INITIAL_SECONDS,
        gt=0,
        description="first wait before a pending post is checked again; "
        "each failed check doubles it, up to moderation_retry_max_seconds",
    )
    moderation_retry_max_seconds: float = Field(
        default=DEFAULT_MODERATION_RETRY_MAX_SECONDS, gt=0
    )
    moderation_worker_interval_seconds: float = Field(
        default=DEFAULT_MODERATION_WORKER_INTERVAL_SECONDS,
        gt=0,
        description="how often each process looks for pending posts to check",
    )

    @field_validator("moderation_url")
    @classmethod
    def _check_moderation_url(cls, value: str | None) -> str | None:
        if not value:
            return None

        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            msg = f"must be an http:// or https:// URL with a host, got {value!r}"
            raise ValueError(msg)
        return value

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str | None) -> str | None:
        return normalise_database_url(value) if value else None

    def resolved_database_url(self) -> str:
        """Return the configured URL, or the embedded SQLite file under `data_dir`."""
        if self.database_url:
            return self.database_url

        return f"sqlite+aiosqlite:///{self.data_dir / SQLITE_FILE_NAME}"
