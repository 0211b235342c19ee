"""`leakhunt baseline`: record the current findings so that later scans report only new ones."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from leakhunt.baseline import DEFAULT_BASELINE, baseline_document, load_ignore_file, own_file_patterns, with_excludes
from leakhunt.cli.output import Progress, emit
from leakhunt.cli.scan_command import add_settings_options, collect, settings_from_args


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser("baseline", help="accept the current findings so later scans report only new ones")
    parser.add_argument("path", nargs="?", default=".", help="folder, file or repository to scan (default: .)")
    parser.add_argument("--git", action="store_true", help="accept the findings of the whole git history instead of the files")
    parser.add_argument("--output", "-o", metavar="FILE", type=Path,
                        help=f"baseline file to write (default: {DEFAULT_BASELINE} in PATH)")
    parser.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    add_settings_options(parser)
    parser.set_defaults(handler=run, staged=False, branch=None, since=None, all_commits=False)


def run(args: argparse.Namespace) -> int:
    root = Path(args.path)
    output = args.output or (root if root.is_dir() else root.parent) / DEFAULT_BASELINE
    settings = settings_from_args(args)
    ignore = load_ignore_file(root)
    settings = with_excludes(settings, [*ignore.path_globs, *own_file_patterns(root, [output])])
    with Progress(enabled=not args.no_progress and sys.stderr.isatty()) as progress:
        result = ignore.filter(collect(args, settings, progress))
    emit(baseline_document(result.findings), output)
    print(f"accepted {len(result.findings)} finding(s) into {output}", file=sys.stderr)
    return 0
