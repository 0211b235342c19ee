"""`leakhunt migrate`: plan the move of secrets into AWS Secrets Manager, then apply it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from leakhunt.config import find_config, load_config
from leakhunt.errors import LeakhuntError, MigrationError
from leakhunt.migrate.options import DEFAULT_KMS_KEY, DEFAULT_REGION, ProjectSettings

if TYPE_CHECKING:
    from leakhunt.findings import Finding
    from leakhunt.migrate.plan import Plan

EXIT_FAILED_SECRETS = 1
PLAN_FILE = "migration-plan.json"


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "migrate", help="move secrets found in Python code into AWS Secrets Manager",
        description="Without --apply, scan PATH and write a migration plan; nothing else changes. "
                    "With --apply, store each planned secret, read it back, enable rotation, then rewrite its code.",
    )
    parser.add_argument("path", nargs="?", default=".", help="project folder (default: .)")
    parser.add_argument("--apply", action="store_true", help="carry out the plan written by a previous run without --apply")
    parser.add_argument("--plan", metavar="FILE", type=Path, help=f"plan file (default: PATH/.leakhunt/{PLAN_FILE})")
    parser.add_argument("--config", metavar="FILE", type=Path,
                        help="configuration file (default: leakhunt.toml or pyproject.toml in PATH)")
    parser.add_argument("--jobs", "-j", type=int, default=0, metavar="N", help="scan worker processes (default: one per CPU)")

    aws = parser.add_argument_group("AWS (with --apply)")
    aws.add_argument("--region", help=f"AWS region (default: [migrate] region, else {DEFAULT_REGION})")
    aws.add_argument("--allow-region-outside-eu", action="store_true", help="accept a region outside the EU")
    aws.add_argument("--kms-key", metavar="KEY",
                     help=f"KMS key id, ARN or alias that encrypts the secrets (default: [migrate] kms_key, else {DEFAULT_KMS_KEY})")
    aws.add_argument("--endpoint-url", metavar="URL",
                     help="AWS endpoint for every call, such as a local moto server (default: AWS_ENDPOINT_URL, else AWS)")
    aws.add_argument("--rotation-lambda", metavar="ARN", help="Lambda function that rotates the secrets")
    schedule = aws.add_mutually_exclusive_group()
    schedule.add_argument("--rotate-after-days", type=int, metavar="N", help="rotate every N days (default: 30)")
    schedule.add_argument("--rotation-schedule", metavar="EXPR", help="rotate on a schedule: rate(N days) or cron(...)")
    aws.add_argument("--force", action="store_true",
                     help="when a secret of the same name has another value, store this value as its new version")
    aws.add_argument("--upload-non-python", action="store_true",
                     help="also store secrets found only outside Python code (.env, YAML, JSON)")
    aws.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE", help="add a tag to every secret; repeatable")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from leakhunt.migrate.options import parse_project_settings
    from leakhunt.scan import build_settings, scan_tree

    root = Path(args.path)
    if not root.is_dir():
        raise LeakhuntError(f"migrate needs a project folder, and {args.path} is not one")
    config = load_config(args.config if args.config else find_config(root))
    project = parse_project_settings(config.migrate, config.source)
    settings = build_settings(config, jobs=args.jobs)
    findings = scan_tree(root, settings).findings
    plan_path = args.plan or root / ".leakhunt" / PLAN_FILE
    if args.apply:
        return apply(args, root, plan_path, project, findings, lambda: scan_tree(root, settings).findings)
    return plan(args, root, plan_path, project, findings)


def plan(args: argparse.Namespace, root: Path, plan_path: Path, project: ProjectSettings,
         findings: Sequence[Finding]) -> int:
    from leakhunt.migrate.files import atomic_write
    from leakhunt.migrate.plan import make_plan

    migration_plan, _ = make_plan(root, findings, project)
    atomic_write(plan_path, migration_plan.to_json().encode("utf-8"))
    print_plan(migration_plan, plan_path, args.path)
    defaults = {secret.default_name for secret in migration_plan.secrets}
    migrated = migrated_names(root)
    for key in sorted(key for key in set(project.names) - defaults if project.names[key] not in migrated):
        notify(f"WARNING: [migrate.names] key {key!r} matches no planned secret, so it renames nothing; "
               "a key must be a name that the plan derives, as printed without [migrate.names]")
    return 0


def migrated_names(root: Path) -> set[str]:
    """Return the names of the secrets that an earlier --apply of this project migrated."""
    from leakhunt.migrate.journal import JOURNAL_FILE, Journal
    from leakhunt.migrate.plan import STATE_FOLDER

    journal_path = root / STATE_FOLDER / JOURNAL_FILE
    if not journal_path.exists():
        return set()
    return {record["secret"] for record in Journal(journal_path).of("done")}


def print_plan(plan: Plan, plan_path: Path, path_argument: str) -> None:
    from leakhunt.migrate.naming import name_problem

    print(f"Migration plan for {plan.prefix}: {len(plan.secrets)} secret(s), written to {plan_path}")
    print(f"Runtime helper: {plan.helper.path} (import {plan.helper.module})")
    for secret in plan.secrets:
        keys = f"  JSON keys: {', '.join(secret.keys)}" if secret.keys else ""
        print(f"\n{secret.name}{keys}")
        problem = name_problem(secret.name)
        if problem is not None:
            print(f"  invalid name: it {problem}; set another one in [migrate.names]")
        for location in secret.locations:
            reason = f": {location.reason}" if location.reason and location.disposition != "automatic" else ""
            print(f"  {location.describe()}  {location.kind}  {location.disposition}{reason}")
    if plan.reported:
        print("\nNot rewritten, only reported:")
        for location in plan.reported:
            print(f"  {location.describe()}  {location.rule_id}  {location.kind}: {location.reason}")
    if plan.diff:
        print("\nCode change of --apply (values redacted):\n")
        sys.stdout.write(plan.diff)
    if plan.review_diff:
        print("\nPatches for review, written by --apply but not applied (values redacted):\n")
        sys.stdout.write(plan.review_diff)
    if not plan.secrets:
        print("\nNothing to migrate: no secret remains in the code that --apply could store.")
        return
    print(f"\nNext: review the plan, then run `leakhunt migrate {path_argument} --apply` "
          "with --kms-key and --rotation-lambda.")


def apply(args: argparse.Namespace, root: Path, plan_path: Path, project: ProjectSettings, findings: Sequence[Finding],
          rescan: Callable[[], Sequence[Finding]]) -> int:
    from leakhunt.migrate.apply import Migration
    from leakhunt.migrate.options import ApplyOptions, Rotation
    from leakhunt.migrate.plan import Plan

    try:
        text = plan_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MigrationError(f"no migration plan at {plan_path}; run `leakhunt migrate {args.path}` first "
                             "and review it") from None
    except OSError as error:
        raise MigrationError(f"cannot read the plan {plan_path}: {error.strerror or error}") from error
    options = ApplyOptions(
        region=args.region or project.region or DEFAULT_REGION,
        endpoint_url=args.endpoint_url,
        kms_key=args.kms_key or project.kms_key or DEFAULT_KMS_KEY,
        allow_region_outside_eu=args.allow_region_outside_eu,
        rotation=Rotation(args.rotation_lambda, args.rotate_after_days, args.rotation_schedule),
        force=args.force,
        upload_non_python=args.upload_non_python,
        tags={**project.tags, **parse_tags(args.tag)},
    )
    report = Migration(Plan.from_json(text, str(plan_path)), root, options, findings, notify, rescan).run()

    counts: dict[str, int] = {}
    for outcome in report.outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or "no secrets in the plan"
    print(f"{summary} (account {report.preflight.account}, region {options.region})")
    if report.evidence is not None:
        print(f"Evidence: {report.evidence.markdown} and {report.evidence.json}")
    return EXIT_FAILED_SECRETS if report.failed else 0


def parse_tags(items: list[str]) -> dict[str, str]:
    tags = {}
    for item in items:
        key, separator, value = item.partition("=")
        if not separator or not key:
            raise MigrationError(f"invalid --tag {item!r}; use KEY=VALUE")
        tags[key] = value
    return tags


def notify(message: str) -> None:
    stream = sys.stderr if message.startswith(("WARNING", "FAILED")) else sys.stdout
    print(message, file=stream, flush=True)
