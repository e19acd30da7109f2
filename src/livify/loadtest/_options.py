"""Options of one load-test run, as the command line or a caller gives them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from livify.loadtest._recorder import DEFAULT_INTERVAL_SECONDS
from livify.loadtest._runtime import WorkloadSettings
from livify.loadtest._thresholds import Threshold

DEFAULT_OPEN_MODEL_POOL = 100
DEFAULT_MASTER_PORT = 5557
DEFAULT_WORKER_WAIT_SECONDS = 60.0
# How long a stopping run waits for requests in flight to finish.
DEFAULT_DRAIN_SECONDS = 10.0


@dataclass
class RunOptions:
    """A run: what to send, how to judge it and which role this process plays.

    `role` is `local` (one process), `master` (coordinates workers and
    sends nothing itself) or `worker`.

    `open_model_pool` bounds the requests one process keeps in flight in the
    open model. Arrivals beyond it wait for a free sender, and that wait
    counts in their latency.
    """

    workload: WorkloadSettings
    thresholds: list[Threshold] = field(default_factory=list)
    stop_thresholds: list[Threshold] = field(default_factory=list)
    role: str = "local"
    expect_workers: int = 1
    master_host: str = "127.0.0.1"
    master_port: int = DEFAULT_MASTER_PORT
    worker_wait_seconds: float = DEFAULT_WORKER_WAIT_SECONDS
    open_model_pool: int = DEFAULT_OPEN_MODEL_POOL
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS
    drain_seconds: float = DEFAULT_DRAIN_SECONDS
    json_path: Path | None = None
    html_path: Path | None = None
    show_progress: bool = True
