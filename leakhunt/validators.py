"""Offline checks of a token's own structure, named by a rule's `validator` key.

A check returns CONFIRMED when the structure proves the format (a checksum matches), which
raises the finding to high confidence; REJECTED when the value cannot be a real token, which
drops it; and UNKNOWN otherwise, which keeps the rule's confidence.
"""

from __future__ import annotations

import enum
import string
import zlib
from collections.abc import Callable


class Verdict(enum.Enum):
    CONFIRMED = "confirmed"
    UNKNOWN = "unknown"
    REJECTED = "rejected"


BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
AWS_KEY_ID_VOWELS = frozenset("AEIOU")


def base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits)).rjust(width, "0")


def crc32_base62_suffix(token: str) -> Verdict:
    """Check tokens whose last six characters are the base62 CRC32 of the rest after the prefix.

    GitHub (ghp_, gho_, ghu_, ghs_, ghr_) and npm (npm_) tokens carry this checksum.
    """
    _, _, body = token.partition("_")
    if len(body) < 7:
        return Verdict.UNKNOWN
    payload, checksum = body[:-6], body[-6:]
    if base62(zlib.crc32(payload.encode("ascii", "replace")), 6) == checksum:
        return Verdict.CONFIRMED
    return Verdict.UNKNOWN


def aws_key_id(token: str) -> Verdict:
    """Reject identifiers that only look like AWS key ids, such as `ASIAANDPACIFICREGION`.

    The 16 characters after the prefix are random base32, so a run with no digit and many
    vowels is an English word: that happens by chance for fewer than 1 in 1,000 real keys.
    """
    body = token[4:]
    has_digit = any(character.isdigit() for character in body)
    vowels = sum(character in AWS_KEY_ID_VOWELS for character in body)
    if not has_digit and vowels >= 6:
        return Verdict.REJECTED
    return Verdict.UNKNOWN


VALIDATORS: dict[str, Callable[[str], Verdict]] = {
    "crc32-base62-suffix": crc32_base62_suffix,
    "aws-key-id": aws_key_id,
}
