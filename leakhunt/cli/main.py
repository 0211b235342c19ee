"""Entry point: parse arguments, dispatch to a subcommand, turn errors into one line and exit 2."""

from __future__ import annotations

import argparse
import io
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from leakhunt import __version__
from leakhunt.cli import baseline_command, migrate_command, rules_command, scan_command
from leakhunt.errors import LeakhuntError

EXIT_ERROR = 2


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, like every other leakhunt error."""

    def error(self, message: str) -> NoReturn:
        from leakhunt.report.escaping import terminal_safe

        self.exit(EXIT_ERROR, f"leakhunt: error: {terminal_safe(message)} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="leakhunt",
        description="Find hardcoded credentials and move them out of the code.",
    )
    parser.add_argument("--version", action="version", version=f"leakhunt {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more; repeat for debug logs")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    scan_command.register(subcommands)
    rules_command.register(subcommands)
    baseline_command.register(subcommands)
    migrate_command.register(subcommands)
    return parser


def configure_logging(verbosity: int) -> None:
    level = logging.DEBUG
    if verbosity == 0:
        level = logging.WARNING
    elif verbosity == 1:
        level = logging.INFO
    logging.basicConfig(level=level, format="leakhunt: %(levelname)s: %(message)s", stream=sys.stderr)
    # botocore logs request bodies at debug level, and a request body can carry a secret value.
    logging.getLogger("botocore").setLevel(max(level, logging.INFO))
    logging.getLogger("urllib3").setLevel(max(level, logging.INFO))


def main(argv: Sequence[str] | None = None) -> int:
    # A terminal whose encoding cannot show a character gets an escape instead of an error.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    try:
        return int(args.handler(args))
    except LeakhuntError as error:
        return report_error(str(error))
    except KeyboardInterrupt:
        print("leakhunt: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        from leakhunt.cli.output import discard_standard_output

        discard_standard_output()
        return report_error("standard output was closed before the report was complete")
    except Exception as error:
        # Any other failure exits 2 as well, because a CI gate reads exit status 1 as findings.
        # Only the exception type is printed by default: its message may quote scanned text.
        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        return report_error(f"unexpected {type(error).__name__} (run with -vv for the message and traceback)")


def report_error(message: str) -> int:
    """Print `leakhunt: error: MESSAGE` as one line with control characters escaped and return 2."""
    from leakhunt.report.escaping import terminal_safe

    print(f"leakhunt: error: {terminal_safe(message)}", file=sys.stderr)
    return EXIT_ERROR
