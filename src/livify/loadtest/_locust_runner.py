"""Drive a run on Locust: locally, as the master of workers, or as a worker.

The controller follows the plan. It sets the number of users (closed model)
or lets the arrival schedule pace the senders (open model), and it prints a
progress line. A step-load run ends at the first step that breaks an SLO. To
stop, the controller lets requests in flight finish before the users stop,
so every request the target counted is recorded too.

Workers send their recorder's contents with Locust's periodic worker report
and once more when the master asks for a final flush; the master merges them.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import gevent  # type: ignore[import-untyped]
import structlog
from locust.env import Environment
from locust.runners import LocalRunner, MasterRunner, Runner, WorkerRunner

from livify.loadtest._locust_users import make_user_classes, weigh_closed_model_classes
from livify.loadtest._options import RunOptions
from livify.loadtest._plan import LoadModel, Phase, PhaseKind
from livify.loadtest._recorder import KIND_PHASE, Recorder
from livify.loadtest._result import (
    LatencySummary,
    RunResult,
    build_result,
    window_tally,
)
from livify.loadtest._runtime import Runtime, WorkloadSettings
from livify.loadtest._text import describe_load, format_progress

logger = structlog.get_logger(__name__)

TICK_SECONDS = 0.2
PROGRESS_SECONDS = 1.0
# The progress line shows the signals of the last few complete intervals.
PROGRESS_WINDOW_SECONDS = 3.0
# Closed-model users added by a step start within about this many seconds.
STEP_SPAWN_SECONDS = 1.0
FLUSH_TIMEOUT_SECONDS = 15.0

MESSAGE_WORKLOAD = "livify_workload"
MESSAGE_ARMED = "livify_armed"
MESSAGE_STOP = "livify_stop"
MESSAGE_QUIET = "livify_quiet"
MESSAGE_FLUSH = "livify_flush"
MESSAGE_REPORT = "livify_report"
REPORT_KEY = "livify"


def run_with_locust(
    options: RunOptions, *, out: TextIO | None = None
) -> RunResult | None:
    """Run the load test in this process's role; a worker returns None.

    The progress line goes to `out`, by default stderr.
    """
    out = sys.stderr if out is None else out
    # Locust logs every spawn step at info level; the progress line is enough.
    logging.getLogger("locust").setLevel(logging.WARNING)
    runtime = Runtime(Recorder(interval_seconds=options.interval_seconds))
    if options.role == "worker":
        _serve_as_worker(options, runtime)
        return None

    runtime.configure(options.workload, worker_count=1)
    classes = make_user_classes(runtime)
    environment = Environment(
        user_classes=_selected_classes(classes, options.workload),
        host=options.workload.target_url,
    )
    if options.role == "master":
        coordinator: _Coordinator = _MasterCoordinator(environment, runtime, options)
    else:
        coordinator = _LocalCoordinator(environment, runtime, options)
    return _Controller(coordinator, runtime, options, out).run()


def _selected_classes(classes: dict[str, Any], workload: WorkloadSettings) -> list[Any]:
    if workload.plan.model is LoadModel.OPEN:
        return [classes["Arrival"]]
    return weigh_closed_model_classes(classes, workload.member_share)


class _Coordinator:
    """The controller's link to the processes that send load."""

    runner: Runner
    worker_count: int = 1

    def arm(self) -> float:
        """Wait until senders are ready; return the plan's offset 0 (perf_counter)."""
        raise NotImplementedError

    def set_users(self, count: int, spawn_rate: float) -> None:
        self.runner.start(count, spawn_rate=spawn_rate)

    def quiesce(self) -> None:
        """Stop starting requests and wait for those in flight."""
        raise NotImplementedError

    def finish(self) -> None:
        """Stop the users (members clean up) and gather every last sample."""
        raise NotImplementedError


class _LocalCoordinator(_Coordinator):
    def __init__(self, environment: Environment, runtime: Runtime, options: RunOptions):
        self.runner: LocalRunner = environment.create_local_runner()
        self._runtime = runtime
        self._options = options

    def arm(self) -> float:
        return _arm_locally(self._runtime, self._options, self.runner)

    def quiesce(self) -> None:
        _wait_for_quiet(self._runtime, self._options.drain_seconds)

    def finish(self) -> None:
        self.runner.quit()


