"""Report writers, one module per format. Each returns text; the CLI decides where it goes."""

from __future__ import annotations

from typing import Any

from leakhunt.findings import Finding


def finding_record(finding: Finding) -> dict[str, Any]:
    """Return the JSON object of one finding, with provenance fields only where they are known."""
    provenance = finding.provenance
    record: dict[str, Any] = {
        "rule": finding.rule_id,
        "rule_name": finding.rule_name,
        "confidence": finding.confidence,
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "secret": finding.secret,
        "redacted": finding.redacted,
        "fingerprint": finding.fingerprint,
    }
    if provenance.commit:
        record.update(commit=provenance.commit, author=provenance.author, email=provenance.email, date=provenance.date)
    if provenance.commits:
        record["commits"] = list(provenance.commits)
    return record
