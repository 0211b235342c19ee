"""`leakhunt rules check` and `leakhunt rules list`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from leakhunt.cli.output import discard_standard_output
from leakhunt.config import find_config, load_config
from leakhunt.rulecheck import check_ruleset, load_for_check
from leakhunt.rules import Ruleset, load_builtin, load_files


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser("rules", help="list the rules or check them against their examples")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    check = actions.add_parser("check", help="compile every rule in both engines and run its examples")
    check.add_argument("files", nargs="*", type=Path, help="rule files to check (default: built-in rules and the project's extra rules)")
    check.add_argument("--config", metavar="FILE", type=Path, help="configuration whose extra rules are checked too")
    check.set_defaults(handler=run_check)

    listing = actions.add_parser("list", help="list rule ids, names and confidence, sorted by id")
    listing.add_argument("--config", metavar="FILE", type=Path, help="configuration whose extra rules are listed too")
    listing.set_defaults(handler=run_list)


def selected_rules(args: argparse.Namespace) -> Ruleset:
    if getattr(args, "files", None):
        return load_files(args.files)
    config = load_config(args.config if args.config else find_config(Path(".")))
    return load_builtin().extended(config.extra_rules)


def run_check(args: argparse.Namespace) -> int:
    ruleset, load_problems = load_for_check(args.files) if args.files else (selected_rules(args), [])
    problems = check_ruleset(ruleset) if ruleset.rules else []
    for problem in [*load_problems, *problems]:
        print(problem, file=sys.stderr)
    examples = sum(len(rule.examples) + len(rule.negative_examples) for rule in ruleset.rules)
    if problems or load_problems:
        failing = len({problem.rule.id for problem in problems}) + len(load_problems)
        total = len(ruleset.rules) + len(load_problems)
        print(f"{len(problems) + len(load_problems)} problem(s) in {failing} of {total} rules", file=sys.stderr)
        return 1
    print(f"{len(ruleset.rules)} rules and {examples} examples pass in Hyperscan and re")
    return 0


def run_list(args: argparse.Namespace) -> int:
    ruleset = selected_rules(args)
    width = max(len(rule.id) for rule in ruleset.rules)
    try:
        for rule in sorted(ruleset.rules, key=lambda rule: rule.id):
            print(f"{rule.id:<{width}}  {rule.confidence:<6}  {rule.name}")
        sys.stdout.flush()
    except BrokenPipeError:
        # A reader such as `head` may stop early; for a listing that is no error.
        discard_standard_output()
        return 0
    print(f"{len(ruleset.rules)} rules", file=sys.stderr)
    return 0
