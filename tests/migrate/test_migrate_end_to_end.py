"""End to end against a moto server process: plan, apply, rerun, crash and resume, evidence."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from leakhunt.migrate.journal import KILL_AFTER_ENV

from .migrate_sample import AUTOMATIC, REPORT, REVIEW, make_sample
from .migrate_support import MotoServer, run_leakhunt, snapshot

# Evaluates everything the sample's modules compute from their secrets, as JSON.
DUMP = """
import json, os
os.environ.pop("API_TOKEN", None)
from myapp import settings, clients
print(json.dumps({
    "constant": settings.GITHUB_TOKEN,
    "bytes": settings.SIGNING_KEY.decode(),
    "concatenation": settings.AUTH_HEADER,
    "environ": settings.API_TOKEN,
    "databases": settings.DATABASES,
    "class_attribute": clients.GitHubClient.token,
    "call": clients.connect(),
    "call_argument": clients.github().token,
    "local": clients.local_token(),
    "default_argument": clients.fetch(),
    "fstring": clients.HEADERS,
    "embedded": clients.REPO_URL,
}, sort_keys=True))
"""


def expected_secrets(values: dict[str, str]) -> dict[str, str]:
    """Return the value each secret must hold, by the name the plan derives for it."""
    return {
        "myapp/settings/GITHUB_TOKEN": values["constant"],
        "myapp/settings/SIGNING_KEY": values["bytes"],
        "myapp/settings/AUTH_HEADER": values["concatenation"],
        "myapp/settings/API_TOKEN": values["environ"],
        "myapp/settings/DATABASES/default": json.dumps(
            {"HOST": "db.internal", "NAME": "appdb", "PASSWORD": values["database_password"], "USER": "app"}),
        "myapp/clients/GitHubClient/token": values["class_attribute"],
        "myapp/clients/connect/psycopg_connect": json.dumps(
            {"dbname": "reports", "host": "reports.internal", "password": values["call_password"], "user": "reporter"}),
        "myapp/clients/github/Github/login_or_token": values["call_argument"],
        "myapp/clients/local_token/token": values["local"],
        "myapp/clients/fetch/token": values["default_argument"],
        "myapp/clients/HEADERS/Authorization": values["fstring"],
        "myapp/clients/REPO_URL": values["embedded"],
    }


def dump(root: Path, env: dict[str, str]) -> dict[str, object]:
    result = subprocess.run([sys.executable, "-c", DUMP], cwd=root, env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def apply_arguments(root: Path, alias: str, function: str, region: str) -> list[str]:
    return ["migrate", str(root), "--apply", "--region", region, "--kms-key", alias,
            "--rotation-lambda", function, "--rotate-after-days", "30"]


def python_sources(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): path.read_text() for path in sorted((root / "myapp").glob("*.py"))}


def version_stages(secrets_manager: object, name: str) -> dict[str, list[str]]:
    versions = secrets_manager.list_secret_version_ids(SecretId=name)["Versions"]  # type: ignore[attr-defined]
    return {version["VersionId"]: version["VersionStages"] for version in versions}


def test_migrate_plan_apply_rerun(moto_server: MotoServer, tmp_path: Path, cache_home: Path) -> None:
    project = make_sample(tmp_path)
    root, values = project.root, project.values
    region = "eu-central-1"
    key_arn = moto_server.kms_key(region, "alias/end-to-end")
    function = moto_server.rotation_function(region, "end-to-end-rotation")
    env = moto_server.env(XDG_CACHE_HOME=str(cache_home))
    original = python_sources(root)
    before = dump(root, env)
    assert before["constant"] == values["constant"]

    planned = run_leakhunt(["migrate", str(root)], env)
    assert planned.returncode == 0, planned.stderr
    plan_text = (root / ".leakhunt" / "migration-plan.json").read_text()
    for secret in values.values():
        assert secret not in planned.stdout + planned.stderr
        assert secret not in plan_text
    for setting in ("db.internal", "appdb", "reports.internal", "reporter"):
        assert f'\\"{setting}\\"' not in plan_text
        assert f'"{setting}"' not in planned.stdout
    assert python_sources(root) == original
    plan = json.loads(plan_text)
    assert sorted(secret["name"] for secret in plan["secrets"]) == sorted([*expected_secrets(values),
                                                                           "myapp/deploy.env/DEPLOY_TOKEN"])
    assert sorted((item["line"], item["kind"]) for item in plan["reported"]) == [
        (31, "aws-access-key"), (31, "aws-access-key"), (43, "docstring"), (46, "comment"),
        (51, "match-pattern"), (56, "annotation")]

    applied = run_leakhunt(["-vv", *apply_arguments(root, "alias/end-to-end", function, region)], env)
    assert applied.returncode == 0, applied.stderr
    for secret in values.values():
        assert secret not in applied.stdout + applied.stderr
    assert applied.stdout.splitlines()[-2] == "9 migrated, 1 skipped, 3 stored (account 123456789012, region eu-central-1)"

    secrets_manager = moto_server.client("secretsmanager", region)
    arns = {}
    for name, value in expected_secrets(values).items():
        assert secrets_manager.get_secret_value(SecretId=name)["SecretString"] == value, name
        described = secrets_manager.describe_secret(SecretId=name)
        arns[name] = described["ARN"]
        assert described["KmsKeyId"] == "alias/end-to-end"
        tags = {tag["Key"]: tag["Value"] for tag in described["Tags"]}
        assert tags["managed-by"] == "leakhunt"
        assert tags["leakhunt:repository"] == "myapp"
        assert tags["leakhunt:source"] == f"myapp/{name.split('/')[1]}.py"
        assert described["RotationEnabled"] is True
        assert described["RotationLambdaARN"] == function
        assert described["RotationRules"] == {"AutomaticallyAfterDays": 30}
    assert "myapp/deploy.env/DEPLOY_TOKEN" not in {item["Name"] for item in secrets_manager.list_secrets()["SecretList"]}

    after = dump(root, env)
    assert after == before
    rewritten = python_sources(root)
    for key in AUTOMATIC:
        assert all(values[key] not in text for text in rewritten.values()), key
    for key in REVIEW + REPORT:
        line = next(line for line in original["myapp/clients.py"].splitlines() if values[key] in line)
        assert line in rewritten["myapp/clients.py"].splitlines(), key
    assert rewritten["myapp/_leakhunt_secrets.py"].startswith("# Written by leakhunt migrate.")

    patches = sorted((root / ".leakhunt" / "review").iterdir())
    assert [patch.name for patch in patches] == ["myapp__clients.py.patch"]
    assert patches[0].stat().st_mode & 0o777 == 0o600
    applied_copy = tmp_path / "applied-copy"
    shutil.copytree(root, applied_copy)
    apply_patch = subprocess.run(["git", "apply", str(patches[0])], cwd=applied_copy, capture_output=True, text=True,
                                 check=False)
    assert apply_patch.returncode == 0, apply_patch.stderr
    patched = (applied_copy / "myapp" / "clients.py").read_text()
    assert [key for key in REVIEW if values[key] in patched] == []
    assert (root / ".leakhunt" / ".gitignore").read_text().splitlines()[-1] == "review/"

    evidence = json.loads((root / ".leakhunt" / "migration-evidence.json").read_text())
    assert sorted(secret["name"] for secret in evidence["secrets"]) == sorted(expected_secrets(values))
    assert {secret["name"]: secret["arn"] for secret in evidence["secrets"]} == arns
    assert all(secret["kms_key"] == key_arn and secret["rotation"]["enabled"] for secret in evidence["secrets"])
    assert evidence["rescan"]["files"] == ["myapp/clients.py", "myapp/settings.py"]
    assert evidence["rescan"]["remaining"] == []
    statements = evidence["iam_policy"]["Statement"]
    assert statements[0]["Action"] == "secretsmanager:GetSecretValue"
    assert statements[0]["Resource"] == sorted(arns.values())
    assert statements[1] == {
        "Sid": "DecryptThroughSecretsManager1", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": [key_arn],
        "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-central-1.amazonaws.com"}},
    }
    markdown = (root / ".leakhunt" / "migration-evidence.md").read_text()
    for name, arn in arns.items():
        assert f"### {name}" in markdown
        assert arn in markdown
    assert "still in the git history" in markdown
    evidence_text = json.dumps(evidence) + markdown
    for secret in values.values():
        assert secret not in evidence_text

    files = snapshot(root)
    versions = {name: version_stages(secrets_manager, name) for name in arns}
    rerun = run_leakhunt(apply_arguments(root, "alias/end-to-end", function, region), env)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.splitlines()[-2] == "1 skipped, 12 unchanged (account 123456789012, region eu-central-1)"
    assert snapshot(root) == files
    assert {name: version_stages(secrets_manager, name) for name in arns} == versions


def test_killed_apply_resumes(moto_server: MotoServer, tmp_path: Path, cache_home: Path) -> None:
    project = make_sample(tmp_path / "killed")
    env = moto_server.env(XDG_CACHE_HOME=str(cache_home))
    planned = run_leakhunt(["migrate", str(project.root)], env)
    assert planned.returncode == 0, planned.stderr
    reference = Path(shutil.copytree(project.root, tmp_path / "reference" / "myapp"))

    finished = {}
    for root, region in ((reference, "eu-west-3"), (project.root, "eu-west-1")):
        moto_server.kms_key(region, "alias/resume")
        finished[region] = moto_server.rotation_function(region, "resume-rotation")
    completed = run_leakhunt(apply_arguments(reference, "alias/resume", finished["eu-west-3"], "eu-west-3"), env)
    assert completed.returncode == 0, completed.stderr

    journal = project.root / ".leakhunt" / "migration-journal.jsonl"
    arguments = apply_arguments(project.root, "alias/resume", finished["eu-west-1"], "eu-west-1")
    # The 19th record is the file-writing of the fourth secret, so the first kill lands between
    # that record and the file replacement. The second kill lands right after its "done".
    for kill_after, records in ((19, 19), (3, 22)):
        killed = run_leakhunt(arguments, {**env, KILL_AFTER_ENV: str(kill_after)})
        assert killed.returncode == -9
        assert len(journal.read_text().splitlines()) == records
    events = [json.loads(line)["event"] for line in journal.read_text().splitlines()]
    assert events[15:22] == ["stored", "verified", "rotation", "file-writing", "file-writing", "file-written", "done"]

    resumed = run_leakhunt(arguments, env)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.splitlines()[-2] == "7 migrated, 1 skipped, 1 stored, 4 unchanged (account 123456789012, region eu-west-1)"

    resumed_files = python_sources(project.root)
    reference_files = python_sources(reference)
    assert resumed_files.pop("myapp/_leakhunt_secrets.py").replace("eu-west-1", "eu-west-3") == \
        reference_files.pop("myapp/_leakhunt_secrets.py")
    assert resumed_files == reference_files
    west1 = moto_server.client("secretsmanager", "eu-west-1")
    west3 = moto_server.client("secretsmanager", "eu-west-3")
    for name, value in expected_secrets(project.values).items():
        resumed_secret = west1.get_secret_value(SecretId=name)
        reference_secret = west3.get_secret_value(SecretId=name)
        assert resumed_secret["SecretString"] == value
        assert resumed_secret["VersionId"] == reference_secret["VersionId"]
        assert west1.describe_secret(SecretId=name)["RotationEnabled"] is True
