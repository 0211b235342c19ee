"""Files that hold other text, Jupyter notebooks and archives, scanned blob by blob."""

from __future__ import annotations

import os

from leakhunt.inputs.archives import ARCHIVE_SUFFIXES, ScanOutcome, scan_container_data
from leakhunt.inputs.notebook import NOTEBOOK_SUFFIX
from leakhunt.inputs.tree import Skipped, describe_os_error, read_file_bytes
from leakhunt.matcher import Matcher

CONTAINER_SUFFIXES = tuple(os.fsencode(suffix) for suffix in (NOTEBOOK_SUFFIX, *ARCHIVE_SUFFIXES))


def is_container(path: bytes) -> bool:
    """Return True for a path that names a notebook or an archive."""
    return path.lower().endswith(CONTAINER_SUFFIXES)


def scan_container(matcher: Matcher, path: bytes, relative: str, max_size: int, outcome: ScanOutcome) -> None:
    """Read a notebook or archive file and add what its blobs yield to `outcome`.

    `max_size` bounds the file itself and each archive member.
    """
    try:
        data = read_file_bytes(path, max_size)
    except OSError as error:
        outcome.skipped.append(Skipped(relative, describe_os_error(error)))
        return
    scan_container_data(matcher, data, relative, max_size, outcome)