class _MasterCoordinator(_Coordinator):
    def __init__(self, environment: Environment, runtime: Runtime, options: RunOptions):
        self.runner: MasterRunner = environment.create_master_runner(
            master_bind_host=options.master_host, master_bind_port=options.master_port
        )
        self._runtime = runtime
        self._options = options
        self._armed: set[str] = set()
        self._quiet: set[str] = set()
        self._flushed: set[str] = set()
        environment.events.worker_report.add_listener(  # type: ignore[no-untyped-call]
            self._on_worker_report
        )
        self.runner.register_message(MESSAGE_ARMED, self._on_armed)
        self.runner.register_message(MESSAGE_QUIET, self._on_quiet)
        self.runner.register_message(MESSAGE_REPORT, self._on_report)

    def arm(self) -> float:
        options = self._options
        _wait_until(
            lambda: len(self.runner.clients.ready) >= options.expect_workers,
            options.worker_wait_seconds,
            f"{options.expect_workers} worker(s) to connect",
        )
        worker_ids = sorted(client.id for client in self.runner.clients.ready)
        self.worker_count = len(worker_ids)
        workload = options.workload.to_dict()
        for index, client_id in enumerate(worker_ids):
            data = {"workload": workload, "index": index, "count": len(worker_ids)}
            self.runner.send_message(MESSAGE_WORKLOAD, data, client_id=client_id)

        if options.workload.plan.model is LoadModel.OPEN:
            self.runner.start(
                options.open_model_pool * self.worker_count,
                spawn_rate=_fast_spawn(options.open_model_pool * self.worker_count),
            )
            _wait_until(
                lambda: len(self._armed) >= self.worker_count,
                options.worker_wait_seconds,
                "every worker to sign up its members",
            )
        return self._runtime.clock()

    def quiesce(self) -> None:
        self.runner.send_message(MESSAGE_STOP)
        _wait_until(
            lambda: len(self._quiet) >= self.worker_count,
            self._options.drain_seconds + FLUSH_TIMEOUT_SECONDS,
            "workers to finish their requests in flight",
            must=False,
        )

    def finish(self) -> None:
        self.runner.stop()
        self.runner.send_message(MESSAGE_FLUSH)
        _wait_until(
            lambda: len(self._flushed) >= self.worker_count,
            FLUSH_TIMEOUT_SECONDS,
            "the final reports of the workers",
            must=False,
        )
        self.runner.quit()

    def _on_worker_report(self, client_id: str, data: dict[str, Any]) -> None:
        report = data.get(REPORT_KEY)
        if report is not None:
            self._runtime.recorder.absorb(report)

    def _on_armed(self, environment: Environment, msg: Any, **_: Any) -> None:
        self._armed.add(msg.node_id)

    def _on_quiet(self, environment: Environment, msg: Any, **_: Any) -> None:
        self._quiet.add(msg.node_id)

    def _on_report(self, environment: Environment, msg: Any, **_: Any) -> None:
        self._runtime.recorder.absorb(msg.data)
        self._flushed.add(msg.node_id)


def _serve_as_worker(options: RunOptions, runtime: Runtime) -> None:
    classes = make_user_classes(runtime)
    environment = Environment(user_classes=list(classes.values()))
    runner: WorkerRunner = environment.create_worker_runner(
        options.master_host, options.master_port
    )

    def on_workload(environment: Environment, msg: Any, **_: Any) -> None:
        settings = WorkloadSettings.from_dict(msg.data["workload"])
        environment.host = settings.target_url
        runtime.configure(
            settings, worker_index=msg.data["index"], worker_count=msg.data["count"]
        )
        if settings.plan.model is LoadModel.OPEN:
            gevent.spawn(_arm_worker, runtime, runner)
        logger.info("loadtest.worker_configured", index=msg.data["index"])

    def on_stop(environment: Environment, msg: Any, **_: Any) -> None:
        runtime.is_stopping = True
        _wait_for_quiet(runtime, options.drain_seconds)
        runner.send_message(MESSAGE_QUIET)

    def on_flush(environment: Environment, msg: Any, **_: Any) -> None:
        runner.send_message(MESSAGE_REPORT, runtime.recorder.drain())

    def on_report(client_id: str, data: dict[str, Any]) -> None:
        data[REPORT_KEY] = runtime.recorder.drain()

    runner.register_message(MESSAGE_WORKLOAD, on_workload)
    runner.register_message(MESSAGE_STOP, on_stop, concurrent=True)
    runner.register_message(MESSAGE_FLUSH, on_flush)
    environment.events.report_to_master.add_listener(on_report)  # type: ignore[no-untyped-call]
    runner.greenlet.join()


def _arm_worker(runtime: Runtime, runner: WorkerRunner) -> None:
    """Tell the master once this worker's open-model senders are set up."""
    while not runtime.is_armed:
        gevent.sleep(TICK_SECONDS)
    runner.send_message(MESSAGE_ARMED)


def _arm_locally(runtime: Runtime, options: RunOptions, runner: LocalRunner) -> float:
    if options.workload.plan.model is LoadModel.CLOSED:
        return runtime.started_at

    pool = options.open_model_pool
    runner.start(pool, spawn_rate=_fast_spawn(pool))
    _wait_until(
        lambda: runtime.is_armed, options.worker_wait_seconds, "the senders to set up"
    )
    return runtime.started_at


