"""Run the matcher over an input and turn its matches into findings.

Files are read and matched in worker processes, one batch of files per task, so the parent
only walks the tree and collects the few matches. The parent hands out batches while it
walks, so the walk is not a phase before the scan. Small scans stay in one process, because
starting workers costs more than they save there.
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from leakhunt.config import Config
from leakhunt.decoding import MatchGroup, scan_text
from leakhunt.filters import SecretFilter
from leakhunt.findings import Finding, Provenance, fingerprint
from leakhunt.inputs.containers import is_container, scan_container
from leakhunt.inputs.content import BinaryContent
from leakhunt.inputs.tree import FileEntry, Skipped, read_regular_file, relative_path, walk
from leakhunt.matcher import Match, Matcher, default_cache_dir
from leakhunt.rules import CONFIDENCES, Rule, Ruleset, load_builtin

if TYPE_CHECKING:
    from concurrent.futures import Future

log = logging.getLogger(__name__)

# Below this many bytes a scan runs in the calling process.
PARALLEL_THRESHOLD_BYTES = 4 * 1024 * 1024
BATCH_BYTES = 4 * 1024 * 1024
BATCH_FILES = 256

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class ScanSettings:
    """Everything a scan needs besides its target."""

    ruleset: Ruleset
    secret_filter: SecretFilter
    config: Config = field(default_factory=Config)
    max_file_size: int = 64 * 1024 * 1024
    jobs: int = 0
    cache_dir: Path | None = field(default_factory=default_cache_dir)
    min_confidence: str = "medium"

    def matcher(self) -> Matcher:
        return Matcher(self.ruleset, self.secret_filter, self.cache_dir)

    @property
    def workers(self) -> int:
        return self.jobs or os.cpu_count() or 1


@dataclass(frozen=True)
class ScanResult:
    """Findings of one scan with what was skipped and how much was read."""

    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...] = ()
    files_scanned: int = 0
    bytes_scanned: int = 0
    seconds: float = 0.0
    notices: tuple[str, ...] = ()


def build_settings(config: Config, *, jobs: int = 0, max_file_size_mb: float | None = None,
                   min_confidence: str = "medium", cache_dir: Path | None = None) -> ScanSettings:
    """Combine the built-in rules with a project's configuration."""
    cache_dir = cache_dir or default_cache_dir()
    ruleset = config.select_rules(load_builtin(cache_dir))
    size_mb = max_file_size_mb if max_file_size_mb is not None else config.max_file_size_mb
    return ScanSettings(
        ruleset=ruleset,
        secret_filter=SecretFilter(config.allowlist),
        config=config,
        max_file_size=int(size_mb * 1024 * 1024),
        jobs=jobs,
        cache_dir=cache_dir,
        min_confidence=min_confidence,
    )


def make_finding(rule: Rule, match: Match, provenance: Provenance) -> Finding:
    return Finding(
        rule_id=rule.id,
        rule_name=rule.name,
        confidence=match.confidence,
        provenance=provenance,
        line=match.line,
        column=match.column,
        secret=match.secret,
        fingerprint=fingerprint(rule.id, provenance.path, match.secret),
    )


def meets_confidence(finding: Finding, minimum: str) -> bool:
    return CONFIDENCES.index(finding.confidence) >= CONFIDENCES.index(minimum)


def scan_tree(root: Path, settings: ScanSettings, progress: ProgressCallback | None = None) -> ScanResult:
    """Scan every regular file under `root` (or `root` itself when it is a file)."""
    started = time.monotonic()
    root_bytes = os.fsencode(root)
    if os.path.islink(root_bytes) and os.path.isfile(root_bytes):
        # A file named as the target is read through its link, as a folder target already is;
        # findings name the file the link points to. Links inside a folder are never followed.
        root_bytes = os.path.realpath(root_bytes)
    skipped: list[Skipped] = []
    matcher = settings.matcher()
    files = WalkedFiles(walk(root_bytes, settings.config.excludes, settings.max_file_size), skipped)

    # Workers start only once the walk has found enough bytes to repay them. Then the walk
    # goes on while they scan the batches it has handed out.
    head = files.take(PARALLEL_THRESHOLD_BYTES)
    if files.finished or settings.workers == 1:
        outcomes = scan_in_process(matcher, itertools.chain(head, files), files, root_bytes, settings, progress)
    else:
        outcomes = scan_in_workers(matcher, itertools.chain(head, files), files, root_bytes, settings, progress)

    findings: list[Finding] = []
    scanned_files = 0
    for outcome in outcomes:
        scanned_files += outcome.files
        skipped.extend(outcome.skipped)
        for provenance, matches in outcome.matches:
            findings.extend(to_findings(settings, matches, provenance))
    findings.sort(key=lambda finding: (finding.path, finding.provenance.cell or 0, finding.provenance.cell_output or 0,
                                       finding.line, finding.column, finding.rule_id))
    return ScanResult(
        findings=tuple(findings),
        skipped=tuple(sorted(skipped, key=lambda item: item.path)),
        files_scanned=scanned_files,
        bytes_scanned=sum(outcome.bytes for outcome in outcomes),
        seconds=time.monotonic() - started,
    )


