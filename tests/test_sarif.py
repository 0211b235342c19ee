"""The SARIF report of a real scan, validated against the published OASIS SARIF 2.1.0 schema."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import jsonschema
import pytest
from scan_cli import github_token, leakhunt_fixture  # noqa: F401 - the fixture `leakhunt`

SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, dict[bytes, str]]:
    """A tree whose names need percent-encoding, one token per file, and one binary file."""
    rng = random.Random("sarif-tree")
    lines = {
        b"src/app.py": '名前 = "{token}"\n',
        b"a b/settings.py": "TOKEN = {token}\n",
        "café/.env".encode(): "TOKEN={token}\n",
        b"legacy-\xe9.env": "TOKEN={token}\n",
        b"100%#x:y?.txt": "token: {token}\n",
    }
    tokens = {}
    for name, template in lines.items():
        path = os.path.join(os.fsencode(tmp_path), name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tokens[name] = github_token(rng)
        with open(path, "wb") as handle:
            handle.write(template.format(token=tokens[name]).encode("utf-8"))
    (tmp_path / "image.bin").write_bytes(b"\x00\x01\x02" * 10)
    return tmp_path, tokens


def results_by_uri(document: dict) -> dict[str, dict]:
    results = document["runs"][0]["results"]
    return {result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: result for result in results}


def test_sarif_validates_against_oasis_schema(leakhunt, tree, sarif_validator):
    root, _ = tree

    run = leakhunt("scan", root, "--format", "sarif")
    document = json.loads(run.stdout)

    assert run.returncode == 1
    errors = sorted(sarif_validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    assert [f"{list(error.absolute_path)}: {error.message}" for error in errors] == []
    assert document["version"] == "2.1.0"


def test_sarif_uris_percent_encoded(leakhunt, tree):
    root, _ = tree

    document = json.loads(leakhunt("scan", root, "--format", "sarif").stdout)
    run = document["runs"][0]

    assert sorted(results_by_uri(document)) == sorted([
        "src/app.py",
        "a%20b/settings.py",
        "caf%C3%A9/.env",
        "legacy-%E9.env",
        "100%25%23x%3Ay%3F.txt",
    ])
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": root.as_uri() + "/"}}
    assert {result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"]
            for result in run["results"]} == {"%SRCROOT%"}


def test_sarif_columns_in_code_points(leakhunt, tree):
    root, _ = tree

    document = json.loads(leakhunt("scan", root, "--format", "sarif").stdout)
    region = results_by_uri(document)["src/app.py"]["locations"][0]["physicalLocation"]["region"]

    assert document["runs"][0]["columnKind"] == "unicodeCodePoints"
    # `名前 = "` is 6 code points but 10 bytes, so the token starts at column 7.
    assert region == {"startLine": 1, "startColumn": 7}


def test_sarif_fingerprints_match_json_report(leakhunt, tree):
    root, _ = tree

    sarif = json.loads(leakhunt("scan", root, "--format", "sarif").stdout)
    report = json.loads(leakhunt("scan", root, "--format", "json").stdout)
    fingerprints = sorted(result["partialFingerprints"]["leakhunt/v1"] for result in sarif["runs"][0]["results"])

    assert fingerprints == sorted(finding["fingerprint"] for finding in report["findings"])
    assert len(set(fingerprints)) == 5


def test_sarif_rule_descriptors_have_help(leakhunt, tree):
    root, _ = tree

    document = json.loads(leakhunt("scan", root, "--format", "sarif").stdout)
    driver = document["runs"][0]["tool"]["driver"]
    descriptor = driver["rules"][0]

    assert [rule["id"] for rule in driver["rules"]] == ["github-pat-classic"]
    assert descriptor["helpUri"].startswith("https://")
    assert descriptor["help"]["text"]
    assert descriptor["shortDescription"] == {"text": "GitHub personal access token (classic)"}
    assert descriptor["defaultConfiguration"] == {"level": "error"}
    assert descriptor["properties"]["security-severity"] == "8.0"
    assert {result["ruleIndex"] for result in document["runs"][0]["results"]} == {0}


def test_sarif_message_redacted_by_default(leakhunt, tree):
    root, tokens = tree

    run = leakhunt("scan", root, "--format", "sarif")
    result = results_by_uri(json.loads(run.stdout))["a%20b/settings.py"]

    assert result["message"] == {"text": "GitHub personal access token (classic) found: ghp_*****"}
    assert result["properties"]["redacted"] is True
    for token in tokens.values():
        assert token not in run.stdout
        assert token[4:] not in run.stdout


def test_sarif_message_shows_secret_on_request(leakhunt, tree):
    root, tokens = tree

    run = leakhunt("scan", root, "--format", "sarif", "--show-secrets")
    result = results_by_uri(json.loads(run.stdout))["a%20b/settings.py"]

    assert result["message"] == {"text": f"GitHub personal access token (classic) found: {tokens[b'a b/settings.py']}"}
    assert result["properties"]["redacted"] is False


def test_sarif_reports_skipped_files(leakhunt, tree):
    root, _ = tree

    document = json.loads(leakhunt("scan", root, "--format", "sarif").stdout)
    invocation = document["runs"][0]["invocations"][0]

    assert invocation["executionSuccessful"] is True
    assert invocation["toolExecutionNotifications"] == [{
        "level": "note",
        "message": {"text": "not scanned: binary"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "image.bin", "uriBaseId": "%SRCROOT%"}}}],
    }]


def test_sarif_clean_scan_valid(leakhunt, tmp_path, sarif_validator):
    (tmp_path / "readme.md").write_text("nothing to see\n")

    run = leakhunt("scan", tmp_path, "--format", "sarif")
    document = json.loads(run.stdout)

    assert run.returncode == 0
    assert list(sarif_validator.iter_errors(document)) == []
    assert document["runs"][0]["results"] == []
    assert document["runs"][0]["tool"]["driver"]["rules"] == []
