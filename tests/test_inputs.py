"""Hard inputs for a tree scan, each checked through the JSON report of the real command line."""

from __future__ import annotations

import codecs
import os
import random
import stat

import pytest
from scan_cli import finding_rows, github_token, leakhunt_fixture  # noqa: F401 - the fixture `leakhunt`


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    return random.Random(request.node.name)


def test_binary_file_skipped_with_reason(leakhunt, tmp_path, rng):
    token = github_token(rng)
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + token.encode() + b"\x00" * 64)

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 0
    assert report["findings"] == []
    assert report["skipped"] == [{"path": "logo.png", "reason": "binary"}]
    assert report["stats"]["files_scanned"] == 0


def test_file_over_size_cap_skipped(leakhunt, tmp_path, rng):
    token = github_token(rng)
    line = f'token = "{token}"\n'.encode()
    (tmp_path / "big.py").write_bytes(line + b"#" * (2048 - len(line) - 1) + b"\n")
    (tmp_path / "small.py").write_bytes(line)

    run, report = leakhunt.scan_json(tmp_path, "--max-file-size", str(1 / 1024))

    assert run.returncode == 1
    assert finding_rows(report) == [("small.py", 1, 10, "github-pat-classic", token)]
    assert report["skipped"] == [{"path": "big.py", "reason": "larger than the size limit (2.0 KiB > 1.0 KiB)"}]


@pytest.mark.parametrize("codec", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE], ids=["utf-16-le", "utf-16-be"])
def test_utf16_with_bom_decoded(leakhunt, tmp_path, rng, codec):
    token = github_token(rng)
    encoding = "utf-16-le" if codec == codecs.BOM_UTF16_LE else "utf-16-be"
    text = f"[github]\r\nuser = café\r\n  token = {token}\r\n"
    (tmp_path / "settings.ini").write_bytes(codec + text.encode(encoding))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("settings.ini", 3, 11, "github-pat-classic", token)]


def test_non_utf8_bytes_around_secret(leakhunt, tmp_path, rng):
    token = github_token(rng)
    data = b"# caf\xe9 au lait\n\x80\x81 key=\xe9" + token.encode() + b"\xff\xfe\n"
    (tmp_path / "latin1.cfg").write_bytes(data)

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    # Each byte that is not UTF-8 counts as one column, as U+FFFD would.
    assert finding_rows(report) == [("latin1.cfg", 2, 9, "github-pat-classic", token)]


def test_awkward_file_names_reported(leakhunt, tmp_path, rng):
    tokens = [github_token(rng) for _ in range(3)]
    names = [b"with space.py", "naïve/ключ.env".encode(), b"legacy-\xe9.env"]
    for name, token in zip(names, tokens):
        path = os.path.join(os.fsencode(tmp_path), name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(f"TOKEN={token}\n".encode())

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert sorted(finding_rows(report)) == sorted([
        ("with space.py", 1, 7, "github-pat-classic", tokens[0]),
        ("naïve/ключ.env", 1, 7, "github-pat-classic", tokens[1]),
        ("legacy-\ufffd.env", 1, 7, "github-pat-classic", tokens[2]),
    ])
    assert report["skipped"] == []


def test_links_devices_and_fifo_not_read(leakhunt, tmp_path, rng):
    token = github_token(rng)
    (tmp_path / "config.py").write_text(f'TOKEN = "{token}"\n')
    os.symlink("loop-b", tmp_path / "loop-a")
    os.symlink("loop-a", tmp_path / "loop-b")
    os.symlink(".", tmp_path / "self")
    os.symlink("/dev/zero", tmp_path / "zero.log")
    os.symlink("/dev/random", tmp_path / ".leakhuntignore")
    os.mkfifo(tmp_path / "pipe")

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("config.py", 1, 10, "github-pat-classic", token)]
    assert report["skipped"] == [{"path": "pipe", "reason": "not a regular file"}]
    assert report["stats"]["files_scanned"] == 1


