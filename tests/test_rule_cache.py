"""The cache of parsed rules and compiled databases, through the real command line."""

from __future__ import annotations

import random
import re
import string

import pytest
from scan_cli import finding_rows, github_token, leakhunt_fixture  # noqa: F401 - the fixture `leakhunt`

COMPILED_LINE = re.compile(r"leakhunt: INFO: compiled \d+ rules into Hyperscan databases in [0-9.]+ s")
RULE_FILE = """
[[rules]]
id = "acme-api-key"
name = "Acme API key"
pattern = '''\\b({prefixes}_[a-z0-9]{{24}})\\b'''
confidence = "high"
"""


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    return random.Random(request.node.name)


def api_key(rng: random.Random, prefix: str) -> str:
    return prefix + "_" + "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(24))


def compile_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if COMPILED_LINE.fullmatch(line)]


def test_second_run_loads_from_cache(leakhunt, tmp_path_factory, rng):
    cache = tmp_path_factory.mktemp("cache")
    tree = tmp_path_factory.mktemp("tree")
    token = github_token(rng)
    (tree / "app.py").write_text(f"TOKEN = '{token}'\n")
    environment = {"XDG_CACHE_HOME": str(cache)}

    first = leakhunt("-v", "scan", tree, "--format", "json", "--show-secrets", env=environment)
    second = leakhunt("-v", "scan", tree, "--format", "json", "--show-secrets", env=environment)

    assert len(compile_lines(first.stderr)) == 1
    assert compile_lines(second.stderr) == []
    assert len(list((cache / "leakhunt").glob("rules-*.hsdb"))) == 1
    assert list((cache / "leakhunt").glob("parsed-*.json")) != []
    assert finding_rows(first.report()) == [("app.py", 1, 10, "github-pat-classic", token)]
    assert finding_rows(second.report()) == finding_rows(first.report())


def test_edited_rule_file_invalidates_cache(leakhunt, tmp_path_factory, rng):
    cache = tmp_path_factory.mktemp("cache")
    project = tmp_path_factory.mktemp("project")
    acme, zeta = api_key(rng, "acme"), api_key(rng, "zeta")
    (project / "rules").mkdir()
    rule_file = project / "rules" / "acme.toml"
    rule_file.write_text(RULE_FILE.format(prefixes="acme"))
    (project / "leakhunt.toml").write_text('rule_files = ["rules/*.toml"]\nexclude_paths = ["rules", "leakhunt.toml"]\n')
    (project / "keys.env").write_text(f"ACME={acme}\nZETA={zeta}\n")
    environment = {"XDG_CACHE_HOME": str(cache)}

    before = leakhunt("-v", "scan", project, "--format", "json", "--show-secrets", env=environment)
    rule_file.write_text(RULE_FILE.format(prefixes="(?:acme|zeta)"))
    after = leakhunt("-v", "scan", project, "--format", "json", "--show-secrets", env=environment)

    assert finding_rows(before.report()) == [("keys.env", 1, 6, "acme-api-key", acme)]
    assert finding_rows(after.report()) == [
        ("keys.env", 1, 6, "acme-api-key", acme),
        ("keys.env", 2, 6, "acme-api-key", zeta),
    ]
    assert len(compile_lines(after.stderr)) == 1
    assert len(list((cache / "leakhunt").glob("rules-*.hsdb"))) == 2


def test_unwritable_cache_still_scans(leakhunt, tmp_path_factory, rng):
    blocker = tmp_path_factory.mktemp("cache") / "not-a-folder"
    blocker.write_text("a file where the cache folder would be\n")
    tree = tmp_path_factory.mktemp("tree")
    token = github_token(rng)
    (tree / "app.py").write_text(f"TOKEN = '{token}'\n")

    run = leakhunt("scan", tree, "--format", "json", "--show-secrets", env={"XDG_CACHE_HOME": str(blocker)})

    assert run.returncode == 1
    assert run.stderr == ""
    assert finding_rows(run.report()) == [("app.py", 1, 10, "github-pat-classic", token)]
