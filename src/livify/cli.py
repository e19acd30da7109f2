"""The `livify` command line."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy.exc import ArgumentError

from livify import __version__
from livify.db import Database, DatabaseError
from livify.settings import Settings

logger = structlog.get_logger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # Plain parse_args reports these with the top-level usage, which
        # does not list the options the subcommand does accept. Without a
        # subcommand, the top-level parser reports them.
        command_parser = getattr(args, "command_parser", parser)
        command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")

    if args.command is None:
        parser.error("the following arguments are required: command")

    # A command with commands of its own (`livify moderation serve`) names
    # its missing one after the unknown options, as the top level does.
    nested = getattr(args, "nested_command", None)
    if nested is not None and getattr(args, nested) is None:
        args.command_parser.error("the following arguments are required: command")

    exported = _export_options(args)
    try:
        return _run(args)
    except ValidationError as exc:
        return _fail(_describe_settings_error(exc, exported), status=2)
    except DatabaseError as exc:
        return _fail(str(exc), status=1)
    except (ArgumentError, ModuleNotFoundError) as exc:
        url = os.environ.get("LIVIFY_DATABASE_URL", "")
        hint = "use postgresql://... or sqlite:///... "
        return _fail(f"unsupported database URL {url!r} ({exc}); {hint}", status=2)
    except ValueError as exc:
        return _fail(str(exc), status=2)


def _run(args: argparse.Namespace) -> int:
    settings = Settings()
    needs_shared_metrics = settings.workers > 1 or settings.metrics_port is not None
    if args.command == "serve" and needs_shared_metrics:
        # Before anything imports prometheus_client, which reads the variable.
        _prepare_multiprocess_metrics(settings)

    from livify.observability import configure_logging

    configure_logging(level=settings.log_level, json=settings.log_format == "json")
    return int(args.handler(args) or 0)


def _fail(message: str, *, status: int) -> int:
    print(f"livify: {message}", file=sys.stderr)
    return status


def _describe_settings_error(
    exc: ValidationError, from_options: Collection[str] = ()
) -> str:
    """Name each invalid setting as the user gave it, on one line.

    Settings in `from_options` came from command-line options, and are named
    as options; the others by their environment variables.
    """
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"])
        name = (
            f"--{field.replace('_', '-')} "
            if field in from_options
            else f"LIVIFY_{field.upper()}="
        )
        problems.append(f"{name}{error.get('input')!r}: {error['msg']}")
    return "invalid settings: " + "; ".join(problems)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livify", description="A fast, reliable community-platform API."
    )
    parser.add_argument("--version", action="version", version=__version__)
    # `main` checks for a missing subcommand itself, after unknown options,
    # because argparse would report `livify --nope` as a missing subcommand.
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="serve the API")
    _add_store_options(serve)
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="TCP port (default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default 1)")
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    _add_store_options(migrate)
    migrate.set_defaults(handler=_migrate)

    seed = commands.add_parser("seed", help="fill the database with demo data")
    _add_store_options(seed)
    seed.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiplier on the demo size of 1,000 users and 10,000 articles "
        "(default %(default)s)",
    )
    seed.add_argument(
        "--if-empty",
        action="store_true",
        help="do nothing when the database already has users",
    )
    seed.add_argument(
        "--random-seed",
        type=int,
        default=1,
        help="seed of the generator, for repeatable data (default %(default)s)",
    )
    seed.add_argument(
        "--demo-password",
        help="password of every seeded user, printed at the end "
        "(default: the public 'demo-password')",
    )
    seed.set_defaults(handler=_seed)

    top = commands.add_parser(
        "top", help="show live golden signals per route from a running server"
    )
    top.add_argument(
        "--url",
        default="http://127.0.0.1:8000/metrics",
        help="the server's metrics URL (default %(default)s)",
    )
    top.add_argument(
        "--interval",
        type=float,
        default=2.0,
        help="seconds between refreshes (default %(default)s)",
    )
    top.add_argument(
        "--iterations", type=int, help="stop after this many refreshes (default: never)"
    )
    top.set_defaults(handler=_top)

    warm = commands.add_parser(
        "warm", help="fill the caches with the hottest reads before a peak"
    )
    _add_store_options(warm)
    warm.add_argument(
        "--url",
        help="a running server or edge cache to warm, such as http://127.0.0.1:6081 "
        "(default: warm Redis in-process, which needs LIVIFY_CACHE_URL=redis://...)",
    )
    warm.add_argument(
        "--top",
        type=int,
        default=100,
        help="how many of the most favorited articles to warm (default %(default)s)",
    )
    warm.set_defaults(handler=_warm)

    rules = commands.add_parser(
        "rules", help="print the Prometheus recording and alerting rules"
    )
    rules.add_argument(
        "--output",
        help="write to this file instead of stdout; the shipped copy is "
        "deploy/prometheus/rules/livify.rules.yml",
    )
    rules.set_defaults(handler=_rules)

    _add_moderation_command(commands)
    _add_loadtest_commands(commands)
    for command_parser in commands.choices.values():
        command_parser.set_defaults(command_parser=command_parser)
    return parser


def _add_moderation_command(commands: argparse._SubParsersAction[Any]) -> None:
    from livify.platform.moderation import add_moderation_arguments

    moderation = commands.add_parser(
        "moderation", help="run the reference content moderation service"
    )
    add_moderation_arguments(moderation)
    moderation.set_defaults(handler=_moderation)


def _add_loadtest_commands(commands: argparse._SubParsersAction[Any]) -> None:
    from livify.capacity import add_capacity_arguments
    from livify.loadtest import add_loadtest_arguments

    loadtest = commands.add_parser(
        "loadtest",
        help="run user journeys against a RealWorld API and report percentiles",
    )
    add_loadtest_arguments(loadtest)
    loadtest.set_defaults(handler=_loadtest)

    capacity = commands.add_parser(
        "capacity", help="plan instances from a step-load result of livify loadtest"
    )
    add_capacity_arguments(capacity)
    capacity.set_defaults(handler=_capacity)


def _add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL, e.g. postgresql://user@host/db (default: SQLite file)",
    )
    parser.add_argument("--data-dir", help="where the SQLite file and secret key live")


def _export_options(args: argparse.Namespace) -> list[str]:
    """Put command-line options into the environment as `LIVIFY_*`.

    Worker processes build `Settings` from the environment, so this is how
    an option reaches every worker. Returns the names of the settings set.
    """
    names = ["database_url", "data_dir"]
    # Other commands (`moderation serve`) have a --host and --port of their own.
    if args.command == "serve":
        names += ["host", "port", "workers"]
    exported = []
    for name in names:
        value = getattr(args, name, None)
        if value is not None:
            os.environ[f"LIVIFY_{name.upper()}"] = str(value)
            exported.append(name)
    return exported


def _serve(_args: argparse.Namespace) -> int:
    import uvicorn

    settings = Settings()
    database_url = settings.resolved_database_url()
    asyncio.run(_upgrade(database_url))

    # Migrations ran once above; workers must not race to run them again.
    os.environ["LIVIFY_MIGRATE_ON_START"] = "false"
    if settings.metrics_port is not None:
        _start_metrics_server(settings.host, settings.metrics_port)

    logger.info(
        "serve.starting",
        database=Database(database_url).describe(),
        address=f"http://{settings.host}:{settings.port}",
        workers=settings.workers,
    )
    uvicorn.run(
        "livify.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level,
        # livify configures logging itself and writes its own access log.
        log_config=None,
        access_log=False,
        # livify believes forwarded headers only from LIVIFY_TRUSTED_PROXIES;
        # uvicorn's own rewrite would trust any peer on 127.0.0.1.
        proxy_headers=False,
        timeout_graceful_shutdown=int(settings.graceful_shutdown_seconds),
    )
    return 0


def _prepare_multiprocess_metrics(settings: Settings) -> None:
    """Give every worker one empty directory for its metric files.

    Workers inherit `PROMETHEUS_MULTIPROC_DIR`, and this process switches
    prometheus_client to file-backed values before any metric exists. Files
    left by an earlier run would add old counts, so the directory is emptied
    first.
    """
    directory = settings.data_dir / "metrics"
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    # prometheus_client picks its value store when first imported, which
    # building the parser may already have done; pick again now. Metrics
    # are created later, in create_app, and use the store chosen here.
    from prometheus_client import values

    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def _start_metrics_server(host: str, port: int) -> None:
    """Serve every worker's merged metrics on a separate port, from this process."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    start_http_server(port, addr=host, registry=registry)
    logger.info("metrics.serving", address=f"http://{host}:{port}/metrics")