def test_link_named_as_target_is_read(leakhunt, tmp_path, rng):
    token = github_token(rng)
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "settings.py").write_text(f'\nTOKEN = "{token}"\n')
    os.symlink("real/settings.py", tmp_path / "link.py")
    os.symlink("real", tmp_path / "linked-folder")

    _, file_report = leakhunt.scan_json(tmp_path / "link.py")
    _, folder_report = leakhunt.scan_json(tmp_path / "linked-folder")

    assert finding_rows(file_report) == [("settings.py", 2, 10, "github-pat-classic", token)]
    assert finding_rows(folder_report) == [("settings.py", 2, 10, "github-pat-classic", token)]
    assert file_report["skipped"] == []
    assert file_report["target"] == str(tmp_path / "link.py")


def test_link_target_that_reaches_nothing_is_an_error(leakhunt, tmp_path):
    os.symlink("missing.py", tmp_path / "dangling.py")
    os.symlink("loop-b", tmp_path / "loop-a")
    os.symlink("loop-a", tmp_path / "loop-b")

    dangling = leakhunt("scan", tmp_path / "dangling.py")
    loop = leakhunt("scan", tmp_path / "loop-a")

    assert (dangling.returncode, dangling.stderr) == (
        2, f"leakhunt: error: scan target is a symbolic link to nothing: {tmp_path / 'dangling.py'}\n")
    assert (loop.returncode, loop.stderr) == (
        2, f"leakhunt: error: cannot reach scan target {tmp_path / 'loop-a'}: Too many levels of symbolic links\n")


def test_unreadable_file_skipped(leakhunt, tmp_path, rng):
    readable, unreadable = github_token(rng), github_token(rng)
    (tmp_path / "open.py").write_text(f'TOKEN = "{readable}"\n')
    (tmp_path / "locked.py").write_text(f'TOKEN = "{unreadable}"\n')
    (tmp_path / "locked.py").chmod(0o000)

    run = leakhunt("scan", tmp_path, "--format", "json", "--show-secrets", honour_file_modes=True)
    report = run.report()

    assert run.returncode == 1, run.stderr
    assert finding_rows(report) == [("open.py", 1, 10, "github-pat-classic", readable)]
    assert report["skipped"] == [{"path": "locked.py", "reason": "Permission denied"}]
    assert run.stderr == ""


def test_empty_file_scanned_cleanly(leakhunt, tmp_path):
    (tmp_path / "empty.env").write_bytes(b"")

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 0
    assert report["findings"] == []
    assert report["skipped"] == []


def test_minified_line_token_at_chunk_boundary(leakhunt, tmp_path, rng):
    token = github_token(rng)
    statements = "".join(f"function g{index}(x){{return x*{index % 89}}};" for index in range(12000))
    start = 124990
    body = statements[:start - 7] + 'var k="' + token + '";' + statements[:300000 - start - len(token) - 2]
    (tmp_path / "bundle.min.js").write_text(body)
    assert len(body) == 300000
    assert start < 125000 < start + len(token)

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("bundle.min.js", 1, start + 1, "github-pat-classic", token)]


def test_crlf_line_and_column(leakhunt, tmp_path, rng):
    token = github_token(rng)
    (tmp_path / "app.ini").write_bytes(f"[app]\r\nname = demo\r\n\r\n  key = {token}\r\n".encode())

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert finding_rows(report) == [("app.ini", 4, 9, "github-pat-classic", token)]


def test_missing_target_is_one_line_error(leakhunt, tmp_path):
    run = leakhunt("scan", tmp_path / "missing", "--format", "json")

    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr_lines == [f"leakhunt: error: scan target not found: {tmp_path / 'missing'}"]


def test_fifo_as_target_not_read(leakhunt, tmp_path):
    os.mkfifo(tmp_path / "pipe")

    run, report = leakhunt.scan_json(tmp_path / "pipe")

    assert run.returncode == 0
    assert report["skipped"] == [{"path": str(tmp_path / "pipe"), "reason": "not a regular file or folder"}]
    assert stat.S_ISFIFO(os.stat(tmp_path / "pipe").st_mode)
