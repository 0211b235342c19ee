"""Project configuration through the real command line: each setting and each kind of invalid value."""

from __future__ import annotations

import os
import random
import string

import pytest
from scan_cli import finding_rows, github_token, leakhunt_fixture  # noqa: F401 - the fixture `leakhunt`

from leakhunt.rules import builtin_rules_folder

ACME_RULE = """
[[rules]]
id = "acme-api-key"
name = "Acme API key"
pattern = '''\\b(acme_[a-z0-9]{24})\\b'''
keywords = ["acme_"]
confidence = "high"
"""


@pytest.fixture
def rng(request) -> random.Random:
    return random.Random(request.node.name)


def acme_key(rng: random.Random) -> str:
    return "acme_" + "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(24))


def assert_config_error(run, message: str) -> None:
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.splitlines() == [f"leakhunt: error: {message}"]


def test_inline_rule_extends_builtin(leakhunt, tmp_path, rng):
    acme, github = acme_key(rng), github_token(rng)
    (tmp_path / "leakhunt.toml").write_text('exclude_paths = ["leakhunt.toml"]\n' + ACME_RULE)
    (tmp_path / "app.py").write_text(f'ACME = "{acme}"\nGH = "{github}"\n')

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [
        ("app.py", 1, 9, "acme-api-key", acme),
        ("app.py", 2, 7, "github-pat-classic", github),
    ]


def test_rule_files_glob_relative_to_config(leakhunt, tmp_path, rng):
    acme = acme_key(rng)
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "rules").mkdir()
    (tmp_path / "ci" / "rules" / "acme.toml").write_text(ACME_RULE)
    (tmp_path / "leakhunt.toml").write_text('rule_files = ["ci/rules/*.toml"]\n')
    (tmp_path / "deploy.env").write_text(f"ACME_KEY={acme}\n")

    _, report = leakhunt.scan_json(tmp_path)

    assert finding_rows(report) == [("deploy.env", 1, 10, "acme-api-key", acme)]


def test_examples_of_extra_rules_are_not_reported(leakhunt, tmp_path, rng):
    example, real = acme_key(rng), acme_key(rng)
    rule = ACME_RULE + f"examples = ['ACME_KEY = \"{example}\"']\n"
    (tmp_path / "leakhunt.toml").write_text(rule)
    (tmp_path / "app.py").write_text(f'ACME = "{real}"\nSAMPLE = "{example}"\n')

    _, report = leakhunt.scan_json(tmp_path)

    assert finding_rows(report) == [("app.py", 1, 9, "acme-api-key", real)]


def test_linked_file_target_uses_configuration_beside_the_file(leakhunt, tmp_path, rng):
    acme = acme_key(rng)
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "leakhunt.toml").write_text(ACME_RULE)
    (tmp_path / "cfg" / "app.py").write_text(f'ACME = "{acme}"\n')
    (tmp_path / "links").mkdir()
    os.symlink("../cfg/app.py", tmp_path / "links" / "app-link.py")

    _, report = leakhunt.scan_json(tmp_path / "links" / "app-link.py")

    assert finding_rows(report) == [("app.py", 1, 9, "acme-api-key", acme)]


def test_rules_list_shows_extra_rules(leakhunt, tmp_path):
    (tmp_path / "leakhunt.toml").write_text(ACME_RULE)

    run = leakhunt("rules", "list", cwd=tmp_path)
    ids = [line.split()[0] for line in run.stdout.splitlines()]

    assert run.returncode == 0
    assert ids == sorted(ids)
    assert "acme-api-key" in ids
    assert "github-pat-classic" in ids


def test_pyproject_table_read(leakhunt, tmp_path, rng):
    github = github_token(rng)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\n\n[tool.leakhunt]\ndisabled_rules = ["github-pat-classic"]\n')
    (tmp_path / "app.py").write_text(f'GH = "{github}"\n')

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 0
    assert report["findings"] == []


def test_leakhunt_toml_preferred_over_pyproject(leakhunt, tmp_path, rng):
    github = github_token(rng)
    (tmp_path / "pyproject.toml").write_text('[tool.leakhunt]\ndisabled_rules = ["github-pat-classic"]\n')
    (tmp_path / "leakhunt.toml").write_text("disabled_rules = []\n")
    (tmp_path / "app.py").write_text(f'GH = "{github}"\n')

    _, report = leakhunt.scan_json(tmp_path)

    assert finding_rows(report) == [("app.py", 1, 7, "github-pat-classic", github)]


def test_broken_pyproject_ignored_with_warning(leakhunt, tmp_path, rng):
    github = github_token(rng)
    (tmp_path / "pyproject.toml").write_text("[project\n")
    (tmp_path / "app.py").write_text(f'GH = "{github}"\n')

    run, report = leakhunt.scan_json(tmp_path)

    assert finding_rows(report) == [("app.py", 1, 7, "github-pat-classic", github)]
    assert len(run.stderr.splitlines()) == 1
    assert run.stderr.startswith(f"leakhunt: WARNING: ignoring unreadable {tmp_path / 'pyproject.toml'}: ")


def test_disabled_rules_remove_builtin(leakhunt, tmp_path, rng):
    github = github_token(rng)
    (tmp_path / "leakhunt.toml").write_text('disabled_rules = ["github-pat-classic", "aws-access-key-id"]\n')
    (tmp_path / "app.py").write_text(f'GH = "{github}"\nOTHER = "{github_token(rng, "gho_")}"\n')

    _, report = leakhunt.scan_json(tmp_path)

    assert [row[3] for row in finding_rows(report)] == ["github-oauth-token"]


