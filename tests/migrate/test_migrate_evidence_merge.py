"""Merging new migration evidence with what an earlier run wrote."""

from __future__ import annotations

from leakhunt.migrate.evidence import HISTORY_REMINDER, merge_previous


def evidence(steps: list[str]) -> dict:
    return {"findings": [], "secrets": [], "files_changed": [], "manual_steps": [*steps, HISTORY_REMINDER]}


def test_merge_replaces_step_for_same_place() -> None:
    earlier = evidence([
        "app/.env:1: move the value to Secrets Manager (run --apply with --upload-non-python to store it as app/env/GH)",
        "app/settings.py:9: review and apply the patch that reads app/settings/DSN (embedded: inside a longer string)",
    ])
    later = evidence(["app/.env:1: replace the value with a reference to the secret app/env/GH"])

    merged = merge_previous(later, earlier)

    assert merged["manual_steps"] == [
        "app/settings.py:9: review and apply the patch that reads app/settings/DSN (embedded: inside a longer string)",
        "app/.env:1: replace the value with a reference to the secret app/env/GH",
        HISTORY_REMINDER,
    ]
