"""Entry point: parse arguments, dispatch to a subcommand, turn errors into one line and exit 2."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from leakhunt import __version__
from leakhunt.cli import baseline_command, rules_command, scan_command
from leakhunt.errors import LeakhuntError

EXIT_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leakhunt",
        description="Find hardcoded credentials and move them out of the code.",
    )
    parser.add_argument("--version", action="version", version=f"leakhunt {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more; repeat for debug logs")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    scan_command.register(subcommands)
    rules_command.register(subcommands)
    baseline_command.register(subcommands)
    return parser


def configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="leakhunt: %(levelname)s: %(message)s", stream=sys.stderr)
    # botocore logs request bodies at debug level, and a request body can carry a secret value.
    logging.getLogger("botocore").setLevel(max(level, logging.INFO))
    logging.getLogger("urllib3").setLevel(max(level, logging.INFO))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    try:
        return int(args.handler(args))
    except LeakhuntError as error:
        print(f"leakhunt: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("leakhunt: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_ERROR
