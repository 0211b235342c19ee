"""Offline checks of a token's own structure, named by a rule's `validator` key.

A check returns CONFIRMED when the structure proves the format (a checksum matches), which
raises the finding to high confidence. It returns REJECTED when the value cannot be a real
token, which drops it, and UNKNOWN otherwise, which keeps the rule's confidence.
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
from typing import Any


class Verdict(enum.Enum):
    CONFIRMED = "confirmed"
    UNKNOWN = "unknown"
    REJECTED = "rejected"


BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
AWS_KEY_ID_VOWELS = frozenset("AEIOU")
# A base64 or a base64url run that starts with `eyJ`, the encoding of `{"`. A token may join
# such a run to its next part with `_` or `.`, so the two alphabets are tried separately.
JSON_SEGMENTS = (re.compile(r"eyJ[A-Za-z0-9+/]*"), re.compile(r"eyJ[A-Za-z0-9_-]*"))
BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BECH32_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
PYPI_LOCATIONS = frozenset({b"pypi.org", b"test.pypi.org"})
SEQUENTIAL_RUN = 8
CONTROL_WHITESPACE = str.maketrans("", "", "\t\r\n")
ONEPASSWORD_ACCOUNT_FIELDS = frozenset({"signInAddress", "email", "secretKey", "srpX", "muk", "deviceUuid"})


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
    """Check tokens whose last eight characters are the upper-case hex CRC32 of everything before them.

    Atlassian API tokens (`ATATT3…=<8 hex digits>`), Bitbucket access tokens (`ATCTT3…=<8 hex
    digits>`) and Bitbucket app passwords (`ATBB<24 characters><8 hex digits>`) carry this checksum.
    """
    # NOTE: Atlassian does not document this checksum. It was inferred from a published example
    # token, where a chance match has odds of 1 in 2**32, so a mismatch keeps the rule's
    # confidence instead of dropping the match.
    if len(token) < 9:
        return Verdict.UNKNOWN
    payload, checksum = token[:-8], token[-8:]
    expected = f"{zlib.crc32(payload.encode('ascii', 'replace')):08X}"
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


def decode_base64(text: str, urlsafe: bool = False) -> bytes | None:
    """Return the bytes of padded or unpadded base64 text, or None when it is not base64."""
    padded = text + "=" * (-len(text) % 4)
    try:
        if urlsafe:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def decode_base64_text(token: str) -> str | None:
    """Return standard base64 decoded as UTF-8 text, with undecodable bytes replaced, or None."""
    decoded = decode_base64(token.rstrip("="))
    return None if decoded is None else decoded.decode("utf-8", "replace")


def decode_json_object(data: bytes | None) -> dict[str, Any] | None:
    if data is None:
        return None
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def jwt_parts(token: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Return the decoded header and payload of a compact JWS, each None when it is not a JSON object."""
    header, _, rest = token.partition(".")
    payload, _, _ = rest.partition(".")
    return decode_json_object(decode_base64(header, urlsafe=True)), decode_json_object(decode_base64(payload, urlsafe=True))


def jwt_header(token: str) -> Verdict:
    """Reject three-part strings whose first part is not a JSON header naming a signing algorithm.

    A header that is not valid JSON but still decodes to `{` and an `"alg"` member is kept,
    because a few corrupted bytes in a copied token do not make the rest of it harmless.
    """
    header, _ = jwt_parts(token)
    if header is not None and isinstance(header.get("alg"), str):
        return Verdict.UNKNOWN
    raw_header = decode_base64(token.partition(".")[0], urlsafe=True)
    if header is None and raw_header is not None and raw_header.startswith(b"{") and b'"alg"' in raw_header:
        return Verdict.UNKNOWN
    return Verdict.REJECTED


def jwt_base64(token: str) -> Verdict:
    """Decode a base64-encoded JWT and apply the JWT header check to it."""
    text = decode_base64_text(token)
    if text is None or not JWT_SHAPE.fullmatch(text.strip()):
        return Verdict.REJECTED
    return jwt_header(text.strip())


def kubernetes_service_account_jwt(token: str) -> Verdict:
    """Confirm JWTs whose claims name a Kubernetes service account, and reject every other JWT.

    Legacy secret-based tokens have the issuer `kubernetes/serviceaccount`. Bound tokens from the
    TokenRequest API carry a `kubernetes.io` claim and a `system:serviceaccount:` subject.
    """
    header, payload = jwt_parts(token)
    if header is None or payload is None or not isinstance(header.get("alg"), str):
        return Verdict.REJECTED
    subject = payload.get("sub")
    if payload.get("iss") == "kubernetes/serviceaccount" or "kubernetes.io" in payload:
        return Verdict.CONFIRMED
    if isinstance(subject, str) and subject.startswith("system:serviceaccount:"):
        return Verdict.CONFIRMED
    return Verdict.REJECTED


