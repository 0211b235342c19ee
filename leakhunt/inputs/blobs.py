"""Scan git blobs by id: read through `git cat-file --batch`, match, and count what was skipped.

Small inputs are scanned in the calling process. Larger ones go to a pool of forked worker
processes. Each worker starts its own `cat-file`, so blob contents never pass through the
parent, which only hands out ids and collects the few matches.
"""

from __future__ import annotations

import itertools
import multiprocessing
import multiprocessing.util
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field

from leakhunt.decoding import MatchGroup, scan_text
from leakhunt.findings import Provenance
from leakhunt.inputs.archives import archive_kind, scan_container_data
from leakhunt.inputs.content import BinaryContent, text_buffer
from leakhunt.inputs.git import BlobReader
from leakhunt.inputs.notebook import looks_like_notebook, scan_notebook
from leakhunt.inputs.tree import Skipped
from leakhunt.matcher import Match, Matcher
from leakhunt.scan import PARALLEL_THRESHOLD_BYTES, BatchOutcome, ProgressCallback, ScanSettings

BATCH_BYTES = 8 * 1024 * 1024
BATCH_BLOBS = 1024
BATCHES_IN_FLIGHT_PER_WORKER = 3

MISSING = "missing from the repository"
BINARY = "binary"
OVERSIZE = "larger than the size limit"

# Blobs are matched before their paths are known, so callers attach the real provenance.
UNNAMED_BLOB = Provenance(path="")


@dataclass(frozen=True)
class BlobBatch:
    """Blob ids handed to one worker task, with their total size (estimated when unknown)."""

    oids: tuple[str, ...]
    size: int


@dataclass(frozen=True)
class BlobMatches:
    """Matches in one blob, with the parts of their provenance that the blob itself gives.

    `provenance` carries the notebook cell and the encodings undone. Its path is empty for
    matches in the blob's own text, which callers name, and is the member's whole path for
    matches inside an archive blob, which is scanned once its path is known.
    """

    oid: str
    matches: list[Match]
    provenance: Provenance = UNNAMED_BLOB


@dataclass
class BlobOutcome:
    """Result of scanning some blobs: matches per blob id, and the skipped blobs with the reason.

    `archives` lists the binary blobs that are archives, with their sizes: the first pass
    leaves them for `scan_archive_blobs`, because member paths start with the blob's path.
    `skipped_members` lists the archive members that were not scanned, with the reason.
    """

    matches: list[BlobMatches] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    archives: list[tuple[str, int]] = field(default_factory=list)
    skipped_members: list[Skipped] = field(default_factory=list)
    blobs: int = 0
    bytes: int = 0

    def add(self, other: BlobOutcome) -> None:
        self.matches.extend(other.matches)
        self.skipped.extend(other.skipped)
        self.archives.extend(other.archives)
        self.skipped_members.extend(other.skipped_members)
        self.blobs += other.blobs
        self.bytes += other.bytes

    def count(self, reason: str) -> int:
        return sum(1 for _, why in self.skipped if why == reason)


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
            outcome.skipped.append((record.oid, MISSING if record.size < 0 else OVERSIZE))
            continue
        try:
            data = text_buffer(record.content)
        except BinaryContent:
            if archive_kind(record.content) is not None:
                outcome.archives.append((record.oid, record.size))
            else:
                outcome.skipped.append((record.oid, BINARY))
            continue
        outcome.blobs += 1
        outcome.bytes += record.size
        for provenance, matches in scan_unnamed_text(matcher, data):
            outcome.matches.append(BlobMatches(record.oid, matches, provenance))
    return outcome


def scan_unnamed_text(matcher: Matcher, data: bytes) -> list[MatchGroup]:
    """Scan a text blob whose path is not known yet, recognizing a notebook by its JSON keys."""
    if looks_like_notebook(data):
        return scan_notebook(matcher, data, UNNAMED_BLOB)
    return scan_text(matcher, data, UNNAMED_BLOB)


def scan_archive_blobs(git_dir: str, settings: ScanSettings, named: Sequence[tuple[str, str]]) -> BlobOutcome:
    """Scan archive blobs, given as (blob id, path) pairs, as a tree scan scans archive files."""
    outcome = BlobOutcome()
    if not named:
        return outcome

    matcher = settings.matcher()
    with BlobReader(git_dir) as reader:
        for (oid, path), record in zip(named, reader.read([oid for oid, _ in named], settings.max_file_size)):
            if record.content is None:
                continue
            contained = BatchOutcome()
            scan_container_data(matcher, record.content, path, settings.max_file_size, contained)
            outcome.matches.extend(BlobMatches(oid, matches, provenance) for provenance, matches in contained.matches)
            outcome.skipped_members.extend(contained.skipped)
            # As in a tree scan, each scanned member counts as a file, with its own size.
            outcome.blobs += contained.files
            outcome.bytes += contained.bytes
    return outcome


def scan_blobs(batches: Iterator[BlobBatch], git_dir: str, settings: ScanSettings,
               progress: ProgressCallback | None = None) -> BlobOutcome:
    """Scan in this process when the input is small, else in a pool of worker processes."""
    matcher = settings.matcher()
    head: list[BlobBatch] = []
    head_size = 0
    for batch in batches:
        head.append(batch)
        head_size += batch.size
        if head_size >= PARALLEL_THRESHOLD_BYTES and settings.workers > 1:
            return scan_in_workers(itertools.chain(head, batches), matcher, git_dir, settings, progress)

    outcome = BlobOutcome()
    if head:
        with BlobReader(git_dir) as reader:
            for batch in head:
                outcome.add(scan_blob_batch(matcher, reader, batch.oids, settings.max_file_size))
    if progress:
        progress(head_size, head_size)
    return outcome


# The matcher of a worker process, inherited from the parent by fork, and its blob readers.
_worker_matcher: Matcher | None = None
_worker_readers: dict[str, BlobReader] = {}


def _scan_batch_in_worker(oids: Sequence[str], git_dir: str, max_size: int) -> BlobOutcome:
    assert _worker_matcher is not None, "worker started without a matcher"
    reader = _worker_readers.get(git_dir)
    if reader is None:
        reader = _worker_readers[git_dir] = BlobReader(git_dir)
        # Runs when the worker exits, so the worker waits for its cat-file instead of orphaning it.
        multiprocessing.util.Finalize(reader, reader.close, exitpriority=10)
    return scan_blob_batch(_worker_matcher, reader, oids, max_size)


def scan_in_workers(batches: Iterator[BlobBatch], matcher: Matcher, git_dir: str, settings: ScanSettings,
                    progress: ProgressCallback | None) -> BlobOutcome:
    global _worker_matcher
    # Fork shares the compiled database with the workers, and each worker starts its own cat-file.
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
