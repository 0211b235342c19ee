"""Run the real `leakhunt` command line in a subprocess, and make secret-shaped test inputs.

Test modules import `leakhunt_fixture`, the fixture named `leakhunt`, from here. Every run gets standard input from
/dev/null and pipes for its output, as in CI, and a shared rule cache in a temporary folder
instead of the user's cache.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import string
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
AWS_BASE32 = string.ascii_uppercase + "234567"
RUN_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Run:
    """The outcome of one `leakhunt` process."""

    returncode: int
    stdout: str
    stderr: str

    def report(self) -> dict[str, Any]:
        """Parse standard output as a JSON report, rejecting strings that are not valid Unicode."""
        document = json.loads(self.stdout)
        json.dumps(document, ensure_ascii=False).encode("utf-8")
        return document

    @property
    def stderr_lines(self) -> list[str]:
        return self.stderr.splitlines()


@dataclass(frozen=True)
class Leakhunt:
    """Runs `python -m leakhunt` with a private rule cache."""

    cache_dir: Path

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        environment = {key: value for key, value in os.environ.items() if key not in ("FORCE_COLOR", "NO_COLOR")}
        environment["XDG_CACHE_HOME"] = str(self.cache_dir)
        environment.update(extra or {})
        return environment

    def __call__(self, *args: str | os.PathLike[str] | bytes, cwd: Path | None = None,
                 env: dict[str, str] | None = None, honour_file_modes: bool = False) -> Run:
        """Run `leakhunt ARGS`.

        With `honour_file_modes`, a root test run drops the capabilities that let root read
        any file (through `setpriv`), so a mode-000 file cannot be read.
        """
        prefix: list[str] = []
        if honour_file_modes and os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                pytest.skip("running as root without setpriv (util-linux): root reads mode-000 files")
            prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search"]
        completed = subprocess.run(
            [*prefix, sys.executable, "-m", "leakhunt", *args],
            check=False,
            cwd=cwd,
            env=self.environment(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=RUN_TIMEOUT_SECONDS,
        )
        return Run(
            completed.returncode,
            completed.stdout.decode("utf-8", "surrogateescape"),
            completed.stderr.decode("utf-8", "surrogateescape"),
        )

    def scan_json(self, target: Path | bytes | str, *args: str, cwd: Path | None = None) -> tuple[Run, dict[str, Any]]:
        """Scan `target` with `--format json --show-secrets` and return the run and its report."""
        run = self("scan", target, "--format", "json", "--show-secrets", *args, cwd=cwd)
        assert run.returncode in (0, 1), run.stderr
        return run, run.report()


@pytest.fixture(scope="session", name="leakhunt")
def leakhunt_fixture(tmp_path_factory: pytest.TempPathFactory) -> Leakhunt:
    return Leakhunt(tmp_path_factory.mktemp("rule-cache"))


def base62(number: int, width: int) -> str:
    digits = ""
    while number:
        number, remainder = divmod(number, 62)
        digits = BASE62[remainder] + digits
    return digits.rjust(width, "0")


def github_token(rng: random.Random, prefix: str = "ghp_") -> str:
    """Return a random GitHub-format token: prefix, 30 base62 characters and their CRC32 in base62."""
    payload = "".join(rng.choice(BASE62) for _ in range(30))
    return prefix + payload + base62(zlib.crc32(payload.encode("ascii")), 6)


def aws_key_id(rng: random.Random) -> str:
    """Return a random AWS access key id with at least one digit, as real ones almost always have."""
    body = [rng.choice(AWS_BASE32) for _ in range(15)] + [rng.choice("234567")]
    rng.shuffle(body)
    return "AKIA" + "".join(body)


def finding_rows(report: dict[str, Any]) -> list[tuple[str, int, int, str, str]]:
    """Return (path, line, column, rule, secret) of each finding, in report order."""
    return [(item["path"], item["line"], item["column"], item["rule"], item["secret"]) for item in report["findings"]]
