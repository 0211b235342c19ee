"""Turn raw bytes from any input into the text buffer that the matcher scans."""

from __future__ import annotations

import codecs

BINARY_PROBE_BYTES = 8192
UTF16_BOMS = ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
UTF16_BOM_PREFIXES = tuple(bom for bom, _ in UTF16_BOMS)


class BinaryContent(Exception):
    """Raised for content that is not text."""


def text_buffer(data: bytes) -> bytes:
    """Return `data` as UTF-8-compatible bytes, re-encoding UTF-16 text that starts with a BOM.

    Other bytes are returned unchanged, so text in any ASCII-compatible encoding is scanned as
    it is and invalid UTF-8 never stops a scan. Raises `BinaryContent` when a NUL byte appears
    in the first 8 KiB.
    """
    for bom, encoding in UTF16_BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, "replace").encode("utf-8")
    if is_binary(data):
        raise BinaryContent
    return data


def is_binary(head: bytes) -> bool:
    """Return True when `text_buffer` rejects a buffer that starts with `head` as binary.

    `head` must hold the first BINARY_PROBE_BYTES bytes of the buffer, or all of it.
    """
    if head.startswith(UTF16_BOM_PREFIXES):
        return False
    return head.find(b"\x00", 0, BINARY_PROBE_BYTES) >= 0
