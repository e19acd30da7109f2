"""Run every benchmark of the project and write docs/benchmarks.md.

Measured here, side by side in one run:

- the throughput ceiling of the server stack: a bare ASGI app returning a
  fixed small JSON body, served by uvicorn with uvloop and httptools in one
  process, as `livify serve` serves livify;
- livify endpoints on a seeded SQLite store, each as a ratio of that
  ceiling, measured in the same round so both see the same machine load;
- two controls on the bare app: behind one layer that only wraps `send`,
  and sending the five rate-limit header fields; with the servers that run
  without metrics and with rate limits, they give what each requirement
  costs on the cheapest endpoint;
- the mixed-journey throughput at which p99 stays under 100 ms: an
  open-model step load of `livify loadtest` that stops at the first step
  whose p99 reaches 100 ms.

Then every other `bench/*.py` script runs with its default options and its
output is recorded. HTTP load comes from wrk (Debian package `wrk`) with one
thread, so on a two-core machine the server gets the other core.

Run: .venv/bin/python bench/run.py [--rounds 3 --seconds 5]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
HOST = "127.0.0.1"
WRK_CONNECTIONS = 64
SEED_SCALE = 0.2
STARTUP_TIMEOUT_SECONDS = 60.0
SCRIPT_TIMEOUT_SECONDS = 900.0
MIXED_P99_SECONDS = 0.1
MIXED_START_RATE = 50.0
MIXED_STEP_RATE = 50.0
MIXED_STEPS = 12
MIXED_STEP_SECONDS = 8.0
# The load comes from one address, which the default rate limits would stop.
SERVER_ENVIRONMENT = {
    "LIVIFY_LOG_LEVEL": "warning",
    "LIVIFY_RATELIMIT_ENABLED": "false",
    # wrk's connections are a closed loop that always saturates the server;
    # with shedding on, slow endpoints would count 503s as throughput.
    # bench/shedding.py measures shedding itself.
    "LIVIFY_SHEDDING_ENABLED": "false",
}


# livify's default rate limits, each raised a millionfold, so the bench
# measures what deciding costs without a request ever being refused.
RAISED_LIMITS = """
[event]
multiplier = 1000000.0
until = 2100-01-01T00:00:00Z
"""
SLUG_NAME = "GET /api/articles/{slug}"
SAME_BYTES_NAME = "bare ASGI app, same response bytes as GET /api/articles/{slug}"
TAGS_NAME = "GET /api/tags"
NO_METRICS_NAME = "GET /api/tags (no metrics middleware)"
LIMITED_NAME = "GET /api/tags (default rate limits, never reached)"
SEND_WRAPPER_NAME = "bare ASGI app behind a layer that only wraps send"
HEADERS_NAME = "bare ASGI app sending the five rate-limit header fields"
# The pairs of targets each 5 % target compares: (requirement, with it,
# without it), where None stands for the ceiling itself.
REQUIREMENT_PAIRS = (
    ("metrics middleware, on a cached read", TAGS_NAME, NO_METRICS_NAME),
    ("default rate limits, on a cached read", LIMITED_NAME, TAGS_NAME),
    ("one pure ASGI layer that only wraps send", SEND_WRAPPER_NAME, None),
    ("the five rate-limit header fields alone", HEADERS_NAME, None),
)


@dataclass
class Target:
    """One URL to measure with wrk, with the header it needs."""

    name: str
    url: str
    headers: list[str] = field(default_factory=list)
    requests_per_second: list[float] = field(default_factory=list)
    p99_seconds: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    errors: int = 0
    server_pid: int | None = None
    """The serving process, whose CPU time per request is recorded."""
    cpu_microseconds: list[float] = field(default_factory=list)


sys.path.insert(0, str(REPO))
from tests.cache.varnish import running_varnish  # noqa: E402 (needs the repo on the path)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    msg = f"no 200 from {url} within {STARTUP_TIMEOUT_SECONDS:.0f} s"
    raise RuntimeError(msg)


@contextmanager
def serve(command: Sequence[str], ready_url: str, env: dict[str, str]) -> Iterator[int]:
    """Run a server process until the block ends, then stop it by its pid.

    Yields the pid. With one worker, uvicorn serves in that process itself.
    """
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_ready(ready_url, process)
        yield process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def livify(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "livify.cli", *arguments]


def get_json(url: str, headers: dict[str, str] | None = None, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def livify_targets(origin: str, login_email: str) -> list[Target]:
    """Pick the endpoints to measure from what the seeded store contains."""
    api = f"{origin}/api"
    articles = get_json(f"{api}/articles?limit=100")["articles"]
    top = max(articles, key=lambda article: article["favoritesCount"])
    commented = max(
        articles[:30],
        key=lambda a: len(get_json(f"{api}/articles/{a['slug']}/comments")["comments"]),
    )
    tag = get_json(f"{api}/tags")["tags"][0]
    token = get_json(
        f"{api}/users/login",
        body={"user": {"email": login_email, "password": "demo-password"}},
    )["user"]["token"]
    signed_in = [f"Authorization: Token {token}"]
    return [
        Target(TAGS_NAME, f"{api}/tags"),
        Target("GET /api/articles/{slug}", f"{api}/articles/{top['slug']}"),
        Target(
            "GET /api/profiles/{username}",
            f"{api}/profiles/{top['author']['username']}",
        ),
        Target("GET /api/articles?limit=20", f"{api}/articles?limit=20"),
        Target("GET /api/articles?tag=...", f"{api}/articles?tag={tag}&limit=20"),
        Target(
            "GET /api/articles/{slug}/comments",
            f"{api}/articles/{commented['slug']}/comments",
        ),
        Target(
            "GET /api/articles/feed (signed in)",
            f"{api}/articles/feed?limit=20",
            signed_in,
        ),
    ]


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def process_cpu_seconds(pid: int) -> float:
    """Return the user and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of the line, in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(target: Target, seconds: float) -> tuple[float, float, int]:
    """Return requests/s, p99 seconds and non-2xx responses of one wrk run.

    When the target names its server's pid, also record that server's CPU
    time per request, which other load on the machine disturbs less than
    the request rate.
    """
    command = ["wrk", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{seconds:.0f}s", "--latency"]
    for header in target.headers:
        command += ["-H", header]
    pid = target.server_pid
    cpu_before = process_cpu_seconds(pid) if pid is not None else 0.0
    output = subprocess.run(
        [*command, target.url], capture_output=True, text=True, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
    if pid is not None:
        requests = int(re.search(r"(\d+) requests in", output)[1])  # type: ignore[index]
        cpu_seconds = process_cpu_seconds(pid) - cpu_before
        target.cpu_microseconds.append(cpu_seconds / max(requests, 1) * 1e6)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    p99_seconds = float(p99[1]) * _UNITS[p99[2]] if p99 else float("nan")
    return rate, p99_seconds, int(errors[1]) if errors else 0


def measure_interleaved(
    ceiling: Target, targets: list[Target], rounds: int, seconds: float
) -> None:
    """Measure the ceiling and every target once per round, in rotating order."""
    for target in [ceiling, *targets]:
        run_wrk(target, 1)  # warm-up
        target.cpu_microseconds.clear()

    for number in range(rounds):
        order = targets[number % len(targets) :] + targets[: number % len(targets)]
        rate, p99, _ = run_wrk(ceiling, seconds)
        ceiling.requests_per_second.append(rate)
        ceiling.p99_seconds.append(p99)
        for target in order:
            rate, p99, errors = run_wrk(target, seconds)
            target.requests_per_second.append(rate)
            target.p99_seconds.append(p99)
            target.ratios.append(rate / ceiling.requests_per_second[-1])
            target.errors += errors
        print(f"round {number + 1}/{rounds} done", file=sys.stderr)


def run_mixed_journey(origin: str, work_dir: Path) -> dict[str, Any]:
    """Step the open model up until p99 reaches 100 ms; return the JSON result."""
    result_path = work_dir / "mixed.json"
    command = livify(
        "loadtest",
        origin,
        "--model",
        "open",
        "--rate",
        str(MIXED_START_RATE),
        "--ramp",
        "3s",
        "--steps",
        str(MIXED_STEPS),
        "--step-size",
        str(MIXED_STEP_RATE),
        "--step-duration",
        f"{MIXED_STEP_SECONDS}s",
        "--threshold",
        f"p99 < {MIXED_P99_SECONDS * 1000:.0f}ms",
        "--threshold",
        "errors < 1%",
        "--random-seed",
        "1",
        "--quiet",
        "--json",
        str(result_path),
    )
    subprocess.run(
        command,
        cwd=REPO,
        capture_output=True,
        check=False,
        env={**os.environ, **SERVER_ENVIRONMENT},
    )
    result: dict[str, Any] = json.loads(result_path.read_text())
    return result


def run_scripts() -> list[tuple[str, int, str]]:
    """Run every other bench script with its defaults; return name, status, output.

    Modules without a `__main__` block, such as shared helpers, are skipped.
    """
    outputs = []
    for script in sorted(BENCH.glob("*.py")):
        is_script = "__main__" in script.read_text(encoding="utf-8")
        if script.name.startswith("_") or script.name == "run.py" or not is_script:
            continue
        print(f"running {script.name} ...", file=sys.stderr)
        try:
            completed = subprocess.run(
                [sys.executable, str(script)],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=SCRIPT_TIMEOUT_SECONDS,
                check=False,
            )
            output = completed.stdout.strip() or completed.stderr.strip()[-2000:]
            outputs.append((script.name, completed.returncode, output))
        except subprocess.TimeoutExpired:
            outputs.append(
                (script.name, -1, f"timed out after {SCRIPT_TIMEOUT_SECONDS:.0f} s")
            )
    return outputs


def describe_machine() -> dict[str, str]:
    memory = "unknown"
    model = platform.processor() or "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"MemTotal:\s+(\d+) kB", meminfo.read_text())
        if match:
            memory = f"{int(match[1]) / 1024 / 1024:.1f} GiB"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        if match:
            model = match[1].strip()
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    return {
        "cores": str(os.cpu_count()),
        "memory": memory,
        "cpu": model,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "wrk": wrk.split(" [")[0].strip() or "unknown",
    }


def mixed_summary(result: dict[str, Any]) -> tuple[list[list[str]], str]:
    """Return the step table and the sentence that answers the question."""
    rows = []
    passing = None
    is_broken = False
    for summary in result["phases"]:
        if summary["phase"]["kind"] != "step":
            continue
        latency = summary["latency"]
        is_within = (
            latency["p99_seconds"] < MIXED_P99_SECONDS and latency["error_ratio"] < 0.01
        )
        # The result is the last step before the first one that broke.
        is_broken = is_broken or not is_within
        if not is_broken:
            passing = summary
        rows.append(
            [
                summary["phase"]["name"],
                f"{summary['phase']['load_end']:.0f}",
                f"{latency['throughput_per_second']:.1f}",
                f"{latency['p95_seconds'] * 1000:.1f}",
                f"{latency['p99_seconds'] * 1000:.1f}",
                f"{latency['error_ratio']:.2%}",
            ]
        )

    if passing is None:
        return rows, "p99 reached 100 ms already at the first step."

    throughput = passing["latency"]["throughput_per_second"]
    sentence = (
        f"p99 stayed under 100 ms up to {throughput:,.0f} req/s of mixed journeys "
        f"({passing['phase']['name']}, {passing['phase']['load_end']:.0f} "
        "req/s offered)"
    )
    if result["stop_reason"] == "completed":
        sentence += "; no step reached 100 ms, so this is a lower bound"
    return rows, sentence + "."


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def cpu_cell(target: Target) -> str:
    if not target.cpu_microseconds:
        return "-"
    return f"{statistics.median(target.cpu_microseconds):.1f}"


def same_bytes_summary(targets: list[Target]) -> list[str]:
    """Compare the cached article read with a bare app sending the same bytes."""
    by_name = {target.name: target for target in targets}
    slug, same = by_name.get(SLUG_NAME), by_name.get(SAME_BYTES_NAME)
    if slug is None or same is None:
        return []

    # Both ran in every round, so their per-round ratios share a ceiling run.
    ratio = statistics.median(
        mine / theirs for mine, theirs in zip(slug.ratios, same.ratios, strict=True)
    )
    lines = [
        "The article response has a larger body than the ceiling's 60 bytes",
        "and more headers, and uvicorn's own cost grows with both. The",
        "same-bytes row serves that exact response from a bare ASGI app, so",
        f"`{SLUG_NAME}` at {ratio:.3f} of it is the share of the server stack's",
        "throughput left after livify's own work on a cache hit.",
    ]
    if slug.cpu_microseconds and same.cpu_microseconds:
        livify_cpu = statistics.median(slug.cpu_microseconds)
        same_cpu = statistics.median(same.cpu_microseconds)
        lines.append(
            f"In server CPU, livify's own work is {livify_cpu - same_cpu:.1f} µs "
            f"of the {livify_cpu:.1f} µs per request."
        )
    return [*lines, ""]


def requirement_costs(targets: list[Target], ceiling: Target) -> list[str]:
    """Tabulate the throughput and CPU that each requirement costs, side by side."""
    by_name = {target.name: target for target in targets}
    rows = []
    for requirement, with_name, without_name in REQUIREMENT_PAIRS:
        with_it = by_name.get(with_name)
        without = ceiling if without_name is None else by_name.get(without_name)
        if with_it is None or without is None:
            continue

        # Per-round ratios share a ceiling run, so their quotient cancels it.
        base_ratios = without.ratios or [1.0] * len(with_it.ratios)
        kept_share = statistics.median(
            mine / theirs
            for mine, theirs in zip(with_it.ratios, base_ratios, strict=True)
        )
        added = "-"
        if with_it.cpu_microseconds and without.cpu_microseconds:
            added_cpu = statistics.median(with_it.cpu_microseconds) - statistics.median(
                without.cpu_microseconds
            )
            added = f"{added_cpu:.1f}"
        rows.append([requirement, f"{1 - kept_share:.1%}", added])

    if not rows:
        return []
    return [
        "## What each requirement costs",
        "",
        "Each row compares two targets of the table above, measured in the",
        "same rounds: the share of throughput lost and the server CPU added",
        "per request. The last two rows run on the bare app, before any",
        "livify code: they are floors under what a pure ASGI middleware and",
        "the rate-limit header fields can cost behind uvicorn.",
        "",
        *table(("requirement", "throughput cost", "server CPU added µs"), rows),
        "",
    ]


def render(
    arguments: argparse.Namespace,
    machine: dict[str, str],
    ceiling: Target,
    targets: list[Target],
    mixed: dict[str, Any] | None,
    scripts: list[tuple[str, int, str]],
) -> str:
    command = (
        f".venv/bin/python bench/run.py --rounds {arguments.rounds} "
        f"--seconds {arguments.seconds:g}"
    )
    lines = [
        "# Benchmarks",
        "",
        "Written by `bench/run.py`; run it again rather than editing this page.",
        "",
        f"- command: `{command}`",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine['cores']} cores ({machine['cpu']}), "
        f"{machine['memory']} memory, {machine['os']}",
        f"- software: Python {machine['python']}, {machine['wrk']}",
        "",
        "The machine is shared and its load changes from minute to minute, so",
        "absolute numbers move between runs. Ratios are measured within one",
        "round, where the ceiling and the endpoint ran back to back, and the",
        "table gives the median over rounds.",
        "",
        "## Server stack ceiling and livify endpoints",
        "",
        f"wrk, 1 thread, {WRK_CONNECTIONS} connections, "
        f"{arguments.seconds:g} s per measurement,",
        f"{arguments.rounds} rounds. The ceiling is a bare ASGI app "
        "(`bench/_bare_app.py`)",
        "returning a fixed 60-byte JSON body, served by uvicorn with uvloop and",
        "httptools in one process. livify runs `livify serve` (one worker,",
        "`LIVIFY_LOG_LEVEL=warning`, rate limits and load shedding off, except",
        "one server whose default rate limits an `[event]` multiplier raises a",
        "millionfold, so that it decides on every request and refuses none) on",
        "SQLite seeded with `livify seed "
        f"--scale {SEED_SCALE}`. wrk keeps {WRK_CONNECTIONS} requests in flight, "
        "so every",
        "target runs at saturation and its p99 includes the wait in the server's",
        "queue. Server CPU is the serving process's user and system time over a",
        "run divided by the requests wrk completed: it moves less with the",
        "machine's other load than req/s does (Varnish runs as several",
        "processes and has no figure).",
        "",
    ]
    ordered = sorted(targets, key=lambda target: -statistics.median(target.ratios))
    rows = [
        [
            "bare ASGI app (ceiling)",
            f"{statistics.median(ceiling.requests_per_second):,.0f}",
            "1.000",
            cpu_cell(ceiling),
            f"{statistics.median(ceiling.p99_seconds) * 1000:.1f}",
            "0",
        ]
    ]
    rows += [
        [
            f"`{target.name}`",
            f"{statistics.median(target.requests_per_second):,.0f}",
            f"{statistics.median(target.ratios):.3f}",
            cpu_cell(target),
            f"{statistics.median(target.p99_seconds) * 1000:.1f}",
            str(target.errors),
        ]
        for target in ordered
    ]
    header = ("target", "req/s (median)", "ratio of ceiling", "server CPU µs/req")
    lines += table((*header, "p99 ms", "non-2xx"), rows)
    cheapest, heaviest = ordered[0], ordered[-1]
    lines += [
        "",
        f"Cheapest: `{cheapest.name}` at "
        f"{statistics.median(cheapest.ratios):.3f} of the ceiling. "
        f"Heaviest: `{heaviest.name}` at {statistics.median(heaviest.ratios):.3f}.",
        "",
        *same_bytes_summary(targets),
        *requirement_costs(targets, ceiling),
    ]

    if mixed is not None:
        step_rows, sentence = mixed_summary(mixed)
        lines += [
            "## Mixed journeys with p99 under 100 ms",
            "",
            "`livify loadtest` in the open model against the same server: the",
            "visitor and member journeys (30% members), arrivals stepped up by",
            f"{MIXED_STEP_RATE:.0f} req/s every {MIXED_STEP_SECONDS:.0f} s "
            "until a step's p99 reached",
            "100 ms. Latency counts from each request's intended send time. Locust",
            "runs in one process on the same two cores as the server, so it takes",
            "CPU from the server as the rate rises.",
            "",
        ]
        lines += table(
            ("step", "offered req/s", "measured req/s", "p95 ms", "p99 ms", "errors"),
            step_rows,
        )
        lines += ["", sentence, ""]

    if scripts:
        lines += ["## Other benchmarks", ""]
        for name, status, output in scripts:
            verdict = "" if status == 0 else f" (exit status {status})"
            lines += [f"### `bench/{name}`{verdict}", "", "```", output, "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument(
        "--skip-scripts", action="store_true", help="only the HTTP benchmarks"
    )
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench/run.py needs wrk: apt-get install wrk", file=sys.stderr)
        return 2
    if shutil.which("varnishd") is None and not Path("/usr/sbin/varnishd").exists():
        print(
            "bench/run.py needs varnishd: bash scripts/ensure-varnish.sh",
            file=sys.stderr,
        )
        return 2

    # Stop the servers this script started when it is stopped itself.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    machine = describe_machine()
    work_dir = Path(tempfile.mkdtemp(prefix="livify-bench-"))
    try:
        ceiling, targets, mixed = measure_http(arguments, work_dir)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)

    scripts = [] if arguments.skip_scripts else run_scripts()
    text = render(arguments, machine, ceiling, targets, mixed, scripts)
    arguments.output.write_text(text, encoding="utf-8")
    print(text)
    return 0