def to_findings(settings: ScanSettings, matches: Iterable[Match], provenance: Provenance) -> list[Finding]:
    by_id = settings.ruleset.by_id
    findings = (make_finding(by_id[match.rule_id], match, provenance) for match in matches)
    return [finding for finding in findings if meets_confidence(finding, settings.min_confidence)]


@dataclass
class BatchOutcome:
    """The result of one batch of files: matches per provenance, skipped files and bytes read."""

    matches: list[MatchGroup] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: int = 0
    bytes: int = 0


def scan_batch(matcher: Matcher, entries: Sequence[FileEntry], root: bytes, max_size: int) -> BatchOutcome:
    outcome = BatchOutcome()
    for entry in entries:
        relative = relative_path(entry.path, root)
        if is_container(entry.path):
            scan_container(matcher, entry.path, relative, max_size, outcome)
            continue
        try:
            data = read_regular_file(entry.path, max_size)
        except BinaryContent:
            outcome.skipped.append(Skipped(relative, "binary"))
            continue
        except OSError as error:
            outcome.skipped.append(Skipped(relative, error.strerror or str(error)))
            continue
        outcome.files += 1
        outcome.bytes += entry.size
        outcome.matches.extend(scan_text(matcher, data, Provenance(relative)))
    return outcome


# The matcher of a worker process, inherited from the parent by fork.
_worker_matcher: Matcher | None = None


def _set_worker_matcher(matcher: Matcher) -> None:
    global _worker_matcher
    _worker_matcher = matcher


def _scan_batch_in_worker(entries: Sequence[FileEntry], root: bytes, max_size: int) -> BatchOutcome:
    assert _worker_matcher is not None, "worker started without a matcher"
    return scan_batch(_worker_matcher, entries, root, max_size)


class WalkedFiles:
    """The files of a walk, in walk order; what the walk skips goes to `skipped`."""

    def __init__(self, items: Iterator[FileEntry | Skipped], skipped: list[Skipped]) -> None:
        self.items = items
        self.skipped = skipped
        self.finished = False
        self.total = 0

    def __iter__(self) -> Iterator[FileEntry]:
        for item in self.items:
            if isinstance(item, FileEntry):
                self.total += item.size
                yield item
            else:
                self.skipped.append(item)
        self.finished = True

    def take(self, size: int) -> list[FileEntry]:
        """Return the next files, stopping once they add up to `size` bytes or the walk ends."""
        taken = []
        taken_size = 0
        for entry in self:
            taken.append(entry)
            taken_size += entry.size
            if taken_size >= size:
                break
        return taken


def batches(entries: Iterable[FileEntry]) -> Iterator[list[FileEntry]]:
    """Group entries into tasks of about BATCH_BYTES or BATCH_FILES, whichever comes first."""
    current: list[FileEntry] = []
    size = 0
    for entry in entries:
        current.append(entry)
        size += entry.size
        if size >= BATCH_BYTES or len(current) >= BATCH_FILES:
            yield current
            current, size = [], 0
    if current:
        yield current


def scan_in_process(matcher: Matcher, entries: Iterable[FileEntry], files: WalkedFiles, root: bytes,
                    settings: ScanSettings, progress: ProgressCallback | None) -> list[BatchOutcome]:
    outcomes = []
    done = 0
    for batch in batches(entries):
        outcomes.append(scan_batch(matcher, batch, root, settings.max_file_size))
        done += sum(entry.size for entry in batch)
        if progress:
            progress(done, files.total)
    return outcomes


def scan_in_workers(matcher: Matcher, entries: Iterable[FileEntry], files: WalkedFiles, root: bytes,
                    settings: ScanSettings, progress: ProgressCallback | None) -> list[BatchOutcome]:
    """Scan batches in a pool of forked workers while the walk that yields `entries` goes on."""
    # Imported here because a scan of a few files, as in a pre-commit hook, never needs them.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # Fork shares the compiled database with the workers, so none of them loads or compiles it.
    _set_worker_matcher(matcher)
    context = multiprocessing.get_context("fork")
    outcomes: list[BatchOutcome] = []
    sizes: dict[Future[BatchOutcome], int] = {}
    pending: collections.deque[Future[BatchOutcome]] = collections.deque()
    done = 0

    def collect(future: Future[BatchOutcome]) -> None:
        nonlocal done
        outcomes.append(future.result())
        done += sizes.pop(future)
        if progress:
            progress(done, files.total)

    with ProcessPoolExecutor(max_workers=settings.workers, mp_context=context) as pool:
        for batch in batches(entries):
            future = pool.submit(_scan_batch_in_worker, batch, root, settings.max_file_size)
            sizes[future] = sum(entry.size for entry in batch)
            pending.append(future)
            while pending and pending[0].done():
                collect(pending.popleft())
        for future in as_completed(pending):
            collect(future)
    return outcomes
