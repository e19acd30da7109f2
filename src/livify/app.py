"""Composition root: build the ASGI application from `Settings`.

This is the only module that wires the platform to the toolkit. Middleware,
from the outside in: fixed paths (`/metrics`, `/livez`, `/readyz`), tracing
(when configured), golden-signal metrics and access logs, rate limits,
CORS and the response cache for anonymous reads (which stores finished
responses). Those edge layers wrap Starlette's own stack, so a cache hit is
served before it. Inside it: HEAD served as GET, load shedding, the body
size limit, request deadlines, HTTP cache headers (ETag, 304,
Cache-Control), gzip, then FastAPI's router. docs/decisions.md gives the
reasons for this order.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import httpx
import structlog
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import mark_process_dead
from sqlalchemy import text
from starlette.middleware.cors import CORSMiddleware

from livify import __version__
from livify.cache import (
    CacheMetrics,
    CachePolicy,
    EdgePurger,
    GZipMiddleware,
    HeadMiddleware,
    HttpCacheHeadersMiddleware,
    LayeredCache,
    ResponseCacheMiddleware,
)
from livify.db import Database, log_slow_queries
from livify.observability import (
    HealthEndpoint,
    HttpServerMetrics,
    MetricsEndpoint,
    ObservabilityMiddleware,
    PathDispatchMiddleware,
    PoolStatus,
    RuntimeMetrics,
    RuntimeSampler,
    Tracing,
    configure_logging,
    create_tracer_provider,
    is_multiprocess,
)
from livify.platform import migrate
from livify.platform.cache_keys import response_tags
from livify.platform.caching import (
    VIEW_VERSION,
    Invalidator,
    PlatformCache,
)
from livify.platform.dependencies import Platform
from livify.platform.errors import (
    deadline_exceeded_body,
    install_error_handlers,
    overloaded_body,
)
from livify.platform.events import EventBus
from livify.platform.moderation import ModerationRuntime, build_moderation_dependency
from livify.platform.responses import JSONResponse
from livify.platform.routers import api_router
from livify.platform.security import (
    PasswordHashing,
    TokenService,
    load_or_create_secret_key,
)
from livify.platform.services import Context
from livify.platform.viewer import ViewerState
from livify.platform.warming import hot_paths, warm
from livify.ratelimit import (
    ClientIP,
    ConfigError,
    Identity,
    RateLimiter,
    RateLimitMetrics,
    RateLimitMiddleware,
)
from livify.resilience import (
    Admission,
    AimdLimit,
    BodySizeLimitMiddleware,
    DeadlineMiddleware,
    LoadSheddingMiddleware,
    ResilienceMetrics,
    SheddingMetrics,
)
from livify.settings import Settings
from livify.types import ASGIApp, Receive, Scope, Send

logger = structlog.get_logger(__name__)

METRICS_PATH = "/metrics"
LIVENESS_PATH = "/livez"
READINESS_PATH = "/readyz"
FIXED_PATHS = frozenset({METRICS_PATH, LIVENESS_PATH, READINESS_PATH})
# Responses to these depend on the caller even without a token (a 401).
PRIVATE_PATHS = frozenset(
    {"/api/user", "/api/user/articles/unpublished", "/api/articles/feed"}
)
# Compressing a few hundred bytes costs more than it saves.
GZIP_MIN_BYTES = 1024


EdgeLayer = Callable[[ASGIApp], ASGIApp]


class EdgeFirstFastAPI(FastAPI):
    """FastAPI with a second set of middleware outside Starlette's own stack.

    Starlette puts its error middleware, and FastAPI its telemetry and body
    limit layers, outside every `add_middleware` layer. A response-cache hit
    needs none of them, and on the cheapest request each layer is a
    measurable share of the cost, so the layers that serve or measure every
    request are added with `add_edge_layer` and wrap the whole stack.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.edge_layers: list[EdgeLayer] = []

    def add_edge_layer(self, layer: EdgeLayer) -> None:
        """Wrap the stack in `layer`; as with `add_middleware`, the last runs first."""
        if self.middleware_stack is not None:
            msg = "cannot add an edge layer after the application has started"
            raise RuntimeError(msg)
        self.edge_layers.append(layer)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The common case skips one coroutine; Starlette's own call builds the
        # stack on first use and FastAPI's handles lifespan and root_path.
        stack = self.middleware_stack
        if stack is None or scope["type"] != "http" or self.root_path:
            await super().__call__(scope, receive, send)
            return

        scope["app"] = self
        await stack(scope, receive, send)

    def build_middleware_stack(self) -> ASGIApp:
        app: ASGIApp = super().build_middleware_stack()
        for layer in self.edge_layers:
            app = layer(app)
        return app


