"""The SARIF 2.1.0 report, for code-scanning upload.

Result locations are URIs relative to `%SRCROOT%`, the scan target's folder, with spaces,
non-ASCII characters and bytes that are not UTF-8 percent-encoded. Columns count Unicode code
points (`columnKind: unicodeCodePoints`), as the other reports do.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from leakhunt import __version__
from leakhunt.findings import Finding
from leakhunt.inputs.tree import Skipped
from leakhunt.report import location_details, location_note
from leakhunt.report.escaping import unicode_safe_document
from leakhunt.rules import Rule
from leakhunt.scan import ScanResult

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SOURCE_ROOT = "%SRCROOT%"
FINGERPRINT_KEY = "leakhunt/v1"
LEVELS = {"high": "error", "medium": "warning", "low": "note"}
# GitHub code scanning ranks security alerts by this property, a score from 0.0 to 10.0.
SECURITY_SEVERITY = {"high": "8.0", "medium": "5.5", "low": "3.0"}
HELP_TEXT = (
    "A credential is written in the code. Revoke or rotate it, remove it from the code and "
    "its history, and load it at run time from a secret store."
)


def render(result: ScanResult, rules: dict[str, Rule], target: str) -> str:
    used = sorted({finding.rule_id for finding in result.findings})
    index = {rule_id: position for position, rule_id in enumerate(used)}
    run = {
        "tool": {
            "driver": {
                "name": "leakhunt",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [rule_descriptor(rules[rule_id]) for rule_id in used],
            }
        },
        "invocations": [invocation(result)],
        "originalUriBaseIds": {SOURCE_ROOT: {"uri": base_uri(target)}},
        "results": [sarif_result(finding, index[finding.rule_id]) for finding in result.findings],
        "columnKind": "unicodeCodePoints",
    }
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(unicode_safe_document(document), indent=2) + "\n"


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.replace(".", "-").split("-")),
        "shortDescription": {"text": rule.name},
        "fullDescription": {"text": rule.description or f"A hardcoded {rule.name} was found."},
        "help": {"text": HELP_TEXT},
        "defaultConfiguration": {"level": LEVELS[rule.confidence]},
        "properties": {
            "confidence": rule.confidence,
            "security-severity": SECURITY_SEVERITY[rule.confidence],
            "tags": ["security", "secret"],
        },
    }
    if rule.references:
        descriptor["helpUri"] = rule.references[0]
    return descriptor


def sarif_result(finding: Finding, rule_index: int) -> dict[str, Any]:
    provenance = finding.provenance
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.confidence],
        "message": {"text": sarif_message(finding)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(finding.path),
                    "region": {"startLine": finding.line, "startColumn": finding.column},
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {"confidence": finding.confidence, "redacted": finding.redacted},
    }
    if provenance.commit:
        result["properties"].update(
            commit=provenance.commit, author=provenance.author, email=provenance.email, date=provenance.date
        )
        if provenance.commits:
            result["properties"]["commits"] = list(provenance.commits)
    result["properties"].update(location_details(provenance))
    return result


def sarif_message(finding: Finding) -> str:
    """Return the result message, naming a notebook cell or a decoding that the region cannot show."""
    note = location_note(finding.provenance)
    suffix = f" ({note})" if note else ""
    return f"{finding.rule_name} found: {finding.secret}{suffix}"


def invocation(result: ScanResult) -> dict[str, Any]:
    """Describe the run: scan notices as warnings, each skipped input as a note with its reason."""
    notifications: list[dict[str, Any]] = [{"level": "warning", "message": {"text": notice}} for notice in result.notices]
    notifications.extend(skipped_notification(item) for item in result.skipped)
    return {"executionSuccessful": True, "toolExecutionNotifications": notifications}


def skipped_notification(item: Skipped) -> dict[str, Any]:
    return {
        "level": "note",
        "message": {"text": f"not scanned: {item.reason}"},
        "locations": [{"physicalLocation": {"artifactLocation": artifact_location(item.path)}}],
    }


def artifact_location(path: str) -> dict[str, str]:
    return {"uri": path_uri(path), "uriBaseId": SOURCE_ROOT}


def path_uri(path: str) -> str:
    """Return a relative URI reference for a path, percent-encoding every byte outside the unreserved set.

    `:` is encoded too, so a first segment such as `c:` never reads as a URI scheme.
    """
    return quote(os.fsencode(path).replace(os.sep.encode(), b"/"), safe="/!")


def base_uri(target: str) -> str:
    """Return the `file:` URI of the folder that finding paths are relative to, ending in `/`."""
    folder = Path(target).absolute()
    if not folder.is_dir():
        folder = folder.parent
    return folder.as_uri().rstrip("/") + "/"
