"""The pre-commit hook from `.pre-commit-hooks.yaml`, installed by the real pre-commit tool.

pre-commit clones a copy of this project at a commit and pip-installs it with its
dependencies into its own environment (about 5–10 s here with a warm pip cache), so one
environment is shared by the module's tests.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GitRepo, git_environment, github_token, init_repo

PROJECT = Path(__file__).resolve().parent.parent
PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml", "leakhunt", "rules")


@pytest.fixture(scope="module")
def hook_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Copy the project into a repository of its own and return its path and commit id."""
    source = init_repo(tmp_path_factory.mktemp("hook-source") / "leakhunt")
    for name in PROJECT_FILES:
        origin = PROJECT / name
        if origin.is_dir():
            shutil.copytree(origin, source.path / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        elif origin.exists():
            shutil.copy2(origin, source.path / name)
    return source.path, source.commit("leakhunt at test time")


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def hooked_repo(path: Path, hook_source: tuple[Path, str], home: Path) -> GitRepo:
    repo = init_repo(path)
    source, commit = hook_source
    repo.write({".pre-commit-config.yaml": f"repos:\n  - repo: {source}\n    rev: {commit}\n"
                                           "    hooks:\n      - id: leakhunt\n"})
    completed = subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=path,
                               env={**git_environment(), "PRE_COMMIT_HOME": str(home)}, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    return repo


def commit(repo: GitRepo, home: Path, message: str) -> subprocess.CompletedProcess[str]:
    """Run `git commit`; git sends hook output to standard error, so it is merged into stdout here."""
    return subprocess.run(["git", "commit", "-m", message], cwd=repo.path, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env={**git_environment(), "PRE_COMMIT_HOME": str(home)})


def test_hook_rejects_secret_and_passes_clean(tmp_path: Path, hook_source: tuple[Path, str], pre_commit_home: Path,
                                              rng: random.Random) -> None:
    repo = hooked_repo(tmp_path / "app", hook_source, pre_commit_home)
    token = github_token(rng)
    repo.write({"app.py": f"import os\nTOKEN = '{token}'\n"})
    repo.git("add", "-A")

    rejected = commit(repo, pre_commit_home, "add token")

    assert rejected.returncode != 0
    assert "leakhunt....." in rejected.stdout
    assert "Failed" in rejected.stdout
    assert "2:10  high    github-pat-classic  ghp_*****" in rejected.stdout
    assert token[4:] not in rejected.stdout
    assert repo.git("rev-parse", "--verify", "--quiet", "HEAD", check=False) == ""

    repo.write({"app.py": "import os\nTOKEN = os.environ['TOKEN']\n"})
    repo.git("add", "-A")
    accepted = commit(repo, pre_commit_home, "read token from the environment")

    assert accepted.returncode == 0, accepted.stdout
    assert "Passed" in accepted.stdout
    assert repo.git("log", "--format=%s") == "read token from the environment"


def test_hook_scans_index_not_working_tree(tmp_path: Path, hook_source: tuple[Path, str], pre_commit_home: Path,
                                           rng: random.Random) -> None:
    repo = hooked_repo(tmp_path / "app", hook_source, pre_commit_home)
    repo.write({"notes.md": f"# notes\n{github_token(rng)}\n"})
    repo.git("add", "-A")
    repo.write({"notes.md": "# notes\n"})

    rejected = commit(repo, pre_commit_home, "add notes")

    assert rejected.returncode != 0
    assert "notes.md" in rejected.stdout
    assert "2:1  high    github-pat-classic  ghp_*****" in rejected.stdout
