"""Tree scans of inputs that other scanners have mishandled: encodings, look-alike ids, devices, names."""

from __future__ import annotations

import codecs
import os
import random
import subprocess

import pytest
from scan_cli import finding_rows, github_token, leakhunt_fixture  # noqa: F401 - the fixture `leakhunt`


@pytest.fixture
def rng(request) -> random.Random:
    return random.Random(request.node.name)


def git_commit_all(folder) -> None:
    """Make `folder` a git repository with everything in it committed."""
    environment = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
                   "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid"}
    for command in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "add files"]):
        subprocess.run(["git", "-c", "commit.gpgsign=false", *command], cwd=folder, env=environment, check=True)


def test_utf16le_config_token_at_line_2(leakhunt, tmp_path, rng):
    token = github_token(rng)
    text = f"; deployment settings\r\ngithub_token = {token}\r\nregion = eu-west-1\r\n"
    (tmp_path / "deploy.conf").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("deploy.conf", 2, 16, "github-pat-classic", token)]


def test_english_identifier_not_aws_key(leakhunt, tmp_path):
    (tmp_path / "regions.py").write_text(
        "REGION_GROUPS = {\n"
        '    "ASIAANDPACIFICREGION": ["ap-south-1", "ap-northeast-1"],\n'
        '    "ASIAPACIFICSOUTHEAST": ["ap-southeast-1", "ap-southeast-2"],\n'
        "}\n"
    )

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 0
    assert report["findings"] == []
    assert report["stats"]["files_scanned"] == 1


def test_device_links_not_read(leakhunt, tmp_path, rng):
    token = github_token(rng)
    (tmp_path / "config.py").write_text(f'GITHUB_TOKEN = "{token}"\n')
    git_commit_all(tmp_path)
    os.symlink("/dev/random", tmp_path / ".leakhuntignore")
    os.symlink("/dev/zero", tmp_path / "dump.log")

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("config.py", 1, 17, "github-pat-classic", token)]
    assert report["skipped"] == []
    assert report["stats"]["files_scanned"] == 1


def test_unusual_file_names_found(leakhunt, tmp_path, rng):
    tokens = {name: github_token(rng) for name in (b"a b/settings.py", "café/.env".encode(), b"old-\xe9.env")}
    for name, token in tokens.items():
        path = os.path.join(os.fsencode(tmp_path), name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(f"SECRET={token}\n".encode())
    git_commit_all(tmp_path)

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [
        ("a b/settings.py", 1, 8, "github-pat-classic", tokens[b"a b/settings.py"]),
        ("café/.env", 1, 8, "github-pat-classic", tokens["café/.env".encode()]),
        ("old-\ufffd.env", 1, 8, "github-pat-classic", tokens[b"old-\xe9.env"]),
    ]
