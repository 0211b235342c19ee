"""`leakhunt scan --staged`: the content that the index would commit, not the working tree."""

from __future__ import annotations

import base64
import random
from pathlib import Path

from conftest import GitRepo, aws_key_id, github_token
from test_archives import zip_bytes


def test_staged_scans_index_not_working_tree(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    key = aws_key_id(rng)
    repo.commit("readme", {"readme.md": "hello\n"})
    repo.write({"readme.md": f"hello\naws_access_key_id = {key}\n"})
    repo.git("add", "readme.md")
    repo.write({"readme.md": "hello\n"})

    result = leakhunt("scan", str(repo.path), "--staged")

    assert result.status == 1
    assert result.locations() == [("readme.md", 2, "aws-access-key-id")]
    assert result.findings[0]["secret"] == key


def test_staged_ignores_unstaged_changes(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    repo.commit("readme", {"readme.md": "hello\n"})
    repo.write({"readme.md": f"hello\nTOKEN = '{github_token(rng)}'\n", "notes.txt": f"{github_token(rng)}\n"})

    result = leakhunt("scan", str(repo.path), "--staged")

    assert result.status == 0
    assert result.findings == []


def test_staged_without_commits(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    first, second = github_token(rng), aws_key_id(rng)
    repo.write({"a_first.py": f"GITHUB_TOKEN = '{first}'\n", "b_config.yml": f"# config\nkey_id: {second}\n"})
    repo.git("add", "a_first.py", "b_config.yml")

    result = leakhunt("scan", str(repo.path), "--staged")

    assert result.locations() == [("a_first.py", 1, "github-pat-classic"), ("b_config.yml", 2, "aws-access-key-id")]
    assert [finding["secret"] for finding in result.findings] == [first, second]


def test_staged_skips_unchanged_and_deleted_files(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    repo.commit("old", {"old.py": f"TOKEN = '{github_token(rng)}'\n", "gone.py": f"TOKEN = '{github_token(rng)}'\n"})
    repo.git("rm", "-q", "gone.py")
    repo.write({"new.py": "x = 1\n"})
    repo.git("add", "new.py")

    result = leakhunt("scan", str(repo.path), "--staged")

    assert result.status == 0
    assert result.report["stats"]["files_scanned"] == 1


def test_staged_renamed_file_is_scanned(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    repo.commit("old", {"old.py": f"TOKEN = '{github_token(rng)}'\n"})
    repo.git("mv", "old.py", "renamed.py")

    result = leakhunt("scan", str(repo.path), "--staged")

    assert result.locations() == [("renamed.py", 1, "github-pat-classic")]


def test_staged_in_subfolder_reports_relative_paths(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    repo.write({"app/settings.py": f"TOKEN = '{github_token(rng)}'\n", "other/x.py": f"T = '{github_token(rng)}'\n"})
    repo.git("add", "-A")

    result = leakhunt("scan", str(repo.path / "app"), "--staged")

    assert result.locations() == [("settings.py", 1, "github-pat-classic")]


def test_staged_bare_repository_is_error(tmp_path: Path, repo: GitRepo, leakhunt) -> None:
    repo.commit("base", {"README.md": "# app\n"})
    bare = tmp_path / "bare.git"
    repo.git("clone", "-q", "--bare", str(repo.path), str(bare))

    result = leakhunt("scan", str(bare), "--staged")

    assert result.status == 2
    assert result.stderr == f"leakhunt: error: --staged needs a work tree, but {bare} is a bare repository\n"


def test_staged_decodes_base64_value(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    token = github_token(rng)
    encoded = base64.b64encode(f"ci:{token}".encode("ascii")).decode("ascii")
    repo.commit("readme", {"readme.md": "hello\n"})
    repo.write({"ci.env": f"# deploy credentials\nAUTH_B64={encoded}\n"})
    repo.git("add", "ci.env")

    result = leakhunt("scan", str(repo.path), "--staged", "--show-secrets")

    assert result.locations() == [("ci.env", 2, "github-pat-classic")]
    assert (result.findings[0]["secret"], result.findings[0]["decoded"]) == (token, "base64")


def test_staged_archive_member(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    token = github_token(rng)
    repo.commit("readme", {"readme.md": "hello\n"})
    repo.write({"lib/vendor.whl": zip_bytes({"vendor/config.py": f"\nAPI_TOKEN = '{token}'\n"})})
    repo.git("add", "lib/vendor.whl")

    result = leakhunt("scan", str(repo.path), "--staged", "--show-secrets")

    assert result.locations() == [("lib/vendor.whl!vendor/config.py", 2, "github-pat-classic")]
    assert result.findings[0]["secret"] == token
    member_size = len(f"\nAPI_TOKEN = '{token}'\n")
    assert (result.report["stats"]["files_scanned"], result.report["stats"]["bytes_scanned"]) == (1, member_size)
