"""The limiter: resolve a request's limits, charge them in the store, decide."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeAlias

from livify.ratelimit._circuit import DEFAULT_COOLDOWN_SECONDS, Circuit
from livify.ratelimit._client_ip import ip_key
from livify.ratelimit._config import load_policies
from livify.ratelimit._exceptions import StoreError
from livify.ratelimit._hooks import NoHooks, RateLimitHooks
from livify.ratelimit._log import logger
from livify.ratelimit._memory import MemoryStore
from livify.ratelimit._policy import ANONYMOUS_TIER, Limit, Policies
from livify.ratelimit._routes import RouteMatcher
from livify.ratelimit._types import Clock, Hit, Outcome, Sleep, Usage

OnStoreError: TypeAlias = Literal["local", "allow", "reject"]
DEFAULT_KEY_PREFIX = "livify:rl:"


class Store(Protocol):
    """Where counters live: `MemoryStore`, `RedisStore` or anything alike."""

    url: str

    async def hit(self, hits: Sequence[Hit], now: float) -> list[Usage]: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Request:
    """What the limiter needs to know about a request."""

    client_ip: str
    method: str = "GET"
    path: str = "/"
    user: str | None = None
    tier: str = ANONYMOUS_TIER


@dataclass(frozen=True, slots=True)
class LimitResult:
    """One limit's part in a decision: the limit in force and its usage."""

    limit: Limit
    quota: int
    usage: Usage

    @property
    def remaining(self) -> int:
        """Hits left before the nominal quota (not the hard block) is reached."""
        return max(0, math.floor(self.quota - self.usage.used))

    @property
    def is_warned(self) -> bool:
        return self.usage.used > self.quota * self.limit.warn_ratio


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one request and the per-limit detail behind it."""

    is_allowed: bool
    outcome: Outcome
    results: tuple[LimitResult, ...]
    retry_after_seconds: float = 0.0

    @property
    def retry_after_header(self) -> int:
        """`Retry-After` in whole seconds, rounded up so a retry then succeeds."""
        return max(1, math.ceil(self.retry_after_seconds - 1e-9))


EMPTY_DECISION = Decision(True, "allowed", ())


def create_store(url: str) -> Store:
    """Build a store from `memory://` or `redis://host:port/db` (also `rediss://`, `unix://`)."""
    if url.startswith("memory://"):
        return MemoryStore()

    if url.startswith(("redis://", "rediss://", "unix://")):
        from livify.ratelimit._redis import RedisStore

        return RedisStore(url)

    msg = f"unknown rate limit store {url!r}; use memory:// or redis://host:port/db"
    raise ValueError(msg)


class RateLimiter:
    """Decide whether requests pass their limits.

    `store` is a URL (`memory://`, the default, or `redis://...`) or a store
    object. With a shared store a failed call never reaches the request:
    `on_store_error="local"` (the default, fail-open) decides with a local
    memory store, `"allow"` admits and `"reject"` (fail-closed) rejects.
    After a failure the shared store is skipped for `cooldown_seconds`, then
    probed again. `clock` returns Unix seconds and `sleep` waits (both
    injectable for tests). `policies` defaults to livify's default limits,
    or to the file at `config_path`, which `reload()` reads again.
    """

    def __init__(
        self,
        policies: Policies | None = None,
        *,
        store: Store | str = "memory://",
        config_path: str | Path | None = None,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        on_store_error: OnStoreError = "local",
        cooldown_seconds: float = DEFAULT_COOLDOWN_SECONDS,
        hooks: RateLimitHooks | None = None,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if on_store_error not in ("local", "allow", "reject"):
            msg = (
                "on_store_error must be 'local', 'allow' or 'reject', "
                f"got {on_store_error!r}"
            )
            raise ValueError(msg)

        self.config_path = Path(config_path) if config_path is not None else None
        if policies is None:
            policies = (
                load_policies(self.config_path) if self.config_path else Policies()
            )

        self.store = create_store(store) if isinstance(store, str) else store
        self.key_prefix = key_prefix
        self.on_store_error = on_store_error
        self.hooks: RateLimitHooks = hooks or NoHooks()
        self._clock = clock
        self._sleep = sleep
        self._local = (
            self.store if isinstance(self.store, MemoryStore) else MemoryStore()
        )
        self._circuit = Circuit(clock=time.monotonic, cooldown_seconds=cooldown_seconds)
        self.set_policies(policies)

    @property
    def is_fallback_active(self) -> bool:
        """Whether decisions use the local store because the shared one failed."""
        return self._circuit.is_open

    def set_policies(self, policies: Policies) -> None:
        """Put `policies` in force for the next request."""
        self.policies = policies
        self.routes = RouteMatcher(policies.templates())
        self._by_name = {limit.name: limit for limit in policies.limits}
        self._resolved: dict[tuple[str, str], tuple[Limit, ...]] = {}

    def reload(self) -> Policies:
        """Read `config_path` again and put its policies in force.

        Raise `ConfigError` (and keep the current policies) when the file is
        invalid, and RuntimeError when the limiter has no config file.
        """
        if self.config_path is None:
            msg = (
                "this RateLimiter has no config_path to reload; "
                "pass config_path= or call set_policies()"
            )
            raise RuntimeError(msg)

        policies = load_policies(self.config_path)
        self.set_policies(policies)
        logger.info(
            "ratelimit.reloaded",
            path=str(self.config_path),
            limits=len(policies.limits),
        )
        return policies

    def is_exempt(self, path: str, client_ip: str) -> bool:
        """Return whether a request is never counted: exempt path or allowed network."""
        if path in self.policies.exempt_paths:
            return True

        networks = self.policies.allow_networks
        if not networks:
            return False

        import ipaddress

        try:
            address = ipaddress.ip_address(client_ip)
        except ValueError:
            return False
        return any(address in network for network in networks)

    async def decide(self, request: Request) -> Decision:
        """Charge `request` against every limit that applies and return the verdict.

        Every applicable limit is charged, even when another one rejects.
        Never raises for store failures (see `on_store_error`).
        """
        if self.is_exempt(request.path, request.client_ip):
            return EMPTY_DECISION

        route = self.routes.match(request.path) or request.path
        hits, quotas, limits = self._hits(request, route)
        if not hits:
            return EMPTY_DECISION

        usages = await self._charge(hits)
        decision = self._verdict(limits, quotas, usages)
        if not decision.is_allowed and self._may_delay(decision):
            decision = await self._delay_and_retry(decision, hits, quotas)

        self._report(decision)
        return decision

    def has_limit(self, limit_name: str) -> bool:
        """Return whether the policies in force define a limit of that name."""
        return limit_name in self._by_name

    async def check(
        self, limit_name: str, value: str, *, tier: str = ANONYMOUS_TIER
    ) -> Decision:
        """Charge the limit named `limit_name` for `value`, such as an account name.

        For limits keyed by `account` (login attempts per account), which the
        application checks itself because the account is in the request body.
        Raise KeyError for an unknown limit name.
        """
        limit = self._by_name[limit_name]
        quota = self._quota(limit, tier)
        hit = self._hit(limit, value, quota)
        usages = await self._charge([hit])
        decision = self._verdict((limit,), (quota,), usages)
        self._report(decision)
        return decision

    async def aclose(self) -> None:
        await self.store.aclose()
        if self._local is not self.store:
            await self._local.aclose()

    def _limits_for(self, method: str, route: str) -> tuple[Limit, ...]:
        resolved = self._resolved.get((method, route))
        if resolved is None:
            resolved = tuple(
                limit for limit in self.policies.limits
                if limit.key != "account" and limit.applies_to(method, route)
            )  # fmt: skip
            if len(self._resolved) < 10_000:
                self._resolved[method, route] = resolved
        return resolved

    def _hits(
        self, request: Request, route: str
    ) -> tuple[list[Hit], list[int], list[Limit]]:
        hits: list[Hit] = []
        quotas: list[int] = []
        limits: list[Limit] = []
        for limit in self._limits_for(request.method, route):
            value = _dimension_value(limit, request, route)
            if value is None:
                continue

            quota = self._quota(limit, request.tier)
            hits.append(self._hit(limit, value, quota))
            quotas.append(quota)
            limits.append(limit)
        return hits, quotas, limits

    def _quota(self, limit: Limit, tier: str) -> int:
        multiplier = self.policies.multiplier_at(self._clock())
        return max(1, math.floor(limit.limit_for(tier) * multiplier))

    def _hit(self, limit: Limit, value: str, quota: int) -> Hit:
        # The braces make `name:value` the Redis Cluster hash tag.
        key = f"{self.key_prefix}{{{limit.name}:{value}}}:{limit.algorithm}"
        capacity = max(quota, math.floor(quota * limit.block_ratio))
        return Hit(
            limit.algorithm, key, quota, capacity, limit.window_seconds, limit.cost
        )

    async def _charge(self, hits: Sequence[Hit]) -> list[Usage]:
        now = self._clock()
        if self.store is self._local:
            return await self._local.hit(hits, now)

        is_probe = self._circuit.is_open
        if self._circuit.allow():
            try:
                usages = await self.store.hit(hits, now)
            except StoreError as exc:
                self._record_failure(exc, is_probe=is_probe)
            else:
                if self._circuit.record_success():
                    logger.info("ratelimit.store_recovered", store=self.store.url)
                    self.hooks.on_fallback_change(False)
                return usages

        return await self._fall_back(hits, now)

    def _record_failure(self, exc: StoreError, *, is_probe: bool) -> None:
        self.hooks.on_store_error(self.store.url)
        was_closed = self._circuit.record_failure()
        if was_closed:
            self.hooks.on_fallback_change(True)

        # Requests already in flight when Redis failed add no more lines.
        if was_closed or is_probe:
            logger.warning(
                "ratelimit.store_failed",
                store=self.store.url,
                error=str(exc),
                fallback=self.on_store_error,
                cooldown_seconds=self._circuit.cooldown_seconds,
            )

    async def _fall_back(self, hits: Sequence[Hit], now: float) -> list[Usage]:
        if self.on_store_error == "local":
            return await self._local.hit(hits, now)

        is_allowed = self.on_store_error == "allow"
        retry = 0.0 if is_allowed else self._circuit.cooldown_seconds
        return [Usage(is_allowed, 0.0, hit.window_seconds, retry) for hit in hits]

    def _verdict(
        self, limits: Sequence[Limit], quotas: Sequence[int], usages: Sequence[Usage]
    ) -> Decision:
        results = tuple(
            LimitResult(limit, quota, usage)
            for limit, quota, usage in zip(limits, quotas, usages, strict=True)
        )
        rejected = [
            result.usage.retry_after_seconds
            for result in results
            if not result.usage.is_allowed
        ]
        if rejected:
            return Decision(False, "limited", results, max(rejected))

        outcome: Outcome = (
            "warned" if any(result.is_warned for result in results) else "allowed"
        )
        return Decision(True, outcome, results)

    def _may_delay(self, decision: Decision) -> bool:
        return all(
            result.usage.is_allowed
            or result.usage.retry_after_seconds <= result.limit.delay_max_seconds
            for result in decision.results
        )

    async def _delay_and_retry(
        self, decision: Decision, hits: Sequence[Hit], quotas: Sequence[int]
    ) -> Decision:
        await self._sleep(decision.retry_after_seconds)
        # Only the rejected limits are charged again; the others counted this
        # request already.
        retry = [
            index
            for index, result in enumerate(decision.results)
            if not result.usage.is_allowed
        ]
        usages = await self._charge([hits[index] for index in retry])
        results = list(decision.results)
        for index, usage in zip(retry, usages, strict=True):
            results[index] = LimitResult(results[index].limit, quotas[index], usage)

        retried = self._verdict(
            [r.limit for r in results], quotas, [r.usage for r in results]
        )
        if retried.is_allowed:
            return Decision(True, "delayed", retried.results)
        return retried

    def _report(self, decision: Decision) -> None:
        hooks = self.hooks
        for result in decision.results:
            if not result.usage.is_allowed:
                outcome: Outcome = "limited"
            elif decision.outcome == "delayed":
                outcome = "delayed"
            else:
                outcome = "warned" if result.is_warned else "allowed"
            hooks.on_decision(result.limit.name, outcome)


def _dimension_value(limit: Limit, request: Request, route: str) -> str | None:
    key = limit.key
    if key == "ip":
        return ip_key(request.client_ip)
    if key == "user_or_ip":
        return (
            f"u:{request.user}"
            if request.user is not None
            else f"ip:{ip_key(request.client_ip)}"
        )
    if key == "user":
        return request.user
    if key == "route":
        return route
    if key == "ip_route":
        return f"{ip_key(request.client_ip)}|{route}"
    if key == "user_route":
        return None if request.user is None else f"{request.user}|{route}"
    if key == "global":
        return "all"
    return None
