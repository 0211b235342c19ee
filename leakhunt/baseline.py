"""Accepted findings: baseline files and the `.leakhuntignore` file of a scan root.

A baseline lists findings by fingerprint (rule, path and a salted hash of the secret), never
by secret value or line number. Lines inserted above an accepted secret therefore keep it
accepted, while a different secret on the same line is new. The ignore file lists fingerprints
and path globs that are never reported.
"""

from __future__ import annotations

import dataclasses
import errno
import glob
import json
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from leakhunt.errors import BaselineError
from leakhunt.findings import Finding
from leakhunt.inputs.content import BinaryContent
from leakhunt.inputs.tree import PathExcludes, read_regular_file
from leakhunt.scan import ScanResult, ScanSettings

log = logging.getLogger(__name__)

BASELINE_VERSION = 1
DEFAULT_BASELINE = ".leakhunt-baseline.json"
IGNORE_FILE = ".leakhuntignore"
MAX_ACCEPTED_FILE_BYTES = 64 * 1024 * 1024
FINGERPRINT_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]*:.+:[0-9a-f]{16}")


@dataclass(frozen=True)
class Baseline:
    """The fingerprints of accepted findings."""

    fingerprints: frozenset[str] = frozenset()

    def new_findings(self, result: ScanResult) -> ScanResult:
        """Return `result` without the findings that this baseline accepts."""
        return without_fingerprints(result, self.fingerprints, "accepted by the baseline")


@dataclass(frozen=True)
class IgnoreFile:
    """The entries of a `.leakhuntignore`: fingerprints and path globs never reported."""

    fingerprints: frozenset[str] = frozenset()
    path_globs: tuple[str, ...] = ()

    def filter(self, result: ScanResult) -> ScanResult:
        return without_fingerprints(result, self.fingerprints, f"listed in {IGNORE_FILE}")


def without_fingerprints(result: ScanResult, fingerprints: frozenset[str], why: str) -> ScanResult:
    if not fingerprints:
        return result
    kept = tuple(finding for finding in result.findings if finding.fingerprint not in fingerprints)
    dropped = len(result.findings) - len(kept)
    if not dropped:
        return result
    notice = f"{dropped} finding(s) {why} are not reported"
    return dataclasses.replace(result, findings=kept, notices=(*result.notices, notice))


def baseline_document(findings: Iterable[Finding]) -> str:
    """Return the baseline JSON: sorted, without secrets or line numbers, identical for equal input."""
    records = {finding.fingerprint: {"fingerprint": finding.fingerprint, "rule": finding.rule_id, "path": finding.path}
               for finding in findings}
    document = {"version": BASELINE_VERSION, "tool": "leakhunt", "findings": [records[key] for key in sorted(records)]}
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load_baseline(path: Path) -> Baseline:
    """Read a baseline; a missing or invalid file raises `BaselineError`.

    A baseline that is not a regular file (a symbolic link, FIFO or device) is never opened
    for reading: a warning is logged and every finding counts as new.
    """
    if not path.exists() and not path.is_symlink():
        raise BaselineError(f"baseline not found: {path}; create one with `leakhunt baseline PATH --output {path}`")
    data = read_accepted_file(path, "baseline")
    if data is None:
        return Baseline()
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BaselineError(f"invalid baseline {path}: not JSON ({error})") from error
    return Baseline(frozenset(parse_baseline(document, path)))


def parse_baseline(document: object, path: Path) -> list[str]:
    if not isinstance(document, dict) or document.get("version") != BASELINE_VERSION:
        raise BaselineError(f"invalid baseline {path}: expected an object with \"version\": {BASELINE_VERSION}")
    records = document.get("findings")
    if not isinstance(records, list):
        raise BaselineError(f"invalid baseline {path}: \"findings\" must be a list")
    fingerprints = []
    for position, record in enumerate(records):
        value = record.get("fingerprint") if isinstance(record, dict) else None
        if not isinstance(value, str) or not FINGERPRINT_PATTERN.fullmatch(value):
            raise BaselineError(f"invalid baseline {path}: finding {position} has no valid \"fingerprint\"")
        fingerprints.append(value)
    return fingerprints


def load_ignore_file(root: Path) -> IgnoreFile:
    """Read `.leakhuntignore` in the scan root; a file that cannot be read is skipped with a warning."""
    folder = root if root.is_dir() else root.parent
    path = folder / IGNORE_FILE
    if not path.exists() and not path.is_symlink():
        return IgnoreFile()
    data = read_accepted_file(path, IGNORE_FILE)
    if data is None:
        return IgnoreFile()
    fingerprints, globs = [], []
    for line in data.decode("utf-8", "surrogateescape").splitlines():
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        (fingerprints if FINGERPRINT_PATTERN.fullmatch(entry) else globs).append(entry.strip("/"))
    return IgnoreFile(frozenset(fingerprints), tuple(globs))


def read_accepted_file(path: Path, what: str) -> bytes | None:
    """Read a regular file without following a symbolic link or blocking on a FIFO or device."""
    try:
        return read_regular_file(os.fsencode(path), MAX_ACCEPTED_FILE_BYTES)
    except BinaryContent:
        log.warning("ignoring %s %s: it contains binary data, not text", what, path)
    except OSError as error:
        reason = "it is a symbolic link" if error.errno == errno.ELOOP else error.strerror or str(error)
        log.warning("ignoring %s %s: not a readable regular file (%s)", what, path, reason)
    return None


def with_excludes(settings: ScanSettings, patterns: Iterable[str]) -> ScanSettings:
    """Return settings whose path excludes also cover `patterns`."""
    extra = tuple(pattern for pattern in patterns if pattern not in settings.config.excludes.patterns)
    if not extra:
        return settings
    excludes = PathExcludes(settings.config.excludes.patterns + extra)
    return dataclasses.replace(settings, config=dataclasses.replace(settings.config, excludes=excludes))


def own_file_patterns(root: Path, files: Iterable[Path | None]) -> list[str]:
    """Return exclude patterns for leakhunt's own files under `root`: baselines and the ignore file."""
    folder = root if root.is_dir() else root.parent
    patterns = [DEFAULT_BASELINE, IGNORE_FILE]
    for file in files:
        if file is None:
            continue
        relative = os.path.relpath(os.path.abspath(file), os.path.abspath(folder)).replace(os.sep, "/")
        if not relative.startswith("../"):
            patterns.append(glob.escape(relative))
    return patterns