def bech32_polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for bit, generator in enumerate(BECH32_GENERATOR):
            if top >> bit & 1:
                checksum ^= generator
    return checksum


def bech32_checksum(token: str) -> Verdict:
    """Confirm a Bech32 string (BIP 173) whose six-character checksum matches, such as an age secret key."""
    lowered = token.lower()
    separator = lowered.rfind("1")
    if separator < 1 or len(lowered) - separator < 7:
        return Verdict.UNKNOWN
    prefix, data = lowered[:separator], lowered[separator + 1 :]
    if any(character not in BECH32_CHARSET for character in data):
        return Verdict.UNKNOWN
    expanded = [ord(character) >> 5 for character in prefix] + [0] + [ord(character) & 31 for character in prefix]
    if bech32_polymod(expanded + [BECH32_CHARSET.index(character) for character in data]) == 1:
        return Verdict.CONFIRMED
    return Verdict.UNKNOWN


def read_varint(data: bytes, position: int) -> tuple[int, int] | None:
    """Return the unsigned LEB128 integer at `position` and the position after it."""
    value = 0
    for shift in range(0, 35, 7):
        if position >= len(data):
            return None
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
    return None


def read_macaroon_field(data: bytes, position: int) -> tuple[int, bytes, int] | None:
    """Return the type, content and end of the version-2 macaroon field at `position`."""
    field_type = read_varint(data, position)
    if field_type is None or field_type[0] == 0:
        return None
    length = read_varint(data, field_type[1])
    if length is None or length[1] + length[0] > len(data):
        return None
    end = length[1] + length[0]
    return field_type[0], data[length[1] : end], end


def pypi_macaroon(token: str) -> Verdict:
    """Decode a PyPI API token, a version-2 macaroon, and check that it names pypi.org or test.pypi.org.

    The macaroon starts with the version byte 2, then a location field (type 1) and an
    identifier field (type 2), each a varint type, a varint length and the bytes.
    """
    data = decode_base64(token.removeprefix("pypi-"), urlsafe=True)
    if not data or data[0] != 2:
        return Verdict.REJECTED
    location = read_macaroon_field(data, 1)
    if location is None or location[0] != 1:
        return Verdict.UNKNOWN
    if location[1] not in PYPI_LOCATIONS:
        return Verdict.REJECTED
    identifier = read_macaroon_field(data, location[2])
    if identifier is None or identifier[0] != 2:
        return Verdict.UNKNOWN
    return Verdict.CONFIRMED


def has_sequential_run(text: str, length: int = SEQUENTIAL_RUN) -> bool:
    """Return True when `text` contains `length` characters in a row that each follow the previous one, as in `abcdefgh`."""
    run = 1
    for previous, current in zip(text.lower(), text[1:].lower()):
        run = run + 1 if current.isalnum() and ord(current) == ord(previous) + 1 else 1
        if run >= length:
            return True
    return False


def no_sequential_run(token: str) -> Verdict:
    """Reject tokens that contain a run like `abcdefgh` or `12345678`, which random tokens essentially never do.

    For a random base62 character the next one follows it with probability 1/62, so a run of
    eight occurs in a 40-character token with probability below 1e-10.
    """
    return Verdict.REJECTED if has_sequential_run(token) else Verdict.UNKNOWN


def decoded_prefix_check(prefix_length: int, expected: bytes) -> Callable[[str], Verdict]:
    """Build a check that base64-decodes a token after `prefix_length` characters and expects `expected` first."""

    def check(token: str) -> Verdict:
        body = token[prefix_length:]
        head = decode_base64(body[: len(body) - len(body) % 4].rstrip("="))
        if head is not None and head.startswith(expected):
            return Verdict.CONFIRMED
        return Verdict.REJECTED

    return check


def aws_bedrock_short_term_key(token: str) -> Verdict:
    """Confirm a short-term Bedrock key whose base64 body decodes to a signed request URL."""
    body = token.removeprefix("bedrock-api-key-")
    decoded = decode_base64(body[: len(body) - len(body) % 4].rstrip("="))
    if decoded is not None and b"X-Amz-Signature=" in decoded:
        return Verdict.CONFIRMED
    return Verdict.UNKNOWN


