"""Merging new migration evidence with what an earlier run wrote."""

from __future__ import annotations

from leakhunt.migrate.evidence import HISTORY_REMINDER, merge_previous


def evidence(steps: list[str]) -> dict:
    return {"findings": [], "secrets": [], "files_changed": [], "manual_steps": [*steps, HISTORY_REMINDER]}


def test_merge_replaces_step_for_same_place() -> None:
    earlier = evidence([
        "app/.env:1: move the value to Secrets Manager (run --apply with --upload-non-python to store it "
        "as app/env/GH)",
        "app/settings.py:9: review and apply the patch that reads app/settings/DSN (embedded: inside a longer string)",
    ])
    later = evidence(["app/.env:1: replace the value with a reference to the secret app/env/GH"])

    merged = merge_previous(later, earlier)

    assert merged["manual_steps"] == [
        "app/settings.py:9: review and apply the patch that reads app/settings/DSN (embedded: inside a longer string)",
        "app/.env:1: replace the value with a reference to the secret app/env/GH",
        HISTORY_REMINDER,
    ]


def row(line: int, secret: str, rule_id: str = "github-pat-classic") -> dict:
    return {"path": "app/settings.py", "line": line, "column": 19, "rule_id": rule_id, "value": "redacted",
            "kind": "module-constant", "disposition": "automatic", "secret": secret, "reason": ""}


def test_merge_replaces_rows_planned_again() -> None:
    earlier = {**evidence([]), "findings": [row(4, "app/settings/TOKEN"), row(9, "app/settings/OLD_NAME"),
                                            row(12, "app/settings/DONE")]}
    later = {**evidence([]), "findings": [row(5, "app/settings/TOKEN"), row(9, "app/settings/NEW_NAME")]}

    merged = merge_previous(later, earlier)

    assert [(item["line"], item["secret"]) for item in merged["findings"]] == [
        (5, "app/settings/TOKEN"), (9, "app/settings/NEW_NAME"), (12, "app/settings/DONE")]
