"""The validators that decode base64: Kubernetes Secret data and HTTP Basic credentials."""

from __future__ import annotations

import base64

import pytest

from leakhunt.validators import Verdict, base64_printable, basic_auth_credentials


def encode(text: str | bytes) -> str:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return base64.b64encode(raw).decode("ascii")


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (encode("Pz%9oT0C9148FrGn9y"), Verdict.UNKNOWN),
        (encode('{"auths": {"registry.corp.internal": {"auth": "Y2k6eA=="}}}\n'), Verdict.UNKNOWN),
        (encode(b"\x8f\x02\xff\x10\x00binary"), Verdict.REJECTED),
        ("not base64!", Verdict.REJECTED),
        ("YWJj", Verdict.UNKNOWN),
        ("YWJ", Verdict.REJECTED),
    ],
)
def test_base64_printable(token: str, expected: Verdict) -> None:
    assert base64_printable(token) is expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (encode("ci-bot:V3ocV9XQ8f5WJD"), Verdict.UNKNOWN),
        (encode("ReWeIoi8x38VNv73xPfGza4K:"), Verdict.UNKNOWN),
        (encode("admin:password"), Verdict.REJECTED),
        (encode("browser:"), Verdict.REJECTED),
        (encode("no colon here"), Verdict.REJECTED),
        ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", Verdict.REJECTED),
    ],
)
def test_basic_auth_credentials(token: str, expected: Verdict) -> None:
    assert basic_auth_credentials(token) is expected