def test_exclude_paths(leakhunt, tmp_path, rng):
    tokens = [github_token(rng) for _ in range(4)]
    (tmp_path / "leakhunt.toml").write_text('exclude_paths = ["vendor", "*.min.js", "docs/*.md"]\n')
    for folder in ("vendor/lib", "web", "docs"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "vendor" / "lib" / "client.py").write_text(f"T = '{tokens[0]}'\n")
    (tmp_path / "web" / "app.min.js").write_text(f"var t='{tokens[1]}';\n")
    (tmp_path / "docs" / "setup.md").write_text(f"token {tokens[2]}\n")
    (tmp_path / "web" / "app.js").write_text(f"var t='{tokens[3]}';\n")

    _, report = leakhunt.scan_json(tmp_path)

    assert finding_rows(report) == [("web/app.js", 1, 8, "github-pat-classic", tokens[3])]
    assert report["skipped"] == []


def test_allowlist_values_and_patterns(leakhunt, tmp_path, rng):
    listed, matched, reported = github_token(rng), github_token(rng, "gho_"), github_token(rng)
    (tmp_path / "leakhunt.toml").write_text(
        f'[allowlist]\nvalues = ["{listed}"]\npatterns = ["^gho_"]\n'
    )
    (tmp_path / "fixtures.py").write_text(f'A = "{listed}"\nB = "{matched}"\nC = "{reported}"\n')

    _, report = leakhunt.scan_json(tmp_path)

    assert finding_rows(report) == [("fixtures.py", 3, 6, "github-pat-classic", reported)]


def test_max_file_size_setting_and_override(leakhunt, tmp_path, rng):
    github = github_token(rng)
    (tmp_path / "leakhunt.toml").write_text(f"max_file_size_mb = {1 / 1024}\n")
    (tmp_path / "dump.sql").write_text(f"-- {github}\n" + "x" * 3000 + "\n")

    _, limited = leakhunt.scan_json(tmp_path)
    _, overridden = leakhunt.scan_json(tmp_path, "--max-file-size", "1")

    assert limited["findings"] == []
    assert limited["skipped"] == [{"path": "dump.sql", "reason": "larger than the size limit (3.0 KiB > 1.0 KiB)"}]
    assert finding_rows(overridden) == [("dump.sql", 1, 4, "github-pat-classic", github)]


def test_duplicate_of_builtin_id_names_both_files(leakhunt, tmp_path):
    config = tmp_path / "leakhunt.toml"
    config.write_text(ACME_RULE.replace("acme-api-key", "github-pat-classic"))

    run = leakhunt("scan", tmp_path)

    assert_config_error(run, f"{config}: rule 'github-pat-classic' duplicates the id of a rule in "
                             f"{builtin_rules_folder() / 'github.toml'}; extra rules extend the built-in set "
                             "and need ids of their own")


def test_duplicate_between_config_files_names_both(leakhunt, tmp_path):
    config = tmp_path / "leakhunt.toml"
    (tmp_path / "more.toml").write_text(ACME_RULE)
    config.write_text('rule_files = ["more.toml"]\n' + ACME_RULE)

    run = leakhunt("scan", tmp_path)

    assert_config_error(run, f"{tmp_path / 'more.toml'}: rule 'acme-api-key' duplicates an id already defined in {config}")


INVALID_SETTINGS = [
    ("colour = true\n", ("unknown setting(s) colour; known settings: allowlist, disabled_rules, exclude_paths, "
                         "max_file_size_mb, migrate, rule_files, rules")),
    ("max_file_size_mb = -1\n", "'max_file_size_mb' must be a positive number of MiB, not -1"),
    ("max_file_size_mb = true\n", "'max_file_size_mb' must be a positive number of MiB, not True"),
    ('max_file_size_mb = "10"\n', "'max_file_size_mb' must be a positive number of MiB, not '10'"),
    ('disabled_rules = "github-pat-classic"\n', "'disabled_rules' must be a list of strings"),
    ('disabled_rules = ["no-such-rule"]\n', ("disabled_rules names unknown rule id(s) no-such-rule; "
                                             "'leakhunt rules list' shows the ids")),
    ("exclude_paths = [1]\n", "'exclude_paths' must be a list of strings"),
    ("allowlist = []\n", "'allowlist' must be a table with 'values' and 'patterns'"),
    ('[allowlist]\nvalue = ["x"]\n', "unknown allowlist setting(s) value; known settings: patterns, values"),
    ('[allowlist]\npatterns = ["(unclosed"]\n', ("invalid allowlist pattern '(unclosed': missing ), unterminated "
                                                 "subpattern at position 0")),
    ('rule_files = ["rules/*.toml"]\n', "rule_files pattern 'rules/*.toml' matches no file"),
    ("migrate = 1\n", "'migrate' must be a table"),
    ('[[rules]]\nid = "x-key"\nname = "X"\npattern = "(x"\n',
     "rule x-key: invalid pattern: missing ), unterminated subpattern at position 0"),
    ('[[rules]]\nid = "x-key"\nname = "X"\npattern = "x+"\nseverity = "high"\n', "rule x-key: unknown key(s) severity"),
]


@pytest.mark.parametrize(("text", "message"), INVALID_SETTINGS, ids=[text.split()[0] + str(index)
                                                                    for index, (text, _) in enumerate(INVALID_SETTINGS)])
def test_invalid_setting_one_line(leakhunt, tmp_path, text, message):
    config = tmp_path / "leakhunt.toml"
    config.write_text(text)

    run = leakhunt("scan", tmp_path)

    assert_config_error(run, f"{config}: {message}")


def test_explicit_pyproject_without_table(leakhunt, tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "demo"\n')

    run = leakhunt("scan", tmp_path, "--config", pyproject)

    assert_config_error(run, f"{pyproject}: no [tool.leakhunt] table")
