"""`livify loadtest`: its options, and the run from options to exit status.

Exit status 0 means every threshold and regression check passed, 1 that one
failed, 2 that the options were invalid or the target could not be reached.
"""

from __future__ import annotations

import argparse
import re
import secrets
import socket
import sys
import urllib.parse
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

from livify.loadtest._checks import CheckOutcome
from livify.loadtest._exceptions import LoadTestError
from livify.loadtest._gate import DEFAULT_MAX_REGRESSION, check_regression
from livify.loadtest._html import render_html
from livify.loadtest._options import (
    DEFAULT_MASTER_PORT,
    DEFAULT_OPEN_MODEL_POOL,
    RunOptions,
)
from livify.loadtest._plan import LoadModel, build_plan
from livify.loadtest._result import RunResult
from livify.loadtest._runtime import (
    DEFAULT_MEMBER_SHARE,
    DEFAULT_THINK_MAX_SECONDS,
    DEFAULT_THINK_MIN_SECONDS,
    WorkloadSettings,
)
from livify.loadtest._target import DEFAULT_SEED_SCALE, LocalTarget
from livify.loadtest._text import render_summary
from livify.loadtest._thresholds import (
    Threshold,
    check_thresholds,
    parse_threshold,
    read_thresholds,
)

# Modules of the `loadtest` extra that a run imports.
OPTIONAL_MODULES = {"locust", "gevent", "geventhttpclient", "hdrh"}
EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
PREFLIGHT_TIMEOUT_SECONDS = 5.0
# Stands in for the local target's URL, unknown until it starts.
PLACEHOLDER_URL = "http://127.0.0.1"
DEFAULT_USERS = 20
DEFAULT_RATE = 50.0
# A step-load run stops at the first step that breaks one of these, unless
# the command line gives whole-run thresholds, which are used instead.
DEFAULT_STOP_THRESHOLDS = ("p95 < 1s", "errors < 1%")
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ms|s|m|h)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str) -> float:
    """Parse `30`, `30s`, `500ms`, `2m` or `1h` into seconds."""
    match = _DURATION.match(text)
    if match is None:
        msg = (
            f"invalid duration {text!r}: expected a number of seconds or "
            "a value such as 500ms, 30s, 2m"
        )
        raise argparse.ArgumentTypeError(msg)
    return float(match[1]) * _DURATION_UNITS[match[2]]


def parse_share(text: str) -> float:
    """Parse `10%` or `0.1` into 0.1."""
    value = text.strip()
    share = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    if not 0 <= share <= 1:
        msg = f"invalid share {text!r}: expected 0 to 1 or 0% to 100%"
        raise argparse.ArgumentTypeError(msg)
    return share


def parse_think_time(text: str) -> tuple[float, float]:
    """Parse `MIN-MAX` (seconds, or with units) or one fixed value."""
    low_text, _, high_text = text.partition("-")
    low = parse_duration(low_text)
    high = parse_duration(high_text) if high_text else low
    if high < low:
        msg = f"invalid think time {text!r}: the maximum is below the minimum"
        raise argparse.ArgumentTypeError(msg)
    return low, high


