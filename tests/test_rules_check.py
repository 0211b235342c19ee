"""`leakhunt rules check` and `leakhunt rules list` on the built-in rules and on broken rule files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib

from scan_cli import leakhunt_fixture  # noqa: F401 - the fixture `leakhunt`

from leakhunt.rules import builtin_rule_files

GOOD_RULE = """
[[rules]]
id = "demo-token"
name = "Demo token"
pattern = '''\\b(demo_[a-f0-9]{20})\\b'''
examples = ["key = demo_0a1b2c3d4e5f60718293"]
negative_examples = ["key = demo_short"]
"""


def builtin_ids() -> list[str]:
    ids = []
    for path in builtin_rule_files():
        ids.extend(table["id"] for table in tomllib.loads(path.read_text(encoding="utf-8"))["rules"])
    return ids


def test_builtin_rules_pass_check(leakhunt, tmp_path):
    run = leakhunt("rules", "check", cwd=tmp_path)

    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert re.fullmatch(rf"{len(builtin_ids())} rules and \d+ examples pass in Hyperscan and re\n", run.stdout)


def test_rules_list_prints_every_rule_sorted_by_id(leakhunt, tmp_path):
    run = leakhunt("rules", "list", cwd=tmp_path)
    rows = [line.split(maxsplit=2) for line in run.stdout.splitlines()]

    assert run.returncode == 0
    assert [row[0] for row in rows] == sorted(builtin_ids())
    assert {row[1] for row in rows} <= {"low", "medium", "high"}
    assert all(len(row) == 3 and row[2] for row in rows)
    assert run.stderr == f"{len(rows)} rules\n"


def test_good_rule_file_passes(leakhunt, tmp_path):
    (tmp_path / "demo.toml").write_text(GOOD_RULE)

    run = leakhunt("rules", "check", "demo.toml", cwd=tmp_path)

    assert run.returncode == 0
    assert run.stdout == "1 rules and 2 examples pass in Hyperscan and re\n"


def test_invalid_pattern_names_file_and_rule(leakhunt, tmp_path):
    (tmp_path / "bad.toml").write_text(GOOD_RULE.replace("[a-f0-9]{20}", "[a-f0-9{20}"))

    run = leakhunt("rules", "check", "bad.toml", cwd=tmp_path)

    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "bad.toml: rule demo-token: invalid pattern: unterminated character set at position 8",
        "1 problem(s) in 1 of 1 rules",
    ]


def test_duplicate_id_names_both_files(leakhunt, tmp_path):
    (tmp_path / "one.toml").write_text(GOOD_RULE)
    (tmp_path / "two.toml").write_text(GOOD_RULE.replace("Demo token", "Demo token again"))

    run = leakhunt("rules", "check", "one.toml", "two.toml", cwd=tmp_path)

    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "two.toml: rule 'demo-token' duplicates an id already defined in one.toml",
        "1 problem(s) in 1 of 2 rules",
    ]


def test_failing_example_names_file_and_rule(leakhunt, tmp_path):
    text = GOOD_RULE.replace('examples = ["key = demo_0a1b2c3d4e5f60718293"]',
                             'examples = ["key = demo_0a1b2c3d4e5f6071829"]')
    text = text.replace('negative_examples = ["key = demo_short"]', 'negative_examples = ["demo_ffffeeeeddddccccbbbb"]')
    (tmp_path / "failing.toml").write_text(text)

    run = leakhunt("rules", "check", "failing.toml", cwd=tmp_path)

    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "failing.toml: rule demo-token: Hyperscan and re do not match example 'key = demo_0a1b2c3d4e5f6071829'",
        "failing.toml: rule demo-token: matches negative example 'demo_ffffeeeeddddccccbbbb'",
        "2 problem(s) in 1 of 1 rules",
    ]


def test_hyperscan_rejected_pattern_names_file_and_rule(leakhunt, tmp_path):
    # Python's re accepts a pattern that can match the empty string, but Hyperscan rejects it.
    (tmp_path / "empty.toml").write_text(GOOD_RULE + GOOD_RULE.replace("demo-token", "maybe-empty")
                                         .replace("\\b(demo_[a-f0-9]{20})\\b", "(?:demo_)?([a-f0-9]*)"))

    run = leakhunt("rules", "check", "empty.toml", cwd=tmp_path)

    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "empty.toml: rule maybe-empty: Hyperscan rejects the pattern: it matches the empty string; "
        "a rule pattern must match at least one character",
        "1 problem(s) in 1 of 2 rules",
    ]


def test_every_broken_rule_of_a_file_is_reported(leakhunt, tmp_path):
    broken_pattern = GOOD_RULE.replace("demo-token", "bad-regex").replace("\\b(demo_[a-f0-9]{20})\\b", "(demo_")
    bad_id = GOOD_RULE.replace('id = "demo-token"', 'id = "Bad Id"')
    failing = GOOD_RULE.replace("demo-token", "wrong-example").replace(
        'examples = ["key = demo_0a1b2c3d4e5f60718293"]', 'examples = ["key = demo_short"]')
    (tmp_path / "mixed.toml").write_text(GOOD_RULE + broken_pattern + bad_id + failing)

    run = leakhunt("rules", "check", "mixed.toml", cwd=tmp_path)

    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        "mixed.toml: rule bad-regex: invalid pattern: missing ), unterminated subpattern at position 0",
        "mixed.toml: rule id 'Bad Id' is missing or invalid (lowercase letters, digits, '-', '.')",
        "mixed.toml: rule wrong-example: Hyperscan and re do not match example 'key = demo_short'",
        "3 problem(s) in 3 of 4 rules",
    ]


def test_rules_list_into_closed_pipe_is_no_error(tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        completed = subprocess.run([sys.executable, "-m", "leakhunt", "rules", "list"], stdout=write_end,
                                   stderr=subprocess.PIPE, cwd=tmp_path)
    finally:
        os.close(write_end)

    assert (completed.returncode, completed.stderr) == (0, b"")
