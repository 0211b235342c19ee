"""Offline checks of a token's own structure, named by a rule's `validator` key.

A check returns CONFIRMED when the structure proves the format (a checksum matches), which
raises the finding to high confidence; REJECTED when the value cannot be a real token, which
drops it; and UNKNOWN otherwise, which keeps the rule's confidence.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import re
import string
import zlib
from collections.abc import Callable


class Verdict(enum.Enum):
    CONFIRMED = "confirmed"
    UNKNOWN = "unknown"
    REJECTED = "rejected"


BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
AWS_KEY_ID_VOWELS = frozenset("AEIOU")
# A base64 or a base64url run that starts with `eyJ`, the encoding of `{"`. A token may join
# such a run to its next part with `_` or `.`, so the two alphabets are tried separately.
JSON_SEGMENTS = (re.compile(r"eyJ[A-Za-z0-9+/]*"), re.compile(r"eyJ[A-Za-z0-9_-]*"))


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


def crc32_hex_little_endian_suffix(token: str) -> Verdict:
    """Check Grafana service account tokens, `glsa_<32 characters>_<8 hex digits>`.

    The suffix is the CRC32 of everything before the last underscore, written as hex of its
    four bytes in little-endian order (Grafana's `satokengen` package).
    """
    body, _, checksum = token.rpartition("_")
    if not body or len(checksum) != 8:
        return Verdict.UNKNOWN
    expected = zlib.crc32(body.encode("ascii", "replace")).to_bytes(4, "little").hex()
    return Verdict.CONFIRMED if checksum == expected else Verdict.UNKNOWN


def crc32_hex_suffix(token: str) -> Verdict:
    """Check Atlassian API tokens, `ATATT3…=<8 hex digits>`.

    The eight uppercase hex digits after the last `=` are the CRC32 of everything up to and
    including that `=`.
    """
    # NOTE: Atlassian does not document this checksum. It was inferred from a published example
    # token, where a chance match has odds of 1 in 2**32, so a mismatch keeps the rule's
    # confidence instead of dropping the match.
    body, separator, checksum = token.rpartition("=")
    if not separator or len(checksum) != 8:
        return Verdict.UNKNOWN
    expected = f"{zlib.crc32((body + separator).encode('ascii', 'replace')):08X}"
    return Verdict.CONFIRMED if checksum.upper() == expected else Verdict.UNKNOWN


def decode_json_segment(token: str) -> bytes | None:
    """Return the bytes that the first `eyJ…` base64 segment of `token` decodes to, or None.

    A segment that decodes to valid JSON is preferred, but the raw bytes of a segment that
    does not are still returned, because a token copied with a typo keeps its field names.
    """
    fallback = None
    for segment_pattern in JSON_SEGMENTS:
        found = segment_pattern.search(token)
        if found is None:
            continue
        segment = found.group(0)
        padded = segment + "=" * (-len(segment) % 4)
        try:
            decoded = base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
        except (binascii.Error, ValueError):
            continue
        if is_json_object(decoded):
            return decoded
        fallback = fallback or decoded
    return fallback


def is_json_object(data: bytes) -> bool:
    try:
        return isinstance(json.loads(data), dict)
    except ValueError:
        return False


def json_payload(token: str) -> Verdict:
    """Confirm tokens that embed a base64 JSON object, such as Sentry `sntrys_`, Grafana Cloud
    `glc_` and Mapbox `sk.` tokens, when that segment decodes to an object."""
    decoded = decode_json_segment(token)
    return Verdict.CONFIRMED if decoded is not None and is_json_object(decoded) else Verdict.UNKNOWN


def grafana_api_key(token: str) -> Verdict:
    """Check Grafana API keys, base64 of `{"k":"<key>","n":"<name>","id":<org>}`.

    Power BI embed ids also start with `eyJrIjoi` (`{"k":"`) but carry no `n` field, so a
    segment that decodes without `"n":` is rejected.
    """
    decoded = decode_json_segment(token)
    if decoded is None:
        return Verdict.UNKNOWN
    if b'"n":' not in decoded:
        return Verdict.REJECTED
    return Verdict.CONFIRMED if is_json_object(decoded) else Verdict.UNKNOWN


def discord_bot_token(token: str) -> Verdict:
    """Check Discord bot tokens, whose first dot-separated part is the base64 of the bot's
    numeric user id. A first part that decodes to anything else is not a bot token."""
    first = token.split(".", 1)[0]
    padded = first + "=" * (-len(first) % 4)
    try:
        decoded = base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError):
        return Verdict.REJECTED
    if decoded.isdigit() and 15 <= len(decoded) <= 21:
        return Verdict.CONFIRMED
    return Verdict.REJECTED


VALIDATORS: dict[str, Callable[[str], Verdict]] = {
    "crc32-base62-suffix": crc32_base62_suffix,
    "aws-key-id": aws_key_id,
    "crc32-hex-little-endian-suffix": crc32_hex_little_endian_suffix,
    "crc32-hex-suffix": crc32_hex_suffix,
    "json-payload": json_payload,
    "grafana-api-key": grafana_api_key,
    "discord-bot-token": discord_bot_token,
}