def _warm(args: argparse.Namespace) -> int:
    return asyncio.run(_warm_async(args.url, args.top))


async def _warm_async(url: str | None, top: int) -> int:
    import httpx
    from asgi_lifespan import LifespanManager

    from livify.app import create_app
    from livify.platform.warming import hot_paths, warm

    settings = Settings()
    database = Database(settings.resolved_database_url())
    try:
        paths = await hot_paths(database, top_articles=top)
    finally:
        await database.aclose()

    if url is not None:
        async with httpx.AsyncClient(base_url=url, timeout=10.0) as client:
            result = await warm(client, paths)
    else:
        if not (settings.cache_url or "").startswith(("redis://", "rediss://")):
            return _fail(
                "warming in-process fills only this process's memory; pass --url "
                "or set LIVIFY_CACHE_URL=redis://...",
                status=2,
            )
        app = create_app(settings)
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://warm"
            ) as client:
                result = await warm(client, paths)

    print(
        f"warmed {result.requests} reads in {result.elapsed_seconds:.1f} s, "
        f"{result.failures} failed"
    )
    return 1 if result.failures else 0


def _rules(args: argparse.Namespace) -> int:
    from livify.observability.slo import render_rules

    text = render_rules()
    if args.output is None:
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    return 0


def _loadtest(args: argparse.Namespace) -> int:
    from livify.loadtest import run_loadtest_command

    return run_loadtest_command(args)


