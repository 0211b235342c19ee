"""The matcher confirms anchored and line-bounded rules only near Hyperscan's reports.

Each test compares `Matcher.scan` with the plain algorithm, `re.finditer` of every rule that
fired over the whole buffer, and also checks the exact findings, so a window that misses a
match or finds a different one fails.
"""

from __future__ import annotations

import logging
import random
import string

import pytest

from leakhunt.filters import SecretFilter
from leakhunt.matcher import Match, Matcher, drop_overlaps, locate
from leakhunt.pattern_shape import Anchor, is_line_bounded, leading_anchors
from leakhunt.rules import Rule, Ruleset

ANCHORED = Rule(
    id="test-password",
    name="password assignment",
    pattern=r"""(?i)\b(?:password|passwd)\s*[:=]\s*["']([A-Za-z0-9]{12,40})["']""",
    secret_group=1,
    generic=True,
)
LINE_BOUNDED = Rule(id="test-token", name="prefixed token", pattern=r"\b[a-z]+_(tkn[A-Za-z0-9]{20})\b", secret_group=1)
WHOLE_BUFFER = Rule(id="test-quoted", name="long quoted value", pattern=r"""[<]([^<>]{30,60})[>]""", secret_group=1)
RULES = Ruleset((ANCHORED, LINE_BOUNDED, WHOLE_BUFFER))


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(RULES, SecretFilter(), cache_dir=None)


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    return random.Random(request.node.name)


def random_value(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(length))


def whole_buffer_matches(matcher: Matcher, data: bytes) -> list[Match]:
    """Return what the matcher finds when every rule that fired runs `re` over all of `data`."""
    candidates = [candidate for rule in matcher.fired_rules(data) for candidate in matcher.confirm(rule, data)]
    return locate(drop_overlaps(candidates), data, matcher.known_ids) if candidates else []


def rows(matches: list[Match]) -> list[tuple[str, int, int, str]]:
    return [(match.rule_id, match.line, match.column, match.secret) for match in matches]


def test_rules_sorted_by_shape(matcher):
    assert matcher.windowed == frozenset({0, 1})
    assert matcher.anchored == frozenset({0})


def test_windows_equal_whole_buffer(matcher, rng):
    password, other_password = random_value(rng, 20), random_value(rng, 16)
    token = "tkn" + random_value(rng, 20)
    quoted = random_value(rng, 40)
    filler = "".join(f"line_{index} = compute(value_{index})  # password is read at run time\n" for index in range(4000))
    text = (
        filler
        + f'PASSWORD = "{password}"\n'
        + filler
        + f"config.api_{token} = 1\n"
        + f"blob = <{quoted}>\n"
        + f"passwd:\n    '{other_password}'\n"
    )
    data = text.encode()

    found = matcher.scan(data)

    assert rows(found) == [
        ("test-password", 4001, 13, password),
        ("test-token", 8002, 12, token),
        ("test-quoted", 8003, 9, quoted),
        ("test-password", 8005, 6, other_password),
    ]
    assert found == whole_buffer_matches(matcher, data)


def test_adjacent_anchors_keep_finditer_order(matcher, rng):
    first, second = random_value(rng, 14), random_value(rng, 14)
    data = f'password="{first}" passwordpassword password = "{second}"'.encode()

    found = matcher.scan(data)

    assert rows(found) == [("test-password", 1, 11, first), ("test-password", 1, 56, second)]
    assert found == whole_buffer_matches(matcher, data)


def test_token_on_last_line_without_newline(matcher, rng):
    token = "tkn" + random_value(rng, 20)
    data = ("x = 1\n" * 50 + f"key_{token}").encode()

    found = matcher.scan(data)

    assert rows(found) == [("test-token", 51, 5, token)]
    assert found == whole_buffer_matches(matcher, data)


def test_dense_anchor_reports_fall_back(matcher, rng, caplog):
    password = random_value(rng, 18)
    data = ("password " * 60000 + f'\npassword = "{password}"\n').encode()

    with caplog.at_level(logging.DEBUG, logger="leakhunt.matcher"):
        found = matcher.scan(data)

    assert rows(found) == [("test-password", 2, 13, password)]
    assert found == whole_buffer_matches(matcher, data)
    assert any("position reports" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(("pattern", "anchors"), [
    (r"\b(ghp_[A-Za-z0-9]{36})\b", [Anchor(b"ghp_", False)]),
    (r"(?i)(?:secret|api_?key)\s*=", [Anchor(b"api", True), Anchor(b"secret", True)]),
    (r"(?i)api[_-]key", [Anchor(b"api-key", True), Anchor(b"api_key", True)]),
    (r"(?:abc)+d", [Anchor(b"abc", False)]),
    (r"xy|abc", [Anchor(b"abc", False), Anchor(b"xy", False)]),
    (r"x|abc", []),
    (r"[a-z]+://", []),
    (r"a*bcd", []),
])
def test_leading_anchors(pattern, anchors):
    assert list(leading_anchors(pattern.encode())) == anchors


@pytest.mark.parametrize(("pattern", "bounded"), [
    (r"\b(ghp_[A-Za-z0-9]{36})\b", True),
    (r"(?m)^key=(\w+)$", True),
    (r"(?<=\n)key=(\w+)", True),
    (r"key\s*=\s*(\w+)", False),
    (r"key=([^'\"]+)", False),
    (r"key=(\w+)$", False),
    (r"key=(\w+)\Z", False),
    (r"(?s)key=(.+)", False),
    (r"key=(\w+)(?=\s)", False),
])
def test_line_bounded(pattern, bounded):
    assert is_line_bounded(pattern.encode()) is bounded
