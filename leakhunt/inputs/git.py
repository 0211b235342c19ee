"""Git plumbing over plain subprocesses: repository checks, ref resolution and blob reads.

The plumbing follows what GitPython does for `cat-file --batch`: one long-lived process that
prints a header line `<oid> <type> <size>`, then exactly `size` bytes and a newline, per
object. GitPython itself is not imported, because its import took 0.1–0.3 s on a 2-core
machine, which the pre-commit path cannot afford, and no step here needs its object model.
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from leakhunt.errors import GitError

log = logging.getLogger(__name__)

# Reads of whole histories map pack files into memory. Smaller windows keep the resident size
# of each git process near the delta base cache (96 MiB by default) instead of the size of the
# pack. On sympy's 340 MB pack (git 2.39, 2 cores) this cut the peak of `cat-file --batch`
# from 470 MB to 160 MB and cost about 8% more time.
PACK_WINDOW_OPTIONS = ("-c", "core.packedGitWindowSize=4m", "-c", "core.packedGitLimit=32m")
# Linux lets a pipe grow to 1 MiB by default (fs.pipe-max-size), so cat-file can decompress the
# next blobs while the reader scans. With the default 64 KiB pipe the two take turns.
PIPE_BYTES = 1024 * 1024
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
# GIT_NO_LAZY_FETCH (git 2.44 and later) stops a partial clone from fetching a missing blob
# over the network when cat-file is given its id. Older git ignores it, so history scans give
# cat-file only the ids of blobs that the repository has listed as present.
GIT_ENVIRONMENT = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_NO_LAZY_FETCH": "1"}
# Ids written to a `cat-file` process before its output is read, topped up in halves so git
# never waits for the next id. 400 ids of 41 bytes stay far below the 64 KiB pipe buffer, so
# writing never blocks while git waits for a reader.
WRITE_AHEAD_IDS = 400


SKIP_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class BlobRecord:
    """One object that `cat-file --batch` returned.

    `content` is None when the object is missing (then `size` is -1) or larger than the
    size limit of the read (then its bytes were read and dropped, never held whole).
    """

    oid: str
    content: bytes | None
    size: int


def git_environment() -> dict[str, str]:
    return {**os.environ, **GIT_ENVIRONMENT}


def git_command(git_dir: str, *arguments: str, pack_windows: bool = False) -> list[str]:
    options = list(PACK_WINDOW_OPTIONS) if pack_windows else []
    return ["git", *options, "--git-dir", git_dir, *arguments]


def run_git(git_dir: str, *arguments: str, check: bool = True) -> bytes:
    """Run a short git command and return its standard output; failures raise `GitError`."""
    completed = subprocess.run(git_command(git_dir, *arguments), capture_output=True, env=git_environment())
    if check and completed.returncode != 0:
        raise GitError(f"git {arguments[0]} failed: {first_line(completed.stderr)}")
    return completed.stdout


def first_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[0].removeprefix("fatal: ").removeprefix("error: ") if lines else "no error message"


@dataclass(frozen=True)
class Repository:
    """A git repository found from a scan path: its git folder and, unless bare, its top level."""

    git_dir: str
    top_level: Path | None

    @property
    def is_partial_clone(self) -> bool:
        """Return True for a clone made with `--filter`, whose missing blobs a promisor remote holds."""
        return bool(run_git(self.git_dir, "config", "--get", "extensions.partialclone", check=False).strip())

    @property
    def is_shallow(self) -> bool:
        return run_git(self.git_dir, "rev-parse", "--is-shallow-repository").strip() == b"true"

    def resolve_commit(self, revision: str, what: str) -> str:
        """Return the commit id that `revision` names; an unknown name raises `GitError`."""
        if revision.startswith("-"):
            raise GitError(f"invalid {what} {revision!r}: a revision cannot start with '-'")
        output = run_git(self.git_dir, "rev-parse", "--verify", "--quiet", "--end-of-options",
                         f"{revision}^{{commit}}", check=False)
        if not output.strip():
            raise GitError(f"unknown {what} {revision!r} in {self.git_dir}: no such commit, branch or tag")
        return output.strip().decode("ascii")


def open_repository(path: Path) -> Repository:
    """Find the repository that contains `path`; a path outside any repository raises `GitError`."""
    if not path.is_dir():
        raise GitError(f"not a git repository: {path} is not a folder")
    completed = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "--absolute-git-dir", "--is-inside-work-tree"],
        capture_output=True, env=git_environment(),
    )
    lines = completed.stdout.decode("utf-8", "surrogateescape").splitlines()
    if completed.returncode != 0 or len(lines) != 2:
        raise GitError(f"not a git repository: {path} ({first_line(completed.stderr)})")
    if lines[1] != "true":
        return Repository(git_dir=lines[0], top_level=None)
    top_level = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"],
                               capture_output=True, env=git_environment())
    return Repository(git_dir=lines[0], top_level=Path(os.fsdecode(top_level.stdout.rstrip(b"\n"))))


class BlobReader:
    """A long-lived `git cat-file --batch` process that returns object contents by id."""

    def __init__(self, git_dir: str) -> None:
        self.git_dir = git_dir
        self.process = subprocess.Popen(
            git_command(git_dir, "cat-file", "--batch", pack_windows=True),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            bufsize=1024 * 1024, env=git_environment(),
        )
        assert self.process.stdout is not None
        try:
            fcntl.fcntl(self.process.stdout.fileno(), F_SETPIPE_SZ, PIPE_BYTES)
        except OSError as error:
            log.debug("cannot enlarge the cat-file pipe: %s", error)

    def read(self, oids: Sequence[str], max_size: int) -> Iterator[BlobRecord]:
        """Yield each object in order, keeping a bounded number of ids in flight."""
        written = 0
        for index in range(len(oids)):
            if written < len(oids) and written - index <= WRITE_AHEAD_IDS // 2:
                end = min(len(oids), index + WRITE_AHEAD_IDS)
                self.write_ids(oids[written:end])
                written = end
            yield self.read_one(oids[index], max_size)

    def write_ids(self, oids: Sequence[str]) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write("".join(f"{oid}\n" for oid in oids).encode("ascii"))
            self.process.stdin.flush()
        except BrokenPipeError as error:
            raise GitError(f"git cat-file stopped unexpectedly in {self.git_dir}") from error

    def read_one(self, oid: str, max_size: int) -> BlobRecord:
        stdout = self.process.stdout
        assert stdout is not None
        header = stdout.readline()
        if not header:
            raise GitError(f"git cat-file stopped unexpectedly in {self.git_dir}")
        fields = header.split()
        if len(fields) == 2:
            # `<oid> missing` or `<oid> ambiguous`: the object cannot be read from this repository.
            return BlobRecord(oid, None, -1)
        if len(fields) != 3:
            raise GitError(f"git cat-file returned an unexpected header for {oid}: {header[:80]!r}")
        size = int(fields[2])
        if size > max_size:
            self.skip(oid, size + 1)
            return BlobRecord(oid, None, size)
        content = stdout.read(size)
        if len(content) != size or stdout.read(1) != b"\n":
            raise GitError(f"git cat-file stopped in the middle of object {oid}")
        return BlobRecord(oid, content, size)

    def skip(self, oid: str, count: int) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while count > 0:
            chunk = stdout.read(min(count, SKIP_CHUNK_BYTES))
            if not chunk:
                raise GitError(f"git cat-file stopped in the middle of object {oid}")
            count -= len(chunk)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
