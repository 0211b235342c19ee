"""Report writers, one module per format. Each returns text; the CLI decides where it goes."""

from __future__ import annotations

from typing import Any

from leakhunt.findings import Finding, Provenance


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
    record.update(location_details(provenance))
    return record


def location_details(provenance: Provenance) -> dict[str, Any]:
    """Return the notebook cell and decoding fields that are set, for JSON and SARIF."""
    details: dict[str, Any] = {}
    if provenance.cell is not None:
        details["cell"] = provenance.cell
    if provenance.cell_output is not None:
        details["cell_output"] = provenance.cell_output
    if provenance.decoded is not None:
        details["decoded"] = provenance.decoded
    return details


def location_note(provenance: Provenance) -> str:
    """Return a short note such as `cell 3, output 1, decoded: base64`, or an empty string."""
    parts = []
    if provenance.cell is not None:
        parts.append(f"cell {provenance.cell}")
    if provenance.cell_output is not None:
        parts.append(f"output {provenance.cell_output}")
    if provenance.decoded is not None:
        parts.append(f"decoded: {provenance.decoded}")
    return ", ".join(parts)
