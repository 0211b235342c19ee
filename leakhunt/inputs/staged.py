"""Scan what the git index holds for added and modified files: the content a commit would record.

The blob ids come from `git diff --cached --raw` against HEAD, or against the empty tree in a
repository without commits, and the contents from `git cat-file`, so changes that are in the
working tree but not staged are never scanned. This is the pre-commit path: it starts no
worker pool for a few files and imports nothing heavy.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from leakhunt.errors import GitError
from leakhunt.findings import Finding, Provenance
from leakhunt.inputs.archives import is_archive
from leakhunt.inputs.blobs import BINARY, OVERSIZE, BlobOutcome, group_batches, scan_archive_blobs, scan_blobs
from leakhunt.inputs.git import first_line, git_environment, open_repository
from leakhunt.inputs.tree import Skipped, format_size
from leakhunt.scan import ScanResult, ScanSettings, to_findings

REGULAR_FILE_MODES = (b"100644", b"100755")
# Staged sizes are unknown until read; this estimate only decides batch and pool use.
ESTIMATED_BLOB_BYTES = 16 * 1024


@dataclass(frozen=True)
class StagedFile:
    """A regular file whose content in the index differs from HEAD, by blob id and path."""

    oid: str
    path: str


def scan_staged(root: Path, settings: ScanSettings) -> ScanResult:
    """Scan the staged content of added, modified and type-changed regular files under `root`."""
    started = time.monotonic()
    repository = open_repository(root)
    if repository.top_level is None:
        raise GitError(f"--staged needs a work tree, but {root} is a bare repository")

    staged = [item for item in staged_files(root) if not settings.config.excludes.excludes(item.path)]
    paths_by_oid: dict[str, list[str]] = {}
    for item in staged:
        paths_by_oid.setdefault(item.oid, []).append(item.path)

    sized = ((oid, ESTIMATED_BLOB_BYTES) for oid in paths_by_oid)
    outcome = scan_blobs(group_batches(sized), repository.git_dir, settings)
    archives = scan_archive_blobs(repository.git_dir, settings, archive_paths(outcome, paths_by_oid))
    not_text = {oid for oid, _ in outcome.skipped} | {oid for oid, _ in outcome.archives}
    text_files = sum(len(paths) for oid, paths in paths_by_oid.items() if oid not in not_text)
    outcome.add(archives)
    findings = staged_findings(outcome, paths_by_oid, settings)
    return ScanResult(
        findings=tuple(findings),
        skipped=tuple(staged_skipped(outcome, paths_by_oid, settings.max_file_size)),
        files_scanned=text_files + archives.blobs,
        bytes_scanned=outcome.bytes,
        seconds=time.monotonic() - started,
    )


def staged_files(root: Path) -> list[StagedFile]:
    """List the regular files that the index adds or changes, with paths relative to `root`.

    Without a commit argument, `git diff --cached` compares the index with HEAD, or with the
    empty tree while the current branch has no commits yet.
    """
    command = ["git", "-C", str(root), "diff", "--cached", "--raw", "-z", "--no-abbrev", "--no-renames",
               "--no-ext-diff", "--ignore-submodules", "--diff-filter=AMT", "--relative"]
    completed = subprocess.run(command, capture_output=True, env=git_environment())
    if completed.returncode != 0:
        raise GitError(f"git diff --cached failed in {root}: {first_line(completed.stderr)}")

    tokens = completed.stdout.split(b"\x00")
    staged = []
    for entry, path in zip(tokens[0::2], tokens[1::2]):
        fields = entry.lstrip(b":").split(b" ")
        if len(fields) == 5 and fields[1] in REGULAR_FILE_MODES:
            staged.append(StagedFile(oid=fields[3].decode("ascii"), path=os.fsdecode(path)))
    return staged


def archive_paths(outcome: BlobOutcome, paths_by_oid: dict[str, list[str]]) -> list[tuple[str, str]]:
    """Pair each archive blob with its staged archive names; under other names it is a binary file."""
    named = []
    for oid, _ in outcome.archives:
        archive_names = [path for path in paths_by_oid[oid] if is_archive(path)]
        named.extend((oid, path) for path in archive_names)
        if len(archive_names) < len(paths_by_oid[oid]):
            outcome.skipped.append((oid, BINARY))
    return named


def staged_findings(outcome: BlobOutcome, paths_by_oid: dict[str, list[str]], settings: ScanSettings) -> list[Finding]:
    findings: list[Finding] = []
    for blob in outcome.matches:
        paths = [blob.provenance.path] if blob.provenance.path else paths_by_oid[blob.oid]
        for path in paths:
            findings.extend(to_findings(settings, blob.matches, dataclasses.replace(blob.provenance, path=path)))
    findings.sort(key=lambda finding: (finding.path, finding.line, finding.column, finding.rule_id))
    return findings


def staged_skipped(outcome: BlobOutcome, paths_by_oid: dict[str, list[str]], max_size: int) -> list[Skipped]:
    skipped = []
    for oid, reason in outcome.skipped:
        detail = f"{reason} ({format_size(max_size)})" if reason == OVERSIZE else reason
        skipped.extend(Skipped(path, detail) for path in paths_by_oid[oid])
    skipped.extend(outcome.skipped_members)
    return sorted(skipped, key=lambda item: item.path)
