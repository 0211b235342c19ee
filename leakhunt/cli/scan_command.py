"""`leakhunt scan`: scan a tree, the staged changes or the git history, report and gate."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from leakhunt.cli.output import Progress, write_report
from leakhunt.config import find_config, load_config
from leakhunt.errors import LeakhuntError
from leakhunt.rules import CONFIDENCES
from leakhunt.scan import ScanResult, ScanSettings, build_settings, scan_tree

EXIT_FINDINGS = 1


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser("scan", help="scan files, staged changes or git history for secrets")
    parser.add_argument("path", nargs="?", default=".", help="folder, file or repository to scan (default: .)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--git", action="store_true", help="scan every blob in the git history instead of the files")
    source.add_argument("--staged", action="store_true", help="scan the staged (index) content of added and modified files")
    parser.add_argument("--branch", metavar="NAME", help="with --git: scan only what this branch reaches")
    parser.add_argument("--since", metavar="REV", help="with --git: scan only commits after REV")
    parser.add_argument("--all-commits", action="store_true",
                        help="with --git: list every commit that adds each finding's content, not only the first")
    parser.add_argument("--baseline", metavar="FILE", type=Path, help="report only findings that this baseline does not list")
    add_report_options(parser)
    add_settings_options(parser)
    parser.set_defaults(handler=run)


def add_report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="report format (default: text)")
    parser.add_argument("--output", "-o", metavar="FILE", type=Path, help="write the report to FILE instead of standard output")
    parser.add_argument("--show-secrets", action="store_true", help="show secret values in full instead of redacted")
    parser.add_argument("--exit-code", type=exit_status, default=EXIT_FINDINGS, metavar="N",
                        help=f"exit status when there are findings (default: {EXIT_FINDINGS})")
    parser.add_argument("--no-progress", action="store_true", help="never show a progress bar")


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", type=Path,
                        help="configuration file (default: leakhunt.toml or pyproject.toml in PATH)")
    parser.add_argument("--max-file-size", type=positive_number, metavar="MIB",
                        help="skip files larger than this many MiB (default: 64, or max_file_size_mb in the configuration)")
    parser.add_argument("--jobs", "-j", type=non_negative_integer, default=0, metavar="N", help="worker processes (default: one per CPU)")
    parser.add_argument("--min-confidence", choices=CONFIDENCES, default="medium",
                        help="report findings of at least this confidence (default: medium)")


def exit_status(text: str) -> int:
    value = parse_number(text, int, "an integer")
    if not 0 <= value <= 255:
        raise argparse.ArgumentTypeError(f"exit status must be from 0 to 255, not {value}")
    return value


def non_negative_integer(text: str) -> int:
    value = parse_number(text, int, "an integer")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def positive_number(text: str) -> float:
    value = parse_number(text, float, "a number")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def parse_number(text: str, kind: type[int | float], description: str) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {description}, not {text!r}") from None


def settings_from_args(args: argparse.Namespace) -> ScanSettings:
    check_target(args.path)
    root = scan_root(args)
    config_path = args.config if args.config else find_config(root)
    return build_settings(load_config(config_path), jobs=args.jobs, max_file_size_mb=args.max_file_size,
                          min_confidence=args.min_confidence)


def run(args: argparse.Namespace) -> int:
    from leakhunt.baseline import load_baseline, load_ignore_file, own_file_patterns, with_excludes

    root = scan_root(args)
    settings = settings_from_args(args)
    ignore = load_ignore_file(root)
    baseline = load_baseline(args.baseline) if args.baseline else None
    settings = with_excludes(settings, [*ignore.path_globs, *own_file_patterns(root, [args.baseline, args.output])])
    progress = Progress(enabled=not args.no_progress and sys.stderr.isatty())
    with progress:
        result = ignore.filter(collect(args, settings, progress))
    if baseline is not None:
        result = baseline.new_findings(result)
    write_report(result, args, settings.ruleset)
    return args.exit_code if result.findings else 0


def check_target(path: str) -> None:
    """Raise `LeakhuntError` for a target that does not exist or that a link cannot reach."""
    try:
        os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise LeakhuntError(f"scan target is a symbolic link to nothing: {path}") from None
        raise LeakhuntError(f"scan target not found: {path}") from None
    except OSError as error:
        raise LeakhuntError(f"cannot reach scan target {path}: {error.strerror or error}") from None


def scan_root(args: argparse.Namespace) -> Path:
    """Return the target to scan: the file that a target given as a symbolic link points to,
    else the target itself.

    The configuration and ignore file are then those beside the file that contains the
    secrets; reports still name the target as given.
    """
    if os.path.islink(args.path) and os.path.isfile(args.path):
        return Path(os.path.realpath(args.path))
    return Path(args.path)


def collect(args: argparse.Namespace, settings: ScanSettings, progress: Progress) -> ScanResult:
    root = scan_root(args)
    if args.git:
        from leakhunt.inputs.history import HistoryOptions, scan_history

        options = HistoryOptions(branch=args.branch, since=args.since, all_commits=args.all_commits)
        return scan_history(root, settings, options, progress.update)
    if args.staged:
        from leakhunt.inputs.staged import scan_staged

        return scan_staged(root, settings)
    for flag in ("branch", "since", "all_commits"):
        if getattr(args, flag):
            raise LeakhuntError(f"--{flag.replace('_', '-')} needs --git")
    return scan_tree(root, settings, progress.update)
