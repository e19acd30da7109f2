"""`livify moderation serve`: run the reference moderation service."""

from __future__ import annotations

import argparse

import structlog

from livify.platform.moderation._reference import (
    DEFAULT_BANNED_WORDS,
    Faults,
    create_moderation_app,
)

logger = structlog.get_logger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9000
# Hung checks end when their client disconnects; this bounds what is left.
SHUTDOWN_SECONDS = 2


def add_moderation_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the `serve` subcommand and its options to `livify moderation`."""
    # Not required here: livify's CLI reports unknown options first, then a
    # missing subcommand (`nested_command`).
    commands = parser.add_subparsers(dest="moderation_command")
    parser.set_defaults(nested_command="moderation_command")
    serve = commands.add_parser(
        "serve", help="serve the reference moderation service, for demos and tests"
    )
    # livify's CLI reports an unknown option with this parser's usage.
    serve.set_defaults(command_parser=serve)
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help="address to bind (default %(default)s)"
    )
    serve.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help="TCP port (default %(default)s)",
    )
    serve.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="delay every check by this many milliseconds (default %(default)s)",
    )
    serve.add_argument(
        "--error-rate",
        type=float,
        default=0.0,
        help="share of checks, 0 to 1, that fail with 503 (default %(default)s)",
    )
    serve.add_argument(
        "--hang-rate",
        type=float,
        default=0.0,
        help="share of checks, 0 to 1, that never respond (default %(default)s)",
    )
    serve.add_argument(
        "--banned-word",
        action="append",
        dest="banned_words",
        help="reject text with this word; repeat for more "
        f"(default: {', '.join(DEFAULT_BANNED_WORDS)})",
    )
    serve.add_argument(
        "--random-seed", type=int, help="seed of the fault draws, for repeatable runs"
    )


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        msg = f"must be a TCP port from 1 to 65535, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return port


def run_moderation_command(args: argparse.Namespace) -> int:
    """Serve until interrupted; raises ValueError for an invalid fault switch."""
    import uvicorn

    faults = Faults(
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        hang_rate=args.hang_rate,
    )
    words = args.banned_words if args.banned_words else DEFAULT_BANNED_WORDS
    app = create_moderation_app(
        banned_words=words, faults=faults, random_seed=args.random_seed
    )
    logger.info(
        "moderation.serving",
        address=f"http://{args.host}:{args.port}",
        banned_words=sorted(words),
        latency_ms=faults.latency_ms,
        error_rate=faults.error_rate,
        hang_rate=faults.hang_rate,
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=SHUTDOWN_SECONDS,
    )
    return 0
