"""Inline `leakhunt:allow` comments suppress findings on their own line."""

from __future__ import annotations

import random
from pathlib import Path

from conftest import aws_key_id, github_token


def test_allow_without_rule_id(tmp_path: Path, rng: random.Random, leakhunt) -> None:
    (tmp_path / "a.py").write_text(f"A = '{github_token(rng)}'  # leakhunt:allow\nB = '{github_token(rng)}'\n")

    result = leakhunt("scan", str(tmp_path))

    assert result.locations() == [("a.py", 2, "github-pat-classic")]


def test_allow_with_matching_rule_id(tmp_path: Path, rng: random.Random, leakhunt) -> None:
    (tmp_path / "a.py").write_text(f"A = '{github_token(rng)}'  # leakhunt:allow github-pat-classic\n")

    result = leakhunt("scan", str(tmp_path))

    assert result.status == 0
    assert result.findings == []


def test_allow_with_other_rule_id(tmp_path: Path, rng: random.Random, leakhunt) -> None:
    line = f"A = '{github_token(rng)}'; K = '{aws_key_id(rng)}'  # leakhunt:allow aws-access-key-id\n"
    (tmp_path / "a.py").write_text(line)

    result = leakhunt("scan", str(tmp_path))

    assert result.locations() == [("a.py", 1, "github-pat-classic")]


def test_allow_with_rule_list_and_reason(tmp_path: Path, rng: random.Random, leakhunt) -> None:
    (tmp_path / "a.py").write_text(
        f"K = '{aws_key_id(rng)}'  # leakhunt:allow github-pat-classic,aws-access-key-id\n"
        f"T = '{github_token(rng)}'  # leakhunt:allow test fixture, revoked\n"
        f"U = '{github_token(rng)}'  # allowed by nobody\n"
    )

    result = leakhunt("scan", str(tmp_path))

    assert result.locations() == [("a.py", 3, "github-pat-classic")]


# Each comment ends a line with a GitHub token and then an AWS key id. The second item lists
# the rules still reported on that line.
ALLOW_COMMENTS = [
    ("leakhunt:allow aws-access-key-id, github-pat-classic", []),
    ("leakhunt:allow aws-access-key-id github-pat-classic fixtures only", []),
    ("leakhunt:allow aws-access-key-id because it was revoked", ["github-pat-classic"]),
    # A misspelled or wrongly cased id suppresses nothing; a trailing colon is punctuation.
    ("leakhunt:allow github-pat-clasic", ["github-pat-classic", "aws-access-key-id"]),
    ("leakhunt:allow GitHub-PAT-classic", ["github-pat-classic", "aws-access-key-id"]),
    ("leakhunt:allow github-pat-classic: reviewed", ["aws-access-key-id"]),
]


def test_allow_rule_id_lists(tmp_path: Path, rng: random.Random, leakhunt) -> None:
    lines = [f"A = '{github_token(rng)}'; K = '{aws_key_id(rng)}'  # {comment}\n" for comment, _ in ALLOW_COMMENTS]
    (tmp_path / "a.py").write_text("".join(lines))

    result = leakhunt("scan", str(tmp_path))

    expected = [("a.py", number, rule) for number, (_, rules) in enumerate(ALLOW_COMMENTS, start=1) for rule in rules]
    assert result.locations() == expected


def test_allow_in_staged_blob(repo, rng: random.Random, leakhunt) -> None:
    repo.write({"a.py": f"A = '{github_token(rng)}'  # leakhunt:allow\n"})
    repo.git("add", "a.py")

    result = leakhunt("scan", str(repo.path), "--staged")

    assert result.status == 0
    assert result.findings == []


def test_longer_word_is_not_allow_marker(tmp_path: Path, rng: random.Random, leakhunt) -> None:
    token = github_token(rng)
    (tmp_path / "a.py").write_text(f"A = '{token}'  # leakhunt:allowed by nobody\n")

    result = leakhunt("scan", str(tmp_path))

    assert result.locations() == [("a.py", 1, "github-pat-classic")]
