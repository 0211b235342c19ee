"""Offline checks of a token's own structure, named by a rule's `validator` key.

A check returns CONFIRMED when the structure proves the format (a checksum matches), which
raises the finding to high confidence; REJECTED when the value cannot be a real token, which
drops it; and UNKNOWN otherwise, which keeps the rule's confidence.
"""

from __future__ import annotations

import base64
import binascii
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
CONTROL_WHITESPACE = str.maketrans("", "", "\t\r\n")


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


def decode_base64_text(token: str) -> str | None:
    """Return the printable text that `token` is the base64 encoding of, or None."""
    try:
        text = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    without_whitespace = text.translate(CONTROL_WHITESPACE)
    return text if without_whitespace and without_whitespace.isprintable() else None


def base64_printable(token: str) -> Verdict:
    """Reject values that are not base64 of printable text, such as a Kubernetes Secret's binary data."""
    return Verdict.UNKNOWN if decode_base64_text(token) else Verdict.REJECTED


def basic_auth_credentials(token: str) -> Verdict:
    """Check an HTTP Basic credential: base64 of `user:password` (RFC 7617).

    A value that does not decode to that form (a JSON object such as a JWT header, a masked
    value) is rejected, and so is one whose password is empty or a placeholder, unless the user
    part is long enough to be an API key sent as the user name.
    """
    from leakhunt.filters import is_placeholder

    text = decode_base64_text(token)
    if text is None or ":" not in text or text.startswith("{"):
        return Verdict.REJECTED
    user, _, password = text.partition(":")
    if password and not is_placeholder(password):
        return Verdict.UNKNOWN
    if not password and len(user) >= 16 and not is_placeholder(user):
        return Verdict.UNKNOWN
    return Verdict.REJECTED


VALIDATORS: dict[str, Callable[[str], Verdict]] = {
    "crc32-base62-suffix": crc32_base62_suffix,
    "aws-key-id": aws_key_id,
    "base64-printable": base64_printable,
    "basic-auth-credentials": basic_auth_credentials,
}
