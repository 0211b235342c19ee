"""Archives: scan the members of zip, jar, wheel, tar and gzip, bzip2 or xz files in memory.

Members are read into memory and never extracted, so a member name such as `../../x` is only
a label. A finding in a member has the path `outer.zip!inner/path.py`, and each archive inside
an archive adds another `!`. Archives nest at most two levels deep. Limits guard against
archive bombs. The declared size and the compression ratio of a zip member are checked before
it is read, and every read stops at the member size limit. One top-level file may yield at
most 256 MiB of uncompressed data. Encrypted, oversized and unreadable members, and archives
that cannot be read, become skipped entries with a reason. Binary members are skipped as binary
files are.
"""

from __future__ import annotations

import bz2
import gzip
import io
import logging
import lzma
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, BinaryIO, Protocol, cast

from leakhunt.decoding import MatchGroup, scan_text
from leakhunt.findings import Provenance
from leakhunt.inputs.content import BinaryContent, text_buffer
from leakhunt.inputs.notebook import is_notebook, scan_notebook
from leakhunt.inputs.tree import Skipped, format_size
from leakhunt.matcher import Matcher

log = logging.getLogger(__name__)

ZIP_SUFFIXES = (".zip", ".jar", ".war", ".ear", ".aar", ".whl", ".egg", ".nupkg")
TAR_SUFFIXES = (".tar", ".tgz", ".tbz", ".tbz2", ".txz")
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz")
ARCHIVE_SUFFIXES = ZIP_SUFFIXES + TAR_SUFFIXES + COMPRESSED_SUFFIXES

MAX_TOTAL_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 2
MAX_RATIO = 100
# Members smaller than this are read whatever their ratio: a small file of repeated text
# compresses well and costs nothing to scan.
RATIO_FLOOR_BYTES = 1024 * 1024
MAX_MEMBERS = 100_000
READ_CHUNK_BYTES = 1024 * 1024
TAR_MAGIC_OFFSET = 257
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
ZIP_END_RECORD = b"PK\x05\x06"
ZIP64_END_RECORD = b"PK\x06\x06"
# The end record is 22 bytes and may be followed by a comment of up to 65,535 bytes.
ZIP_END_SEARCH_BYTES = 22 + 65535
ZIP_ENCRYPTED_FLAG = 0x1
# Each opener takes a binary file object and returns one that reads the decompressed data.
DECOMPRESSORS: dict[bytes, Callable[..., Any]] = {
    b"\x1f\x8b": gzip.open,
    b"BZh": bz2.open,
    b"\xfd7zXZ\x00": lzma.open,
}
READ_ERRORS = (zipfile.BadZipFile, tarfile.TarError, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError,
               NotImplementedError)


