"""The JSON report, version 1, documented in docs/json-report.md.

Its JSON Schema ships as `leakhunt/report/schema/report-v1.json`. Every string in the report is
valid Unicode: a path byte that is not UTF-8 appears as U+FFFD.
"""

from __future__ import annotations

import json
from typing import Any

from leakhunt import __version__
from leakhunt.report import finding_record
from leakhunt.report.escaping import unicode_safe_document
from leakhunt.scan import ScanResult

SCHEMA_VERSION = 1
SCHEMA_RESOURCE = "schema/report-v1.json"


def build_document(result: ScanResult, target: str) -> dict[str, Any]:
    """Return the report as a JSON-ready dictionary."""
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
    return unicode_safe_document(document)


def render(result: ScanResult, target: str) -> str:
    return json.dumps(build_document(result, target), indent=2) + "\n"


def schema() -> dict[str, Any]:
    """Return the JSON Schema that every version 1 report validates against."""
    from importlib import resources

    return json.loads(resources.files("leakhunt.report").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8"))