def basic_auth_base64(token: str) -> Verdict:
    """Reject base64 values that do not decode to `user:password`, as Docker and npm store logins."""
    text = decode_base64_text(token)
    if text is None:
        return Verdict.REJECTED
    user, colon, password = text.partition(":")
    if not colon or not user or not password:
        return Verdict.REJECTED
    return Verdict.UNKNOWN


def mixed_case_digits(token: str) -> Verdict:
    """Reject random-looking tokens whose body after the first dot lacks a digit, an upper-case or a lower-case letter.

    A 24-character random base62 string lacks a digit about 1.5% of the time, while identifiers
    such as `s.AcceptanceTimeoutSeconds` almost always lack one.
    """
    _, _, body = token.partition(".")
    if any(character.isdigit() for character in body) and any(character.isupper() for character in body) and any(
        character.islower() for character in body
    ):
        return Verdict.UNKNOWN
    return Verdict.REJECTED


def base64_pem_private_key(token: str) -> Verdict:
    """Confirm base64 text whose decoded first line is a PEM `BEGIN ... PRIVATE KEY` header."""
    head = decode_base64(token[:64])
    if head is None:
        return Verdict.REJECTED
    first_line = head.split(b"\n", 1)[0]
    if first_line.startswith(b"-----BEGIN ") and b"PRIVATE KEY" in first_line:
        return Verdict.CONFIRMED
    return Verdict.REJECTED


def onepassword_service_account(token: str) -> Verdict:
    """Confirm a 1Password service-account token whose base64 JSON body has the account fields."""
    account = decode_json_object(decode_base64(token.removeprefix("ops_").rstrip("=")))
    if account is not None and ONEPASSWORD_ACCOUNT_FIELDS & account.keys():
        return Verdict.CONFIRMED
    return Verdict.UNKNOWN


def decode_printable_base64(token: str) -> str | None:
    """Return the printable text that `token` is the base64 encoding of, or None."""
    try:
        text = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    without_whitespace = text.translate(CONTROL_WHITESPACE)
    return text if without_whitespace and without_whitespace.isprintable() else None


def base64_printable(token: str) -> Verdict:
    """Reject values that are not base64 of printable text, such as a Kubernetes Secret's binary data."""
    return Verdict.UNKNOWN if decode_printable_base64(token) else Verdict.REJECTED


def basic_auth_credentials(token: str) -> Verdict:
    """Check an HTTP Basic credential: base64 of `user:password` (RFC 7617).

    A value that does not decode to that form (a JSON object such as a JWT header, a masked
    value) is rejected, and so is one whose password is empty or a placeholder, unless the user
    part is long enough to be an API key sent as the user name.
    """
    from leakhunt.filters import is_placeholder

    text = decode_printable_base64(token)
    if text is None or ":" not in text or text.startswith("{"):
        return Verdict.REJECTED
    user, _, password = text.partition(":")
    if password and not is_placeholder(password):
        return Verdict.UNKNOWN
    if not password and len(user) >= 16 and not is_placeholder(user):
        return Verdict.UNKNOWN
    return Verdict.REJECTED


VALIDATORS: dict[str, Callable[[str], Verdict]] = {
    "base64-printable": base64_printable,
    "basic-auth-credentials": basic_auth_credentials,
    "crc32-base62-suffix": crc32_base62_suffix,
    "aws-key-id": aws_key_id,
    "crc32-hex-little-endian-suffix": crc32_hex_little_endian_suffix,
    "crc32-hex-suffix": crc32_hex_suffix,
    "json-payload": json_payload,
    "grafana-api-key": grafana_api_key,
    "discord-bot-token": discord_bot_token,
    "jwt-header": jwt_header,
    "jwt-base64": jwt_base64,
    "kubernetes-service-account-jwt": kubernetes_service_account_jwt,
    "bech32-checksum": bech32_checksum,
    "pypi-macaroon": pypi_macaroon,
    "jfrog-reference-token": decoded_prefix_check(0, b"reftkn:"),
    "aws-bedrock-long-term-key": decoded_prefix_check(4, b"BedrockAPIKey-"),
    "aws-bedrock-short-term-key": aws_bedrock_short_term_key,
    "basic-auth-base64": basic_auth_base64,
    "mixed-case-digits": mixed_case_digits,
    "no-sequential-run": no_sequential_run,
    "base64-pem-private-key": base64_pem_private_key,
    "onepassword-service-account": onepassword_service_account,
}
