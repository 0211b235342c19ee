"""Fixtures of the migration tests: a real moto server process on 127.0.0.1 and a sample project.

The server is started once per test session (once per xdist worker) as
`python -m moto.server`, reached only through its endpoint URL with fake credentials, and
stopped by its PID. Its Lambda backend runs without Docker, so rotate_secret finds the
rotation function without running it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .migrate_support import MotoServer, free_port, wait_until_up


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path_factory.mktemp("moto") / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(url, process)
        # Without Docker, moto's Lambda backend records functions and returns a fixed response to invocations.
        request = urllib.request.Request(f"{url}/moto-api/config", method="POST",
                                         data=json.dumps({"lambda": {"use_docker": False}}).encode())
        with urllib.request.urlopen(request, timeout=5):
            pass
        yield MotoServer(url, process.pid)
    finally:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture(scope="session")
def cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def aws_env(moto_server: MotoServer, cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """Point boto3 in this process at the moto server with fake credentials."""
    for key in [key for key in os.environ if key.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in moto_server.env(XDG_CACHE_HOME=str(cache_home)).items():
        if key.startswith("AWS_") or key == "XDG_CACHE_HOME":
            monkeypatch.setenv(key, value)
    return moto_server
