"""`leakhunt scan --git`: every blob of the history once, attributed to the commit that added it."""

from __future__ import annotations

import base64
import io
import os
import random
import subprocess
import sys
from pathlib import Path

from conftest import FIXED_DATE, GitRepo, github_token, init_repo
from test_archives import zip_bytes
from test_notebooks import code_cell, notebook

from leakhunt.inputs.history import missing_ids


def test_history_finds_removed_secret_with_provenance(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    token = github_token(rng)
    added = repo.commit("add settings", {"settings.py": f"DEBUG = False\nTOKEN = '{token}'\n"},
                        date="2024-02-03T04:05:06+00:00")
    repo.commit("remove token", {"settings.py": "DEBUG = False\n"})

    result = leakhunt("scan", str(repo.path), "--git")

    assert result.status == 1
    assert result.locations() == [("settings.py", 2, "github-pat-classic")]
    finding = result.findings[0]
    assert finding["secret"] == token
    assert finding["commit"] == added
    assert finding["author"] == "Test Author"
    assert finding["email"] == "author@example.invalid"
    assert finding["date"] == "2024-02-03T04:05:06+00:00"
    assert "commits" not in finding


def test_history_merge_resolution_attributed_to_merge(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    token = github_token(rng)
    repo.commit("base", {"config.env": "LOG_LEVEL=info\nCACHE=on\n"})
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("side: cache off", {"config.env": "LOG_LEVEL=info\nCACHE=off\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main: redis cache", {"config.env": "LOG_LEVEL=info\nCACHE=redis\n"})
    repo.git("merge", "-q", "side", "-m", "merge side", check=False)
    merge = repo.commit("merge side", {"config.env": f"LOG_LEVEL=info\nCACHE=redis\nGITHUB_TOKEN={token}\n"})
    repo.commit("drop token", {"config.env": "LOG_LEVEL=info\nCACHE=redis\n"})
    assert len(repo.git("rev-list", "--parents", "-n", "1", merge).split()) == 3

    result = leakhunt("scan", str(repo.path), "--git")

    assert result.locations() == [("config.env", 3, "github-pat-classic")]
    assert result.findings[0]["commit"] == merge
    assert result.findings[0]["secret"] == token


def test_history_copy_reported_per_path(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    content = f"TOKEN = '{github_token(rng)}'\n"
    first = repo.commit("add", {"a.py": content}, date="2024-01-01T00:00:00+00:00")
    repo.git("checkout", "-q", "-b", "copy")
    second = repo.commit("copy", {"b.py": content}, date="2024-01-02T00:00:00+00:00")

    result = leakhunt("scan", str(repo.path), "--git")

    assert result.locations() == [("a.py", 1, "github-pat-classic"), ("b.py", 1, "github-pat-classic")]
    assert [finding["commit"] for finding in result.findings] == [first, second]
    assert result.report["stats"]["files_scanned"] == 1


def test_history_all_commits_lists_readditions(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    content = f"TOKEN = '{github_token(rng)}'\n"
    first = repo.commit("add", {"a.py": content}, date="2024-01-01T00:00:00+00:00")
    repo.git("rm", "-q", "a.py")
    repo.commit("remove", date="2024-01-02T00:00:00+00:00")
    again = repo.commit("restore", {"a.py": content}, date="2024-01-03T00:00:00+00:00")

    result = leakhunt("scan", str(repo.path), "--git", "--all-commits")
    text = leakhunt("scan", str(repo.path), "--git", "--all-commits", report=False)

    assert result.locations() == [("a.py", 1, "github-pat-classic")]
    assert (result.findings[0]["commit"], result.findings[0]["commits"]) == (first, [first, again])
    assert text.stdout.splitlines()[3].strip() == f"also added by 1 commit: {again[:12]}"


def test_history_since_scans_later_commits_only(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    early, late = github_token(rng), github_token(rng)
    repo.commit("early", {"old.py": f"TOKEN = '{early}'\n"})
    boundary = repo.commit("docs", {"README.md": "# app\n"})
    later = repo.commit("late", {"new.py": f"x = 1\nTOKEN = '{late}'\n"})

    result = leakhunt("scan", str(repo.path), "--git", "--since", boundary)

    assert result.locations() == [("new.py", 2, "github-pat-classic")]
    assert result.findings[0]["commit"] == later
    full = leakhunt("scan", str(repo.path), "--git")
    assert full.locations() == [("new.py", 2, "github-pat-classic"), ("old.py", 1, "github-pat-classic")]


def test_history_branch_limits_scan(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    repo.commit("base", {"README.md": "# app\n"})
    repo.git("checkout", "-q", "-b", "feature")
    feature = repo.commit("feature", {"feature.py": f"TOKEN = '{github_token(rng)}'\n"})
    repo.git("checkout", "-q", "main")

    on_main = leakhunt("scan", str(repo.path), "--git", "--branch", "main")
    on_feature = leakhunt("scan", str(repo.path), "--git", "--branch", "feature")

    assert on_main.status == 0
    assert on_main.findings == []
    assert on_feature.locations() == [("feature.py", 1, "github-pat-classic")]
    assert on_feature.findings[0]["commit"] == feature


def test_history_shallow_clone_scanned_with_notice(tmp_path: Path, rng: random.Random, leakhunt) -> None:
    origin = init_repo(tmp_path / "origin")
    origin.commit("c1", {"README.md": "# app\n"})
    origin.commit("c2", {"settings.py": f"DEBUG = False\nGITHUB_TOKEN = '{github_token(rng)}'\n"})
    origin.commit("c3", {"README.md": "# app\nmore docs\n"})
    clone = tmp_path / "clone"
    origin.git("clone", "-q", "--depth", "1", f"file://{origin.path}", str(clone))

    result = leakhunt("scan", str(clone), "--git")

    assert result.locations() == [("settings.py", 2, "github-pat-classic")]
    assert result.findings[0]["commit"] == origin.git("rev-parse", "HEAD")
    assert [notice for notice in result.report["notices"] if notice.startswith("history is shallow: ")] != []


def test_history_lists_submodules_as_not_scanned(repo: GitRepo, leakhunt) -> None:
    repo.commit("base", {"README.md": "# app\n"})
    pinned = repo.git("rev-parse", "HEAD")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{pinned},vendor/lib")
    repo.git("commit", "-q", "-m", "add submodule")

    result = leakhunt("scan", str(repo.path), "--git")

    assert result.status == 0
    assert "submodules are not scanned: vendor/lib" in result.report["notices"]


def test_history_counts_binary_and_large_blobs(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    token = github_token(rng)
    repo.commit("add", {"image.bin": b"\x00\x01" + token.encode() + b"\n",
                        "large.txt": ("x" * 2000 + "\n") + f"TOKEN = '{token}'\n"})

    result = leakhunt("scan", str(repo.path), "--git", "--max-file-size", "0.001")

    assert result.findings == []
    assert "skipped 1 binary blob(s)" in result.report["notices"]
    assert "skipped 1 blob(s) larger than the size limit (1.0 KiB)" in result.report["notices"]


def test_history_decodes_utf16_blob(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    token = github_token(rng)
    repo.commit("add", {"secrets.ps1": "\ufeff# deploy\r\n$token = '{}'\r\n".format(token).encode("utf-16-le")})

    result = leakhunt("scan", str(repo.path), "--git")

    assert result.locations() == [("secrets.ps1", 2, "github-pat-classic")]
    assert result.findings[0]["secret"] == token


def test_history_in_worker_pool(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    token = github_token(rng)
    line = "".join(rng.choice("abcdefgh ") for _ in range(99)) + "\n"
    filler = {f"data/part{index}.txt": f"part {index}\n" + line * 12000 for index in range(5)}
    repo.commit("bulk", {**filler, "data/z.txt": line * 100 + f"TOKEN = '{token}'\n"})

    result = leakhunt("scan", str(repo.path), "--git", "--jobs", "2")

    assert result.locations() == [("data/z.txt", 101, "github-pat-classic")]
    assert result.report["stats"]["files_scanned"] == 6


def test_history_unknown_branch_is_one_line_error(repo: GitRepo) -> None:
    repo.commit("base", {"README.md": "# app\n"})

    completed = subprocess.run([sys.executable, "-m", "leakhunt", "scan", str(repo.path), "--git", "--branch", "nope"],
                               capture_output=True, text=True)

    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        f"leakhunt: error: unknown branch 'nope' in {repo.path / '.git'}: no such commit, branch or tag"]


def test_history_unknown_since_is_error(repo: GitRepo, leakhunt) -> None:
    repo.commit("base", {"README.md": "# app\n"})

    result = leakhunt("scan", str(repo.path), "--git", "--since", "v9.9")

    assert result.status == 2
    assert result.report is None
    assert result.stderr == (f"leakhunt: error: unknown revision 'v9.9' in {repo.path / '.git'}: "
                             "no such commit, branch or tag\n")


def test_history_not_a_repository_is_error(tmp_path: Path, leakhunt) -> None:
    (tmp_path / "plain").mkdir()
    os.environ["GIT_CEILING_DIRECTORIES"] = str(tmp_path)
    try:
        result = leakhunt("scan", str(tmp_path / "plain"), "--git")
    finally:
        del os.environ["GIT_CEILING_DIRECTORIES"]

    assert result.status == 2
    assert result.report is None
    assert result.stderr.startswith(f"leakhunt: error: not a git repository: {tmp_path / 'plain'} (")
    assert len(result.stderr.splitlines()) == 1


def test_history_broken_repository_is_error(repo: GitRepo, leakhunt) -> None:
    first = repo.commit("first", {"a.txt": "a\n"})
    repo.commit("second", {"a.txt": "b\n"})
    (repo.path / ".git" / "objects" / first[:2] / first[2:]).unlink()

    result = leakhunt("scan", str(repo.path), "--git")

    assert result.status == 2
    assert result.stderr.startswith("leakhunt: error: git log failed: ")
    assert len(result.stderr.splitlines()) == 1


def test_history_broken_branch_is_error(repo: GitRepo, leakhunt) -> None:
    first = repo.commit("first", {"a.txt": "a\n"})
    repo.commit("second", {"a.txt": "b\n"})
    (repo.path / ".git" / "objects" / first[:2] / first[2:]).unlink()

    result = leakhunt("scan", str(repo.path), "--git", "--branch", "main")

    assert result.status == 2
    assert result.stderr.startswith(f"leakhunt: error: git rev-list failed in {repo.path / '.git'}: ")
    assert len(result.stderr.splitlines()) == 1


def test_history_bare_repository(tmp_path: Path, repo: GitRepo, rng: random.Random, leakhunt) -> None:
    repo.commit("add", {"key.txt": f"TOKEN = '{github_token(rng)}'\n"})
    bare = tmp_path / "bare.git"
    repo.git("clone", "-q", "--mirror", str(repo.path), str(bare))

    result = leakhunt("scan", str(bare), "--git")

    assert result.locations() == [("key.txt", 1, "github-pat-classic")]
    assert result.findings[0]["date"] == FIXED_DATE


def test_history_reports_secret_once_across_versions(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    token = github_token(rng)
    first = repo.commit("add settings", {"settings.py": f"TOKEN = '{token}'\nDEBUG = 1\n"},
                        date="2024-01-01T00:00:00+00:00")
    second = repo.commit("debug 2", {"settings.py": f"TOKEN = '{token}'\nDEBUG = 2\n"},
                         date="2024-01-02T00:00:00+00:00")
    third = repo.commit("debug 3", {"settings.py": f"# settings\nTOKEN = '{token}'\nDEBUG = 3\n"},
                        date="2024-01-03T00:00:00+00:00")

    result = leakhunt("scan", str(repo.path), "--git")
    every = leakhunt("scan", str(repo.path), "--git", "--all-commits")

    assert result.locations() == [("settings.py", 1, "github-pat-classic")]
    assert result.findings[0]["commit"] == first
    assert every.locations() == [("settings.py", 1, "github-pat-classic")]
    assert every.findings[0]["commits"] == [first, second, third]


def test_history_decodes_removed_secret(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    token = github_token(rng)
    encoded = base64.b64encode(token.encode("ascii")).decode("ascii")
    manifest = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: ci\ndata:\n  token: {encoded}\n"
    added = repo.commit("add secret", {"deploy/secret.yaml": manifest})
    repo.git("rm", "-q", "deploy/secret.yaml")
    repo.commit("remove secret")

    result = leakhunt("scan", str(repo.path), "--git", "--show-secrets")

    assert result.locations() == [("deploy/secret.yaml", 6, "github-pat-classic")]
    finding = result.findings[0]
    assert (finding["secret"], finding["column"], finding["decoded"], finding["commit"]) == (token, 10, "base64", added)


def test_history_notebook_and_archive(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    in_cell, in_member = github_token(rng), github_token(rng)
    cells = [code_cell(["import os\n"]), code_cell(["# deploy\n", f"TOKEN = '{in_cell}'\n"])]
    bundle = zip_bytes({"app/settings.py": f"DEBUG = False\nGITHUB_TOKEN = '{in_member}'\n"})
    added = repo.commit("add", {"notes/run.ipynb": notebook(cells), "dist/app.zip": bundle})
    repo.git("rm", "-q", "notes/run.ipynb", "dist/app.zip")
    repo.commit("remove")

    result = leakhunt("scan", str(repo.path), "--git", "--show-secrets")

    rows = [(item["path"], item["line"], item.get("cell"), item["secret"], item["commit"]) for item in result.findings]
    assert rows == [
        ("dist/app.zip!app/settings.py", 2, None, in_member, added),
        ("notes/run.ipynb", 2, 2, in_cell, added),
    ]


def test_history_zip_under_other_name_binary(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    repo.commit("add", {"assets/blob.bin": zip_bytes({"settings.py": f"TOKEN = '{github_token(rng)}'\n"})})

    result = leakhunt("scan", str(repo.path), "--git")

    assert result.findings == []
    assert result.report is not None and result.report["notices"] == ["skipped 1 binary blob(s)"]


def test_history_since_reports_copy(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    content = f"TOKEN = '{github_token(rng)}'\n"
    boundary = repo.commit("add", {"app.py": content})
    copied = repo.commit("copy", {"app2.py": content})

    result = leakhunt("scan", str(repo.path), "--git", "--since", boundary)

    assert result.locations() == [("app2.py", 1, "github-pat-classic")]
    assert result.findings[0]["commit"] == copied


def test_history_missing_blob_notice(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    base = repo.commit("base", {"README.md": "# app\n"})
    added = repo.commit("add", {"settings.py": f"TOKEN = '{github_token(rng)}'\n"})
    blob = repo.git("rev-parse", "HEAD:settings.py")
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    notice = ("skipped 1 blob(s) missing from the repository (the repository may be damaged): "
              f"settings.py (added in {added[:12]})")

    every = leakhunt("scan", str(repo.path), "--git")
    branch = leakhunt("scan", str(repo.path), "--git", "--branch", "main")
    since = leakhunt("scan", str(repo.path), "--git", "--since", base)

    for result in (every, branch, since):
        assert (result.status, result.findings, result.report["notices"]) == (0, [], [notice])


def test_missing_ids_across_blocks() -> None:
    first, second = "1" * 40, "2" * 40
    listing = f"?{first}\n{'a' * 40} docs/readme.md\n?{second}".encode()

    for block_bytes in (1, 7, 41, 1024):
        assert missing_ids(io.BytesIO(listing), block_bytes) == [first, second]
