"""The JSON report: `{"version": 1, "findings": [...]}`, documented in docs/json-report.md."""

from __future__ import annotations

import json

from leakhunt import __version__
from leakhunt.report import finding_record
from leakhunt.scan import ScanResult

SCHEMA_VERSION = 1


def render(result: ScanResult, target: str) -> str:
    document = {
        "version": SCHEMA_VERSION,
        "tool": {"name": "leakhunt", "version": __version__},
        "target": target,
        "findings": [finding_record(finding) for finding in result.findings],
        "skipped": [{"path": item.path, "reason": item.reason} for item in result.skipped],
        "notices": list(result.notices),
        "stats": {
            "files_scanned": result.files_scanned,
            "bytes_scanned": result.bytes_scanned,
            "seconds": round(result.seconds, 3),
        },
    }
    return json.dumps(document, indent=2) + "\n"
