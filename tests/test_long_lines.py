"""Very long lines: a secret anywhere on a 5 MB minified line is found, and no rule's `re` step is super-linear."""

from __future__ import annotations

import random
import string

import pytest
from scan_cli import finding_rows, github_token, leakhunt_fixture  # noqa: F401 - the fixture `leakhunt`

from leakhunt.regex_cost import quadratic_risks
from leakhunt.rules import load_builtin

BUILTIN_RULES = load_builtin().rules
LINE_BYTES = 5 * 1024 * 1024


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    return random.Random(request.node.name)


def minified_javascript(rng: random.Random, size: int) -> str:
    """Return one line of JavaScript-like statements with random identifiers, about `size` characters long."""
    alphabet = string.ascii_letters + string.digits

    def identifier() -> str:
        return rng.choice(string.ascii_letters) + "".join(rng.choices(alphabet, k=rng.randint(2, 12)))

    parts = []
    length = 0
    while length < size:
        part = f'var {identifier()}=function({identifier()}){{return {identifier()}.{identifier()}("{identifier()}",{rng.randint(0, 99999)})}};'
        parts.append(part)
        length += len(part)
    return "".join(parts)


def test_secrets_anywhere_on_5_mb_line(leakhunt, tmp_path, rng):
    first, middle, last = github_token(rng), github_token(rng), github_token(rng)
    body = minified_javascript(rng, LINE_BYTES)
    offset = 3_141_592
    line = f"{first};{body[:offset]}var t=\"{middle}\";{body[offset:]}{last}"
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "app.min.js").write_text(line)

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert len(line) > LINE_BYTES
    assert finding_rows(report) == [
        ("dist/app.min.js", 1, 1, "github-pat-classic", first),
        ("dist/app.min.js", 1, len(first) + 1 + offset + 8, "github-pat-classic", middle),
        ("dist/app.min.js", 1, len(line) - len(last) + 1, "github-pat-classic", last),
    ]


def test_pathological_line_completes(leakhunt, tmp_path):
    # Each keyword is followed by long runs of the characters that rules around keywords accept:
    # spaces, separators, quotes and word characters. A rule whose `re` step were quadratic on
    # such runs would stall this scan.
    keywords = sorted({keyword for rule in BUILTIN_RULES for keyword in rule.keywords})
    runs = " " * 4000 + "=" * 2000 + ":" * 2000 + '"' * 2000 + "A" * 8000 + "_" * 2000 + "/" * 2000
    line = "".join(f"{keyword}{runs}{keyword.upper()}{runs}" for keyword in keywords)
    (tmp_path / "bundle.js").write_text(line * max(1, LINE_BYTES // 2 // len(line)))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 0
    assert report["findings"] == []
    assert report["stats"]["files_scanned"] == 1


@pytest.mark.parametrize("rule", BUILTIN_RULES, ids=lambda rule: rule.id)
def test_builtin_rule_linear_on_long_lines(rule):
    assert quadratic_risks(rule.pattern) == []


@pytest.mark.parametrize("pattern", [
    r"\b(ghp_[A-Za-z0-9]{36})\b",
    r'password\s*=\s*"([^"]{8,64})"',
    r"(?i)key\s*[:=]\s*(\w+)",
    r"token(?:\s*=\s*|:)(\w{8,})",
    r"=(?:\.[a-z]+)+",
    r"^\s*x",
    r"\A.*",
    r"-----BEGIN[ A-Z]{0,40}PRIVATE KEY-----[\s\S]{64,8000}?-----END",
    r"-----BEGIN KEY-----\n(?=[A-Za-z0-9+/=\s]{64,16000}?-----END)[A-Za-z0-9+/=\s]{64,}?-----END",
    r"(?<![\w-])(eyJ(?=[\w-]{10,2000}\.)[\w-]{10,}\.)",
])
def test_linear_pattern_accepted(pattern):
    assert quadratic_risks(pattern) == []


@pytest.mark.parametrize(("pattern", "problem"), [
    (r"[a-z]+x", "unbounded repeat over [a-z]: nothing before it requires a character outside the set"),
    (r".*password", "unbounded repeat over .: nothing before it requires a character outside the set"),
    (r"(?m)^\s*x", "unbounded repeat over \\s: nothing before it requires a character outside the set"),
    (r"x(?:\.[a-z]+)+", "unbounded repeat over [.a-z]: nothing before it requires a character outside the set"),
    (r"(?=.*\d)abc", "unbounded repeat over .: nothing before it requires a character outside the set"),
    (r"key[^\n]*=\s*[^\n]*;",
     "unbounded repeat over .: an unbounded repeat over some of the same characters comes first"),
    (r"=(a+)+b", "repeated group over [a] can match one input in several ways"),
    (r"=(?:[a-z]{1,5})+b", "repeated group over [a-z] can match one input in several ways"),
    (r"(?=[ab]{1,3}b)[ab]+b", "unbounded repeat over [ab]: nothing before it requires a character outside the set"),
])
def test_superlinear_pattern_flagged(pattern, problem):
    assert problem in quadratic_risks(pattern)


def test_rules_check_reports_quadratic_pattern(leakhunt, tmp_path):
    (tmp_path / "slow.toml").write_text(
        "[[rules]]\n"
        'id = "slow-token"\n'
        'name = "Slow token"\n'
        "pattern = '''[a-z]+_token_([0-9a-f]{16})'''\n"
        'examples = ["deploy_token_9f2c4e7a1b3d5f60"]\n'
        'negative_examples = ["deploy_token_9f2c"]\n'
    )

    run = leakhunt("rules", "check", "slow.toml", cwd=tmp_path)

    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        (
            "slow.toml: rule slow-token: pattern may take quadratic time on a long line: "
            "unbounded repeat over [a-z]: nothing before it requires a character outside the set"
        ),
        "1 problem(s) in 1 of 1 rules",
    ]