def create_app(
    settings: Settings | None = None, *, span_exporter: SpanExporter | None = None
) -> FastAPI:
    """Build the application; the database opens when the lifespan starts.

    `span_exporter` turns tracing on with that exporter (tests use an
    in-memory one); otherwise tracing is on only when `otlp_endpoint` is set.
    """
    settings = settings or Settings()
    configure_logging(level=settings.log_level, json=settings.log_format == "json")

    registry = CollectorRegistry()
    http_metrics = HttpServerMetrics(registry)
    shedding_metrics = SheddingMetrics(registry)
    runtime_metrics = RuntimeMetrics(registry)

    database = Database(
        settings.resolved_database_url(),
        pool_size=settings.pool_size,
        pool_timeout_seconds=settings.pool_timeout_seconds,
        statement_timeout_seconds=settings.statement_timeout_seconds,
        on_pool_wait=lambda pool, seconds: runtime_metrics.pool_wait.labels(
            pool
        ).observe(seconds),
    )
    for engine in database.engines():
        log_slow_queries(engine, threshold_seconds=settings.slow_query_seconds)

    cache_metrics = CacheMetrics(registry)
    layers = (
        LayeredCache(
            settings.cache_url,
            key_prefix=settings.cache_key_prefix,
            hooks=cache_metrics,
        )
        if settings.cache_url
        else None
    )
    cache = PlatformCache(layers, view_ttl_seconds=settings.cache_ttl_seconds)
    ratelimit_metrics = RateLimitMetrics(registry)
    limiter = _rate_limiter(settings, ratelimit_metrics)
    purger = EdgePurger(settings.edge_purge_urls) if settings.edge_purge_urls else None
    events = EventBus()
    events.subscribe(Invalidator(cache, purger))
    moderation = _moderation(settings, database, events, registry)
    context = Context(
        database=database,
        events=events,
        passwords=PasswordHashing(),
        tokens=TokenService(
            _secret_key(settings, database), ttl_seconds=settings.token_ttl_seconds
        ),
        cache=cache,
        viewer=ViewerState(database, cache),
        limiter=limiter,
        moderation=moderation.gate if moderation is not None else None,
    )
    sampler = RuntimeSampler(
        runtime_metrics,
        flushes=[
            http_metrics.flush,
            shedding_metrics.flush,
            cache_metrics.flush,
            ratelimit_metrics.flush,
        ],
        pool_probes=[
            lambda: [
                PoolStatus(name, **stats)
                for name, stats in database.pool_stats().items()
            ]
        ],
    )
    tracing = _tracing(settings, span_exporter)
    if tracing is not None:
        tracing.instrument_clients(database.engines())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await migrate.upgrade(database)

        sampler.start()
        if moderation is not None:
            moderation.start()
        if layers is not None:
            await layers.start()
        if purger is not None:
            purger.start()
        if limiter is not None and limiter.config_path is not None:
            _reload_on_sighup(limiter)
        if settings.warm_on_start and layers is not None:
            await _warm_on_start(_app, database, settings.warm_on_start)

        logger.info(
            "app.started",
            database=database.describe(),
            cache=settings.cache_url or "off",
            edge_nodes=len(settings.edge_purge_urls),
        )
        try:
            yield
        finally:
            if purger is not None:
                await purger.aclose()
            if layers is not None:
                await layers.aclose()
            if limiter is not None:
                await limiter.aclose()
            if moderation is not None:
                await moderation.aclose()
            await sampler.aclose()
            await database.aclose()
            http_metrics.flush()
            shedding_metrics.flush()
            cache_metrics.flush()
            ratelimit_metrics.flush()
            if is_multiprocess():
                # Drop this worker's live gauges (in-flight, memory) from the totals.
                mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
            if tracing is not None:
                tracing.shutdown()
            logger.info("app.stopped")

    app = EdgeFirstFastAPI(
        title="livify",
        version=__version__,
        summary="A RealWorld-compatible community-platform API",
        default_response_class=JSONResponse,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
        # livify traces and measures requests itself; FastAPI's own telemetry
        # would add duplicate spans and costs a provider check per request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.context = context
    app.state.platform = Platform.from_context(context)
    app.state.moderation = moderation
    app.state.metrics_registry = registry
    install_error_handlers(app)
    app.include_router(api_router)

    _install_middleware(
        app,
        settings,
        layers,
        limiter,
        (http_metrics, shedding_metrics),
        tracing,
        database,
        registry,
    )
    return app


def _install_middleware(
    app: EdgeFirstFastAPI,
    settings: Settings,
    layers: LayeredCache | None,
    limiter: RateLimiter | None,
    metrics: tuple[HttpServerMetrics, SheddingMetrics],
    tracing: Tracing | None,
    database: Database,
    registry: CollectorRegistry,
) -> None:
    """Wrap the router in the middleware stack described in the module docstring."""
    http_metrics, shedding_metrics = metrics
    # add_middleware and add_edge_layer wrap what is there, so the last one
    # added runs first.
    policy = CachePolicy(
        max_age_seconds=settings.http_max_age_seconds,
        shared_max_age_seconds=settings.http_shared_max_age_seconds,
    )
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES)
    # Outside gzip, so each content coding gets its own strong ETag.
    app.add_middleware(
        HttpCacheHeadersMiddleware, policy=policy, is_public_path=_is_public_path
    )
    # Inside the response cache: a hit needs no timer, and concurrent misses
    # wait for one load that the deadline bounds.
    app.add_middleware(
        DeadlineMiddleware,
        read_timeout_seconds=settings.request_read_timeout_seconds,
        write_timeout_seconds=settings.request_write_timeout_seconds,
        error_body=deadline_exceeded_body,
        excluded_paths=FIXED_PATHS,
    )
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    # Inside the response cache: shedding protects the database and the
    # router, and a hit, which uses neither, is not worth refusing.
    if settings.shedding_enabled:
        app.add_middleware(
            LoadSheddingMiddleware,
            admission=_admission(settings, shedding_metrics),
            retry_after_seconds=settings.shedding_retry_after_seconds,
            error_body=overloaded_body,
            excluded_paths=FIXED_PATHS,
        )

    # HEAD runs as GET from here in, so it meets the GET routes. It sits
    # inside the response cache, which serves GET alone, because a layer
    # in front of every cache hit costs more than HEAD requests save.
    app.add_middleware(HeadMiddleware)

    # The edge layers, outside Starlette's own. The response cache stores
    # finished responses, so it sits outside gzip and the cache headers.
    if layers is not None:
        app.add_edge_layer(
            partial(
                ResponseCacheMiddleware,
                cache=layers.namespace(
                    "responses",
                    version=VIEW_VERSION,
                    ttl_seconds=settings.cache_ttl_seconds,
                    stale_if_error_seconds=policy.stale_if_error_seconds,
                ),
                tags_for=response_tags,
            )
        )
    # CORS headers depend on the request's Origin, so they are added outside
    # the response cache and never replayed to another origin.
    if settings.cors_origins:
        app.add_edge_layer(
            partial(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "X-Requested-With"],
                max_age=600,
            )
        )

    if limiter is not None:
        tokens: TokenService = app.state.context.tokens
        app.add_edge_layer(
            partial(
                RateLimitMiddleware,
                limiter=limiter,
                client_ip=ClientIP(trusted_proxies=settings.trusted_proxies),
                identify=_identify_caller(tokens),
            )
        )

    if settings.metrics_enabled:
        app.add_edge_layer(
            partial(
                ObservabilityMiddleware,
                metrics=http_metrics,
                excluded_paths=FIXED_PATHS,
                access_log_sample_ratio=settings.access_log_sample_ratio,
                slow_request_seconds=settings.slow_request_seconds,
                names_spans=tracing is not None,
                request_id_header=settings.request_id_header,
            )
        )

    if tracing is not None:
        app.add_edge_layer(
            partial(
                Tracing.middleware,
                tracer_provider=tracing.provider,
                excluded_urls=",".join(FIXED_PATHS),
            )
        )

    app.add_edge_layer(
        partial(
            PathDispatchMiddleware,
            paths=_fixed_endpoints(settings, database, registry),
        )
    )


