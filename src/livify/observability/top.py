"""`livify top`: live golden signals per route from a server's `/metrics`.

Two scrapes `interval_seconds` apart give, per route template, the request
rate, the error ratio and p50/p95/p99 latency from the change in histogram
buckets, interpolated inside a bucket the way PromQL's histogram_quantile
does.
"""

from __future__ import annotations

import math
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TextIO

from prometheus_client.parser import text_string_to_metric_families

DURATION_METRIC = "http_server_request_duration_seconds"
ACTIVE_METRIC = "http_server_active_requests"
SCRAPE_TIMEOUT_SECONDS = 5.0
QUANTILES = (0.5, 0.95, 0.99)


@dataclass
class RouteCounters:
    """Cumulative counters of one route at one scrape."""

    requests: float = 0.0
    errors: float = 0.0
    buckets: dict[float, float] = field(default_factory=lambda: defaultdict(float))


@dataclass
class Snapshot:
    routes: dict[str, RouteCounters]
    in_flight: float
    taken_at: float


@dataclass(frozen=True)
class RouteSignals:
    route: str
    requests_per_second: float
    error_ratio: float
    p50_seconds: float
    p95_seconds: float
    p99_seconds: float


def parse_snapshot(text: str, taken_at: float) -> Snapshot:
    """Sum the duration histogram by route; 5xx responses count as errors."""
    routes: dict[str, RouteCounters] = defaultdict(RouteCounters)
    in_flight = 0.0

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == ACTIVE_METRIC:
                in_flight += sample.value
                continue

            route = sample.labels.get("http_route")
            if route is None:
                continue

            if sample.name == f"{DURATION_METRIC}_bucket":
                routes[route].buckets[float(sample.labels["le"])] += sample.value
            elif sample.name == f"{DURATION_METRIC}_count":
                routes[route].requests += sample.value
                if sample.labels.get("http_response_status_code", "").startswith("5"):
                    routes[route].errors += sample.value

    return Snapshot(dict(routes), in_flight, taken_at)


def quantile(q: float, buckets: dict[float, float]) -> float:
    """Estimate the q-quantile from cumulative bucket counts (NaN if empty)."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return math.nan

    rank = q * buckets[bounds[-1]]
    lower_bound, lower_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            share = (
                (rank - lower_count) / (count - lower_count)
                if count > lower_count
                else 0.0
            )
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_count = bound, count

    return lower_bound


def compare(before: Snapshot, after: Snapshot) -> list[RouteSignals]:
    """Return each route's signals over the time between two snapshots."""
    elapsed = max(after.taken_at - before.taken_at, 1e-9)
    signals = []
    for route, now in after.routes.items():
        then = before.routes.get(route, RouteCounters())
        requests = now.requests - then.requests
        if requests <= 0:
            continue

        delta = {
            bound: now.buckets[bound] - then.buckets.get(bound, 0.0)
            for bound in now.buckets
        }
        p50, p95, p99 = (quantile(q, delta) for q in QUANTILES)
        signals.append(
            RouteSignals(
                route=route,
                requests_per_second=requests / elapsed,
                error_ratio=(now.errors - then.errors) / requests,
                p50_seconds=p50,
                p95_seconds=p95,
                p99_seconds=p99,
            )
        )

    return sorted(signals, key=lambda signal: signal.requests_per_second, reverse=True)


def render_table(signals: Iterable[RouteSignals], in_flight: float) -> str:
    header = ("route", "req/s", "errors", "p50 ms", "p95 ms", "p99 ms")
    lines = [
        f"in flight: {in_flight:.0f}",
        f"{header[0]:<44} " + " ".join(f"{title:>8}" for title in header[1:]),
    ]
    for signal in signals:
        lines.append(
            f"{signal.route:<44} {signal.requests_per_second:>8.1f} "
            f"{signal.error_ratio:>8.1%} {signal.p50_seconds * 1000:>8.1f} "
            f"{signal.p95_seconds * 1000:>8.1f} {signal.p99_seconds * 1000:>8.1f}"
        )
    return "\n".join(lines)


def fetch_metrics(url: str) -> str:
    with urllib.request.urlopen(url, timeout=SCRAPE_TIMEOUT_SECONDS) as response:
        body: bytes = response.read()
    return body.decode()


def run_top(
    url: str,
    *,
    interval_seconds: float = 2.0,
    iterations: int | None = None,
    out: TextIO,
    fetch: Callable[[str], str] = fetch_metrics,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Print a table every `interval_seconds`; stop after `iterations` if given."""
    before = parse_snapshot(fetch(url), clock())
    done = 0
    while iterations is None or done < iterations:
        sleep(interval_seconds)
        after = parse_snapshot(fetch(url), clock())
        clear = "\x1b[2J\x1b[H" if out.isatty() else ""
        out.write(clear + render_table(compare(before, after), after.in_flight) + "\n")
        out.flush()
        before = after
        done += 1
