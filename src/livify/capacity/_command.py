"""`livify capacity RESULT.json`: its options and its run."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

from livify.capacity._analysis import (
    DEFAULT_SLO_P95_SECONDS,
    analyse,
    render_analysis,
    render_analysis_svg,
)
from livify.capacity._exceptions import CapacityError
from livify.capacity._planning import DEFAULT_HEADROOM
from livify.loadtest import LoadTestError, RunResult, parse_threshold


def add_capacity_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of `livify capacity` to `parser`."""
    parser.add_argument("result", type=Path, help="JSON result of a step-load run")
    parser.add_argument(
        "--slo",
        default=f"p95 < {DEFAULT_SLO_P95_SECONDS * 1000:.0f}ms",
        help="latency SLO that defines the knee (default %(default)r)",
    )
    parser.add_argument(
        "--users", type=int, help="concurrently active users to plan for"
    )
    parser.add_argument(
        "--requests-per-user-minute",
        type=float,
        help="request rate of one active user (default: measured by a "
        "closed-model run)",
    )
    parser.add_argument(
        "--headroom",
        type=float,
        default=DEFAULT_HEADROOM,
        help="keep each instance below this share of its knee throughput "
        "(default %(default)s)",
    )
    parser.add_argument("--svg", type=Path, metavar="FILE", help="write the chart here")
    parser.add_argument(
        "--json", type=Path, metavar="FILE", help="write the analysis here"
    )


def run_capacity_command(
    args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run `livify capacity`; return 0, or 2 for an unusable input.

    The analysis goes to `out` (default stdout), errors to `err` (stderr).
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        _check_options(args)
        result = RunResult.read_json(args.result)
        slo = parse_threshold(args.slo)
        if slo.metric != "p95" or slo.scope:
            msg = (
                "--slo must be a whole-run p95 threshold such as 'p95 < "
                f"250ms', got {args.slo!r}"
            )
            raise ValueError(msg)
        analysis = analyse(
            result,
            slo_p95_seconds=slo.limit,
            users=args.users,
            requests_per_user_per_minute=args.requests_per_user_minute,
            headroom=args.headroom,
        )
    except (OSError, LoadTestError, CapacityError, ValueError) as exc:
        print(f"livify capacity: {exc}", file=err)
        return 2

    out.write(render_analysis(analysis))
    if args.svg is not None:
        args.svg.write_text(render_analysis_svg(analysis), encoding="utf-8")
    if args.json is not None:
        args.json.write_text(
            json.dumps(asdict(analysis), indent=1, default=str) + "\n", encoding="utf-8"
        )
    return 0


def _check_options(args: argparse.Namespace) -> None:
    """Reject option values no analysis could use, naming the option.

    Checked before reading the result, so a bad `--headroom` is reported
    even when no plan would be made (no `--users`).
    """
    if not 0 < args.headroom <= 1:
        msg = f"--headroom must be in (0, 1], got {args.headroom!r}"
        raise ValueError(msg)

    if args.users is not None and args.users < 0:
        msg = f"--users must be zero or more, got {args.users!r}"
        raise ValueError(msg)

    rate = args.requests_per_user_minute
    if rate is not None and not rate > 0:
        msg = f"--requests-per-user-minute must be positive, got {rate!r}"
        raise ValueError(msg)
