"""Tree scans split into batches and read with a binary probe, through the real command line."""

from __future__ import annotations

import codecs
import errno
import os
import random
import string

import pytest
from scan_cli import finding_rows, github_token, leakhunt_fixture  # noqa: F401 - the fixture `leakhunt`

from leakhunt.inputs.tree import read_regular_file

FOLDERS = ("alpha", "beta", "gamma")
FILES_PER_FOLDER = 200
LINES_PER_FILE = 200
# Walk order indexes of the files that hold a token: the first file, both sides of the
# 256-file batch boundaries, and the last file of the walk.
TOKEN_FILES = (0, 255, 256, 511, 512, 599)


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    return random.Random(request.node.name)


def filler_line(rng: random.Random, number: int) -> str:
    return f"value_{number} = '{''.join(rng.choice(string.ascii_lowercase) for _ in range(28))}'\n"


@pytest.fixture
def many_files(tmp_path, rng) -> tuple[object, list[tuple[str, int, int, str, str]], int]:
    """Write 600 files of about 8 KiB, 4.7 MiB in all, and return the folder, expected rows and size."""
    expected = []
    total = 0
    for index in range(len(FOLDERS) * FILES_PER_FOLDER):
        folder, number = FOLDERS[index // FILES_PER_FOLDER], index % FILES_PER_FOLDER
        lines = [filler_line(rng, line) for line in range(LINES_PER_FILE)]
        if index in TOKEN_FILES:
            token = github_token(rng)
            line = 1 + index % LINES_PER_FILE
            lines[line - 1] = f"    token = '{token}'\n"
            expected.append((f"{folder}/file{number:03d}.py", line, 14, "github-pat-classic", token))
        data = "".join(lines).encode()
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / f"file{number:03d}.py").write_bytes(data)
        total += len(data)
    return tmp_path, expected, total


@pytest.mark.parametrize("jobs", ["2", "1"], ids=["worker-pool", "one-process"])
def test_batches_keep_every_finding(leakhunt, many_files, jobs):
    folder, expected, total = many_files

    run, report = leakhunt.scan_json(folder, "--jobs", jobs)

    assert run.returncode == 1
    assert finding_rows(report) == expected
    assert report["stats"]["files_scanned"] == 600
    assert report["stats"]["bytes_scanned"] == total
    assert report["skipped"] == []


def test_binary_probe_stops_at_first_kib(leakhunt, tmp_path, rng):
    token = github_token(rng)
    data = b"header\n" + b"\x00" * 16 + b"x" * 20000 + f"\ntoken = {token}\n".encode()
    (tmp_path / "image.bin").write_bytes(data)

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 0
    assert report["findings"] == []
    assert report["skipped"] == [{"path": "image.bin", "reason": "binary"}]


def test_nul_after_probe_still_scanned(leakhunt, tmp_path, rng):
    token = github_token(rng)
    data = b"# notes\n" * 1100 + b"marker \x00\n" + f"token = {token}\n".encode()
    assert data.index(b"\x00") > 8192
    (tmp_path / "notes.txt").write_bytes(data)

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("notes.txt", 1102, 9, "github-pat-classic", token)]


def test_large_utf16_file_decoded(leakhunt, tmp_path, rng):
    token = github_token(rng)
    text = "".join(f"name_{index} = é{index}\r\n" for index in range(2000)) + f"token = {token}\r\n"
    (tmp_path / "big.ini").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("big.ini", 2001, 9, "github-pat-classic", token)]


def test_unreadable_subfolder_skipped_by_path(leakhunt, tmp_path, rng):
    readable, hidden = github_token(rng), github_token(rng)
    (tmp_path / "src" / "locked").mkdir(parents=True)
    (tmp_path / "src" / "app.py").write_text(f'TOKEN = "{readable}"\n')
    (tmp_path / "src" / "locked" / "keys.py").write_text(f'TOKEN = "{hidden}"\n')
    (tmp_path / "src" / "locked").chmod(0o000)

    try:
        run = leakhunt("scan", tmp_path, "--format", "json", "--show-secrets", honour_file_modes=True)
    finally:
        (tmp_path / "src" / "locked").chmod(0o755)
    report = run.report()

    assert run.returncode == 1, run.stderr
    assert finding_rows(report) == [("src/app.py", 1, 10, "github-pat-classic", readable)]
    assert report["skipped"] == [{"path": "src/locked", "reason": "Permission denied"}]


def test_file_past_limit_at_read_rejected(tmp_path):
    path = tmp_path / "grown.txt"
    path.write_bytes(b"x = 1\n" * 100)

    with pytest.raises(OSError) as raised:
        read_regular_file(os.fsencode(path), 599)

    assert raised.value.errno == errno.EFBIG
    assert read_regular_file(os.fsencode(path), 600) == b"x = 1\n" * 100