def add_loadtest_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of `livify loadtest` to `parser`."""
    parser.add_argument(
        "url",
        nargs="?",
        help="origin of a RealWorld API, e.g. http://127.0.0.1:8000 "
        "(default: start a seeded local livify serve and stop it afterwards)",
    )
    load = parser.add_argument_group("load")
    load.add_argument(
        "--model",
        choices=[m.value for m in LoadModel],
        default="closed",
        help="closed: a number of users; open: a fixed arrival rate "
        "(default %(default)s)",
    )
    load.add_argument(
        "--users",
        type=int,
        default=DEFAULT_USERS,
        help="closed model: concurrent users (default %(default)s)",
    )
    load.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help="open model: arrivals in requests/s (default %(default)s)",
    )
    load.add_argument(
        "--ramp",
        type=parse_duration,
        default=5.0,
        help="time to ramp from zero to the load (default 5s)",
    )
    load.add_argument(
        "--duration",
        type=parse_duration,
        default=20.0,
        help="steady phase after the ramp (default 20s)",
    )
    load.add_argument(
        "--steps",
        type=int,
        default=0,
        help="step load: this many steps instead of a steady phase",
    )
    load.add_argument(
        "--step-size",
        type=float,
        default=0.0,
        help="users or requests/s each step adds",
    )
    load.add_argument(
        "--step-duration",
        type=parse_duration,
        default=15.0,
        help="length of each step (default 15s)",
    )
    load.add_argument(
        "--think-time",
        type=parse_think_time,
        default=(DEFAULT_THINK_MIN_SECONDS, DEFAULT_THINK_MAX_SECONDS),
        help="closed model: pause between steps, MIN-MAX (default 0.5s-2s)",
    )
    load.add_argument(
        "--member-share",
        type=parse_share,
        default=DEFAULT_MEMBER_SHARE,
        help="share of signed-in members among users (default 30%%)",
    )
    load.add_argument(
        "--pool",
        type=int,
        default=DEFAULT_OPEN_MODEL_POOL,
        help="open model: most requests in flight per load process "
        "(default %(default)s)",
    )
    load.add_argument(
        "--random-seed", type=int, help="make each user's choices repeatable"
    )

    checks = parser.add_argument_group("checks")
    checks.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="EXPR",
        help="e.g. 'p95 < 250ms' or 'errors < 0.5%%'; repeatable",
    )
    checks.add_argument(
        "--thresholds",
        type=Path,
        metavar="FILE",
        help="file of thresholds, one per line",
    )
    checks.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="earlier JSON result to compare with",
    )
    checks.add_argument(
        "--max-regression",
        type=parse_share,
        default=DEFAULT_MAX_REGRESSION,
        help="largest allowed change against the baseline (default 10%%)",
    )

    output = parser.add_argument_group("output")
    output.add_argument(
        "--json", type=Path, metavar="FILE", help="write the JSON result here"
    )
    output.add_argument(
        "--html", type=Path, metavar="FILE", help="write the HTML report here"
    )
    output.add_argument("--quiet", action="store_true", help="no progress line")
    output.add_argument(
        "--seed-scale",
        type=float,
        default=DEFAULT_SEED_SCALE,
        help="size of the local server's demo data (default %(default)s)",
    )

    distributed = parser.add_argument_group("distributed")
    distributed.add_argument(
        "--master",
        action="store_true",
        help="coordinate workers instead of sending load",
    )
    distributed.add_argument(
        "--worker", action="store_true", help="send load for a master"
    )
    distributed.add_argument(
        "--expect-workers",
        type=int,
        default=1,
        help="master: workers to wait for (default %(default)s)",
    )
    distributed.add_argument(
        "--master-host",
        default="127.0.0.1",
        help="master: address to bind; worker: master's address (default %(default)s)",
    )
    distributed.add_argument(
        "--master-port",
        type=int,
        default=DEFAULT_MASTER_PORT,
        help="(default %(default)s)",
    )


def _check_before_run(args: argparse.Namespace) -> None:
    """Reject what would only fail after the whole run: a bad URL or output path.

    Raises ValueError naming the option to fix, and OSError when the target
    accepts no TCP connection.
    """
    url = args.url
    if url is not None:
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme not in ("http", "https"):
            msg = f"the URL must start with http:// or https://, got {url!r}"
            raise ValueError(msg)

    for option, path in (("--json", args.json), ("--html", args.html)):
        if path is not None and not Path(path).resolve().parent.is_dir():
            msg = f"{option} {str(path)!r}: its directory does not exist"
            raise ValueError(msg)

    if url is not None and not args.master and not args.worker:
        # A TCP connection, not a request, so the target's own request
        # metrics count only the load test's traffic.
        parts = urllib.parse.urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection(
                (parts.hostname or "", port), timeout=PREFLIGHT_TIMEOUT_SECONDS
            ):
                pass
        except OSError as exc:
            msg = f"cannot reach {url}: {exc}; is the server running?"
            raise OSError(msg) from exc


def run_loadtest_command(
    args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run `livify loadtest` with parsed `args` and return the exit status.

    The summary goes to `out` (default stdout), progress and errors to
    `err` (default stderr).
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        thresholds = _thresholds(args)
        baseline = None if args.baseline is None else RunResult.read_json(args.baseline)
        _check_before_run(args)
        # Checks the load and plan options before a local server is started.
        _options(args, args.url or PLACEHOLDER_URL, thresholds)
    except (LoadTestError, OSError, ValueError) as exc:
        print(f"livify loadtest: {exc}", file=err)
        return EXIT_INVALID

    with ExitStack() as stack:
        try:
            url = args.url
            if url is None and not args.worker:
                print(
                    "livify loadtest: starting a seeded local livify serve ...",
                    file=err,
                )
                target = stack.enter_context(LocalTarget(seed_scale=args.seed_scale))
                stack.callback(_say_stopped, target, err)
                url = target.url
                print(
                    f"livify loadtest: livify serve (pid {target.pid}) is up at {url}",
                    file=err,
                )
            options = _options(args, url or "", thresholds)
            result = run_load_test(options, out=err)
        except (LoadTestError, ValueError, TimeoutError) as exc:
            print(f"livify loadtest: {exc}", file=err)
            return EXIT_INVALID

    if result is None:
        return EXIT_PASSED

    outcomes = evaluate(
        result, thresholds, baseline, max_regression=args.max_regression
    )
    write_outputs(result, json_path=args.json, html_path=args.html)
    out.write(render_summary(result))
    if (
        result.total.requests
        and result.total.statuses.get("none") == result.total.requests
    ):
        print(
            f"livify loadtest: no request to {result.target_url} got a response; "
            "check the URL and that the server is running",
            file=err,
        )
        return EXIT_INVALID

    return (
        EXIT_PASSED if all(outcome.is_passed for outcome in outcomes) else EXIT_FAILED
    )


def run_load_test(
    options: RunOptions, *, out: TextIO | None = None
) -> RunResult | None:
    """Run one load test with Locust; a worker returns None when its master quits.

    Locust patches the standard library for gevent when it is imported, so
    it is imported here, in the process that sends load, and never by
    `import livify.loadtest`.
    """
    try:
        from livify.loadtest._locust_runner import run_with_locust
    except ModuleNotFoundError as exc:
        if exc.name not in OPTIONAL_MODULES:
            raise
        msg = (
            f"livify loadtest needs {exc.name!r} from the loadtest extra; "
            "install it with: pip install 'livify[loadtest]'"
        )
        raise LoadTestError(msg) from exc

    return run_with_locust(options, out=out)


def evaluate(
    result: RunResult,
    thresholds: list[Threshold],
    baseline: RunResult | None,
    *,
    max_regression: float = DEFAULT_MAX_REGRESSION,
) -> list[CheckOutcome]:
    """Check thresholds and the baseline, and store the outcomes in `result`."""
    outcomes = check_thresholds(result, thresholds)
    if baseline is not None:
        outcomes += check_regression(result, baseline, max_regression=max_regression)
    result.checks = [outcome.to_dict() for outcome in outcomes]
    return outcomes


def write_outputs(
    result: RunResult, *, json_path: Path | None, html_path: Path | None
) -> None:
    if json_path is not None:
        result.write_json(json_path)
    if html_path is not None:
        html_path.write_text(render_html(result), encoding="utf-8")


def _say_stopped(target: LocalTarget, err: TextIO) -> None:
    print(f"livify loadtest: stopped livify serve (pid {target.pid})", file=err)


def _thresholds(args: argparse.Namespace) -> list[Threshold]:
    thresholds = [parse_threshold(text) for text in args.threshold]
    if args.thresholds is not None:
        thresholds += read_thresholds(args.thresholds)
    return thresholds


def _options(
    args: argparse.Namespace, url: str, thresholds: list[Threshold]
) -> RunOptions:
    model = LoadModel(args.model)
    load = args.rate if model is LoadModel.OPEN else args.users
    plan = build_plan(
        model,
        load=load,
        ramp_seconds=args.ramp,
        steady_seconds=args.duration,
        step_count=args.steps,
        step_increment=args.step_size,
        step_seconds=args.step_duration,
    )
    workload = WorkloadSettings(
        plan=plan,
        target_url=url.rstrip("/"),
        run_tag=secrets.token_hex(3),
        member_share=args.member_share,
        think_min_seconds=args.think_time[0],
        think_max_seconds=args.think_time[1],
        random_seed=args.random_seed,
    )
    whole_run = [threshold for threshold in thresholds if not threshold.scope]
    stop_thresholds = whole_run or [
        parse_threshold(text) for text in DEFAULT_STOP_THRESHOLDS
    ]
    role = "local"
    if args.master:
        role = "master"
    elif args.worker:
        role = "worker"
    return RunOptions(
        workload=workload,
        thresholds=thresholds,
        stop_thresholds=stop_thresholds,
        role=role,
        expect_workers=args.expect_workers,
        master_host=args.master_host,
        master_port=args.master_port,
        open_model_pool=args.pool,
        show_progress=not args.quiet,
    )
