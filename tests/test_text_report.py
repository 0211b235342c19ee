"""The text report: layout, colours only on a terminal, plain files, and escaped hostile text."""

from __future__ import annotations

import errno
import os
import pty
import random
import re
import subprocess
import sys

import pytest
from scan_cli import aws_key_id, github_token, leakhunt_fixture  # noqa: F401 - the fixture `leakhunt`

ANSI_ESCAPE = "\x1b["


@pytest.fixture
def tree(tmp_path):
    rng = random.Random("text-tree")
    github, second, aws = github_token(rng), github_token(rng), aws_key_id(rng)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(f'GH = "{github}"\n\nAWS = "{aws}"\n')
    (tmp_path / "deploy.sh").write_text(f"export TOKEN={second}\n")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\x00" * 8)
    (tmp_path / "huge.log").write_bytes(b"x" * 4096)
    return tmp_path, (github, second, aws)


def run_on_terminal(leakhunt, *args: str) -> tuple[int, str, str]:
    """Run leakhunt with standard output on a pseudo-terminal and return status, terminal text and stderr."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "leakhunt", *args], stdin=subprocess.DEVNULL, stdout=terminal,
                               stderr=subprocess.PIPE, env=leakhunt.environment({"TERM": "xterm-256color"}))
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError as error:
            if error.errno != errno.EIO:
                raise
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    stderr = process.stderr.read().decode() if process.stderr else ""
    process.wait(timeout=60)
    return process.returncode, b"".join(chunks).decode("utf-8", "replace"), stderr


def test_text_grouped_by_file_with_summary(leakhunt, tree):
    root, _ = tree

    run = leakhunt("scan", root, "--max-file-size", str(2 / 1024))
    lines = run.stdout.splitlines()

    assert run.returncode == 1
    assert lines[:9] == [
        "deploy.sh",
        "  1:14  high    github-pat-classic  ghp_*****",
        "",
        "src/app.py",
        "  1:7  high    github-pat-classic  ghp_*****",
        "  3:8  high    aws-access-key-id   AKIA*****",
        "",
        "3 findings in 2 files: github-pat-classic 2, aws-access-key-id 1",
        lines[8],
    ]
    assert re.fullmatch(r"scanned 2 files \(0\.00 MiB\) in \d+\.\d\d s", lines[8])
    assert lines[9:] == ["skipped 2 files: 1 binary, 1 larger than the size limit"]


def test_text_verbose_lists_skipped_files(leakhunt, tree):
    root, _ = tree

    run = leakhunt("-v", "scan", root, "--max-file-size", str(2 / 1024))

    assert run.stdout.splitlines()[-2:] == [
        "  huge.log: larger than the size limit (4.0 KiB > 2.0 KiB)",
        "  photo.jpg: binary",
    ]


def test_text_clean_scan_summary(leakhunt, tmp_path):
    (tmp_path / "notes.txt").write_text("nothing here\n")

    run = leakhunt("scan", tmp_path)
    lines = run.stdout.splitlines()

    assert run.returncode == 0
    assert lines[0] == "no findings"
    assert re.fullmatch(r"scanned 1 file \(0\.00 MiB\) in \d+\.\d\d s", lines[1])
    assert len(lines) == 2


def test_text_redacts_secrets(leakhunt, tree):
    root, tokens = tree

    run = leakhunt("scan", root)

    for token in tokens:
        assert token[4:] not in run.stdout
    assert tokens[0] in leakhunt("scan", root, "--show-secrets").stdout


def test_text_no_colour_when_piped(leakhunt, tree):
    root, _ = tree

    run = leakhunt("scan", root)

    assert ANSI_ESCAPE not in run.stdout
    assert run.stderr == ""


def test_text_colour_on_terminal(leakhunt, tree):
    root, _ = tree

    status, screen, stderr = run_on_terminal(leakhunt, "scan", str(root))

    assert status == 1
    assert "\x1b[1;31mhigh  \x1b[0m" in screen
    assert "\x1b[1msrc/app.py\x1b[0m" in screen
    # A scan this small ends within its first progress update, so no progress bar is drawn.
    assert stderr == ""


def test_text_output_file_is_plain(leakhunt, tree, tmp_path_factory):
    root, _ = tree
    report = tmp_path_factory.mktemp("out") / "report.txt"

    status, screen, _ = run_on_terminal(leakhunt, "scan", str(root), "--output", str(report))
    text = report.read_text()

    assert status == 1
    assert screen == ""
    assert ANSI_ESCAPE not in text
    assert text.splitlines()[:2] == ["deploy.sh", "  1:14  high    github-pat-classic  ghp_*****"]


def test_text_escapes_hostile_names_and_secrets(leakhunt, tmp_path, tmp_path_factory):
    config = tmp_path_factory.mktemp("config") / "leakhunt.toml"
    config.write_text(
        "[[rules]]\n"
        'id = "canary-value"\n'
        'name = "Canary value"\n'
        "pattern = '''canary=(\\S{8,})'''\n"
    )
    name = os.fsencode(tmp_path) + b"/evil\x1b[31mred\x07 \xc2\x9b2J \xe2\x80\xae:smile:[bold]\xe9.txt"
    with open(name, "wb") as handle:
        handle.write(b"canary=\x1b]0;title\x07\x1b[2J\xc2\x9bZZ\n")

    run = leakhunt("scan", tmp_path, "--config", config, "--show-secrets")
    lines = run.stdout.splitlines()

    assert run.returncode == 1
    assert lines[:2] == [
        "evil\\x1b[31mred\\x07 \\x9b2J \\u202e:smile:[bold]\\xe9.txt",
        "  1:8  medium  canary-value  \\x1b]0;title\\x07\\x1b[2J\\x9bZZ",
    ]
    assert "\x1b" not in run.stdout
    assert "\x07" not in run.stdout
    assert "\u202e" not in run.stdout


def test_text_on_ascii_terminal_escapes(leakhunt, tmp_path):
    (tmp_path / "ключ.py").write_text(f'KEY = "{github_token(random.Random("ascii"))}"\n')

    run = leakhunt("scan", tmp_path, env={"PYTHONIOENCODING": "ascii"})

    assert run.returncode == 1
    assert run.stdout.splitlines()[0] == "\\u043a\\u043b\\u044e\\u0447.py"
    assert run.stderr == ""