def _moderation(args: argparse.Namespace) -> int:
    from livify.platform.moderation import run_moderation_command

    return run_moderation_command(args)


def _capacity(args: argparse.Namespace) -> int:
    from livify.capacity import run_capacity_command

    return run_capacity_command(args)


def _top(args: argparse.Namespace) -> int:
    from livify.observability.top import run_top

    try:
        run_top(
            args.url,
            interval_seconds=args.interval,
            iterations=args.iterations,
            out=sys.stdout,
        )
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"livify top: cannot read {args.url}: {exc}", file=sys.stderr)
        return 1
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    asyncio.run(_upgrade(Settings().resolved_database_url()))
    return 0


def _seed(args: argparse.Namespace) -> int:
    from livify.platform.seed import DEMO_PASSWORD, seed_database

    settings = Settings()
    database_url = settings.resolved_database_url()
    demo_password = DEMO_PASSWORD if args.demo_password is None else args.demo_password
    asyncio.run(_upgrade(database_url))
    try:
        report = asyncio.run(
            seed_database(
                database_url,
                scale=args.scale,
                if_empty=args.if_empty,
                random_seed=args.random_seed,
                demo_password=demo_password,
            )
        )
    except ValueError as exc:
        print(f"livify seed: {exc}", file=sys.stderr)
        return 2

    if report.is_skipped:
        print(
            f"The database already has {report.existing_users:,} users, "
            f"so nothing was seeded (--if-empty)."
        )
        return 0

    counts = ", ".join(
        f"{count:,} {table.replace('_', ' ')}"
        for table, count in report.row_counts().items()
    )
    print(f"Seeded {counts} in {report.elapsed_seconds:.1f} s.")
    print(f"Log in as {report.login_email} with password {demo_password!r}.")
    return 0


async def _upgrade(database_url: str) -> None:
    from livify.platform import migrate

    database = Database(database_url)
    try:
        await migrate.upgrade(database)
    finally:
        await database.aclose()


if __name__ == "__main__":
    sys.exit(main())
