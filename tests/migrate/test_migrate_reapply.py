"""Applying again after a finished migration: the evidence keeps what earlier applies recorded."""

from __future__ import annotations

import json
from pathlib import Path

from .migrate_sample import github_token, password
from .migrate_support import MotoServer, run_leakhunt, write_project

SETTINGS = '''\
GITHUB_TOKEN = "{token}"
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "USER": "web",
        "PASSWORD": "{password}",
        "HOST": "db.internal",
    }}
}}
'''
CLIENTS = '''\
def fetch(token="{token}"):
    return token
'''


def evidence_files(root: Path) -> dict[str, bytes]:
    state = root / ".leakhunt"
    return {name: (state / name).read_bytes() for name in ("migration-evidence.json", "migration-evidence.md")}


def finding_rows(markdown: bytes) -> list[str]:
    return [line for line in markdown.decode().splitlines() if line.startswith("| kiosk/")]


def test_reapply_keeps_evidence(moto_server: MotoServer, tmp_path: Path, cache_home: Path) -> None:
    # The moto server lives for the whole session, so the names must differ from other tests'.
    region = "eu-central-1"
    moto_server.kms_key(region, "alias/reapply")
    function = moto_server.rotation_function(region, "reapply-rotation")
    env = moto_server.env(XDG_CACHE_HOME=str(cache_home))
    values = {"token": github_token(), "password": password()}
    root = write_project(tmp_path / "kiosk", {"kiosk/__init__.py": "",
                                              "kiosk/settings.py": SETTINGS.format(**values)})
    apply = ["migrate", str(root), "--apply", "--region", region, "--kms-key", "alias/reapply",
             "--rotation-lambda", function]

    planned = run_leakhunt(["migrate", str(root)], env)
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.splitlines()[1] == "Runtime helper: kiosk/_leakhunt_secrets.py (import kiosk._leakhunt_secrets)"
    applied = run_leakhunt(apply, env)
    assert applied.returncode == 0, applied.stderr
    first = evidence_files(root)
    first_json = json.loads(first["migration-evidence.json"])
    assert sorted(secret["name"] for secret in first_json["secrets"]) == [
        "kiosk/settings/DATABASES/default", "kiosk/settings/GITHUB_TOKEN"]
    assert [(row["line"], row["rule_id"]) for row in first_json["findings"]] == [
        (1, "github-pat-classic"), (5, None), (6, None), (7, "generic-password"), (8, None)]

    replanned = run_leakhunt(["migrate", str(root)], env)
    assert replanned.returncode == 0, replanned.stderr
    assert replanned.stdout.splitlines() == [
        f"Migration plan for kiosk: 0 secret(s), written to {root}/.leakhunt/migration-plan.json",
        "Runtime helper: kiosk/_leakhunt_secrets.py (import kiosk._leakhunt_secrets)",
        "",
        "Nothing to migrate: no secret remains in the code that --apply could store."]
    reapplied = run_leakhunt([*apply[:-2]], env)
    assert reapplied.returncode == 0, reapplied.stderr
    assert "WITHOUT rotation" not in reapplied.stderr
    assert evidence_files(root) == first

    (root / "kiosk" / "clients.py").write_text(CLIENTS.format(token=github_token()))
    assert run_leakhunt(["migrate", str(root)], env).returncode == 0
    extended = run_leakhunt(apply, env)
    assert extended.returncode == 0, extended.stderr
    assert extended.stdout.splitlines()[0] == ("stored kiosk/clients/fetch/token; 1 location needs review: "
                                               ".leakhunt/review/kiosk__clients.py.patch")
    last = evidence_files(root)
    last_json = json.loads(last["migration-evidence.json"])
    assert sorted(secret["name"] for secret in last_json["secrets"]) == [
        "kiosk/clients/fetch/token", "kiosk/settings/DATABASES/default", "kiosk/settings/GITHUB_TOKEN"]
    for row in first_json["findings"]:
        assert row in last_json["findings"], row
    for step in first_json["manual_steps"]:
        assert step in last_json["manual_steps"], step
    for line in finding_rows(first["migration-evidence.md"]):
        assert line in finding_rows(last["migration-evidence.md"]), line
    assert finding_rows(last["migration-evidence.md"])[0].startswith("| kiosk/clients.py:1:")
    assert all(value not in (last["migration-evidence.md"] + last["migration-evidence.json"]).decode()
               for value in values.values())
