"""The commits that introduced each blob into the history, read from `git log --raw`.

The log lists, for every commit, the blob ids that its diff against its parents adds. With
`-c`, a merge commit lists the paths whose content differs from every parent, so content that
only a conflict resolution adds is attributed to the merge commit. The log runs into a
temporary file while blobs are scanned. Afterwards only the few blobs that contain findings
are looked up in it, in blocks of bounded size.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from leakhunt.errors import GitError
from leakhunt.inputs.git import first_line, git_command, git_environment

HEADER_MARK = b"\x01"
LOG_FORMAT = "%x01%H%x00%an%x00%ae%x00%aI"
GITLINK_MODE = b"160000"
BLOCK_BYTES = 8 * 1024 * 1024
# Up to this many wanted ids, blocks without any of them are skipped by a substring search.
FAST_SKIP_IDS = 64


@dataclass(frozen=True)
class Introduction:
    """A commit whose diff adds a blob at a path, with the commit's author and author date."""

    commit: str
    author: str
    email: str
    date: str
    path: str


@dataclass
class LogIndex:
    """Result of one pass over the log: introductions of the wanted blobs, and gitlink paths.

    Introductions of each blob are in log order, newest first, so the last one is where the
    blob first entered the history.
    """

    introductions: dict[str, list[Introduction]] = field(default_factory=dict)
    gitlinks: set[str] = field(default_factory=set)
    commits: int = 0


class ProvenanceLog:
    """A `git log --raw` of the scanned revisions, written to a temporary file while it runs."""

    def __init__(self, git_dir: str, revisions: Sequence[str]) -> None:
        self.file = tempfile.TemporaryFile(prefix="leakhunt-log-")
        self.errors = tempfile.TemporaryFile(prefix="leakhunt-log-errors-")
        command = git_command(
            git_dir, "log", "--raw", "-c", "--root", "--no-renames", "--no-abbrev", "--date-order", "-z",
            "--no-color", "--no-ext-diff", f"--format={LOG_FORMAT}", *revisions, "--",
            pack_windows=True,
        )
        self.process = subprocess.Popen(command, stdout=self.file, stderr=self.errors, env=git_environment())

    def index(self, wanted: set[str]) -> LogIndex:
        """Wait for the log and look up the wanted blob ids and every gitlink in it."""
        self.wait()
        self.file.seek(0)
        wanted_bytes = {oid.encode("ascii") for oid in wanted}
        result = LogIndex()
        for block in read_blocks(self.file):
            result.commits += block.count(HEADER_MARK)
            if needs_parsing(block, wanted_bytes):
                parse_block(block, wanted_bytes, result)
        return result

    def introduced_blobs(self) -> list[str]:
        """Wait for the log and return every blob id that a logged commit adds, each once.

        Unlike `rev-list --objects A --not B`, this keeps a blob that a commit of the range
        adds at a new path although a commit before the range already held it.
        """
        self.wait()
        self.file.seek(0)
        introduced: dict[bytes, None] = {}
        for block in read_blocks(self.file):
            for entry in block.split(b"\x00"):
                entry = entry.lstrip(b"\n")
                if entry.startswith(b":"):
                    parents = len(entry) - len(entry.lstrip(b":"))
                    fields = entry[parents:].split(b" ")
                    if fields[parents] != GITLINK_MODE and fields[-2].strip(b"0"):
                        introduced[fields[-2]] = None
        return [oid.decode("ascii") for oid in introduced]

    def wait(self) -> None:
        """Wait for the log; raise `GitError` when git failed."""
        if self.process.wait() != 0:
            self.errors.seek(0)
            raise GitError(f"git log failed: {first_line(self.errors.read(64 * 1024))}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.file.close()
        self.errors.close()

    def __enter__(self) -> ProvenanceLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def read_blocks(handle: BinaryIO) -> Iterator[bytes]:
    """Yield the log in blocks that each start at a commit header, so no record is split."""
    carry = b""
    while True:
        chunk = handle.read(BLOCK_BYTES)
        if not chunk:
            if carry:
                yield carry
            return
        data = carry + chunk
        cut = data.rfind(HEADER_MARK)
        if cut <= 0:
            carry = data
            continue
        carry = data[cut:]
        yield data[:cut]


def needs_parsing(block: bytes, wanted: set[bytes]) -> bool:
    if GITLINK_MODE in block:
        return True
    if not wanted:
        return False
    if len(wanted) > FAST_SKIP_IDS:
        return True
    return any(oid in block for oid in wanted)


def parse_block(block: bytes, wanted: set[bytes], result: LogIndex) -> None:
    """Record introductions of wanted blobs and gitlink paths from one block of the log."""
    tokens = block.split(b"\x00")
    header: tuple[bytes, ...] = ()
    index = 0
    while index < len(tokens):
        token = tokens[index].lstrip(b"\n")
        if token.startswith(HEADER_MARK):
            header = (token[1:], *tokens[index + 1 : index + 4])
            index += 4
            continue
        if token.startswith(b":") and index + 1 < len(tokens):
            record_entry(token, tokens[index + 1], header, wanted, result)
            index += 2
            continue
        index += 1


def record_entry(entry: bytes, path: bytes, header: tuple[bytes, ...], wanted: set[bytes], result: LogIndex) -> None:
    """Handle one raw diff entry, `:<modes> <old ids> <new id> <status>` followed by its path."""
    parents = len(entry) - len(entry.lstrip(b":"))
    fields = entry[parents:].split(b" ")
    new_mode, new_oid = fields[parents], fields[-2]
    name = os.fsdecode(path)
    if new_mode == GITLINK_MODE:
        result.gitlinks.add(name)
        return
    if new_oid not in wanted or len(header) < 4:
        return
    commit, author, email, date = (part.decode("utf-8", "replace") for part in header[:4])
    introduction = Introduction(commit=commit, author=author, email=email, date=date, path=name)
    result.introductions.setdefault(new_oid.decode("ascii"), []).append(introduction)
