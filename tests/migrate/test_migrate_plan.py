"""The plan step: names, grouping, merging, what is left to people, and no values anywhere."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from leakhunt.cli.main import main
from leakhunt.migrate.naming import module_parts, name_problem, repository_name, secret_name

from .migrate_sample import PASSWORD_RULE, github_token, password
from .migrate_support import write_project


def plan_of(root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
            cache: Path) -> tuple[dict, str]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    assert main(["migrate", str(root)]) == 0
    output = capsys.readouterr().out
    return json.loads((root / ".leakhunt" / "migration-plan.json").read_text()), output


@pytest.fixture
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("plan-cache")


def test_names_follow_config(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                             cache: Path) -> None:
    token, other = github_token(), github_token()
    root = write_project(tmp_path / "shop", {
        "leakhunt.toml": '[migrate]\nprefix = "store"\n[migrate.names]\n"store/settings/TOKEN" = "prod/store/github"\n',
        "settings.py": f'TOKEN = "{token}"\nOTHER = "{other}"\n',
    })
    plan, output = plan_of(root, capsys, monkeypatch, cache)
    assert [(secret["name"], secret["default_name"]) for secret in plan["secrets"]] == [
        ("prod/store/github", "store/settings/TOKEN"), ("store/settings/OTHER", "store/settings/OTHER")]
    assert plan["helper"] == {"module": "leakhunt_secrets", "path": "leakhunt_secrets.py"}
    assert '+TOKEN = get_secret("prod/store/github")' in output
    assert "-TOKEN = \"ghp_*****\"" in output
    assert token not in output
    assert other not in output


def test_equal_values_share_one_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    token = github_token()
    root = write_project(tmp_path / "app", {
        "app/__init__.py": "",
        "app/a.py": f'TOKEN = "{token}"\n',
        "app/b.py": f'class Client:\n    token = "{token}"\n',
        "deploy/.env": f"GITHUB_TOKEN={token}\n",
    })
    plan, _ = plan_of(root, capsys, monkeypatch, cache)
    assert len(plan["secrets"]) == 1
    secret = plan["secrets"][0]
    assert secret["name"] == "app/a/TOKEN"
    assert [(item["path"], item["kind"], item["disposition"]) for item in secret["locations"]] == [
        ("app/a.py", "module-constant", "automatic"),
        ("app/b.py", "class-attribute", "automatic"),
        ("deploy/.env", "non-python", "manual"),
    ]
    assert plan["helper"] == {"module": "app._leakhunt_secrets", "path": "app/_leakhunt_secrets.py"}


def test_connection_settings_form_one_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    secret_password = password()
    root = write_project(tmp_path / "site", {
        "leakhunt.toml": PASSWORD_RULE,
        "settings.py": ('DATABASES = {\n    "default": {\n        "NAME": "shop",\n        "USER": "web",\n'
                        f'        "PASSWORD": "{secret_password}",\n        "HOST": "db",\n        "PORT": 5432,\n'
                        '    },\n}\n'),
    })
    plan, output = plan_of(root, capsys, monkeypatch, cache)
    [secret] = plan["secrets"]
    assert secret["name"] == "site/settings/DATABASES/default"
    assert secret["keys"] == ["HOST", "NAME", "PASSWORD", "USER"]
    assert [(item["line"], item["column"], item["key"], item["rule_id"]) for item in secret["locations"]] == [
        (3, 18, "NAME", None), (4, 18, "USER", None), (5, 22, "PASSWORD", "sample-password-assignment"),
        (6, 18, "HOST", None)]
    assert secret_password not in output
    assert secret_password not in json.dumps(plan)


def test_unparsable_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    token = github_token()
    root = write_project(tmp_path / "broken", {"bad.py": f'TOKEN = ("{token}"\n'})
    plan, output = plan_of(root, capsys, monkeypatch, cache)
    assert plan["secrets"] == []
    assert [(item["path"], item["line"], item["kind"]) for item in plan["reported"]] == [("bad.py", 1, "syntax-error")]
    assert ("bad.py:1:11  github-pat-classic  syntax-error: the file does not parse (syntax error at line 1), "
            "so nothing in it can be rewritten") in output


def test_repository_name_from_git(tmp_path: Path) -> None:
    work_tree = tmp_path / "billing"
    (work_tree / "src").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(work_tree)], check=True)
    assert repository_name(work_tree / "src") == "billing"
    assert repository_name(tmp_path) == tmp_path.name


def test_module_parts_and_names() -> None:
    assert module_parts("myapp/settings.py", "myapp") == ["settings"]
    assert module_parts("myapp/api/__init__.py", "myapp") == ["api"]
    assert module_parts("src/shop/db.py", "myapp") == ["src", "shop", "db"]
    assert secret_name("myapp", "myapp/settings.py", ("DATABASES", "default")) == "myapp/settings/DATABASES/default"
    assert secret_name("myapp", "conf.py", ("KEYS", "a b")) == "myapp/conf/KEYS/a_b"
    assert name_problem("myapp/settings/TOKEN") is None
    assert name_problem("myapp/db-abcdef") is not None
    assert name_problem("x" * 513) is not None


def test_branch_assignments_stay_separate(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    local, production = password(), password()
    root = write_project(tmp_path / "branches", {
        "leakhunt.toml": PASSWORD_RULE,
        "settings.py": ('if DEBUG:\n'
                        f'    DATABASES = {{"default": {{"USER": "dev", "PASSWORD": "{local}", "HOST": "localhost"}}}}\n'
                        'else:\n'
                        f'    DATABASES = {{"default": {{"USER": "web", "PASSWORD": "{production}", "HOST": "db"}}}}\n'),
    })
    plan, output = plan_of(root, capsys, monkeypatch, cache)
    assert [(secret["name"], secret["keys"], [item["line"] for item in secret["locations"]])
            for secret in plan["secrets"]] == [
        ("branches/settings/DATABASES/default/PASSWORD", [], [2]),
        ("branches/settings/DATABASES/default/PASSWORD_2", [], [4]),
    ]
    assert '"PASSWORD": get_secret("branches/settings/DATABASES/default/PASSWORD_2")' in output


def test_invalid_override_is_flagged(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    root = write_project(tmp_path / "named", {
        "leakhunt.toml": '[migrate.names]\n"named/settings/TOKEN" = "prod/token-abcdef"\n',
        "settings.py": f'TOKEN = "{github_token()}"\n',
    })
    _, output = plan_of(root, capsys, monkeypatch, cache)
    assert ("prod/token-abcdef\n  invalid name: it ends in a hyphen and six characters, which reads like the random "
            "suffix of a secret ARN; set another one in [migrate.names]\n") in output


def test_prefix_replaces_repository_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    token, other = github_token(), github_token()
    root = write_project(tmp_path / "myapp", {
        "leakhunt.toml": '[migrate]\nprefix = "shop"\n[migrate.names]\n'
                         '"shop/settings/GITHUB_TOKEN" = "prod/shop/github-deploy-token"\n',
        "myapp/__init__.py": "",
        "myapp/settings.py": f'GITHUB_TOKEN = "{token}"\nOTHER_TOKEN = "{other}"\n',
    })
    plan, output = plan_of(root, capsys, monkeypatch, cache)
    assert [(secret["name"], secret["default_name"]) for secret in plan["secrets"]] == [
        ("prod/shop/github-deploy-token", "shop/settings/GITHUB_TOKEN"),
        ("shop/settings/OTHER_TOKEN", "shop/settings/OTHER_TOKEN")]
    assert "WARNING" not in output


def test_unmatched_name_override_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    root = write_project(tmp_path / "named", {
        "leakhunt.toml": '[migrate.names]\n"named/settings/TOKEN" = "prod/token"\n'
                         '"named/settings/NO_SUCH_TOKEN" = "prod/other"\n',
        "settings.py": f'TOKEN = "{github_token()}"\n',
    })
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    assert main(["migrate", str(root)]) == 0
    captured = capsys.readouterr()
    plan = json.loads((root / ".leakhunt" / "migration-plan.json").read_text())
    assert [secret["name"] for secret in plan["secrets"]] == ["prod/token"]
    assert captured.err == ("WARNING: [migrate.names] key 'named/settings/NO_SUCH_TOKEN' matches no planned secret, "
                            "so it renames nothing; a key must be a name that the plan derives, as printed without "
                            "[migrate.names]\n")
    assert "prod/token\n" in captured.out


def test_connect_function_name_not_repeated(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    root = write_project(tmp_path / "svc", {
        "leakhunt.toml": PASSWORD_RULE,
        "db.py": ("import psycopg2\n\n\ndef connect():\n"
                  f'    return psycopg2.connect(host="db", user="web", password="{password()}", dbname="shop")\n'),
    })
    plan, _ = plan_of(root, capsys, monkeypatch, cache)
    assert [(secret["name"], secret["keys"]) for secret in plan["secrets"]] == [
        ("svc/db/connect", ["dbname", "host", "password", "user"])]


def test_non_python_files_are_named_like_modules(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    root = write_project(tmp_path / "counts", {
        "counts/.env": f"GH={github_token()}\n",
        "deploy/prod.yaml": f"slack_token: {github_token()}\n",
    })

    plan, _ = plan_of(root, capsys, monkeypatch, cache)

    assert sorted(secret["name"] for secret in plan["secrets"]) == ["counts/.env/GH", "counts/deploy/prod.yaml/slack_token"]