def bare_app_command(port: int) -> list[str]:
    """Serve `bench/_bare_app.py` the way `livify serve` serves livify."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "_bare_app:app",
        "--app-dir",
        str(BENCH),
        "--host",
        HOST,
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--log-level",
        "warning",
        "--no-access-log",
        # livify serve turns uvicorn's forwarded-header rewrite off too.
        "--no-proxy-headers",
    ]


def measure_http(
    arguments: argparse.Namespace, work_dir: Path
) -> tuple[Target, list[Target], dict[str, Any]]:
    bare_port, livify_port = free_port(), free_port()
    bare_command = bare_app_command(bare_port)
    data_dir = work_dir / "data"
    environment = {**SERVER_ENVIRONMENT, "LIVIFY_DATA_DIR": str(data_dir)}
    seeded = subprocess.run(
        livify("seed", "--scale", str(SEED_SCALE)),
        cwd=REPO,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    login_email = re.search(r"Log in as (\S+) with", seeded.stdout)[1]  # type: ignore[index]
    origin = f"http://{HOST}:{livify_port}"
    serve_command = livify("serve", "--host", HOST, "--port", str(livify_port))

    # The same store served without the observability middleware, and with
    # the default rate limits raised so far that no request meets them, so
    # the table shows what each costs on the cheapest endpoint side by side.
    quiet_port, limited_port = free_port(), free_port()
    quiet_origin = f"http://{HOST}:{quiet_port}"
    quiet_command = livify("serve", "--host", HOST, "--port", str(quiet_port))
    quiet_environment = {**environment, "LIVIFY_METRICS_ENABLED": "false"}
    limited_origin = f"http://{HOST}:{limited_port}"
    limited_command = livify("serve", "--host", HOST, "--port", str(limited_port))
    limits_file = work_dir / "limits.toml"
    limits_file.write_text(RAISED_LIMITS)
    limited_environment = {
        **environment,
        "LIVIFY_RATELIMIT_ENABLED": "true",
        "LIVIFY_RATELIMIT_CONFIG": str(limits_file),
    }

    ceiling = Target("bare ASGI app", f"http://{HOST}:{bare_port}/api/tags")
    replay_port, wrapper_port, headers_port = free_port(), free_port(), free_port()
    replay_url = f"http://{HOST}:{replay_port}/"
    wrapper_url = f"http://{HOST}:{wrapper_port}/"
    headers_url = f"http://{HOST}:{headers_port}/"
    replay_file = work_dir / "article-response"
    with ExitStack() as servers:
        ceiling.server_pid = servers.enter_context(serve(bare_command, ceiling.url, {}))
        livify_pid = servers.enter_context(
            serve(serve_command, f"{origin}/api/tags", environment)
        )
        quiet_pid = servers.enter_context(
            serve(quiet_command, f"{quiet_origin}/api/tags", quiet_environment)
        )
        limited_pid = servers.enter_context(
            serve(limited_command, f"{limited_origin}/api/tags", limited_environment)
        )
        edge = servers.enter_context(running_varnish(livify_port))
        targets = livify_targets(origin, login_email)
        for target in targets:
            target.server_pid = livify_pid
        slug_target = next(t for t in targets if t.name == SLUG_NAME)
        capture_response(slug_target.url, replay_file)
        replay_pid = servers.enter_context(
            serve(
                bare_app_command(replay_port),
                replay_url,
                {"LIVIFY_BENCH_REPLAY": str(replay_file)},
            )
        )
        wrapper_pid = servers.enter_context(
            serve(
                bare_app_command(wrapper_port),
                wrapper_url,
                {"LIVIFY_BENCH_CONTROL": "send-wrapper"},
            )
        )
        headers_pid = servers.enter_context(
            serve(
                bare_app_command(headers_port),
                headers_url,
                {"LIVIFY_BENCH_CONTROL": "ratelimit-headers"},
            )
        )
        targets += [
            Target(SAME_BYTES_NAME, replay_url, server_pid=replay_pid),
            Target(SEND_WRAPPER_NAME, wrapper_url, server_pid=wrapper_pid),
            Target(HEADERS_NAME, headers_url, server_pid=headers_pid),
            Target(NO_METRICS_NAME, f"{quiet_origin}/api/tags", server_pid=quiet_pid),
            Target(LIMITED_NAME, f"{limited_origin}/api/tags", server_pid=limited_pid),
            Target(
                "GET /api/articles/{slug} through Varnish",
                slug_target.url.replace(origin, edge),
            ),
        ]
        measure_interleaved(ceiling, targets, arguments.rounds, arguments.seconds)
        print("running the mixed-journey step load ...", file=sys.stderr)
        mixed = run_mixed_journey(origin, work_dir)
    return ceiling, targets, mixed


def capture_response(url: str, path: Path) -> None:
    """Save the headers and body of the response to `url`, for the same-bytes ceiling.

    uvicorn adds its own `date` and `server` headers to every response, and
    `connection: close` is the reply to urllib's own request header, so those are
    left out. Every other header is kept as livify sent it.
    """
    with urllib.request.urlopen(url, timeout=30) as response:
        body = response.read()
        headers = [
            [name.lower(), value]
            for name, value in response.getheaders()
            if name.lower() not in ("date", "server", "connection")
        ]
    path.write_bytes(json.dumps(headers).encode() + b"\n" + body)


if __name__ == "__main__":
    sys.exit(main())
