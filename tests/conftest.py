"""Fixtures shared by the tests: real git repositories in temporary folders and token makers."""

from __future__ import annotations

import json
import os
import random
import string
import subprocess
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from leakhunt.cli.main import main
from leakhunt.validators import base62

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
AWS_BASE32 = string.ascii_uppercase + "234567"
FIXED_DATE = "2024-01-01T00:00:00+00:00"


def github_token(rng: random.Random) -> str:
    """Return a classic GitHub token in the public format: ghp_, 30 base62, 6-character CRC32."""
    payload = "".join(rng.choice(BASE62) for _ in range(30))
    return f"ghp_{payload}{base62(zlib.crc32(payload.encode('ascii')), 6)}"


def aws_key_id(rng: random.Random) -> str:
    """Return an AWS access key id in the public format: AKIA and 16 base32 characters with a digit."""
    body = "".join(rng.choice(AWS_BASE32) for _ in range(15)) + rng.choice("234567")
    return f"AKIA{body}"


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    return random.Random(request.node.name)


def git_environment(date: str = FIXED_DATE) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    environment.update(
        GIT_AUTHOR_NAME="Test Author", GIT_AUTHOR_EMAIL="author@example.invalid", GIT_AUTHOR_DATE=date,
        GIT_COMMITTER_NAME="Test Author", GIT_COMMITTER_EMAIL="author@example.invalid", GIT_COMMITTER_DATE=date,
        GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
    )
    return environment


@dataclass
class GitRepo:
    """A real repository in a temporary folder with a fixed author and commit dates."""

    path: Path

    def git(self, *arguments: str, date: str = FIXED_DATE, check: bool = True) -> str:
        completed = subprocess.run(["git", *arguments], cwd=self.path, env=git_environment(date),
                                   capture_output=True, text=True)
        if check and completed.returncode != 0:
            raise AssertionError(f"git {' '.join(arguments)} failed: {completed.stderr}")
        return completed.stdout.strip()

    def write(self, files: Mapping[str, str | bytes]) -> None:
        for name, content in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)

    def commit(self, message: str, files: Mapping[str, str | bytes] | None = None, date: str = FIXED_DATE) -> str:
        """Write `files`, stage everything and commit; return the new commit id."""
        self.write(files or {})
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, date=date)
        return self.git("rev-parse", "HEAD")


def init_repo(path: Path) -> GitRepo:
    path.mkdir(parents=True, exist_ok=True)
    repo = GitRepo(path)
    repo.git("-c", "init.defaultBranch=main", "init", "-q", ".")
    repo.git("config", "commit.gpgsign", "false")
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return init_repo(tmp_path / "repo")


@dataclass(frozen=True)
class Run:
    """The outcome of one leakhunt command: exit status, JSON report (if any) and standard error."""

    status: int
    report: dict | None
    stderr: str
    stdout: str = ""

    @property
    def findings(self) -> list[dict]:
        assert self.report is not None, f"no report; stderr: {self.stderr}"
        return self.report["findings"]

    def locations(self) -> list[tuple[str, int, str]]:
        return [(finding["path"], finding["line"], finding["rule"]) for finding in self.findings]


@pytest.fixture
def leakhunt(tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]):
    """Run the leakhunt command line in this process with a JSON report written outside the scanned folders."""
    reports = tmp_path_factory.mktemp("reports")
    counter = iter(range(1000))

    def run(*arguments: str, report: bool = True) -> Run:
        report_path = reports / f"report-{next(counter)}.json"
        extra = ["--format", "json", "--show-secrets", "--no-progress", "--output", str(report_path)] if report else []
        capsys.readouterr()
        status = main([*arguments, *extra])
        captured = capsys.readouterr()
        document = json.loads(report_path.read_text()) if report and report_path.exists() else None
        return Run(status, document, captured.err, captured.out)

    return run
