"""Scan every blob of a git history once, then attribute findings to the commits that added them.

Blob ids come from `git cat-file --batch-all-objects --unordered` (all refs, in pack order) or
from `git rev-list --objects` (one branch, or the commits after a revision). Worker processes
read the contents through their own `git cat-file --batch` and match them, so the parent
handles only ids and the few matches, and memory stays bounded by the batch size whatever the
size of the history. Meanwhile `git log --raw` runs into a temporary file; after the scan it
tells which commit, author and path introduced each blob that holds a finding.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import subprocess
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from leakhunt.errors import GitError
from leakhunt.findings import Finding, Provenance
from leakhunt.inputs.content import BinaryContent, text_buffer
from leakhunt.inputs.git import BlobReader, Repository, first_line, git_command, git_environment, open_repository
from leakhunt.inputs.provenance import Introduction, LogIndex, ProvenanceLog
from leakhunt.inputs.tree import format_size
from leakhunt.matcher import Match, Matcher
from leakhunt.scan import PARALLEL_THRESHOLD_BYTES, ProgressCallback, ScanResult, ScanSettings, to_findings

log = logging.getLogger(__name__)

BATCH_BYTES = 8 * 1024 * 1024
BATCH_BLOBS = 1024
# Sizes are unknown when ids come from `rev-list`; this estimate only decides batch and pool use.
ESTIMATED_BLOB_BYTES = 8 * 1024
BATCHES_IN_FLIGHT_PER_WORKER = 3
GITLINKS_LISTED = 10


@dataclass(frozen=True)
class HistoryOptions:
    """Which part of the history to scan and how much provenance to report."""

    branch: str | None = None
    since: str | None = None
    all_commits: bool = False


@dataclass(frozen=True)
class BlobBatch:
    """Blob ids handed to one worker task, with their total size (estimated when unknown)."""

    oids: tuple[str, ...]
    size: int


@dataclass
class BlobOutcome:
    """What scanning some blobs produced: matches per blob id and counts of what was skipped."""

    matches: list[tuple[str, list[Match]]] = field(default_factory=list)
    blobs: int = 0
    bytes: int = 0
    binary: int = 0
    oversize: int = 0
    missing: int = 0

    def add(self, other: BlobOutcome) -> None:
        self.matches.extend(other.matches)
        self.blobs += other.blobs
        self.bytes += other.bytes
        self.binary += other.binary
        self.oversize += other.oversize
        self.missing += other.missing


def scan_history(root: Path, settings: ScanSettings, options: HistoryOptions = HistoryOptions(),
                 progress: ProgressCallback | None = None) -> ScanResult:
    """Scan the blobs of the selected history and report each finding with its introducing commit."""
    started = time.monotonic()
    repository = open_repository(root)
    revisions = history_revisions(repository, options)

    with ProvenanceLog(repository.git_dir, revisions) as history_log:
        enumeration = BlobEnumeration(repository, revisions, settings.max_file_size)
        outcome = scan_blobs(enumeration.batches(), repository.git_dir, settings, progress)
        outcome.oversize += enumeration.oversize
        index = history_log.index({oid for oid, _ in outcome.matches})

    findings, unattributed = attribute(outcome.matches, index, settings, options)
    notices = history_notices(repository, index, outcome, unattributed, settings.max_file_size)
    return ScanResult(
        findings=tuple(findings),
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

    def batches(self) -> Iterator[BlobBatch]:
        sized = self.all_blobs() if self.revisions == ["--all"] else self.reachable_blobs()
        yield from group_batches(sized)

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
        for line in self.stream("rev-list", "--objects", "--missing=allow-any", "--filter=object:type=blob",
                                *self.revisions, "--"):
            oid, separator, _ = line.partition(b" ")
            if separator:
                yield oid.decode("ascii"), ESTIMATED_BLOB_BYTES

    def stream(self, *arguments: str) -> Iterator[bytes]:
        command = git_command(self.repository.git_dir, *arguments, pack_windows=True)
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   bufsize=1024 * 1024, env=git_environment())
        assert process.stdout is not None and process.stderr is not None
        try:
            for line in process.stdout:
                yield line.rstrip(b"\n")
        finally:
            process.stdout.close()
            stderr = process.stderr.read()
            process.stderr.close()
            if process.wait() != 0:
                raise GitError(f"git {arguments[0]} failed in {self.repository.git_dir}: {first_line(stderr)}")


def group_batches(sized: Iterable[tuple[str, int]]) -> Iterator[BlobBatch]:
    """Group ids into tasks of about BATCH_BYTES or BATCH_BLOBS, whichever comes first."""
    oids: list[str] = []
    total = 0
    for oid, size in sized:
        oids.append(oid)
        total += size
        if total >= BATCH_BYTES or len(oids) >= BATCH_BLOBS:
            yield BlobBatch(tuple(oids), total)
            oids, total = [], 0
    if oids:
        yield BlobBatch(tuple(oids), total)


def scan_blob_batch(matcher: Matcher, reader: BlobReader, oids: Sequence[str], max_size: int) -> BlobOutcome:
    outcome = BlobOutcome()
    for record in reader.read(oids, max_size):
        if record.content is None:
            if record.size < 0:
                outcome.missing += 1
            else:
                outcome.oversize += 1
            continue
        try:
            data = text_buffer(record.content)
        except BinaryContent:
            outcome.binary += 1
            continue
        outcome.blobs += 1
        outcome.bytes += record.size
        matches = matcher.scan(data)
        if matches:
            outcome.matches.append((record.oid, matches))
    return outcome


def scan_blobs(batches: Iterator[BlobBatch], git_dir: str, settings: ScanSettings,
               progress: ProgressCallback | None) -> BlobOutcome:
    """Scan in this process when the history is small, else in a pool of worker processes."""
    matcher = settings.matcher()
    head: list[BlobBatch] = []
    head_size = 0
    for batch in batches:
        head.append(batch)
        head_size += batch.size
        if head_size >= PARALLEL_THRESHOLD_BYTES and settings.workers > 1:
            return scan_in_workers(itertools.chain(head, batches), matcher, git_dir, settings, progress)

    outcome = BlobOutcome()
    with BlobReader(git_dir) as reader:
        for batch in head:
            outcome.add(scan_blob_batch(matcher, reader, batch.oids, settings.max_file_size))
    if progress:
        progress(head_size, head_size)
    return outcome


# The matcher of a worker process, inherited from the parent by fork, and its blob reader.
_worker_matcher: Matcher | None = None
_worker_readers: dict[str, BlobReader] = {}


def _scan_batch_in_worker(oids: Sequence[str], git_dir: str, max_size: int) -> BlobOutcome:
    assert _worker_matcher is not None, "worker started without a matcher"
    reader = _worker_readers.get(git_dir)
    if reader is None:
        reader = _worker_readers[git_dir] = BlobReader(git_dir)
    return scan_blob_batch(_worker_matcher, reader, oids, max_size)


def scan_in_workers(batches: Iterator[BlobBatch], matcher: Matcher, git_dir: str, settings: ScanSettings,
                    progress: ProgressCallback | None) -> BlobOutcome:
    global _worker_matcher
    # Fork shares the compiled database with the workers; each worker starts its own cat-file.
    _worker_matcher = matcher
    _worker_readers.clear()
    limit = settings.workers * BATCHES_IN_FLIGHT_PER_WORKER
    outcome = BlobOutcome()
    enumerated = done = 0
    pending: dict[Future[BlobOutcome], int] = {}
    with ProcessPoolExecutor(max_workers=settings.workers, mp_context=multiprocessing.get_context("fork")) as pool:
        for batch in itertools.chain(batches, [None]):
            if batch is not None:
                pending[pool.submit(_scan_batch_in_worker, batch.oids, git_dir, settings.max_file_size)] = batch.size
                enumerated += batch.size
            while pending and (len(pending) >= limit or batch is None):
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    outcome.add(future.result())
                    done += pending.pop(future)
                if progress:
                    progress(done, enumerated)
    return outcome


def attribute(found: list[tuple[str, list[Match]]], index: LogIndex, settings: ScanSettings,
              options: HistoryOptions) -> tuple[list[Finding], int]:
    """Turn matches per blob into findings at the commit that first introduced each blob.

    Returns the findings and the number of blobs with matches that no scanned commit adds
    (objects that no ref reaches, such as dropped stashes or blobs of unreachable commits).
    """
    findings: list[Finding] = []
    unattributed = 0
    for oid, matches in found:
        introductions = index.introductions.get(oid)
        if not introductions:
            unattributed += 1
            continue
        provenance = earliest_provenance(introductions, options.all_commits)
        if settings.config.excludes.excludes(provenance.path):
            continue
        findings.extend(to_findings(settings, matches, provenance))
    findings.sort(key=lambda finding: (finding.path, finding.provenance.date or "", finding.line, finding.column,
                                       finding.rule_id))
    return findings, unattributed


def earliest_provenance(introductions: list[Introduction], all_commits: bool) -> Provenance:
    first = introductions[-1]
    commits = tuple(dict.fromkeys(item.commit for item in reversed(introductions))) if all_commits else ()
    return Provenance(path=first.path, commit=first.commit, author=first.author, email=first.email,
                      date=first.date, commits=commits)


def history_notices(repository: Repository, index: LogIndex, outcome: BlobOutcome, unattributed: int,
                    max_size: int) -> list[str]:
    notices = []
    if repository.is_shallow:
        notices.append("history is shallow: commits before the shallow boundary are not in this clone and were "
                       "not scanned; fetch with --unshallow to scan them")
    if index.gitlinks:
        names = sorted(index.gitlinks)
        listed = ", ".join(names[:GITLINKS_LISTED]) + (f" and {len(names) - GITLINKS_LISTED} more"
                                                        if len(names) > GITLINKS_LISTED else "")
        notices.append(f"submodules are not scanned: {listed}")
    if outcome.oversize:
        notices.append(f"skipped {outcome.oversize} blob(s) larger than the size limit ({format_size(max_size)})")
    if outcome.binary:
        notices.append(f"skipped {outcome.binary} binary blob(s)")
    if outcome.missing:
        notices.append(f"skipped {outcome.missing} blob(s) missing from the repository")
    if unattributed:
        notices.append(f"dropped findings in {unattributed} blob(s) that no scanned commit adds "
                       "(objects that no ref reaches)")
    return notices
