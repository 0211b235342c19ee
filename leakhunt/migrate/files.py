"""File helpers of the migration: content hashes, atomic writes and redacted diffs."""

from __future__ import annotations

import difflib
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from leakhunt.errors import MigrationError
from leakhunt.findings import REDACTED, redact

NO_NEWLINE = "\\ No newline at end of file\n"


def content_hash(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def atomic_write(path: Path, data: bytes, new_mode: int = 0o644) -> None:
    """Replace `path` by `data` through a synced temporary file, keeping the mode of an
    existing file and giving a new one `new_mode`."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else new_mode
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, mode)
        os.replace(handle.name, path)
        sync_folder(path.parent)
    except OSError as error:
        raise MigrationError(f"cannot write {path}: {error.strerror or error}") from error


def sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def unified_diff(path: str, old: bytes, new: bytes) -> str:
    """Return a `git apply`-compatible diff of one file, with a/ and b/ prefixes."""
    old_lines = old.decode("utf-8", "surrogateescape").splitlines(keepends=True)
    new_lines = new.decode("utf-8", "surrogateescape").splitlines(keepends=True)
    lines = []
    for line in difflib.unified_diff(old_lines, new_lines, f"a/{path}", f"b/{path}"):
        lines.append(line if line.endswith("\n") else line + "\n" + NO_NEWLINE)
    return "".join(lines)


def redact_diff(diff: str, values: Iterable[str], settings: Iterable[str] = ()) -> str:
    """Redact secret values and quoted settings in the lines of a diff.

    Secret values are replaced wherever they appear, except in file and hunk headers: an
    added line can still contain one when it contains two secrets. Settings, such as a
    connection's host, are short and common words, so only their quoted literals on removed
    and context lines are replaced.
    """
    ordered = sorted({value for value in values if value}, key=len, reverse=True)
    quoted = [f"{quote}{setting}{quote}" for setting in sorted(set(settings), key=len, reverse=True) if setting
              for quote in ('"', "'")]
    lines = []
    for line in diff.splitlines(keepends=True):
        if line.startswith(("--- ", "+++ ", "@@")):
            lines.append(line)
            continue
        for value in ordered:
            line = line.replace(value, redact(value))
        if not line.startswith("+"):
            for literal in quoted:
                line = line.replace(literal, literal[0] + REDACTED + literal[0])
        lines.append(line)
    return "".join(lines)
