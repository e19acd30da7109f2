"""The limiter: resolve a request's limits, charge them in the store, decide."""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeAlias

from livify.ratelimit._client_ip import ip_key
from livify.ratelimit._config import load_policies
from livify.ratelimit._exceptions import StoreError
from livify.ratelimit._hooks import NoHooks, RateLimitHooks
from livify.ratelimit._log import logger
from livify.ratelimit._memory import MemoryStore
from livify.ratelimit._plan import Charge, Plan
from livify.ratelimit._policy import ANONYMOUS_TIER, IPNetwork, Limit, Policies
from livify.ratelimit._routes import RouteMatcher
from livify.ratelimit._types import Clock, Hit, Outcome, Sleep, Usage, UsageValues
from livify.resilience import FallbackCircuit

OnStoreError: TypeAlias = Literal["local", "allow", "reject"]
DEFAULT_KEY_PREFIX = "livify:rl:"
# How long decisions stay local after Redis fails, before one call probes it.
DEFAULT_COOLDOWN_SECONDS = 5.0
# Plans, hits and allow-list results are cached per request shape (route
# template or raw path), per caller and per address. Past this many entries
# a cache starts over.
MAX_CACHED_PLANS = 10_000
MAX_CACHED_PATHS = 10_000
MAX_CACHED_HITS = 10_000
MAX_CACHED_ADDRESSES = 4096


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


