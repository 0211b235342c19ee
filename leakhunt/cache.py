"""The on-disk cache of parsed rule files and compiled Hyperscan databases.

Entries are named by a hash of everything they are built from, so a changed input never
reads a stale entry. Entries are written atomically. A cache that cannot be read or written
only costs the time to rebuild the entry.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "leakhunt"


def read_entry(path: Path) -> bytes | None:
    """Return the bytes of a cache entry, or None when it is missing or unreadable."""
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:
        log.warning("ignoring unreadable cache entry %s: %s", path, error.strerror or error)
        return None


def write_entry(path: Path, content: bytes) -> bool:
    """Write a cache entry atomically; return False when the cache folder is not writable."""
    import tempfile

    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as handle:
            temporary = handle.name
            handle.write(content)
        os.replace(temporary, path)
    except OSError as error:
        log.info("cannot write cache entry %s: %s", path, error.strerror or error)
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        return False
    return True
