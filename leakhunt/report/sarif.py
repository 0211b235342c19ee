"""The SARIF 2.1.0 report, for code-scanning upload."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote

from leakhunt import __version__
from leakhunt.findings import Finding
from leakhunt.rules import Rule
from leakhunt.scan import ScanResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"high": "error", "medium": "warning", "low": "note"}


def render(result: ScanResult, rules: dict[str, Rule]) -> str:
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
        "results": [sarif_result(finding, index[finding.rule_id]) for finding in result.findings],
        "columnKind": "unicodeCodePoints",
    }
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2) + "\n"


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.replace(".", "-").split("-")),
        "shortDescription": {"text": rule.name},
        "fullDescription": {"text": rule.description or f"A hardcoded {rule.name} was found."},
        "defaultConfiguration": {"level": LEVELS[rule.confidence]},
        "properties": {"confidence": rule.confidence, "tags": ["security", "secret"]},
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
        "message": {"text": f"{finding.rule_name} found: {finding.secret}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": path_uri(finding.path)},
                    "region": {"startLine": finding.line, "startColumn": finding.column},
                }
            }
        ],
        "partialFingerprints": {"leakhunt/v1": finding.fingerprint},
    }
    if provenance.commit:
        result["properties"] = {
            "commit": provenance.commit,
            "author": provenance.author,
            "email": provenance.email,
            "date": provenance.date,
        }
        if provenance.commits:
            result["properties"]["commits"] = list(provenance.commits)
    return result


def path_uri(path: str) -> str:
    """Return a relative URI reference for a path, percent-encoding spaces and non-ASCII bytes."""
    return quote(os.fsencode(path).replace(os.sep.encode(), b"/"), safe="/!")