def _fast_spawn(count: int) -> float:
    return max(count / STEP_SPAWN_SECONDS, 1.0)


def _wait_for_quiet(runtime: Runtime, timeout_seconds: float) -> None:
    runtime.is_stopping = True
    _wait_until(
        lambda: runtime.in_flight == 0,
        timeout_seconds,
        "requests in flight",
        must=False,
    )


def _wait_until(
    condition: Callable[[], bool],
    timeout_seconds: float,
    what: str,
    *,
    must: bool = True,
) -> None:
    deadline = time.monotonic() + timeout_seconds
    while not condition():
        if time.monotonic() >= deadline:
            if must:
                msg = f"timed out after {timeout_seconds:.0f} s waiting for {what}"
                raise TimeoutError(msg)
            logger.warning(
                "loadtest.wait_timed_out",
                waiting_for=what,
                timeout_seconds=timeout_seconds,
            )
            return
        gevent.sleep(TICK_SECONDS)


class _Controller:
    """Follow the plan, print progress, stop on a broken step, build the result."""

    def __init__(
        self,
        coordinator: _Coordinator,
        runtime: Runtime,
        options: RunOptions,
        out: TextIO,
    ) -> None:
        self._coordinator = coordinator
        self._runtime = runtime
        self._options = options
        self._out = out
        self._plan = options.workload.plan
        self._users = 0
        self._next_progress = 0.0

    def run(self) -> RunResult:
        started_at = self._coordinator.arm()
        wall_start = time.time() - (self._runtime.clock() - started_at)
        stop_reason = "completed"
        try:
            stop_reason = self._follow_plan(started_at)
        except KeyboardInterrupt:
            stop_reason = "interrupted"
        finally:
            ended_at = time.time()
            self._coordinator.quiesce()
            self._coordinator.finish()
            if self._options.show_progress:
                self._out.write("\n")

        return build_result(
            self._runtime.recorder,
            plan=self._plan,
            target_url=self._options.workload.target_url,
            started_at=wall_start,
            ended_at=ended_at,
            workers=self._coordinator.worker_count,
            workload=self._options.workload.to_dict(),
            stop_reason=stop_reason,
        )

    def _follow_plan(self, started_at: float) -> str:
        previous: Phase | None = None
        while True:
            elapsed = self._runtime.clock() - started_at
            phase = self._plan.phase_at(elapsed)
            if phase is not previous and previous is not None:
                broken = self._broken_step(previous)
                if broken:
                    return broken

            if phase is None:
                return "completed"

            if phase is not previous:
                self._enter(phase)
                previous = phase

            self._show_progress(elapsed, phase)
            gevent.sleep(TICK_SECONDS)

    def _enter(self, phase: Phase) -> None:
        if self._plan.model is LoadModel.OPEN:
            return

        users = math.ceil(phase.load_end)
        if users == self._users:
            return

        if phase.kind is PhaseKind.RAMP and phase.duration_seconds > 0:
            spawn_rate = max(users / phase.duration_seconds, 0.1)
        else:
            spawn_rate = _fast_spawn(users - self._users)
        self._coordinator.set_users(users, spawn_rate)
        self._users = users

    def _broken_step(self, phase: Phase) -> str | None:
        """Return why a finished step breaks an SLO, None when it does not.

        NOTE: with workers, the last seconds of the step may still be on
        their way (Locust reports every 3 s), so the verdict rests on the
        samples that arrived by the step's end.
        """
        if phase.kind is not PhaseKind.STEP:
            return None

        tally = self._runtime.recorder.tally(KIND_PHASE, phase.name)
        if tally is None:
            return None

        summary = LatencySummary.from_tally(phase.name, tally, phase.duration_seconds)
        for threshold in self._options.stop_thresholds:
            if not threshold.is_met_by(summary):
                return f"stopped after {phase.name}: {threshold.expression} broken"
        return None

    def _show_progress(self, elapsed: float, phase: Phase) -> None:
        if not self._options.show_progress or elapsed < self._next_progress:
            return

        self._next_progress = elapsed + PROGRESS_SECONDS
        now = time.time()
        recorder = self._runtime.recorder
        window_end = (
            math.floor(now / recorder.interval_seconds) * recorder.interval_seconds
        )
        tally = window_tally(recorder, window_end - PROGRESS_WINDOW_SECONDS, window_end)
        recent = LatencySummary.from_tally("recent", tally, PROGRESS_WINDOW_SECONDS)
        total = recorder.tally("total", "total")
        line = format_progress(
            elapsed_seconds=elapsed,
            duration_seconds=self._plan.duration_seconds,
            phase=phase.name,
            load=describe_load(self._plan.model, phase.load_at(elapsed)),
            recent=recent,
            total_requests=0 if total is None else total.requests,
        )
        end = "\r" if self._out.isatty() else "\n"
        self._out.write(line + end)
        self._out.flush()
