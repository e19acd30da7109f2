"""The `livify` command line."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

import structlog

from livify import __version__
from livify.db import Database
from livify.settings import Settings

logger = structlog.get_logger(__name__)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    _export_options(args)
    return int(args.handler(args) or 0)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livify", description="A fast, reliable community-platform API."
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)

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
        help="multiplier on the demo size of 1,000 users and 10,000 articles",
    )
    seed.add_argument(
        "--if-empty",
        action="store_true",
        help="do nothing when the database already has users",
    )
    seed.add_argument("--random-seed", type=int, default=1, help="for repeatable data")
    seed.set_defaults(handler=_seed)
    return parser


def _add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL, e.g. postgresql://user@host/db (default: SQLite file)",
    )
    parser.add_argument("--data-dir", help="where the SQLite file and secret key live")


def _export_options(args: argparse.Namespace) -> None:
    """Put command-line options into the environment as `LIVIFY_*`.

    Worker processes build `Settings` from the environment, so this is how
    an option reaches every worker.
    """
    for name in ("database_url", "data_dir", "host", "port", "workers"):
        value = getattr(args, name, None)
        if value is not None:
            os.environ[f"LIVIFY_{name.upper()}"] = str(value)


def _serve(_args: argparse.Namespace) -> int:
    import uvicorn

    settings = Settings()
    database_url = settings.resolved_database_url()
    asyncio.run(_upgrade(database_url))

    # Migrations ran once above; workers must not race to run them again.
    os.environ["LIVIFY_MIGRATE_ON_START"] = "false"
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
        timeout_graceful_shutdown=int(settings.graceful_shutdown_seconds),
    )
    return 0


def _migrate(_args: argparse.Namespace) -> int:
    asyncio.run(_upgrade(Settings().resolved_database_url()))
    return 0


def _seed(args: argparse.Namespace) -> int:
    from livify.platform.seed import seed_database

    settings = Settings()
    database_url = settings.resolved_database_url()
    asyncio.run(_upgrade(database_url))
    asyncio.run(
        seed_database(
            database_url,
            scale=args.scale,
            if_empty=args.if_empty,
            random_seed=args.random_seed,
        )
    )
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
