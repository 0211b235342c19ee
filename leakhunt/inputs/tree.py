"""Enumerate the regular files of a directory tree without following symbolic links."""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from operator import attrgetter

from leakhunt.inputs.content import BINARY_PROBE_BYTES, BinaryContent, is_binary, text_buffer

SKIPPED_DIRECTORIES = frozenset({b".git"})
OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
# A file that grows while it is read is read on in chunks of this size.
GROWTH_CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class FileEntry:
    """A regular file found by the walk: its path as bytes and its size in bytes."""

    path: bytes
    size: int


@dataclass(frozen=True)
class Skipped:
    """An input that was not scanned, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class PathExcludes:
    """Glob patterns over paths relative to the scan root, with `/` as separator.

    A pattern matches a path, or any folder above it, with `fnmatch` rules, where `*` also
    crosses `/`: `tests/*` and `tests` both exclude everything under `tests/`.
    """

    patterns: tuple[str, ...] = ()

    def excludes(self, relative: str) -> bool:
        if not self.patterns:
            return False
        parts = relative.split("/")
        prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
        return any(self.matches(prefix) for prefix in prefixes)

    def matches(self, relative: str) -> bool:
        """Return True when `relative` itself, not a folder above it, matches a pattern.

        A walk that checks each folder before it descends needs only this test.
        """
        return any(fnmatch.fnmatchcase(relative, pattern) for pattern in self.patterns)


def display_path(path: bytes) -> str:
    """Return a path for reports; bytes that are not UTF-8 become surrogate escapes."""
    return os.fsdecode(path)


def relative_path(path: bytes, root: bytes) -> str:
    """Return `path` relative to the scan root, with `/` as separator.

    Paths that the walk builds are `root`, a separator and names, so cutting off that prefix
    gives the same result as `os.path.relpath` at a fraction of its cost.
    """
    if path == root:
        return display_path(os.path.basename(path))
    prefix = root if root.endswith(b"/") else root + b"/"
    if os.sep == "/" and path.startswith(prefix):
        return display_path(path[len(prefix) :])
    return display_path(os.path.relpath(path, root)).replace(os.sep, "/")


def walk(root: bytes, excludes: PathExcludes, max_size: int) -> Iterator[FileEntry | Skipped]:
    """Yield every regular file under `root`, and a `Skipped` for what cannot or must not be read."""
    try:
        root_stat = os.stat(root)
    except OSError as error:
        yield Skipped(display_path(root), describe_os_error(error))
        return
    if stat.S_ISREG(root_stat.st_mode):
        yield from sized_entry(root, root_stat.st_size, display_path(root), max_size)
        return
    if not stat.S_ISDIR(root_stat.st_mode):
        yield Skipped(display_path(root), "not a regular file or folder")
        return
    yield from walk_folder(root, excludes, max_size)


def walk_folder(root: bytes, excludes: PathExcludes, max_size: int) -> Iterator[FileEntry | Skipped]:
    """Walk the folder `root` depth first, each folder's entries sorted by name.

    A stack of listings replaces recursion, so an entry is yielded once instead of through
    one generator per folder level. Paths relative to the root are built by appending names,
    and decoded only to be matched against exclude patterns or reported.
    """
    listing = list_folder(root)
    if isinstance(listing, Skipped):
        yield Skipped(display_path(os.path.basename(root)), listing.reason)
        return
    stack: list[tuple[Iterator[os.DirEntry[bytes]], bytes]] = [(iter(listing), b"")]
    while stack:
        entries, prefix = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue

        relative = prefix + entry.name
        if excludes.patterns and excludes.matches(display_path(relative)):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                if entry.name in SKIPPED_DIRECTORIES:
                    continue
                listing = list_folder(entry.path)
                if isinstance(listing, Skipped):
                    yield Skipped(display_path(relative), listing.reason)
                else:
                    stack.append((iter(listing), relative + b"/"))
                continue
            if entry.is_file(follow_symlinks=False):
                size = entry.stat(follow_symlinks=False).st_size
            elif entry.is_symlink():
                continue
            else:
                yield Skipped(display_path(relative), "not a regular file")
                continue
        except OSError as error:
            yield Skipped(display_path(relative), describe_os_error(error))
            continue

        if 0 < size <= max_size:
            yield FileEntry(entry.path, size)
        else:
            yield from sized_entry(entry.path, size, display_path(relative), max_size)


def list_folder(folder: bytes) -> list[os.DirEntry[bytes]] | Skipped:
    """Return the entries of `folder` sorted by name, or a `Skipped` (without a path) saying why not."""
    try:
        with os.scandir(folder) as iterator:
            return sorted(iterator, key=attrgetter("name"))
    except OSError as error:
        return Skipped("", describe_os_error(error))


def sized_entry(path: bytes, size: int, relative: str, max_size: int) -> Iterator[FileEntry | Skipped]:
    if size > max_size:
        yield Skipped(relative, f"larger than the size limit ({format_size(size)} > {format_size(max_size)})")
    elif size > 0:
        yield FileEntry(path, size)


def read_regular_file(path: bytes, max_size: int) -> bytes:
    """Read a text file for the matcher, never blocking on a FIFO or device.

    Raises `OSError` when it cannot be opened, is no longer a regular file or has grown past
    `max_size`, and `BinaryContent` when it holds binary data.
    """
    return text_buffer(read_checked(path, max_size, probe_binary=True))


def read_file_bytes(path: bytes, max_size: int) -> bytes:
    """Read the raw bytes of a file that must still be a regular file, such as an archive.

    Raises `OSError` when it cannot be opened, is no longer a regular file or has grown past `max_size`.
    """
    return read_checked(path, max_size, probe_binary=False)


def read_checked(path: bytes, max_size: int, probe_binary: bool) -> bytes:
    descriptor = os.open(path, OPEN_FLAGS)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return read_descriptor(descriptor, info.st_size, max_size, probe_binary)
    finally:
        os.close(descriptor)


def read_descriptor(descriptor: int, size: int, max_size: int, probe_binary: bool = True) -> bytes:
    """Read a regular file of `size` bytes, reading only its first bytes when they are binary.

    One `pread` of `size + 1` bytes reads the whole file and shows whether it grew since
    `fstat`. A file that grew is read on to its end or to `max_size`.
    """
    if size > max_size:
        raise OSError(errno.EFBIG, "grew past the size limit while being read")
    if probe_binary and size > BINARY_PROBE_BYTES and is_binary(os.pread(descriptor, BINARY_PROBE_BYTES, 0)):
        raise BinaryContent
    data = os.pread(descriptor, size + 1, 0)
    if len(data) > size:
        data = read_to_end(descriptor, data, max_size)
    if len(data) > max_size:
        raise OSError(errno.EFBIG, "grew past the size limit while being read")
    return data


def read_to_end(descriptor: int, start: bytes, max_size: int) -> bytes:
    """Append what follows `start` in the file, up to one byte past `max_size`."""
    parts = [start]
    total = len(start)
    while total <= max_size:
        chunk = os.pread(descriptor, min(GROWTH_CHUNK_BYTES, max_size + 1 - total), total)
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)


def describe_os_error(error: OSError) -> str:
    return error.strerror or str(error)


def format_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MiB"
    if size >= 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size} B"

