"""How --apply fails: each cause gets one line naming the secret or setting, and no code changes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from leakhunt.cli.main import main
from leakhunt.errors import MigrationError
from leakhunt.migrate.options import ApplyOptions, Rotation, check_options
from leakhunt.migrate.store import describe_aws_error

from .migrate_sample import github_token
from .migrate_support import MotoServer, snapshot, write_project

REGION = "eu-central-1"


def small_project(root: Path, prefix: str, tokens: dict[str, str], extra: dict[str, str] | None = None) -> Path:
    body = "".join(f'{name} = "{token}"\n' for name, token in tokens.items())
    return write_project(root, {"leakhunt.toml": f'[migrate]\nprefix = "{prefix}"\n', "settings.py": body,
                                **(extra or {})})


def plan_and_apply(root: Path, capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, str, str]:
    assert main(["migrate", str(root)]) == 0
    capsys.readouterr()
    status = main(["migrate", str(root), "--apply", *options])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_region_outside_eu_refused(aws_env: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = github_token()
    root = small_project(tmp_path / "us", "outside", {"TOKEN": token})
    assert main(["migrate", str(root)]) == 0
    capsys.readouterr()
    files = snapshot(root)

    assert main(["migrate", str(root), "--apply", "--region", "us-east-1"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("leakhunt: error: region us-east-1 is outside the EU; choose one of eu-central-1, ")
    assert error.rstrip().endswith("or pass --allow-region-outside-eu")
    assert len(error.splitlines()) == 1
    assert snapshot(root) == files

    assert main(["migrate", str(root), "--apply", "--region", "us-east-1", "--allow-region-outside-eu",
                 "--tag", "team=payments"]) == 0
    secrets_manager = aws_env.client("secretsmanager", "us-east-1")
    assert secrets_manager.get_secret_value(SecretId="outside/settings/TOKEN")["SecretString"] == token
    tags = secrets_manager.describe_secret(SecretId="outside/settings/TOKEN")["Tags"]
    assert sorted((tag["Key"], tag["Value"]) for tag in tags) == [
        ("leakhunt:repository", "outside"), ("leakhunt:source", "settings.py"), ("managed-by", "leakhunt"),
        ("team", "payments")]


def test_disabled_kms_key_refused(aws_env: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = small_project(tmp_path / "kms", "disabled", {"TOKEN": github_token()})
    key = aws_env.kms_key(REGION, "alias/disabled")
    aws_env.client("kms", REGION).disable_key(KeyId=key.split("/")[-1])
    files = snapshot(root)
    status, _, error = plan_and_apply(root, capsys, "--kms-key", "alias/disabled")
    assert status == 2
    assert error == ("leakhunt: error: KMS key alias/disabled is disabled in eu-central-1; "
                     "enable it or pass another --kms-key\n")
    assert snapshot(root) == files | {".leakhunt/migration-plan.json": (root / ".leakhunt/migration-plan.json").read_bytes()}


def test_missing_kms_key_refused(aws_env: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = small_project(tmp_path / "kms", "missing", {"TOKEN": github_token()})
    status, _, error = plan_and_apply(root, capsys, "--kms-key", "alias/none-such")
    assert status == 2
    assert error == ("leakhunt: error: KMS key alias/none-such not found in eu-central-1; pass a key id, ARN or alias "
                     "of that region with --kms-key\n")


def test_unreachable_endpoint(aws_env: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = small_project(tmp_path / "down", "down", {"TOKEN": github_token()})
    status, _, error = plan_and_apply(root, capsys, "--endpoint-url", f"http://127.0.0.1:{port}")
    assert status == 2
    assert error == (f"leakhunt: error: AWS credentials check failed: cannot reach http://127.0.0.1:{port} "
                     "(EndpointConnectionError)\n")
    assert not (root / ".leakhunt" / "migration-journal.jsonl").exists()


def test_conflicting_secret_needs_force(aws_env: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second, third = github_token(), github_token(), github_token()
    root = small_project(tmp_path / "conflict", "conflict", {"FIRST": first, "SECOND": second, "THIRD": third})
    secrets_manager = aws_env.client("secretsmanager", REGION)
    secrets_manager.create_secret(Name="conflict/settings/SECOND", SecretString="an older value")
    secrets_manager.create_secret(Name="conflict/settings/THIRD", SecretString=third)

    status, out, error = plan_and_apply(root, capsys)
    assert status == 1
    assert error.splitlines()[-1] == (
        "FAILED secret conflict/settings/SECOND: a secret with this name already has a different value; "
        "pass --force to store this value as its new version, or rename it in [migrate.names]; its code was not changed")
    assert out.splitlines()[-2] == "1 failed, 2 migrated (account 123456789012, region eu-central-1)"
    source = (root / "settings.py").read_text()
    assert source == ('from leakhunt_secrets import get_secret\n\n'
                      f'FIRST = get_secret("conflict/settings/FIRST")\nSECOND = "{second}"\n'
                      'THIRD = get_secret("conflict/settings/THIRD")\n')
    evidence = json.loads((root / ".leakhunt" / "migration-evidence.json").read_text())
    markdown = (root / ".leakhunt" / "migration-evidence.md").read_text()
    assert [(secret["name"], secret["outcome"]) for secret in evidence["secrets"]] == [
        ("conflict/settings/FIRST", "created"), ("conflict/settings/THIRD", "existing")]
    reason = ("secret conflict/settings/SECOND: a secret with this name already has a different value; "
              "pass --force to store this value as its new version, or rename it in [migrate.names]")
    assert [(entry["name"], entry["locations"], entry["reason"]) for entry in evidence["not_migrated"]] == [
        ("conflict/settings/SECOND", ["settings.py:2"], reason)]
    assert evidence["manual_steps"][0] == f"conflict/settings/SECOND: NOT MIGRATED, the value is still in settings.py:2 ({reason})"
    assert "- Status: 2 secret(s) migrated; **1 NOT migrated: their values are still in the source code**" in markdown
    assert secrets_manager.get_secret_value(SecretId="conflict/settings/SECOND")["SecretString"] == "an older value"

    assert main(["migrate", str(root), "--apply", "--force"]) == 0
    assert capsys.readouterr().out.splitlines()[-2] == "1 migrated, 2 unchanged (account 123456789012, region eu-central-1)"
    assert secrets_manager.get_secret_value(SecretId="conflict/settings/SECOND")["SecretString"] == second
    assert second not in (root / "settings.py").read_text()
    evidence = json.loads((root / ".leakhunt" / "migration-evidence.json").read_text())
    assert evidence["not_migrated"] == []
    assert not any("NOT MIGRATED" in step for step in evidence["manual_steps"])


def test_evidence_when_all_fail(aws_env: MotoServer, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    root = small_project(tmp_path / "allfail", "allfail", {"ONLY": github_token()})
    aws_env.client("secretsmanager", REGION).create_secret(Name="allfail/settings/ONLY", SecretString="older")

    status, out, _ = plan_and_apply(root, capsys)

    assert status == 1
    assert out.splitlines()[-2].startswith("1 failed")
    evidence = json.loads((root / ".leakhunt" / "migration-evidence.json").read_text())
    assert ([entry["name"] for entry in evidence["not_migrated"]], evidence["secrets"]) == (["allfail/settings/ONLY"], [])
    assert evidence["iam_policy"] is None


def test_changed_file_refused(aws_env: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = small_project(tmp_path / "changed", "changed", {"TOKEN": github_token()})
    assert main(["migrate", str(root)]) == 0
    with (root / "settings.py").open("a") as handle:
        handle.write("DEBUG = True\n")
    capsys.readouterr()
    assert main(["migrate", str(root), "--apply"]) == 2
    assert capsys.readouterr().err == (f"leakhunt: error: settings.py changed since the plan was made; run "
                                       f"`leakhunt migrate {root}` again to refresh the plan, then --apply\n")


def test_apply_needs_plan(aws_env: MotoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = small_project(tmp_path / "unplanned", "unplanned", {"TOKEN": github_token()})
    assert main(["migrate", str(root), "--apply"]) == 2
    assert capsys.readouterr().err == (f"leakhunt: error: no migration plan at {root}/.leakhunt/migration-plan.json; "
                                       f"run `leakhunt migrate {root}` first and review it\n")


def test_rotation_function_region_checked(aws_env: MotoServer, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    root = small_project(tmp_path / "rotation", "rotation", {"TOKEN": github_token()})
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:rotate"
    status, _, error = plan_and_apply(root, capsys, "--rotation-lambda", arn)
    assert status == 2
    assert error == ("leakhunt: error: the rotation function is in eu-west-1, but the secrets go to eu-central-1; "
                     "Secrets Manager needs a function in the same region\n")


def test_without_rotation_and_non_python(aws_env: MotoServer, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    token, deploy = github_token(), github_token()
    root = small_project(tmp_path / "norotation", "norotation", {"TOKEN": token}, {"deploy.env": f"DEPLOY={deploy}\n"})
    status, out, error = plan_and_apply(root, capsys, "--upload-non-python")
    assert status == 0
    assert error.startswith("WARNING: no --rotation-lambda given: the secrets will be stored WITHOUT rotation")
    secrets_manager = aws_env.client("secretsmanager", REGION)
    assert secrets_manager.get_secret_value(SecretId="norotation/deploy.env/DEPLOY")["SecretString"] == deploy
    assert (root / "deploy.env").read_text() == f"DEPLOY={deploy}\n"
    evidence = json.loads((root / ".leakhunt" / "migration-evidence.json").read_text())
    assert [secret["rotation"] for secret in evidence["secrets"]] == [
        {"enabled": False, "note": "NO ROTATION: no rotation function was given; the value never changes"}] * 2
    assert "deploy.env:1: replace the value with a reference to the secret norotation/deploy.env/DEPLOY" in \
        evidence["manual_steps"]
    markdown = (root / ".leakhunt" / "migration-evidence.md").read_text()
    assert "- Rotation: **NO ROTATION: no rotation function was given; the value never changes**" in markdown
    for value in (token, deploy):
        assert value not in out + error


@pytest.mark.parametrize(("code", "cause"), [
    ("AccessDeniedException", "access denied (AccessDeniedException); the caller's IAM policy does not allow this call"),
    ("ThrottlingException", "throttled by AWS (ThrottlingException) after 3 attempts; run the command again later"),
    ("KMSInvalidStateException", ("the KMS key cannot be used (KMSInvalidStateException); check that it is enabled "
                                  "and that its policy allows this caller")),
    ("ResourceExistsException", "a secret with this name already exists (ResourceExistsException)"),
])
def test_aws_error_causes(code: str, cause: str) -> None:
    error = ClientError({"Error": {"Code": code, "Message": "details"}}, "CreateSecret")
    assert describe_aws_error(error) == cause


@pytest.mark.parametrize(("rotation", "message"), [
    (Rotation("arn:aws:lambda:eu-central-1:123456789012:function:r", schedule="every day"),
     "invalid --rotation-schedule 'every day'; use rate(N days) or cron(...)"),
    (Rotation("arn:aws:lambda:eu-central-1:123456789012:function:r", after_days=0),
     "--rotate-after-days must be between 1 and 1000, not 0"),
    (Rotation(after_days=30), "--rotate-after-days and --rotation-schedule need --rotation-lambda ARN"),
])
def test_rotation_options_checked(rotation: Rotation, message: str) -> None:
    with pytest.raises(MigrationError) as raised:
        check_options(ApplyOptions(rotation=rotation))
    assert str(raised.value) == message


def test_rotation_rules() -> None:
    assert Rotation("arn", schedule="rate(10 days)").rules() == {"ScheduleExpression": "rate(10 days)"}
    assert Rotation("arn", after_days=7).rules() == {"AutomaticallyAfterDays": 7}
    assert Rotation("arn").rules() == {"AutomaticallyAfterDays": 30}
    check_options(ApplyOptions(rotation=Rotation("arn", schedule="cron(0 4 ? * SUN *)")))


def test_migrated_names_not_warned(aws_env: MotoServer, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    root = write_project(tmp_path / "renamed", {
        "leakhunt.toml": '[migrate]\nprefix = "renamed"\n[migrate.names]\n"renamed/settings/TOKEN" = "renamed/ci-token"\n',
        "settings.py": f'TOKEN = "{github_token()}"\n',
    })

    status, out, _ = plan_and_apply(root, capsys)
    assert (status, out.splitlines()[-2]) == (0, "1 migrated (account 123456789012, region eu-central-1)")
    assert main(["migrate", str(root)]) == 0
    replanned = capsys.readouterr()

    assert replanned.err == ""
    assert replanned.out.splitlines()[-1] == "Nothing to migrate: no secret remains in the code that --apply could store."


def test_review_only_secret_gets_helper(aws_env: MotoServer, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    token = github_token()
    root = write_project(tmp_path / "revonly", {
        "leakhunt.toml": '[migrate]\nprefix = "revonly"\n',
        "client.py": f'def fetch(token="{token}"):\n    return token\n',
    })

    status, out, _ = plan_and_apply(root, capsys)
    assert (status, out.splitlines()[-2]) == (0, "1 stored (account 123456789012, region eu-central-1)")
    subprocess.run(["git", "apply", ".leakhunt/review/client.py.patch"], cwd=root, check=True)
    fetched = subprocess.run([sys.executable, "-c", "import client; print(client.fetch())"], cwd=root,
                             env=aws_env.env(AWS_DEFAULT_REGION=REGION), capture_output=True, text=True, check=False)

    assert (fetched.returncode, fetched.stdout) == (0, f"{token}\n"), fetched.stderr
    evidence = json.loads((root / ".leakhunt" / "migration-evidence.json").read_text())
    assert [secret["status"] for secret in evidence["secrets"]] == [
        "stored; the code still holds the value (see the manual steps)"]
    markdown = (root / ".leakhunt" / "migration-evidence.md").read_text()
    assert ("- Status: 0 secret(s) migrated; 1 stored whose values the code still holds until the manual steps "
            "are done") in markdown.splitlines()
