"""Prometheus metrics for the four golden signals.

HTTP names and labels follow the OpenTelemetry HTTP server semantic
conventions as the OpenTelemetry Prometheus exporter writes them:
`http.server.request.duration` (seconds) becomes
`http_server_request_duration_seconds` with the labels `http_request_method`,
`http_route` and `http_response_status_code`. The histogram's `_count` series
is the request count.

With several worker processes, prometheus_client's multiprocess mode keeps
each worker's values in files under `PROMETHEUS_MULTIPROC_DIR`, and the
exposition merges them: counters and histogram buckets are summed, so
percentiles come from merged buckets, never from averaged percentiles.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from livify.observability._tally import (
    DEFAULT_FLUSH_INTERVAL_SECONDS,
    RequestTally,
    call_on_collect,
)

# Bucket bounds in seconds, 1 ms to 10 s. Every latency SLO threshold must be
# one of them, because PromQL can only count requests at a bucket boundary.
LATENCY_BUCKETS_SECONDS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
)
POOL_WAIT_BUCKETS_SECONDS = (0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)

HTTP_LABELS = ("http_request_method", "http_route", "http_response_status_code")


class HttpServerMetrics:
    """Latency, traffic, errors and in-flight requests of an HTTP server.

    Latency and in-flight counts go through `tally` and reach the metrics on
    `flush()`, which every collection of `registry` calls first; see
    `RequestTally` for why and how late they can be.
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        flush_interval_seconds: float = DEFAULT_FLUSH_INTERVAL_SECONDS,
    ) -> None:
        # Registered first, so a collection flushes before reading the rest.
        call_on_collect(registry, self.flush)
        self.request_duration = Histogram(
            "http_server_request_duration_seconds",
            "Duration of HTTP server requests, to the last body byte sent.",
            HTTP_LABELS,
            buckets=LATENCY_BUCKETS_SECONDS,
            registry=registry,
        )
        self.active_requests = Gauge(
            "http_server_active_requests",
            "HTTP server requests in flight.",
            ("http_request_method",),
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.errors = Counter(
            "http_server_errors",
            "HTTP server requests that failed: a 5xx status or an exception.",
            ("http_request_method", "http_route", "error_type"),
            registry=registry,
        )
        self.tally = RequestTally(
            self.request_duration,
            self.active_requests,
            LATENCY_BUCKETS_SECONDS,
            flush_interval_seconds=flush_interval_seconds,
        )

    def flush(self) -> None:
        """Write the requests counted since the last flush to the metrics."""
        self.tally.flush()


class RuntimeMetrics:
    """Saturation of the process, its event loop and its database pools."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.event_loop_lag = Gauge(
            "livify_event_loop_lag_seconds",
            "How late the event loop ran a timer in the last sample.",
            multiprocess_mode="livemax",
            registry=registry,
        )
        self.resident_memory = Gauge(
            "livify_process_resident_memory_bytes",
            "Resident memory of the server processes.",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.cpu_seconds = Gauge(
            "livify_process_cpu_seconds_total",
            "CPU time (user and system) used by the live server processes.",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.open_fds = Gauge(
            "livify_process_open_fds",
            "Open file descriptors, sockets included, of the server processes.",
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.pool_size = Gauge(
            "livify_db_pool_size",
            "Connections the database pool may hold.",
            ("pool",),
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.pool_checked_out = Gauge(
            "livify_db_pool_checked_out",
            "Database connections in use.",
            ("pool",),
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.pool_waiting = Gauge(
            "livify_db_pool_waiting",
            "Requests waiting for a database connection.",
            ("pool",),
            multiprocess_mode="livesum",
            registry=registry,
        )
        self.pool_wait = Histogram(
            "livify_db_pool_wait_seconds",
            "Time spent waiting for a database connection.",
            ("pool",),
            buckets=POOL_WAIT_BUCKETS_SECONDS,
            registry=registry,
        )