class Charged:
    """A request charged by `RateLimiter.charge_now`, before any `Decision` exists.

    `values` contains each charge's usage as `UsageValues`, in plan order.
    """

    __slots__ = ("hits", "is_allowed", "plan", "values")

    def __init__(
        self,
        plan: Plan,
        hits: tuple[Hit, ...],
        values: list[UsageValues],
        is_allowed: bool,
    ) -> None:
        # `charge_now` passes `is_allowed` positionally, because a keyword
        # argument costs about 0.1 µs more.
        self.plan = plan
        self.hits = hits
        self.values = values
        self.is_allowed = is_allowed


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
        self.hooks = hooks or NoHooks()
        self._clock = clock
        self._sleep = sleep
        self._local = (
            self.store if isinstance(self.store, MemoryStore) else MemoryStore()
        )
        # One failure opens it, because each failed call already cost a
        # request its timeout, and the cooldown stays the same.
        self._circuit = FallbackCircuit(
            clock=time.monotonic,
            failure_threshold=1,
            cooldown_seconds=cooldown_seconds,
            cooldown_max_seconds=cooldown_seconds,
        )
        self.set_policies(policies)

    @property
    def hooks(self) -> RateLimitHooks:
        """The sink of decisions and store events; `NoHooks` by default."""
        return self._hooks

    @hooks.setter
    def hooks(self, hooks: RateLimitHooks) -> None:
        self._hooks = hooks
        # With `NoHooks`, admitted requests skip the per-limit hook calls.
        self._has_hooks = not isinstance(hooks, NoHooks)

    @property
    def is_synchronous(self) -> bool:
        """Whether the store is the in-process one, so `charge_now` may be used."""
        return self.store is self._local

    @property
    def is_fallback_active(self) -> bool:
        """Whether decisions use the local store because the shared one failed."""
        return self._circuit.is_open

    def set_policies(self, policies: Policies) -> None:
        """Put `policies` in force for the next request."""
        self.policies = policies
        self.routes = RouteMatcher(policies.templates())
        self._by_name = {limit.name: limit for limit in policies.limits}
        self._multiplier = policies.multiplier
        self._multiplier_until = policies.multiplier_until
        self._plans: dict[tuple[str, str, str, bool, float], Plan] = {}
        self._plans_by_path: dict[tuple[str, str, str, bool, float], Plan] = {}
        # Building a frozen `Hit` costs about as much as charging it in memory.
        self._hits: dict[tuple[Plan, str, str | None], tuple[Hit, ...]] = {}
        self._is_allowed_address: dict[str, bool] = {}

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

        if not self.policies.allow_networks:
            return False

        is_allowed = self._is_allowed_address.get(client_ip)
        if is_allowed is None:
            is_allowed = _is_in_networks(client_ip, self.policies.allow_networks)
            if len(self._is_allowed_address) >= MAX_CACHED_ADDRESSES:
                self._is_allowed_address.clear()
            self._is_allowed_address[client_ip] = is_allowed
        return is_allowed

    async def decide(self, request: Request) -> Decision:
        """Charge `request` against every limit that applies and return the verdict.

        Every applicable limit is charged, even when another one rejects.
        Never raises for store failures (see `on_store_error`).
        """
        if self.is_exempt(request.path, request.client_ip):
            return EMPTY_DECISION

        now = self._clock()
        has_user = request.user is not None
        plan = self._plan_for(request.method, request.path, request.tier, has_user, now)
        if not plan.charges:
            return EMPTY_DECISION

        hits = self._hits_for(plan, request.client_ip, request.user)
        usages = await self._charge(hits, now)
        return await self._conclude(plan, hits, usages)

    def charge_now(
        self, client_ip: str, method: str, path: str, user: str | None, tier: str
    ) -> Charged | None:
        """Charge a request on the in-process store without awaiting anything.

        The fast path of `RateLimitMiddleware`: it skips the `Request`,
        `Usage` and `Decision` objects, which cost about 0.5 µs each. It
        does not check exemptions, so call `is_exempt` first. Return None
        when no limit applies. When every limit admits the request, the
        hooks have been called and the result is final. Otherwise pass it
        to `settle()`. Raise RuntimeError unless `is_synchronous`.
        """
        local = self._local
        if self.store is not local:
            msg = f"charge_now needs the memory:// store, not {self.store.url!r}"
            raise RuntimeError(msg)

        now = self._clock()
        plan = self._plan_for(method, path, tier, user is not None, now)
        charges = plan.charges
        if not charges:
            return None

        hits = self._hits_for(plan, client_ip, user)
        if len(hits) == 1:
            values = [local.hit_values(hits[0], now)]
        else:
            values = [local.hit_values(hit, now) for hit in hits]
        for usage in values:
            if not usage[0]:
                return Charged(plan, hits, values, False)

        if self._has_hooks:
            on_decision = self._hooks.on_decision
            for charge, usage in zip(charges, values, strict=True):
                on_decision(
                    charge.limit.name,
                    "warned" if usage[1] > charge.warn_used else "allowed",
                )
        return Charged(plan, hits, values, True)

    async def settle(self, charged: Charged) -> Decision:
        """Finish a request that `charge_now` rejected and return its decision.

        The request waits and is charged again where its limits allow a
        delay, and the hooks are called. Raise ValueError for an admitted
        request, which `charge_now` has finished already.
        """
        if charged.is_allowed:
            msg = "settle() takes a rejected charge_now() result, got an admitted one"
            raise ValueError(msg)

        usages = [Usage(*values) for values in charged.values]
        return await self._conclude(charged.plan, charged.hits, usages)

    def decision_of(self, charged: Charged) -> Decision:
        """Return the decision of an admitted `charge_now` result, for its fields.

        The hooks are not called again: `charge_now` called them.
        """
        usages = [Usage(*values) for values in charged.values]
        return self._verdict(charged.plan.charges, usages)

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
        now = self._clock()
        charge = Charge(
            limit,
            _quota(limit, tier, self.policies.multiplier_at(now)),
            self.key_prefix,
        )
        usages = await self._charge([charge.hit(value)], now)
        decision = self._verdict((charge,), usages)
        self._report(decision)
        return decision

    async def aclose(self) -> None:
        await self.store.aclose()
        if self._local is not self.store:
            await self._local.aclose()

    def _plan_for(
        self, method: str, path: str, tier: str, has_user: bool, now: float
    ) -> Plan:
        """Return the plan of a request, cached by its raw path."""
        until = self._multiplier_until
        multiplier = self._multiplier if until is None or now < until else 1.0
        shape = (method, path, tier, has_user, multiplier)
        plan = self._plans_by_path.get(shape)
        if plan is None:
            route = self.routes.match(path) or path
            plan = self._plan(method, route, tier, has_user, multiplier)
            if len(self._plans_by_path) >= MAX_CACHED_PATHS:
                self._plans_by_path.clear()
            self._plans_by_path[shape] = plan
        return plan

    def _plan(
        self, method: str, route: str, tier: str, has_user: bool, multiplier: float
    ) -> Plan:
        """Return the plan of a request shape, cached by route template."""
        shape = (method, route, tier, has_user, multiplier)
        plan = self._plans.get(shape)
        if plan is None:
            charges = tuple(
                Charge(limit, _quota(limit, tier, multiplier), self.key_prefix)
                for limit in self.policies.limits
                if limit.applies_to(method, route)
                and _is_keyed_for(limit, has_user=has_user)
            )
            plan = Plan(route, charges)
            if len(self._plans) >= MAX_CACHED_PLANS:
                self._plans.clear()
            self._plans[shape] = plan
        return plan

    def _hits_for(
        self, plan: Plan, client_ip: str, user: str | None
    ) -> tuple[Hit, ...]:
        """Return the counters a caller charges under `plan`, cached."""
        cache_key = (plan, client_ip, user)
        hits = self._hits.get(cache_key)
        if hits is None:
            hits = tuple(
                charge.hit(_dimension_value(charge.limit, client_ip, user, plan.route))
                for charge in plan.charges
            )
            if len(self._hits) >= MAX_CACHED_HITS:
                self._hits.clear()
            self._hits[cache_key] = hits
        return hits

    async def _charge(self, hits: Sequence[Hit], now: float) -> list[Usage]:
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

    async def _conclude(
        self, plan: Plan, hits: Sequence[Hit], usages: Sequence[Usage]
    ) -> Decision:
        decision = self._verdict(plan.charges, usages)
        if not decision.is_allowed and self._may_delay(decision):
            decision = await self._delay_and_retry(decision, hits, plan.charges)

        self._report(decision)
        return decision

    def _verdict(self, plan: Sequence[Charge], usages: Sequence[Usage]) -> Decision:
        results = []
        retry_after_seconds = 0.0
        is_allowed = True
        is_warned = False
        for charge, usage in zip(plan, usages, strict=True):
            results.append(LimitResult(charge.limit, charge.quota, usage))
            if not usage.is_allowed:
                is_allowed = False
                retry_after_seconds = max(
                    retry_after_seconds, usage.retry_after_seconds
                )
            elif usage.used > charge.warn_used:
                is_warned = True

        if not is_allowed:
            return Decision(False, "limited", tuple(results), retry_after_seconds)

        return Decision(True, "warned" if is_warned else "allowed", tuple(results))

    def _may_delay(self, decision: Decision) -> bool:
        return all(
            result.usage.is_allowed
            or result.usage.retry_after_seconds <= result.limit.delay_max_seconds
            for result in decision.results
        )

    async def _delay_and_retry(
        self, decision: Decision, hits: Sequence[Hit], plan: Sequence[Charge]
    ) -> Decision:
        await self._sleep(decision.retry_after_seconds)
        # Only the rejected limits are charged again; the others counted this
        # request already.
        retry = [
            index
            for index, result in enumerate(decision.results)
            if not result.usage.is_allowed
        ]
        usages = await self._charge([hits[index] for index in retry], self._clock())
        retried_usages = [result.usage for result in decision.results]
        for index, usage in zip(retry, usages, strict=True):
            retried_usages[index] = usage

        retried = self._verdict(plan, retried_usages)
        if retried.is_allowed:
            return Decision(True, "delayed", retried.results)
        return retried

    def _report(self, decision: Decision) -> None:
        hooks = self._hooks
        for result in decision.results:
            if not result.usage.is_allowed:
                outcome: Outcome = "limited"
            elif decision.outcome == "delayed":
                outcome = "delayed"
            else:
                outcome = "warned" if result.is_warned else "allowed"
            hooks.on_decision(result.limit.name, outcome)


def _quota(limit: Limit, tier: str, multiplier: float) -> int:
    return max(1, math.floor(limit.limit_for(tier) * multiplier))


def _is_keyed_for(limit: Limit, *, has_user: bool) -> bool:
    """Return whether a request has a value for the limit's key dimension.

    `account` limits are charged through `check()` only, and user-keyed
    limits skip anonymous callers.
    """
    if limit.key == "account":
        return False

    return has_user or limit.key not in ("user", "user_route")


def _is_in_networks(client_ip: str, networks: Sequence[IPNetwork]) -> bool:
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False

    return any(address in network for network in networks)


def _dimension_value(limit: Limit, client_ip: str, user: str | None, route: str) -> str:
    """Return the counter key part of a request for a limit `_is_keyed_for` it."""
    key = limit.key
    if key == "ip":
        return ip_key(client_ip)
    if key == "user_or_ip":
        return f"u:{user}" if user is not None else f"ip:{ip_key(client_ip)}"
    if key == "user":
        return str(user)
    if key == "route":
        return route
    if key == "ip_route":
        return f"{ip_key(client_ip)}|{route}"
    if key == "user_route":
        return f"{user}|{route}"
    return "all"
