"""Helpers of the migration tests: the moto server handle, running the CLI, file snapshots."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
STARTUP_SECONDS = 30.0


@dataclass(frozen=True)
class MotoServer:
    url: str
    pid: int

    def env(self, **extra: str) -> dict[str, str]:
        """Return an environment that reaches only this server, with fake credentials."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        env.update(FAKE_CREDENTIALS, AWS_ENDPOINT_URL=self.url, **extra)
        return env

    def client(self, service: str, region: str) -> Any:
        import boto3

        return boto3.session.Session(region_name=region, **{key.lower(): value for key, value in FAKE_CREDENTIALS.items()}
                                     ).client(service, endpoint_url=self.url)

    def kms_key(self, region: str, alias: str) -> str:
        """Create a symmetric key with an alias in `region` and return the key's ARN."""
        kms = self.client("kms", region)
        arn = kms.create_key(Description=f"test key {alias}")["KeyMetadata"]["Arn"]
        kms.create_alias(AliasName=alias, TargetKeyId=arn)
        return arn

    def rotation_function(self, region: str, name: str) -> str:
        """Create a Lambda function that moto accepts for rotate_secret and return its ARN."""
        role = self.client("iam", region).create_role(
            RoleName=f"{name}-{region}-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as bundle:
            bundle.writestr("rotate.py", "def handler(event, context):\n    return None\n")
        function = self.client("lambda", region).create_function(
            FunctionName=name, Runtime="python3.12", Role=role, Handler="rotate.handler",
            Code={"ZipFile": archive.getvalue()},
        )
        return function["FunctionArn"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/moto-api/config", timeout=1):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise RuntimeError(f"moto server at {url} did not answer within {STARTUP_SECONDS} s")


def run_leakhunt(arguments: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the leakhunt command line in its own process, as a user would."""
    return subprocess.run([sys.executable, "-m", "leakhunt", *arguments], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


def snapshot(root: Path) -> dict[str, bytes]:
    """Return every file under `root` by relative path, the migration's own state included."""
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts}


def write_project(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
