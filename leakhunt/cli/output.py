"""Terminal and file output shared by the subcommands."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import os
import stat
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from leakhunt.errors import ReportError
from leakhunt.rules import Ruleset
from leakhunt.scan import ScanResult

PROGRESS_DELAY_SECONDS = 1.0


class Progress:
    """A progress bar on standard error for scans that run for more than a second.

    It is drawn only when standard error is a terminal (the caller decides `enabled`), counts
    bytes in MiB, and erases itself when the scan ends, before the report is written.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.stop()

    def update(self, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self.started < PROGRESS_DELAY_SECONDS:
            return
        if self.bar is None:
            if done >= total:
                return
            self.start_bar(total)
        self.bar.update(self.task, completed=done, total=total)

    def start_bar(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self.bar = RichProgress("scanning", BarColumn(), DownloadColumn(binary_units=True), TimeElapsedColumn(),
                                console=Console(stderr=True), transient=True, get_time=time.monotonic)
        self.task = self.bar.add_task("scan", total=total)
        # Count the elapsed time from the start of the scan, not from the first drawing.
        self.bar.tasks[-1].start_time = self.started
        self.bar.start()


def write_report(result: ScanResult, args: argparse.Namespace, ruleset: Ruleset) -> None:
    """Write the report in the requested format, with secrets redacted unless --show-secrets is set."""
    if not args.show_secrets:
        result = dataclasses.replace(result, findings=tuple(finding.with_secret_redacted() for finding in result.findings))

    if args.format == "json":
        from leakhunt.report import json_report

        emit(json_report.render(result, args.path), args.output)
    elif args.format == "sarif":
        from leakhunt.report import sarif

        emit(sarif.render(result, dict(ruleset.by_id), args.path), args.output)
    else:
        emit_text(result, args.output, verbose=args.verbose > 0)


def emit_text(result: ScanResult, output: Path | None, verbose: bool) -> None:
    """Print the text report, in colour only when standard output is a terminal."""
    from leakhunt.report import text

    if output is None:
        text.render(result, text.console_for(None), verbose)
        return
    buffer = io.StringIO()
    text.render(result, text.console_for(buffer), verbose)
    emit(buffer.getvalue(), output)


def emit(document: str, output: Path | None) -> None:
    """Write a report to standard output, or to a file.

    A regular file, or a path that does not exist yet, is replaced atomically. Any other path
    (`/dev/null`, a FIFO, a terminal, a symbolic link) is written through, because replacing
    it would swap the device or link for a plain file.
    """
    if output is None:
        sys.stdout.write(document)
        sys.stdout.flush()
        return
    if is_special_path(output):
        write_through(document, output)
        return
    folder = output.parent if str(output.parent) else Path(".")
    temporary: str | None = None
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, prefix=f".{output.name}.",
                                         delete=False, errors="surrogateescape") as handle:
            temporary = handle.name
            handle.write(document)
        os.replace(temporary, output)
    except OSError as error:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        raise ReportError(f"cannot write report {output}: {error.strerror or error}") from error


def is_special_path(output: Path) -> bool:
    """Return True when `output` exists and is not a regular file, or is a symbolic link."""
    try:
        mode = os.lstat(output).st_mode
    except FileNotFoundError:
        return False
    except OSError as error:
        raise ReportError(f"cannot write report {output}: {error.strerror or error}") from error
    return not stat.S_ISREG(mode)


def write_through(document: str, output: Path) -> None:
    try:
        with open(output, "w", encoding="utf-8", errors="surrogateescape") as handle:
            handle.write(document)
    except OSError as error:
        raise ReportError(f"cannot write report {output}: {error.strerror or error}") from error


def discard_standard_output() -> None:
    """Point standard output at /dev/null, so the flush at interpreter exit has nowhere to fail."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
