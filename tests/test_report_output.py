"""Where `--output` writes: regular files are replaced atomically, devices and links written through."""

from __future__ import annotations

import json
import os
import random
import stat

from scan_cli import github_token, leakhunt_fixture  # noqa: F401 - the fixture `leakhunt`


def make_project(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    token = github_token(random.Random(7))
    (project / "settings.py").write_text(f'TOKEN = "{token}"\n')
    return project


def test_output_to_character_device_keeps_device(leakhunt, tmp_path):
    project = make_project(tmp_path)
    null_device = tmp_path / "null"
    os.mknod(null_device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))

    run = leakhunt("scan", project, "--format", "json", "--output", null_device)

    assert run.returncode == 1
    assert stat.S_ISCHR(os.lstat(null_device).st_mode)


def test_output_through_symlink_keeps_link(leakhunt, tmp_path):
    project = make_project(tmp_path)
    target = tmp_path / "reports" / "report.json"
    target.parent.mkdir()
    link = tmp_path / "report-link.json"
    link.symlink_to(target)

    run = leakhunt("scan", project, "--format", "json", "--output", link)

    assert run.returncode == 1
    assert link.is_symlink()
    assert json.loads(target.read_text())["findings"][0]["path"] == "settings.py"


def test_output_replaces_regular_file(leakhunt, tmp_path):
    project = make_project(tmp_path)
    report = tmp_path / "report.json"
    report.write_text("old content\n")

    run = leakhunt("scan", project, "--format", "json", "--output", report)

    assert run.returncode == 1
    assert json.loads(report.read_text())["findings"][0]["rule"] == "github-pat-classic"
