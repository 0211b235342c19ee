"""Enumerate the regular files of a directory tree without following symbolic links."""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from leakhunt.inputs.content import text_buffer

SKIPPED_DIRECTORIES = frozenset({b".git"})


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
        return any(fnmatch.fnmatchcase(prefix, pattern) for pattern in self.patterns for prefix in prefixes)


def display_path(path: bytes) -> str:
    """Return a path for reports; bytes that are not UTF-8 become surrogate escapes."""
    return os.fsdecode(path)


def relative_path(path: bytes, root: bytes) -> str:
    if path == root:
        return display_path(os.path.basename(path))
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
    yield from walk_folder(root, root, excludes, max_size)


def walk_folder(folder: bytes, root: bytes, excludes: PathExcludes, max_size: int) -> Iterator[FileEntry | Skipped]:
    try:
        with os.scandir(folder) as iterator:
            entries = sorted(iterator, key=lambda entry: entry.name)
    except OSError as error:
        yield Skipped(relative_path(folder, root), describe_os_error(error))
        return

    for entry in entries:
        relative = relative_path(entry.path, root)
        if excludes.excludes(relative):
            continue
        try:
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIPPED_DIRECTORIES:
                    yield from walk_folder(entry.path, root, excludes, max_size)
                continue
            if not entry.is_file(follow_symlinks=False):
                yield Skipped(relative, "not a regular file")
                continue
            size = entry.stat(follow_symlinks=False).st_size
        except OSError as error:
            yield Skipped(relative, describe_os_error(error))
            continue
        yield from sized_entry(entry.path, size, relative, max_size)


def sized_entry(path: bytes, size: int, relative: str, max_size: int) -> Iterator[FileEntry | Skipped]:
    if size > max_size:
        yield Skipped(relative, f"larger than the size limit ({format_size(size)} > {format_size(max_size)})")
    elif size > 0:
        yield FileEntry(path, size)


def read_regular_file(path: bytes, max_size: int) -> bytes:
    """Read a text file for the matcher, as `read_file_bytes` does.

    Raises `OSError` when it cannot be read, and `BinaryContent` when it holds binary data.
    """
    return text_buffer(read_file_bytes(path, max_size))


def read_file_bytes(path: bytes, max_size: int) -> bytes:
    """Read the raw bytes of a file that must still be a regular file, never blocking on a FIFO or device.

    Raises `OSError` when it cannot be opened, is no longer a regular file or grew past `max_size`.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            data = handle.read(max_size + 1)
    finally:
        os.close(descriptor)
    if len(data) > max_size:
        raise OSError(errno.EFBIG, "grew past the size limit while being read")
    return data


def describe_os_error(error: OSError) -> str:
    return error.strerror or str(error)


def format_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MiB"
    if size >= 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size} B"

