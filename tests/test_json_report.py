"""The JSON report: real output validated against the JSON Schema that ships in the package."""

from __future__ import annotations

import json
import os
import random
import stat
import threading

import jsonschema
import pytest
from scan_cli import aws_key_id, finding_rows, github_token, leakhunt_fixture  # noqa: F401 - the fixture `leakhunt`

from leakhunt.findings import Finding, Provenance, fingerprint
from leakhunt.report import json_report
from leakhunt.scan import ScanResult


@pytest.fixture(scope="module")
def report_validator() -> jsonschema.Draft202012Validator:
    schema = json_report.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def schema_errors(validator: jsonschema.Draft202012Validator, document: dict) -> list[str]:
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(document)]


@pytest.fixture
def tree(tmp_path):
    rng = random.Random("json-tree")
    github, aws = github_token(rng), aws_key_id(rng)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "env.sh").write_text(f"export GH_TOKEN={github}\nexport AWS_ACCESS_KEY_ID={aws}\n")
    with open(os.path.join(os.fsencode(tmp_path), b"old-\xe9.cfg"), "wb") as handle:
        handle.write(f"token = {github}\n".encode())
    (tmp_path / "blob.bin").write_bytes(b"\x00" * 16)
    return tmp_path, github, aws


def test_report_validates_against_schema(leakhunt, tree, report_validator):
    root, _, _ = tree

    run = leakhunt("scan", root, "--format", "json")

    assert run.returncode == 1
    assert schema_errors(report_validator, run.report()) == []


def test_report_fields_exact(leakhunt, tree):
    root, github, aws = tree

    _, report = leakhunt.scan_json(root)

    assert report["version"] == 1
    assert report["tool"]["name"] == "leakhunt"
    assert report["target"] == str(root)
    assert finding_rows(report) == [
        ("deploy/env.sh", 1, 17, "github-pat-classic", github),
        ("deploy/env.sh", 2, 26, "aws-access-key-id", aws),
        ("old-\ufffd.cfg", 1, 9, "github-pat-classic", github),
    ]
    first = report["findings"][0]
    assert first["rule_name"] == "GitHub personal access token (classic)"
    assert first["confidence"] == "high"
    assert first["redacted"] is False
    assert first["fingerprint"] == fingerprint("github-pat-classic", "deploy/env.sh", github)
    assert report["skipped"] == [{"path": "blob.bin", "reason": "binary"}]
    assert report["notices"] == []
    assert report["stats"]["files_scanned"] == 2
    assert report["stats"]["bytes_scanned"] == (root / "deploy" / "env.sh").stat().st_size + len(f"token = {github}\n")


def test_report_redacts_by_default(leakhunt, tree):
    root, github, aws = tree

    run = leakhunt("scan", root, "--format", "json")
    secrets = [(finding["secret"], finding["redacted"]) for finding in run.report()["findings"]]

    assert secrets == [("ghp_*****", True), ("AKIA*****", True), ("ghp_*****", True)]
    assert github[4:] not in run.stdout
    assert aws[4:] not in run.stdout


def test_report_strictly_valid_unicode(leakhunt, tree):
    root, _, _ = tree

    run = leakhunt("scan", root, "--format", "json")

    assert "\\udc" not in run.stdout
    run.stdout.encode("utf-8", "strict")
    assert [finding["path"] for finding in run.report()["findings"]][-1] == "old-\ufffd.cfg"


def test_history_finding_validates(report_validator):
    commit = "3f" * 20
    provenance = Provenance(path="app/settings.py", commit=commit, author="Ada Example", email="ada@example.invalid",
                            date="2024-03-01T12:00:00+00:00", commits=(commit, "4e" * 20))
    finding = Finding(rule_id="github-pat-classic", rule_name="GitHub personal access token (classic)",
                      confidence="high", provenance=provenance, line=3, column=9, secret="ghp_*****",
                      fingerprint=fingerprint("github-pat-classic", "app/settings.py", "unused"), redacted=True)

    document = json_report.build_document(ScanResult(findings=(finding,)), ".")
    record = document["findings"][0]

    assert schema_errors(report_validator, document) == []
    assert (record["commit"], record["author"], record["email"]) == (commit, "Ada Example", "ada@example.invalid")
    assert record["date"] == "2024-03-01T12:00:00+00:00"
    assert record["commits"] == [commit, "4e" * 20]


def test_schema_rejects_malformed_reports(report_validator):
    base = json_report.build_document(ScanResult(findings=()), ".")
    finding = {"rule": "x-token", "rule_name": "X", "confidence": "high", "path": "a", "line": 1, "column": 1,
               "secret": "s", "redacted": False, "fingerprint": "x-token:a:0123456789abcdef"}

    assert schema_errors(report_validator, base) == []
    assert schema_errors(report_validator, {**base, "findings": [finding]}) == []
    assert schema_errors(report_validator, {**base, "version": 2}) == ["['version']: 1 was expected"]
    assert schema_errors(report_validator, {**base, "findings": [{**finding, "line": 0}]}) == [
        "['findings', 0, 'line']: 0 is less than the minimum of 1"]
    assert schema_errors(report_validator, {**base, "findings": [{**finding, "commit": "ab" * 20}]}) == [
        "['findings', 0]: 'author' is a dependency of 'commit'",
        "['findings', 0]: 'email' is a dependency of 'commit'",
        "['findings', 0]: 'date' is a dependency of 'commit'",
    ]


def test_report_into_fifo_keeps_fifo(leakhunt, tree, tmp_path_factory):
    root, github, aws = tree
    fifo = tmp_path_factory.mktemp("pipe") / "report.fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text(encoding="utf-8")), daemon=True)
    reader.start()

    run = leakhunt("scan", root, "--format", "json", "--show-secrets", "--output", fifo)
    reader.join(timeout=30)

    assert run.returncode == 1, run.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert [row[3:] for row in finding_rows(json.loads(received[0]))] == [
        ("github-pat-classic", github),
        ("aws-access-key-id", aws),
        ("github-pat-classic", github),
    ]
