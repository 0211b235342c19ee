"""Baselines and `.leakhuntignore`: accepted findings stay quiet, new ones are reported."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

from conftest import GitRepo, github_token


def write_baseline(leakhunt, root: Path, *options: str) -> Path:
    output = root / ".leakhunt-baseline.json"
    result = leakhunt("baseline", str(root), "--output", str(output), *options, report=False)
    assert result.status == 0, result.stderr
    return output


def test_baseline_survives_inserted_lines(tmp_path: Path, rng: random.Random, leakhunt) -> None:
    token = github_token(rng)
    settings = tmp_path / "settings.py"
    settings.write_text(f"import os\n\nLEGACY_TOKEN = '{token}'\n")
    baseline = write_baseline(leakhunt, tmp_path)
    before = baseline.read_bytes()
    settings.write_text("# settings\n# owner: platform\n\n\n\n" + settings.read_text())

    result = leakhunt("scan", str(tmp_path), "--baseline", str(baseline))

    assert result.status == 0
    assert result.findings == []
    assert result.report["notices"] == ["1 finding(s) accepted by the baseline are not reported"]
    assert baseline.read_bytes() == before


def test_baseline_reports_other_secret_on_line(tmp_path: Path, rng: random.Random, leakhunt) -> None:
    settings = tmp_path / "settings.py"
    settings.write_text(f"import os\nTOKEN = '{github_token(rng)}'\n")
    baseline = write_baseline(leakhunt, tmp_path)
    replacement = github_token(rng)
    settings.write_text(f"import os\nTOKEN = '{replacement}'\n")

    result = leakhunt("scan", str(tmp_path), "--baseline", str(baseline))

    assert result.status == 1
    assert result.locations() == [("settings.py", 2, "github-pat-classic")]
    assert result.findings[0]["secret"] == replacement


def test_baseline_file_holds_no_secret(tmp_path: Path, rng: random.Random, leakhunt) -> None:
    tokens = [github_token(rng) for _ in range(3)]
    (tmp_path / "b.py").write_text(f"A = '{tokens[0]}'\nB = '{tokens[1]}'\n")
    (tmp_path / "a.py").write_text(f"C = '{tokens[2]}'\n")
    baseline = write_baseline(leakhunt, tmp_path)
    first = baseline.read_bytes()
    write_baseline(leakhunt, tmp_path)

    document = json.loads(first)
    assert baseline.read_bytes() == first
    assert document["version"] == 1
    assert [record["path"] for record in document["findings"]] == ["a.py", "b.py", "b.py"]
    fingerprints = [record["fingerprint"] for record in document["findings"]]
    assert fingerprints == sorted(fingerprints)
    assert set(document["findings"][0]) == {"fingerprint", "rule", "path"}
    assert not any(token[4:12] in first.decode() for token in tokens)


def test_baseline_of_git_history(repo: GitRepo, rng: random.Random, leakhunt) -> None:
    repo.commit("old", {"old.py": f"TOKEN = '{github_token(rng)}'\n"})
    baseline = write_baseline(leakhunt, repo.path, "--git")
    repo.commit("accept", {})
    new = repo.commit("new", {"new.py": f"TOKEN = '{github_token(rng)}'\n"})

    result = leakhunt("scan", str(repo.path), "--git", "--baseline", str(baseline))

    assert result.locations() == [("new.py", 1, "github-pat-classic")]
    assert result.findings[0]["commit"] == new


def test_baseline_missing_is_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"

    completed = subprocess.run([sys.executable, "-m", "leakhunt", "scan", str(tmp_path), "--baseline", str(missing)],
                               capture_output=True, text=True)

    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        f"leakhunt: error: baseline not found: {missing}; create one with `leakhunt baseline PATH --output {missing}`"]


def test_baseline_invalid_is_error(tmp_path: Path, leakhunt) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": 1, "findings": [{"path": "a.py"}]}')
    not_json = tmp_path / "not.json"
    not_json.write_text("fingerprints:\n")

    without_fingerprint = leakhunt("scan", str(tmp_path), "--baseline", str(broken))
    unparsable = leakhunt("scan", str(tmp_path), "--baseline", str(not_json))

    assert without_fingerprint.status == 2
    assert without_fingerprint.stderr == f"leakhunt: error: invalid baseline {broken}: finding 0 has no valid \"fingerprint\"\n"
    assert unparsable.status == 2
    assert unparsable.stderr.startswith(f"leakhunt: error: invalid baseline {not_json}: not JSON (")


def test_baseline_symlink_to_device_warns(tmp_path: Path, rng: random.Random, leakhunt, caplog) -> None:
    (tmp_path / "app.py").write_text(f"TOKEN = '{github_token(rng)}'\n")
    os.symlink("/dev/zero", tmp_path / "baseline.json")

    result = leakhunt("scan", str(tmp_path), "--baseline", str(tmp_path / "baseline.json"))

    assert result.locations() == [("app.py", 1, "github-pat-classic")]
    assert caplog.messages == [f"ignoring baseline {tmp_path / 'baseline.json'}: "
                               "not a readable regular file (it is a symbolic link)"]


def test_ignore_file_fingerprints_and_globs(tmp_path: Path, rng: random.Random, leakhunt) -> None:
    (tmp_path / "app.py").write_text(f"A = '{github_token(rng)}'\nB = '{github_token(rng)}'\n")
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "token.txt").write_text(f"{github_token(rng)}\n")
    first = leakhunt("scan", str(tmp_path))
    accepted = first.findings[0]["fingerprint"]
    (tmp_path / ".leakhuntignore").write_text(f"# accepted test data\n{accepted}\n\nfixtures/\n")

    result = leakhunt("scan", str(tmp_path))

    assert first.locations() == [("app.py", 1, "github-pat-classic"), ("app.py", 2, "github-pat-classic"),
                                 ("fixtures/token.txt", 1, "github-pat-classic")]
    assert result.locations() == [("app.py", 2, "github-pat-classic")]


def test_ignore_file_symlinks_to_devices(tmp_path: Path, rng: random.Random) -> None:
    (tmp_path / "config.py").write_text(f"GITHUB_TOKEN = '{github_token(rng)}'\n")
    os.symlink("/dev/zero", tmp_path / ".leakhuntignore")
    os.symlink("/dev/zero", tmp_path / "dump.log")
    report = tmp_path.parent / f"{tmp_path.name}-report.json"

    completed = subprocess.run([sys.executable, "-m", "leakhunt", "scan", str(tmp_path), "--format", "json",
                                "--output", str(report)], capture_output=True, text=True, timeout=60)

    assert completed.returncode == 1
    assert completed.stderr == (f"leakhunt: WARNING: ignoring .leakhuntignore {tmp_path / '.leakhuntignore'}: "
                                "not a readable regular file (it is a symbolic link)\n")
    findings = json.loads(report.read_text())["findings"]
    assert [(finding["path"], finding["line"]) for finding in findings] == [("config.py", 1)]


def test_ignore_file_fifo_does_not_block(tmp_path: Path, rng: random.Random, leakhunt, caplog) -> None:
    (tmp_path / "config.py").write_text(f"GITHUB_TOKEN = '{github_token(rng)}'\n")
    os.mkfifo(tmp_path / ".leakhuntignore")

    result = leakhunt("scan", str(tmp_path))

    assert result.locations() == [("config.py", 1, "github-pat-classic")]
    assert caplog.messages == [f"ignoring .leakhuntignore {tmp_path / '.leakhuntignore'}: "
                               "not a readable regular file (not a regular file)"]
