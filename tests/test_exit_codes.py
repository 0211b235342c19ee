"""The CI gate: exit 0 when clean, 1 (or --exit-code N) on findings, 2 with one error line otherwise."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import pytest
from scan_cli import github_token, leakhunt_fixture  # noqa: F401 - the fixture `leakhunt`

from leakhunt.cli import main as cli_main
from leakhunt.cli import scan_command


@pytest.fixture
def dirty(tmp_path):
    (tmp_path / "app.py").write_text(f'TOKEN = "{github_token(random.Random("exit-codes"))}"\n')
    return tmp_path


@pytest.fixture
def clean(tmp_path):
    (tmp_path / "app.py").write_text('TOKEN = os.environ["TOKEN"]\n')
    return tmp_path


def test_clean_scan_exits_0(leakhunt, clean):
    assert leakhunt("scan", clean).returncode == 0


def test_findings_exit_1(leakhunt, dirty):
    assert leakhunt("scan", dirty).returncode == 1


@pytest.mark.parametrize("code", ["0", "3", "255"])
def test_exit_code_option_sets_findings_status(leakhunt, dirty, code):
    assert leakhunt("scan", dirty, "--exit-code", code).returncode == int(code)


def test_exit_code_option_keeps_clean_at_0(leakhunt, clean):
    assert leakhunt("scan", clean, "--exit-code", "7").returncode == 0


def assert_one_error_line(run, message: str) -> None:
    assert run.returncode == 2
    assert run.stdout == ""
    assert "Traceback" not in run.stderr
    assert run.stderr_lines == [f"leakhunt: error: {message}"]


USAGE_ERRORS = [
    (["scan", ".", "--exit-code", "256"], "argument --exit-code: exit status must be from 0 to 255, not 256 (see 'leakhunt scan --help')"),
    (["scan", ".", "--exit-code", "x"], "argument --exit-code: must be an integer, not 'x' (see 'leakhunt scan --help')"),
    (["scan", ".", "--jobs", "-1"], "argument --jobs/-j: must be 0 or more, not -1 (see 'leakhunt scan --help')"),
    (["scan", ".", "--max-file-size", "0"], "argument --max-file-size: must be a positive number, not 0 (see 'leakhunt scan --help')"),
    (["scan", ".", "--max-file-size", "nan"], "argument --max-file-size: must be a positive number, not nan (see 'leakhunt scan --help')"),
    (["scan", ".", "surplus\x1b[2J"], "unrecognized arguments: surplus\\x1b[2J (see 'leakhunt --help')"),
    (["scan", ".", "--format", "xml"], "argument --format: invalid choice: 'xml' (choose from 'text', 'json', 'sarif') (see 'leakhunt scan --help')"),
    (["scan", ".", "--git", "--staged"], "argument --staged: not allowed with argument --git (see 'leakhunt scan --help')"),
    (["scan", ".", "--no-such-option"], "unrecognized arguments: --no-such-option (see 'leakhunt --help')"),
    (["rules"], "the following arguments are required: ACTION (see 'leakhunt rules --help')"),
]


@pytest.mark.parametrize(("args", "message"), USAGE_ERRORS, ids=[" ".join(args) for args, _ in USAGE_ERRORS])
def test_usage_error_one_line(leakhunt, clean, args, message):
    assert_one_error_line(leakhunt(*args, cwd=clean), message)


def test_missing_command_one_line(leakhunt):
    run = leakhunt()

    assert run.returncode == 2
    assert run.stderr_lines == [run.stderr_lines[0]]
    assert run.stderr_lines[0].startswith("leakhunt: error: the following arguments are required: COMMAND")


def test_missing_target_one_line(leakhunt, tmp_path):
    assert_one_error_line(leakhunt("scan", "does-not-exist", cwd=tmp_path), "scan target not found: does-not-exist")


def test_control_characters_in_error_escaped(leakhunt, tmp_path):
    run = leakhunt("scan", "line\nbreak\x1b[2J", cwd=tmp_path)

    assert_one_error_line(run, "scan target not found: line\\x0abreak\\x1b[2J")


def test_branch_without_git_one_line(leakhunt, clean):
    assert_one_error_line(leakhunt("scan", clean, "--branch", "main"), "--branch needs --git")


def test_unwritable_output_one_line(leakhunt, clean, tmp_path_factory):
    target = tmp_path_factory.mktemp("out") / "missing" / "report.json"

    run = leakhunt("scan", clean, "--output", target)

    assert_one_error_line(run, f"cannot write report {target}: No such file or directory")


def test_output_onto_folder_leaves_nothing(leakhunt, clean, tmp_path_factory):
    folder = tmp_path_factory.mktemp("out")
    (folder / "report").mkdir()

    run = leakhunt("scan", clean, "--output", folder / "report")

    assert_one_error_line(run, f"cannot write report {folder / 'report'}: Is a directory")
    assert sorted(path.name for path in folder.iterdir()) == ["report"]


def test_invalid_config_one_line(leakhunt, clean):
    (clean / "leakhunt.toml").write_text("exclude_paths = [\n")

    run = leakhunt("scan", clean)

    assert_one_error_line(run, f"invalid TOML in configuration {clean / 'leakhunt.toml'}: Invalid value (at end of document)")


def test_missing_config_one_line(leakhunt, clean):
    run = leakhunt("scan", clean, "--config", clean / "nope.toml")

    assert_one_error_line(run, f"cannot read configuration {clean / 'nope.toml'}: No such file or directory")


def test_hyperscan_rejected_rule_one_line(leakhunt, clean):
    (clean / "leakhunt.toml").write_text(
        "[[rules]]\nid = \"empty-match\"\nname = \"Empty match\"\npattern = '''(?:token=)?([a-z]*)'''\n"
    )

    run = leakhunt("scan", clean)

    assert run.returncode == 2
    assert len(run.stderr_lines) == 1
    assert run.stderr_lines[0].startswith(
        f"leakhunt: error: {clean / 'leakhunt.toml'}: rule empty-match: Hyperscan rejects the pattern:")


def test_closed_stdout_one_line(leakhunt, dirty):
    reader, writer = os.pipe()
    os.close(reader)
    try:
        completed = subprocess.run([sys.executable, "-m", "leakhunt", "scan", dirty, "--format", "json"], check=False,
                                   stdin=subprocess.DEVNULL, stdout=writer, stderr=subprocess.PIPE, text=True,
                                   env=leakhunt.environment(), timeout=60)
    finally:
        os.close(writer)

    assert completed.returncode == 2
    assert completed.stderr.splitlines() == ["leakhunt: error: standard output was closed before the report was complete"]


def test_unexpected_exception_one_line(monkeypatch, capsys):
    def broken_handler(args):
        raise RuntimeError("worker pool died near ghp_notarealtokenbutsecretshaped")

    monkeypatch.setattr(scan_command, "run", broken_handler)

    status = cli_main.main(["scan", "."])

    assert status == 2
    assert capsys.readouterr().err.splitlines() == [
        "leakhunt: error: unexpected RuntimeError (run with -vv for the message and traceback)"
    ]