def _admission(settings: Settings, hooks: SheddingMetrics) -> Admission:
    # Setting only the maximum (or minimum) keeps the other bounds inside it.
    max_limit = settings.shedding_max_limit
    min_limit = min(settings.shedding_min_limit, max_limit)
    limit = AimdLimit(
        initial_limit=max(min_limit, min(settings.shedding_initial_limit, max_limit)),
        min_limit=min_limit,
        max_limit=max_limit,
        latency_target_seconds=settings.shedding_latency_target_seconds,
    )
    return Admission(
        limit,
        queue_size=settings.shedding_queue_size,
        queue_timeout_seconds=settings.shedding_queue_timeout_seconds,
        hooks=hooks,
    )


def _moderation(
    settings: Settings,
    database: Database,
    events: EventBus,
    registry: CollectorRegistry,
) -> ModerationRuntime | None:
    if settings.moderation_url is None:
        return None

    dependency = build_moderation_dependency(
        settings.moderation_url,
        timeout_seconds=settings.moderation_timeout_seconds,
        max_attempts=settings.moderation_max_attempts,
        max_concurrent=settings.moderation_max_concurrent,
        breaker_enabled=settings.moderation_breaker_enabled,
        breaker_open_seconds=settings.moderation_breaker_open_seconds,
        hooks=ResilienceMetrics(registry),
    )
    return ModerationRuntime.build(
        dependency,
        database,
        events,
        registry,
        retry_initial_seconds=settings.moderation_retry_initial_seconds,
        retry_max_seconds=settings.moderation_retry_max_seconds,
        interval_seconds=settings.moderation_worker_interval_seconds,
    )


