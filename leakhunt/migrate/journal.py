"""The migration journal: one JSON line per completed step, synced to disk before the next.

An interrupted `--apply` resumes from the journal, and a finished one reruns as a no-op,
because every step checks the journal first. Records hold names, ARNs, version ids, paths
and content hashes, never secret values.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from leakhunt.errors import MigrationError

log = logging.getLogger(__name__)

JOURNAL_FILE = "migration-journal.jsonl"

# Test-only fault injection: the process kills itself with SIGKILL right after appending
# this many records, as a crash or `kill -9` would.
KILL_AFTER_ENV = "LEAKHUNT_TEST_KILL_AFTER_JOURNAL_ENTRIES"


class Journal:
    """An append-only JSON Lines file with the records read from it so far."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: list[dict[str, Any]] = list(read_records(path))
        self.appended = 0
        kill_after = os.environ.get(KILL_AFTER_ENV, "")
        self.kill_after = int(kill_after) if kill_after.isdigit() else None

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        record = {"event": event, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **fields}
        line = json.dumps(record, sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            raise MigrationError(f"cannot write the migration journal {self.path}: {error.strerror or error}") from error
        # Keep the record as a later run reads it back, so both build the same evidence.
        self.records.append(json.loads(line))
        self.appended += 1
        if self.kill_after is not None and self.appended >= self.kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
        return record

    def of(self, event: str, secret: str | None = None) -> list[dict[str, Any]]:
        return [record for record in self.records
                if record["event"] == event and (secret is None or record.get("secret") == secret)]

    def last(self, event: str, secret: str) -> dict[str, Any] | None:
        found = self.of(event, secret)
        return found[-1] if found else None

    def has(self, event: str, secret: str, **fields: Any) -> bool:
        return any(all(record.get(key) == value for key, value in fields.items()) for record in self.of(event, secret))

    def accepted_hashes(self, path: str) -> set[str]:
        """Return the content hashes that this migration gave `path`, written or about to be."""
        return {record["after"] for record in self.records
                if record["event"] in ("file-writing", "file-written") and record.get("path") == path}


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return
    except OSError as error:
        raise MigrationError(f"cannot read the migration journal {path}: {error.strerror or error}") from error
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines):
                # A crash while appending leaves a partial last line; the step it records did not finish.
                log.warning("ignoring the incomplete last line of %s", path)
                continue
            raise MigrationError(f"{path}:{number}: invalid journal record; restore the file or remove it") from None
        if isinstance(record, dict) and "event" in record:
            yield record
