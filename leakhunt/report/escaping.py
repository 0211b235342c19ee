"""Make untrusted text (paths, secrets, git names) safe for terminals and for strict JSON.

Paths that are not UTF-8 reach leakhunt as `str` with surrogate escapes (`os.fsdecode`), and
file contents can hold any control character. Printed as they are, such strings can move the
cursor, change colours or reverse the text direction on a terminal.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls, DEL, C1 controls (U+009B is a one-character CSI on some terminals) and the
# Unicode bidirectional controls that reorder the displayed text.
TERMINAL_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT_CHARACTER = "\ufffd"


def _escape_code(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """Return `text` with undecodable bytes as `\\xNN` and control characters as escapes."""
    if text.isprintable():
        return text
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "backslashreplace")
    return TERMINAL_UNSAFE.sub(_escape_code, raw.decode("utf-8", "backslashreplace"))


def unicode_safe(text: str) -> str:
    """Return `text` as valid Unicode, each lone surrogate replaced by U+FFFD.

    A surrogate escape stands for a byte that is not UTF-8, and strict JSON parsers reject a
    string that carries one.
    """
    return SURROGATE.sub(REPLACEMENT_CHARACTER, text)


def unicode_safe_document(value: Any) -> Any:
    """Return a copy of a JSON-ready value with every string passed through `unicode_safe`."""
    if isinstance(value, str):
        return unicode_safe(value)
    if isinstance(value, dict):
        return {unicode_safe(key): unicode_safe_document(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unicode_safe_document(item) for item in value]
    return value
