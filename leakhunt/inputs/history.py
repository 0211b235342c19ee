"""Scan every blob of a git history once, then attribute findings to the commits that added them.

Blob ids come from `git cat-file --batch-all-objects --unordered` (all refs, in pack order) or
from `git rev-list --objects` (one branch, or the commits after a revision). Worker processes
read the contents through their own `git cat-file --batch` and match them, so the parent
handles only ids and the few matches, and memory stays bounded by the batch size whatever the
size of the history. Meanwhile `git log --raw` runs into a temporary file. After the scan, it
gives the commit, author and path that introduced each blob with a finding.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from leakhunt.errors import GitError
from leakhunt.findings import Finding, Provenance
from leakhunt.inputs.blobs import (
    BINARY,
    MISSING,
    OVERSIZE,
    BlobBatch,
    BlobMatches,
    BlobOutcome,
    group_batches,
    scan_archive_blobs,
    scan_blobs,
)
from leakhunt.inputs.archives import is_archive
from leakhunt.inputs.git import Repository, first_line, git_command, git_environment, open_repository
from leakhunt.inputs.provenance import Introduction, LogIndex, ProvenanceLog
from leakhunt.inputs.tree import format_size
from leakhunt.scan import ProgressCallback, ScanResult, ScanSettings, to_findings

# Sizes are unknown when ids come from `rev-list`; this estimate only decides batch and pool use.
ESTIMATED_BLOB_BYTES = 8 * 1024
MISSING_LIST_BLOCK_BYTES = 1024 * 1024
MISSING_LINE = re.compile(rb"\n\?([0-9a-f]{40,64})(?=\n)")
# A notice about missing blobs names the first paths of this many of them.
MISSING_NAMED = 3
GITLINKS_LISTED = 10


@dataclass(frozen=True)
class HistoryOptions:
    """Selection of the history to scan, and how much provenance to report."""

    branch: str | None = None
    since: str | None = None
    all_commits: bool = False


def scan_history(root: Path, settings: ScanSettings, options: HistoryOptions = HistoryOptions(),
                 progress: ProgressCallback | None = None) -> ScanResult:
    """Scan the blobs of the selected history and report each finding with its introducing commit."""
    started = time.monotonic()
    repository = open_repository(root)
    revisions = history_revisions(repository, options)

    with ProvenanceLog(repository.git_dir, revisions) as history_log:
        enumeration = BlobEnumeration(repository, revisions, settings.max_file_size)
        try:
            # A partial clone's missing blobs are listed by rev-list only, which never fetches them.
            by_log = options.since and not repository.is_partial_clone
            batches = enumeration.introduced(history_log) if by_log else enumeration.batches()
            outcome = scan_blobs(batches, repository.git_dir, settings, progress)
            missing = enumeration.missing_blobs() + [oid for oid, why in outcome.skipped if why == MISSING]
            looked_up = {found.oid for found in outcome.matches} | {oid for oid, _ in outcome.archives}
            index = history_log.index(looked_up | set(missing[:MISSING_NAMED]))
        finally:
            enumeration.close()

    outcome.add(scan_archive_blobs(repository.git_dir, settings, archive_paths(outcome, index, settings)))
    findings, unattributed = attribute(outcome.matches, index, settings, options)
    notices = history_notices(repository, index, outcome, enumeration.oversize, missing, unattributed,
                              settings.max_file_size)
    return ScanResult(
        findings=tuple(findings),
        skipped=tuple(sorted(outcome.skipped_members, key=lambda item: item.path)),
        files_scanned=outcome.blobs,
        bytes_scanned=outcome.bytes,
        seconds=time.monotonic() - started,
        notices=tuple(notices),
    )


def history_revisions(repository: Repository, options: HistoryOptions) -> list[str]:
    """Return the `git log`/`rev-list` arguments that select the commits to scan."""
    revisions = [repository.resolve_commit(options.branch, "branch")] if options.branch else ["--all"]
    if options.since:
        revisions += ["--not", repository.resolve_commit(options.since, "revision")]
    return revisions


class BlobEnumeration:
    """The ids of the blobs to scan, in batches, with a count of blobs over the size limit."""

    def __init__(self, repository: Repository, revisions: Sequence[str], max_size: int) -> None:
        self.repository = repository
        self.revisions = list(revisions)
        self.max_size = max_size
        self.oversize = 0
        self.missing: list[str] = []
        self.missing_check: MissingBlobCheck | None = None

    def batches(self) -> Iterator[BlobBatch]:
        if self.revisions == ["--all"]:
            # The object store lists only the blobs it has, so missing ones are counted apart.
            self.missing_check = MissingBlobCheck(self.repository.git_dir, self.revisions)
            sized = self.all_blobs()
        else:
            sized = self.reachable_blobs()
        yield from group_batches(sized)

    def close(self) -> None:
        """Stop the missing-blob listing if the scan ends before it is counted."""
        if self.missing_check is not None:
            self.missing_check.close()

    def missing_blobs(self) -> list[str]:
        """Return the ids of the blobs that the selected commits reach but the repository lacks."""
        if self.missing_check is not None:
            self.missing += self.missing_check.blob_ids()
            self.missing_check = None
        return self.missing

    def introduced(self, history_log: ProvenanceLog) -> Iterator[BlobBatch]:
        """Batch the blobs that the logged commits add, which is what a range scan must read."""
        yield from group_batches((oid, ESTIMATED_BLOB_BYTES) for oid in history_log.introduced_blobs())

    def all_blobs(self) -> Iterator[tuple[str, int]]:
        """Yield every blob in the object store once, in pack order, with its size."""
        for line in self.stream("cat-file", "--batch-all-objects", "--unordered",
                                "--batch-check=%(objectname) %(objecttype) %(objectsize)"):
            oid, kind, size_text = line.split(b" ")
            if kind != b"blob":
                continue
            size = int(size_text)
            if size > self.max_size:
                self.oversize += 1
            elif size > 0:
                yield oid.decode("ascii"), size

    def reachable_blobs(self) -> Iterator[tuple[str, int]]:
        """Yield the blobs that the selected commits reach, each once; sizes are estimated."""
        for line in self.stream("rev-list", "--objects", "--missing=print", "--filter=object:type=blob",
                                *self.revisions, "--"):
            oid, separator, _ = line.partition(b" ")
            if separator:
                yield oid.decode("ascii"), ESTIMATED_BLOB_BYTES
            elif oid.startswith(b"?"):
                self.missing.append(oid[1:].decode("ascii"))

    def stream(self, *arguments: str) -> Iterator[bytes]:
        """Yield the output lines of a git command; a failed command raises `GitError` at the end.

        When the caller stops early, the command is killed, because forked workers may hold
        the pipe open and git would block writing to it.
        """
        command = git_command(self.repository.git_dir, *arguments, pack_windows=True)
        with tempfile.TemporaryFile(prefix="leakhunt-git-errors-") as errors:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, bufsize=1024 * 1024,
                                       env=git_environment())
            assert process.stdout is not None
            finished = False
            try:
                for line in process.stdout:
                    yield line.rstrip(b"\n")
                finished = True
            finally:
                if not finished:
                    process.kill()
                process.stdout.close()
                status = process.wait()
            if status != 0:
                errors.seek(0)
                raise GitError(f"git {arguments[0]} failed in {self.repository.git_dir}: "
                               f"{first_line(errors.read(64 * 1024))}")


class MissingBlobCheck:
    """A background `rev-list` that lists the blobs that the commits reach but the store lacks.

    A blob can be missing from a broken repository or from a partial clone, and
    `--missing=print` lists it without fetching it. The listing goes to a temporary file.
    """

    def __init__(self, git_dir: str, revisions: Sequence[str]) -> None:
        self.output = tempfile.TemporaryFile(prefix="leakhunt-missing-")
        command = git_command(git_dir, "rev-list", "--objects", "--missing=print", "--filter=object:type=blob",
                              *revisions, "--", pack_windows=True)
        self.process = subprocess.Popen(command, stdout=self.output, stderr=subprocess.DEVNULL, env=git_environment())

    def blob_ids(self) -> list[str]:
        """Wait for the listing and return its missing blob ids, or none when the listing failed.

        A broken tree makes the provenance log fail with git's message, so it is not repeated here.
        """
        try:
            if self.process.wait() != 0:
                return []
            self.output.seek(0)
            return missing_ids(self.output)
        finally:
            self.output.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.output.close()


def missing_ids(listing: BinaryIO, block_bytes: int = MISSING_LIST_BLOCK_BYTES) -> list[str]:
    """Return the ids of the `?<id>` lines of a `rev-list --missing=print` listing, read in blocks."""
    found: list[str] = []
    previous = b"\n"
    for block in iter(lambda: listing.read(block_bytes), b""):
        # Other lines are `<id> <path>`. The unfinished last line is carried to the next block.
        text = previous + block
        cut = text.rfind(b"\n")
        found += [oid.decode("ascii") for oid in MISSING_LINE.findall(text, 0, cut + 1)]
        previous = text[cut:]
    return found + [oid.decode("ascii") for oid in MISSING_LINE.findall(previous + b"\n")]


def archive_paths(outcome: BlobOutcome, index: LogIndex, settings: ScanSettings) -> list[tuple[str, str]]:
    """Name each archive blob by the path that first added it, and count others as binary blobs.

    A binary blob is opened as an archive only under an archive name, as in a tree scan.
    """
    named = []
    for oid, _ in outcome.archives:
        introductions = index.introductions.get(oid)
        path = introductions[-1].path if introductions else None
        if path is None or settings.config.excludes.excludes(path):
            continue
        if is_archive(path):
            named.append((oid, path))
        else:
            outcome.skipped.append((oid, BINARY))
    return named


def attribute(found: list[BlobMatches], index: LogIndex, settings: ScanSettings,
              options: HistoryOptions) -> tuple[list[Finding], int]:
    """Turn matches per blob into findings, one per path that the blob was added at.

    Each finding names the first commit that added the blob at that path, so a file copied
    to a new path is reported there as well. Returns the findings and the number of blobs
    with matches that no scanned commit adds (objects that no ref reaches, such as dropped
    stashes or blobs of unreachable commits).
    """
    findings: list[Finding] = []
    unattributed: set[str] = set()
    for blob in found:
        introductions = index.introductions.get(blob.oid)
        if not introductions:
            unattributed.add(blob.oid)
            continue
        # An archive's members were scanned under the path that first added the archive.
        if blob.provenance.path:
            introductions = [item for item in introductions if item.path == introductions[-1].path]
        for provenance in provenance_by_path(introductions, options.all_commits):
            if settings.config.excludes.excludes(provenance.path):
                continue
            provenance = dataclasses.replace(provenance, path=blob.provenance.path or provenance.path,
                                             cell=blob.provenance.cell, cell_output=blob.provenance.cell_output,
                                             decoded=blob.provenance.decoded)
            findings.extend(to_findings(settings, blob.matches, provenance))
    findings = merge_by_fingerprint(findings)
    findings.sort(key=lambda finding: (finding.path, finding.provenance.date or "", finding.line, finding.column,
                                       finding.rule_id))
    return findings, len(unattributed)


def merge_by_fingerprint(findings: list[Finding]) -> list[Finding]:
    """Report each secret once per rule and path, at the earliest commit that introduced it.

    Every later version of a file that still contains the secret is a blob of its own, so without
    this a secret in a file edited 400 times would be reported 400 times. The `commits` of the
    merged finding are those of every version, when `--all-commits` asked for them.
    """
    merged: dict[str, Finding] = {}
    for finding in sorted(findings, key=introduction_time):
        earlier = merged.get(finding.fingerprint)
        if earlier is None:
            merged[finding.fingerprint] = finding
        elif finding.provenance.commits:
            commits = tuple(dict.fromkeys(earlier.provenance.commits + finding.provenance.commits))
            merged[finding.fingerprint] = dataclasses.replace(
                earlier, provenance=dataclasses.replace(earlier.provenance, commits=commits)
            )
    return list(merged.values())


def introduction_time(finding: Finding) -> tuple[datetime, int, int]:
    """Return when a finding's commit was authored, then its position, for a stable order."""
    try:
        when = datetime.fromisoformat(finding.provenance.date or "")
    except ValueError:
        when = datetime.max.replace(tzinfo=timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when, finding.line, finding.column


def provenance_by_path(introductions: list[Introduction], all_commits: bool) -> list[Provenance]:
    """Return the earliest provenance at each path of `introductions` (newest first, as logged)."""
    by_path: dict[str, list[Introduction]] = {}
    for introduction in introductions:
        by_path.setdefault(introduction.path, []).append(introduction)
    return [earliest_provenance(group, all_commits) for group in by_path.values()]


def earliest_provenance(introductions: list[Introduction], all_commits: bool) -> Provenance:
    first = introductions[-1]
    commits = tuple(dict.fromkeys(item.commit for item in reversed(introductions))) if all_commits else ()
    return Provenance(path=first.path, commit=first.commit, author=first.author, email=first.email,
                      date=first.date, commits=commits)


def missing_examples(missing: list[str], index: LogIndex) -> str:
    """Name the path and commit that added the first few missing blobs, as `: a.py (abc123), …`."""
    named = []
    for oid in missing[:MISSING_NAMED]:
        introductions = index.introductions.get(oid)
        if introductions:
            first = introductions[-1]
            named.append(f"{first.path} (added in {first.commit[:12]})")
    more = ", …" if len(missing) > len(named) and named else ""
    return f": {', '.join(named)}{more}" if named else ""


def history_notices(repository: Repository, index: LogIndex, outcome: BlobOutcome, oversize: int,
                    missing: list[str], unattributed: int, max_size: int) -> list[str]:
    notices = []
    if repository.is_shallow:
        notices.append("history is shallow: commits before the shallow boundary are not in this clone and were "
                       "not scanned; fetch with --unshallow to scan them")
    if index.gitlinks:
        names = sorted(index.gitlinks)
        listed = ", ".join(names[:GITLINKS_LISTED]) + (f" and {len(names) - GITLINKS_LISTED} more"
                                                        if len(names) > GITLINKS_LISTED else "")
        notices.append(f"submodules are not scanned: {listed}")
    oversize += outcome.count(OVERSIZE)
    if oversize:
        notices.append(f"skipped {oversize} blob(s) larger than the size limit ({format_size(max_size)})")
    binary = outcome.count(BINARY)
    if binary:
        notices.append(f"skipped {binary} binary blob(s)")
    if missing:
        cause = "a partial clone has not fetched them" if repository.is_partial_clone else "the repository may be damaged"
        notices.append(f"skipped {len(missing)} blob(s) missing from the repository ({cause})"
                       f"{missing_examples(missing, index)}")
    if unattributed:
        notices.append(f"dropped findings in {unattributed} blob(s) that no scanned commit adds "
                       "(objects that no ref reaches)")
    return notices
