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

from leakhunt.decoding import scan_text
from leakhunt.findings import Provenance
from leakhunt.inputs.content import BinaryContent, text_buffer
from leakhunt.inputs.git import BlobReader
from leakhunt.matcher import Match, Matcher
from leakhunt.scan import PARALLEL_THRESHOLD_BYTES, ProgressCallback, ScanSettings

BATCH_BYTES = 8 * 1024 * 1024
BATCH_BLOBS = 1024
BATCHES_IN_FLIGHT_PER_WORKER = 3

MISSING = "missing from the repository"
BINARY = "binary"
OVERSIZE = "larger than the size limit"

# Blobs are matched before their paths are known; callers attach the real provenance.
UNNAMED_BLOB = Provenance(path="")


@dataclass(frozen=True)
class BlobBatch:
    """Blob ids handed to one worker task, with their total size (estimated when unknown)."""

    oids: tuple[str, ...]
    size: int


@dataclass(frozen=True)
class BlobMatches:
    """Matches in one blob. `decoded` names the encodings undone to reach them, as in `Provenance`."""

    oid: str
    matches: list[Match]
    decoded: str | None = None


@dataclass
class BlobOutcome:
    """Result of scanning some blobs: matches per blob id, and the skipped blobs with the reason."""

    matches: list[BlobMatches] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    blobs: int = 0
    bytes: int = 0

    def add(self, other: BlobOutcome) -> None:
        self.matches.extend(other.matches)
        self.skipped.extend(other.skipped)
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
            outcome.skipped.append((record.oid, BINARY))
            continue
        outcome.blobs += 1
        outcome.bytes += record.size
        # NOTE: a blob's path is known only after matching. So history and staged scans match
        # archives and notebooks as plain text: no archive member is opened, no cell is named.
        for provenance, matches in scan_text(matcher, data, UNNAMED_BLOB):
            outcome.matches.append(BlobMatches(record.oid, matches, provenance.decoded))
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