def _rate_limiter(settings: Settings, metrics: RateLimitMetrics) -> RateLimiter | None:
    if not settings.ratelimit_enabled:
        return None

    return RateLimiter(
        store=settings.ratelimit_url,
        config_path=settings.ratelimit_config,
        hooks=metrics,
    )


def _identify_caller(tokens: TokenService) -> Callable[[Scope], Identity | None]:
    """Return who a request's token names, for per-user limits and tiers.

    An invalid token identifies no user, so the request is limited by its
    address, and the route then returns 401 as usual.
    """

    def identify(scope: Scope) -> Identity | None:
        for name, value in scope["headers"]:
            if name == b"authorization":
                _, _, token = value.decode("latin-1").strip().partition(" ")
                found = tokens.user_and_tier(token.strip())
                if found is None:
                    return None

                user_id, tier = found
                return Identity(
                    str(user_id), "premium" if tier == "premium" else "authenticated"
                )
        return None

    return identify


def _reload_on_sighup(limiter: RateLimiter) -> None:
    """Reread the limits file on SIGHUP; a bad file keeps the limits in force."""

    def reload() -> None:
        try:
            limiter.reload()
        except (ConfigError, OSError) as exc:
            logger.error("ratelimit.reload_failed", error=str(exc))

    asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload)


async def _warm_on_start(app: FastAPI, database: Database, top_articles: int) -> None:
    """Send the hot reads through this worker, so its L1 starts full."""
    paths = await hot_paths(database, top_articles=top_articles)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://warm") as client:
        await warm(client, paths)


def _is_public_path(path: str) -> bool:
    """Return whether anonymous responses to `path` may be cached publicly."""
    return path.startswith("/api/") and path not in PRIVATE_PATHS


def _fixed_endpoints(
    settings: Settings, database: Database, registry: CollectorRegistry
) -> dict[str, ASGIApp]:
    async def database_reachable() -> bool:
        async with database.read() as connection:
            await connection.execute(text("SELECT 1"))
        return True

    async def migrations_applied() -> bool:
        return await migrate.is_current(database)

    endpoints: dict[str, ASGIApp] = {
        LIVENESS_PATH: HealthEndpoint(),
        READINESS_PATH: HealthEndpoint(
            {"database": database_reachable, "migrations": migrations_applied}
        ),
    }
    # With a separate metrics port, the CLI serves /metrics there instead.
    if settings.metrics_enabled and settings.metrics_port is None:
        endpoints[METRICS_PATH] = MetricsEndpoint(registry)

    return endpoints


def _tracing(settings: Settings, span_exporter: SpanExporter | None) -> Tracing | None:
    if span_exporter is None and settings.otlp_endpoint is None:
        return None

    provider = create_tracer_provider(
        otlp_endpoint=settings.otlp_endpoint,
        sample_ratio=settings.trace_sample_ratio,
        exporter=span_exporter,
    )
    return Tracing(provider)


def _secret_key(settings: Settings, database: Database) -> str:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()

    if not database.is_sqlite:
        # Each instance would sign with its own key and reject the others' tokens.
        logger.warning(
            "security.generated_secret_key",
            data_dir=str(settings.data_dir),
            hint="set LIVIFY_SECRET_KEY when several instances share a database",
        )
    return load_or_create_secret_key(settings.data_dir)