class ArchiveLimitError(Exception):
    """Raised while reading an archive stream that passes a limit; the message is the reason."""


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds on the work one top-level file may cause."""

    max_member_size: int
    max_total_size: int = MAX_TOTAL_BYTES
    max_depth: int = MAX_DEPTH
    max_ratio: int = MAX_RATIO
    ratio_floor: int = RATIO_FLOOR_BYTES
    max_members: int = MAX_MEMBERS


class ScanOutcome(Protocol):
    """The parts of a scan outcome that scanning a container adds to."""

    matches: list[MatchGroup]
    skipped: list[Skipped]
    files: int
    bytes: int


def is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def archive_kind(data: bytes) -> str | None:
    """Return "zip", "tar" or "compressed" from the magic bytes of `data`, or None."""
    if data.startswith(ZIP_MAGICS):
        return "zip"
    if any(data.startswith(magic) for magic in DECOMPRESSORS):
        return "compressed"
    if data[TAR_MAGIC_OFFSET : TAR_MAGIC_OFFSET + 5] == b"ustar":
        return "tar"
    # A self-extracting zip or a jar with a launcher script starts with other data.
    if data.rfind(ZIP_END_RECORD, max(0, len(data) - ZIP_END_SEARCH_BYTES)) >= 0:
        return "zip"
    return None


class ArchiveScanner:
    """Scans one top-level file and every archive inside it against one set of limits.

    Matches, skipped members and counts of scanned members go to `outcome`.
    """

    def __init__(self, matcher: Matcher, limits: ArchiveLimits, outcome: ScanOutcome) -> None:
        self.matcher = matcher
        self.limits = limits
        self.remaining = limits.max_total_size
        self.outcome = outcome

    def scan_blob(self, name: str, data: bytes, path: str, depth: int) -> None:
        """Scan `data` as an archive, a notebook or text, chosen by `name`.

        `depth` counts the archives around the blob. Data with an archive name but no archive
        format is scanned as text when it is text.
        """
        if is_archive(name):
            kind = archive_kind(data)
            if kind is not None:
                if depth >= self.limits.max_depth:
                    self.skip(path, f"archive nested too deep (more than {self.limits.max_depth} levels)")
                else:
                    self.scan_archive(kind, data, path, depth + 1)
                return

        try:
            if is_notebook(name):
                groups = scan_notebook(self.matcher, data, Provenance(path))
            else:
                groups = scan_text(self.matcher, text_buffer(data), Provenance(path))
        except BinaryContent:
            self.skip(path, "binary")
            return
        self.outcome.matches.extend(groups)
        self.outcome.files += 1
        self.outcome.bytes += len(data)

    def scan_archive(self, kind: str, data: bytes, path: str, depth: int) -> None:
        if kind == "zip":
            self.scan_zip(data, path, depth)
            return
        if kind == "tar":
            self.scan_stream(io.BytesIO(data), len(data), path, depth)
            return
        opener = next(opener for magic, opener in DECOMPRESSORS.items() if data.startswith(magic))
        self.scan_stream(opener(io.BytesIO(data)), len(data), path, depth)

    def skip(self, path: str, reason: str) -> None:
        log.debug("skipping %s: %s", path, reason)
        self.outcome.skipped.append(Skipped(path, reason))

    def scan_zip(self, data: bytes, path: str, depth: int) -> None:
        declared = declared_zip_members(data)
        if declared is not None and declared > self.limits.max_members:
            self.skip(path, f"too many archive members ({declared} declared, limit {self.limits.max_members})")
            return
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except READ_ERRORS as error:
            self.skip(path, f"invalid zip archive ({error})")
            return

        with archive:
            for info in archive.infolist()[: self.limits.max_members]:
                if info.is_dir() or stat.S_ISLNK(info.external_attr >> 16):
                    continue
                member_path = f"{path}!{info.filename}"
                reason = self.zip_member_rejection(info)
                if reason:
                    self.skip(member_path, reason)
                    continue
                content = self.read_zip_member(archive, info, member_path)
                if content is not None:
                    self.scan_blob(info.filename, content, member_path, depth)

    def zip_member_rejection(self, info: zipfile.ZipInfo) -> str | None:
        """Return why a zip member must not be read, judged by its declared sizes, or None."""
        if info.flag_bits & ZIP_ENCRYPTED_FLAG:
            return "encrypted archive member"
        if info.file_size > self.limits.max_member_size:
            return f"larger than the size limit ({format_size(info.file_size)} > {format_size(self.limits.max_member_size)})"
        if info.file_size > self.remaining:
            return self.total_limit_reason()
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= self.limits.ratio_floor and ratio > self.limits.max_ratio:
            return self.ratio_reason(ratio)
        return None

    def read_zip_member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, member_path: str) -> bytes | None:
        """Read a member, stopping one byte past the limits in case its declared size is false."""
        limit = min(self.limits.max_member_size, self.remaining)
        try:
            with archive.open(info) as handle:
                content = handle.read(limit + 1)
        except RuntimeError as error:
            # zipfile raises RuntimeError for an encrypted member that the flag did not announce.
            self.skip(member_path, f"encrypted archive member ({error})")
            return None
        except READ_ERRORS as error:
            self.skip(member_path, f"unreadable archive member ({error})")
            return None

        if len(content) > limit:
            reason = (self.total_limit_reason() if limit < self.limits.max_member_size
                      else f"larger than the size limit (> {format_size(limit)})")
            self.skip(member_path, reason)
            return None
        ratio = len(content) / max(info.compress_size, 1)
        if len(content) >= self.limits.ratio_floor and ratio > self.limits.max_ratio:
            self.skip(member_path, self.ratio_reason(ratio))
            return None
        self.remaining -= len(content)
        return content

    def scan_stream(self, source: BinaryIO, compressed_size: int, path: str, depth: int) -> None:
        """Scan a tar stream, or the single file of a gzip, bzip2 or xz stream."""
        stream = BoundedStream(source, compressed_size, self)
        try:
            head = stream.read_up_to(TAR_MAGIC_OFFSET + 8)
            stream.push_back(head)
            if head[TAR_MAGIC_OFFSET : TAR_MAGIC_OFFSET + 5] == b"ustar":
                self.scan_tar(stream, path, depth)
            else:
                self.scan_single(stream, path, depth)
        except ArchiveLimitError as error:
            self.skip(path, str(error))
        except READ_ERRORS as error:
            self.skip(path, f"invalid compressed or tar archive ({error})")

    def scan_tar(self, stream: BoundedStream, path: str, depth: int) -> None:
        # Stream mode reads members in order and never seeks, so every byte passes the limits.
        with tarfile.open(fileobj=cast(IO[bytes], stream), mode="r|") as archive:
            for count, member in enumerate(archive):
                if count >= self.limits.max_members:
                    self.skip(path, f"too many archive members (only the first {self.limits.max_members} were scanned)")
                    return
                if not member.isreg():
                    continue
                member_path = f"{path}!{member.name}"
                if member.size > self.limits.max_member_size:
                    limit = format_size(self.limits.max_member_size)
                    self.skip(member_path, f"larger than the size limit ({format_size(member.size)} > {limit})")
                    continue
                handle = archive.extractfile(member)
                content = handle.read() if handle is not None else b""
                self.scan_blob(member.name, content, member_path, depth)

    def scan_single(self, stream: BoundedStream, path: str, depth: int) -> None:
        """Scan the one file that a gzip, bzip2 or xz stream contains, named after the stream."""
        name = path.rsplit("/", 1)[-1].rsplit("!", 1)[-1]
        name = name.rsplit(".", 1)[0] if "." in name else name
        content = stream.read_up_to(self.limits.max_member_size + 1)
        if len(content) > self.limits.max_member_size:
            self.skip(f"{path}!{name}", f"larger than the size limit (> {format_size(self.limits.max_member_size)})")
            return
        self.scan_blob(name, content, f"{path}!{name}", depth)

    def total_limit_reason(self) -> str:
        return f"archive size limit reached (more than {format_size(self.limits.max_total_size)} uncompressed)"

    def ratio_reason(self, ratio: float) -> str:
        return f"possible archive bomb (compression ratio {ratio:.1f}:1, limit {self.limits.max_ratio}:1)"


class BoundedStream:
    """A decompressed stream that raises `ArchiveLimitError` once it passes the scanner's limits."""

    def __init__(self, source: BinaryIO, compressed_size: int, scanner: ArchiveScanner) -> None:
        self.source = source
        self.compressed_size = compressed_size
        self.scanner = scanner
        self.produced = 0
        self.pending = b""

    def read(self, size: int = -1) -> bytes:
        if self.pending:
            size = len(self.pending) if size < 0 else size
            chunk, self.pending = self.pending[:size], self.pending[size:]
            return chunk
        chunk = self.source.read(self.scanner.remaining + 1 if size < 0 else size)
        self.charge(len(chunk))
        return chunk

    def read_up_to(self, size: int) -> bytes:
        """Read `size` bytes, or fewer at the end of the stream.

        It reads in chunks because a buffered reader allocates the whole size it is asked for.
        """
        parts = []
        while size > 0:
            chunk = self.read(min(size, READ_CHUNK_BYTES))
            if not chunk:
                break
            parts.append(chunk)
            size -= len(chunk)
        return b"".join(parts)

    def push_back(self, data: bytes) -> None:
        self.pending = data + self.pending

    def charge(self, size: int) -> None:
        limits = self.scanner.limits
        if size > self.scanner.remaining:
            raise ArchiveLimitError(self.scanner.total_limit_reason())
        self.scanner.remaining -= size
        self.produced += size
        ratio = self.produced / max(self.compressed_size, 1)
        if self.produced >= limits.ratio_floor and ratio > limits.max_ratio:
            raise ArchiveLimitError(self.scanner.ratio_reason(ratio))


def declared_zip_members(data: bytes) -> int | None:
    """Return the member count in the zip end record, read before zipfile builds one object per member."""
    position = data.rfind(ZIP_END_RECORD, max(0, len(data) - ZIP_END_SEARCH_BYTES))
    if position < 0:
        return None
    count = int.from_bytes(data[position + 10 : position + 12], "little")
    if count != 0xFFFF:
        return count
    zip64 = data.rfind(ZIP64_END_RECORD, 0, position)
    if zip64 < 0:
        return count
    return int.from_bytes(data[zip64 + 32 : zip64 + 40], "little")


def scan_container_data(matcher: Matcher, data: bytes, relative: str, max_member_size: int,
                        outcome: ScanOutcome) -> None:
    """Scan a file that has an archive or notebook name, with its path relative to the scan root."""
    scanner = ArchiveScanner(matcher, ArchiveLimits(max_member_size=max_member_size), outcome)
    scanner.scan_blob(relative, data, relative, depth=0)
