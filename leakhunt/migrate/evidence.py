"""Audit evidence of a migration, as JSON and Markdown.

The evidence records what was found where (without values), each secret created with its
ARN, version, region, KMS key and rotation, the files changed, what remains to be done by
hand, and a least-privilege IAM policy for the application. It is built from the plan and
the journal, merged with the evidence that earlier runs wrote, so no run drops what an
earlier one recorded.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leakhunt import __version__
from leakhunt.migrate.files import atomic_write
from leakhunt.migrate.journal import Journal
from leakhunt.migrate.plan import Location, Plan

log = logging.getLogger(__name__)

EVIDENCE_JSON = "migration-evidence.json"
EVIDENCE_MARKDOWN = "migration-evidence.md"
NOT_MIGRATED_MARK = ": NOT MIGRATED, "
STORED_ONLY = "stored; the code still holds the value (see the manual steps)"
HISTORY_REMINDER = (
    "Every migrated value is still in the git history and in every clone, fork and backup of the "
    "repository. Treat each one as exposed: rotate or revoke it at its issuer, then let Secrets Manager "
    "hold only the new value."
)
PURPOSE = (
    "Evidence that hardcoded credentials were removed from the source code and are now held encrypted, "
    "access-controlled and rotatable in AWS Secrets Manager, for the technical documentation that the EU "
    "Cyber Resilience Act, Regulation (EU) 2024/2847, asks of a product's protection of confidential data."
)


@dataclass(frozen=True)
class EvidencePaths:
    json: Path
    markdown: Path


def build_evidence(plan: Plan, journal: Journal, region: str, account: str) -> dict[str, Any]:
    secrets = [secret_evidence(plan, journal, record) for record in latest_stored(journal)]
    return {
        "purpose": PURPOSE,
        "tool": f"leakhunt {__version__}",
        "generated": journal.records[-1]["time"] if journal.records else None,
        "repository": plan.prefix,
        "account": account,
        "region": region,
        "findings": findings_evidence(plan),
        "secrets": secrets,
        "not_migrated": not_migrated(journal),
        "files_changed": files_changed(journal),
        "rescan": rescan_evidence(journal),
        "manual_steps": manual_steps(plan, journal),
        "iam_policy": iam_policy(secrets),
        "reminder": HISTORY_REMINDER,
    }


def latest_stored(journal: Journal) -> list[dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for record in journal.of("stored"):
        latest[record["secret"]] = record
    return [latest[name] for name in sorted(latest)]


def secret_evidence(plan: Plan, journal: Journal, stored: dict[str, Any]) -> dict[str, Any]:
    name = stored["secret"]
    rotation = journal.last("rotation", name)
    done = journal.last("done", name)
    return {
        "name": name,
        "arn": stored["arn"],
        "version_id": stored["version_id"],
        "region": stored["region"],
        "kms_key": stored["kms_key_arn"],
        "outcome": stored["outcome"],
        "keys": stored.get("keys", []),
        "stored": stored["time"],
        "verified": journal.has("verified", name, version_id=stored["version_id"]),
        "rotation": rotation_evidence(rotation),
        "status": secret_status(done, journal.of("file-written", name)),
        "locations": done["locations"] if done else [],
        "files_changed": sorted({record["path"] for record in journal.of("file-written", name)}),
        "review_patches": sorted({record["patch"] for record in journal.of("patch-written", name)}),
    }


def not_migrated(journal: Journal) -> list[dict[str, Any]]:
    """Return the secrets whose last attempt failed and whose code therefore still contains the value.

    A failure is settled once the secret is migrated, or once every location it covered is
    migrated under another name, as after a rename in [migrate.names].
    """
    migrated = {record["secret"] for record in journal.of("done")}
    migrated_at = {where(location) for record in journal.of("done") for location in record["locations"]}
    latest: dict[str, dict[str, Any]] = {}
    for record in journal.of("failed"):
        latest[record["secret"]] = record
    entries = []
    for name in sorted(set(latest) - migrated):
        places = [where(location) for location in latest[name]["locations"]]
        if places and set(places) <= migrated_at:
            continue
        entries.append({"name": name, "reason": latest[name]["reason"], "time": latest[name]["time"],
                        "locations": places})
    return entries


def where(location: dict[str, Any]) -> str:
    return f"{location['path']}:{location['line']}"


def secret_status(done: dict[str, Any] | None, written: list[dict[str, Any]]) -> str:
    """Return `migrated` when code now reads the secret, `stored` when the code still contains the value."""
    if done is None:
        return "in progress"
    return "migrated" if written else STORED_ONLY


def rotation_evidence(record: dict[str, Any] | None) -> dict[str, Any]:
    if record is None:
        return {"enabled": False, "note": "rotation was not configured yet"}
    if not record.get("enabled"):
        return {"enabled": False, "note": "NO ROTATION: no rotation function was given; the value never changes"}
    return {"enabled": True, "lambda_arn": record["lambda_arn"], "rules": record["rules"]}


def location_evidence(location: Location, secret: str | None) -> dict[str, Any]:
    return {
        "path": location.path,
        "line": location.line,
        "column": location.column,
        "rule_id": location.rule_id,
        "value": "redacted" if location.fingerprint else "not a finding: grouped with the connection's secret",
        "kind": location.kind,
        "disposition": location.disposition,
        "secret": secret,
        "reason": location.reason,
    }


def findings_evidence(plan: Plan) -> list[dict[str, Any]]:
    rows = [location_evidence(location, secret.name) for secret in plan.secrets for location in secret.locations]
    rows.extend(location_evidence(location, None) for location in plan.reported)
    return sorted(rows, key=lambda row: (row["path"], row["line"], row["column"]))


def files_changed(journal: Journal) -> list[dict[str, Any]]:
    return [{"path": record["path"], "secret": record["secret"], "before": record["before"], "after": record["after"]}
            for record in journal.of("file-written")] + \
           [{"path": record["path"], "secret": None, "before": None, "after": record["after"]}
            for record in journal.of("helper-written")]


def rescan_evidence(journal: Journal) -> dict[str, Any] | None:
    """Return the last rescan of the rewritten files: which files, and where migrated values remain."""
    records = journal.of("rescanned")
    if not records:
        return None
    return {"time": records[-1]["time"], "files": records[-1]["files"], "remaining": records[-1]["remaining"]}


def manual_steps(plan: Plan, journal: Journal) -> list[str]:
    steps = [f"{entry['name']}{NOT_MIGRATED_MARK}the value is still in {', '.join(entry['locations'])} "
             f"({entry['reason']})" for entry in not_migrated(journal)]
    for location in plan.reported:
        steps.append(f"{location.path}:{location.line}: remove the secret by hand ({location.kind}: {location.reason})")
    for secret in plan.secrets:
        stored = bool(journal.of("stored", secret.name))
        for location in secret.locations:
            where = f"{location.path}:{location.line}"
            if location.disposition == "review":
                patches = [record["patch"] for record in journal.of("patch-written", secret.name)
                           if record.get("location") == where]
                patch = f" with {patches[-1]}" if patches else ""
                steps.append(f"{where}: review and apply the patch{patch} that reads {secret.name} "
                             f"({location.kind}: {location.reason})")
            elif location.disposition == "manual":
                action = (f"replace the value with a reference to the secret {secret.name}" if stored else
                          f"move the value to Secrets Manager (run --apply with --upload-non-python to store it "
                          f"as {secret.name})")
                steps.append(f"{where}: {action}")
        rotation = journal.last("rotation", secret.name)
        if rotation is not None and not rotation.get("enabled"):
            steps.append(f"{secret.name}: configure a rotation function; without one the value never changes")
    steps.append(HISTORY_REMINDER)
    return steps


def iam_policy(secrets: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """Return a policy that lets the application read exactly these secrets and nothing else.

    Without secrets there is nothing to grant, and IAM takes no statement with no resource.
    """
    secrets = list(secrets)
    if not secrets:
        return None
    statements: list[dict[str, Any]] = [{
        "Sid": "ReadMigratedSecrets",
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": sorted(secret["arn"] for secret in secrets),
    }]
    keys_by_region: dict[str, set[str]] = defaultdict(set)
    for secret in secrets:
        keys_by_region[secret["region"]].add(secret["kms_key"])
    for number, (region, keys) in enumerate(sorted(keys_by_region.items()), start=1):
        statements.append({
            "Sid": f"DecryptThroughSecretsManager{number}",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": sorted(keys),
            "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
        })
    return {"Version": "2012-10-17", "Statement": statements}


def render_markdown(evidence: dict[str, Any]) -> str:
    lines = [
        f"# Secret migration evidence: {evidence['repository']}",
        "",
        evidence["purpose"],
        "",
        f"- Tool: {evidence['tool']}",
        f"- Last step recorded: {evidence['generated']}",
        f"- AWS account: {evidence['account']}, region: {evidence['region']}",
        f"- Status: {status_line(evidence)}",
    ]
    lines += findings_section(evidence)
    lines += not_migrated_section(evidence)
    lines += secrets_section(evidence)
    lines += files_section(evidence)
    lines += ["", "## Manual steps", ""]
    lines += [f"- {step}" for step in evidence["manual_steps"]]
    lines += ["", "## IAM policy for the application role", ""]
    if evidence["iam_policy"] is None:
        lines += ["None: no secret was stored, so the application needs no access yet.", ""]
    else:
        lines += ["```json", json.dumps(evidence["iam_policy"], indent=2), "```", ""]
    return "\n".join(lines)


def findings_section(evidence: dict[str, Any]) -> list[str]:
    lines = ["", "## Findings", "", "| Location | Rule | Kind | Handling | Secret | Value |",
             "| --- | --- | --- | --- | --- | --- |"]
    for row in evidence["findings"]:
        lines.append(f"| {row['path']}:{row['line']}:{row['column']} | {row['rule_id'] or '-'} | {row['kind']} | "
                     f"{row['disposition']} | {row['secret'] or '-'} | {row['value']} |")
    return lines


def status_line(evidence: dict[str, Any]) -> str:
    migrated = sum(1 for secret in evidence["secrets"] if secret["status"] == "migrated")
    stored = sum(1 for secret in evidence["secrets"] if secret["status"] == STORED_ONLY)
    failed = len(evidence.get("not_migrated", []))
    line = f"{migrated} secret(s) migrated"
    if stored:
        line += f"; {stored} stored whose values the code still holds until the manual steps are done"
    if failed:
        line += f"; **{failed} NOT migrated: their values are still in the source code**"
    return line


def not_migrated_section(evidence: dict[str, Any]) -> list[str]:
    entries = evidence.get("not_migrated", [])
    if not entries:
        return []
    lines = ["", "## Not migrated", ""]
    for entry in entries:
        lines.append(f"- **{entry['name']}** at {', '.join(entry['locations'])}: {entry['reason']} "
                     f"(last attempt {entry['time']}); the code there was not changed")
    return lines


def secrets_section(evidence: dict[str, Any]) -> list[str]:
    lines = ["", "## Secrets created", ""]
    if not evidence["secrets"]:
        lines += ["None.", ""]
    for secret in evidence["secrets"]:
        rotation = secret["rotation"]
        rotation_text = (f"every {describe_rules(rotation['rules'])} by {rotation['lambda_arn']}"
                         if rotation["enabled"] else f"**{rotation['note']}**")
        verified = "yes" if secret["verified"] else "no"
        lines += [
            f"### {secret['name']}",
            "",
            f"- ARN: `{secret['arn']}`",
            f"- Version: `{secret['version_id']}` ({secret['outcome']}, read back and compared: {verified})",
            f"- Region: {secret['region']}; KMS key: `{secret['kms_key']}`",
            f"- JSON keys: {', '.join(secret['keys']) if secret['keys'] else 'none (plain string)'}",
            f"- Rotation: {rotation_text}",
            f"- Status: {secret['status']}; files changed: {', '.join(secret['files_changed']) or 'none'}",
            "",
        ]
    return lines


def files_section(evidence: dict[str, Any]) -> list[str]:
    lines = ["## Files changed", "", "| File | Secret | SHA-256 before | SHA-256 after |", "| --- | --- | --- | --- |"]
    for change in evidence["files_changed"]:
        lines.append(f"| {change['path']} | {change['secret'] or 'runtime helper'} | {change['before'] or '-'} | "
                     f"{change['after']} |")
    rescan = evidence["rescan"]
    if rescan is not None:
        found = ", ".join(rescan["remaining"]) or "none"
        lines += ["", f"Rescan of the rewritten files at {rescan['time']}: migrated values still found: {found}."]
    return lines


def describe_rules(rules: dict[str, Any]) -> str:
    if "ScheduleExpression" in rules:
        return f"schedule {rules['ScheduleExpression']}"
    return f"{rules.get('AutomaticallyAfterDays')} days"


def existing_evidence(folder: Path) -> EvidencePaths | None:
    paths = EvidencePaths(folder / EVIDENCE_JSON, folder / EVIDENCE_MARKDOWN)
    return paths if paths.json.is_file() and paths.markdown.is_file() else None


def write_evidence(folder: Path, evidence: dict[str, Any]) -> EvidencePaths:
    """Write the evidence as JSON and Markdown, keeping what the evidence already there recorded."""
    paths = EvidencePaths(folder / EVIDENCE_JSON, folder / EVIDENCE_MARKDOWN)
    evidence = merge_previous(evidence, read_previous(paths.json))
    write_if_changed(paths.json, (json.dumps(evidence, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    write_if_changed(paths.markdown, render_markdown(evidence).encode("utf-8"))
    return paths


def write_if_changed(path: Path, data: bytes) -> None:
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    atomic_write(path, data)


def read_previous(path: Path) -> dict[str, Any] | None:
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        log.warning("cannot read the earlier evidence %s (%s); writing it anew", path, error)
        return None
    return previous if isinstance(previous, dict) else None


def merge_previous(evidence: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """Add the findings, secrets, file changes and manual steps that only `previous` lists.

    A plan made after an `--apply` no longer contains the secrets that apply moved, so the
    evidence built from it and from the journal would otherwise lose their findings.
    """
    if previous is None:
        return evidence
    merged = dict(evidence)
    earlier_rows = [row for row in previous.get("findings", []) if not restated(row, evidence["findings"])]
    merged["findings"] = sorted(union(earlier_rows, evidence["findings"]),
                                key=lambda row: (row["path"], row["line"], row["column"]))
    names = {secret["name"] for secret in evidence["secrets"]}
    kept = [secret for secret in previous.get("secrets", []) if secret.get("name") not in names]
    merged["secrets"] = sorted([*evidence["secrets"], *kept], key=lambda secret: secret["name"])
    # The journal keeps every earlier attempt, so `not_migrated` is already complete and current.
    merged["files_changed"] = union(previous.get("files_changed", []), evidence["files_changed"])
    steps = [step for step in evidence["manual_steps"] if step != HISTORY_REMINDER]
    # Steps about failed secrets are rebuilt from the journal. A step of this run replaces an
    # earlier step about the same place or secret.
    replaced = {step_subject(step) for step in steps}
    earlier = [step for step in previous.get("manual_steps", [])
               if step != HISTORY_REMINDER and NOT_MIGRATED_MARK not in step and step_subject(step) not in replaced]
    merged["manual_steps"] = [*union(earlier, steps), HISTORY_REMINDER]
    merged["iam_policy"] = iam_policy(merged["secrets"])
    return merged


def restated(row: dict[str, Any], rows: list[dict[str, Any]]) -> bool:
    """Return True when `rows`, this run's findings, describe the place or secret of `row` again.

    That is a row at the same position, perhaps under a new name, or a row of the same secret,
    rule and kind in the same file, whose line moved.
    """
    position = (row.get("path"), row.get("line"), row.get("column"))
    identity = (row.get("path"), row.get("secret"), row.get("rule_id"), row.get("kind"))
    return any((other["path"], other["line"], other["column"]) == position
               or row.get("secret") is not None
               and (other["path"], other["secret"], other["rule_id"], other["kind"]) == identity
               for other in rows)


def step_subject(step: str) -> str:
    """Return what a manual step is about: the `path:line` or secret name before its first `: `."""
    return step.split(": ", 1)[0]


def union(earlier: list[Any], later: list[Any]) -> list[Any]:
    """Return `earlier` followed by the items of `later` it does not contain, in order."""
    seen = [json.dumps(item, sort_keys=True) for item in earlier]
    result = list(earlier)
    for item in later:
        text = json.dumps(item, sort_keys=True)
        if text not in seen:
            seen.append(text)
            result.append(item)
    return result
