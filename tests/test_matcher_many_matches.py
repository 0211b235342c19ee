"""Overlap removal and location of many matches on one long line, as in minified files."""

from __future__ import annotations

import hashlib

import pytest

from leakhunt.filters import SecretFilter
from leakhunt.matcher import Matcher
from leakhunt.rules import load_builtin


def fixed_token(index: int) -> str:
    """Return a fixed 40-digit hex token that the generic filters accept."""
    return hashlib.sha1(f"token-{index}".encode()).hexdigest()


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_builtin(), SecretFilter(), cache_dir=None)


def test_long_line_columns(matcher: Matcher) -> None:
    tokens = [fixed_token(index) for index in range(2000)]
    pieces = [f'f{index}:function(a){{return a}},apiToken{index}:"{token}"' for index, token in enumerate(tokens)]
    line = "var é={" + ",".join(pieces) + "};"
    data = ("// bundle\n" + line + "\n").encode("utf-8")

    matches = matcher.scan(data)

    assert [match.secret for match in matches] == tokens
    assert {match.line for match in matches} == {2}
    assert {match.rule_id for match in matches} == {"generic-secret"}
    expected_columns = []
    position = 0
    for token in tokens:
        position = line.index(token, position)
        expected_columns.append(position + 1)
    assert [match.column for match in matches] == expected_columns


def test_allow_marker_on_long_line(matcher: Matcher) -> None:
    line = f'x={{apiToken:"{fixed_token(1)}",authToken:"{fixed_token(2)}"}}'

    found = matcher.scan(f"{line}\n".encode())
    allowed = matcher.scan(f"{line} // leakhunt:allow generic-secret\n".encode())
    allowed_other_rule = matcher.scan(f"{line} // leakhunt:allow url-credentials\n".encode())

    assert [match.secret for match in found] == [fixed_token(1), fixed_token(2)]
    assert allowed == []
    assert [match.secret for match in allowed_other_rule] == [fixed_token(1), fixed_token(2)]
