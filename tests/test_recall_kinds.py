"""Passwords that a syntax marks as chosen, checked through the CLI's JSON report.

One tree has a file per syntax and is scanned once. Each test compares the findings of its
file, as (line, rule, secret), with the exact list expected. Word passwords such as `marigold`
are found here although the name-based generic rules drop words. All values were generated
for these tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

WORD_1 = "marigold"
WORD_2 = "lanternfish"
WORD_3 = "quokka-tundra"
PASSWORD_1 = "E!EuI1*hsS923"
PASSWORD_2 = "sIsZM60A*ipVN"
PASSWORD_3 = "boH!2g8np1qL&"
PASSWORD_4 = "8Dr8qctM5Wv2g"
PASSWORD_5 = "ITiFH&4kJHJjY"
PASSWORD_6 = "vcV!YnB^p^E#T"
PASSWORD_7 = "E~7szW%2aUwKb"
QUOTED_SECRET = "k3`Ho4e\"Wu'uW^4;Lp]7Zq"

# Each file of the scanned tree with the findings expected in it as (line, rule, secret).
CASES: dict[str, tuple[str, list[tuple[int, str, str]]]] = {
    ".env": (
        (
            "# local accounts\n"
            f"REACT_APP_ADMIN_PASSWORD={WORD_1}\n"
            f"  export MAILER_PASS={PASSWORD_1}   # relay account\n"
            f"# LEGACY_DB_PWD={WORD_2}\n"
            "SMTP_PASSWORD=smtp_password # your SMTP password\n"
            "DB_PASSWORD=CHANGE_ME_LATER\n"
            "API_PASSWORD=${VAULT_API_PASSWORD}\n"
            f"BYPASS={WORD_1}\n"
        ),
        [(2, "dotenv-password", WORD_1), (3, "dotenv-password", PASSWORD_1), (4, "dotenv-password", WORD_2)],
    ),
    "web/db.php": (
        (
            "<?php\n"
            f'$password = "{WORD_2}";\n'
            f"$dbPass = '{PASSWORD_2}';\n"
            "$compass = 'northwest';\n"
            "$password = $_POST['password'];\n"
            "$password = 'DB_PASSWORD';\n"
        ),
        [(2, "script-variable-password", WORD_2), (3, "script-variable-password", PASSWORD_2)],
    ),
    "docs/setup.md": (
        (
            "# Setup\n"
            f"The default password is '{WORD_1}'.\n"
            f'The password for user "deploy" is "{WORD_3}".\n'
            "The password is 'changeme' until you reset it.\n"
            "The password field is required.\n"
            "COMMENT ON COLUMN users.password IS 'パスワード';\n"
        ),
        [(2, "password-in-prose", WORD_1), (3, "password-in-prose", WORD_3)],
    ),
    "compose.yaml": (
        (
            "services:\n"
            "  db:\n"
            "    image: postgres:16\n"
            "    environment:\n"
            f"      - POSTGRES_PASSWORD={WORD_3}\n"
            "      - POSTGRES_USER=shop\n"
        ),
        [(5, "dotenv-password", WORD_3)],
    ),
    "app/login.py": (
        (
            "def login(user, password):\n"
            f"    if user == 'admin' and password == '{WORD_2}':\n"
            "        return True\n"
            "    if password == '':\n"
            "        return False\n"
        ),
        [(2, "password-comparison", WORD_2)],
    ),
    "auth/check.go": (
        (f'if creds.Secret != "{WORD_3}" {{\n  return errUnauthorized\n}}\nif secret.Type != "OPAQUE" {{\n}}\n'),
        [(1, "password-comparison", WORD_3)],
    ),
    "build.gradle": (
        (
            "repositories {\n"
            "  maven {\n"
            "    url 'https://repo.example.net/releases'\n"
            "    credentials {\n"
            "      username 'ci'\n"
            f"      password '{WORD_1}'\n"
            "    }\n"
            "  }\n"
            "  maven {\n"
            "    credentials {\n"
            "      username mavenUser\n"
            '      password "SOME_PASSWORD"\n'
            "    }\n"
            "  }\n"
            "}\n"
        ),
        [(6, "gradle-credentials-password", WORD_1)],
    ),
    "settings.gradle.kts": (
        (f'credentials(PasswordCredentials::class) {{\n    username = "ci"\n    password = "{PASSWORD_3}"\n}}\n'),
        [(3, "gradle-credentials-password", PASSWORD_3)],
    ),
    "config/auth.yaml": (
        (f"oauth:\n  jwt_secret: '{QUOTED_SECRET}'\n  token: 'abc`def'\n"),
        [(2, "generic-secret-quoted-symbols", QUOTED_SECRET)],
    ),
    "deploy/setup.ps1": (
        (
            f'$secure = ConvertTo-SecureString "{PASSWORD_4}" -AsPlainText -Force\n'
            "$other = ConvertTo-SecureString $plain -AsPlainText -Force\n"
        ),
        [(1, "powershell-plaintext-securestring", PASSWORD_4)],
    ),
    "deploy/release.sh": (
        (
            "#!/bin/sh\n"
            f"sshpass -p '{PASSWORD_5}' scp build.tar.gz ci@10.0.3.7:/srv/\n"
            f"mysqldump -uroot -p{PASSWORD_6} --all-databases > all.sql\n"
            f"mysqladmin --user=root --password='{PASSWORD_7}' status\n"
            f"docker login registry.example.net -u ci -p {WORD_2}\n"
            'docker login -u ci -p "$REGISTRY_PASSWORD" registry.example.net\n'
            "mysql -u root -p shop\n"
            "gcc -o client client.c -I/usr/include/mysql -pthread\n"
        ),
        [
            (2, "sshpass-password", PASSWORD_5),
            (3, "mysql-cli-password", PASSWORD_6),
            (4, "mysql-cli-long-password", PASSWORD_7),
            (5, "docker-login-password", WORD_2),
        ],
    ),
    "locale/de.json": (
        ('{\n  "password": "Passwort",\n  "passwordHint": "Mindestens acht Zeichen"\n}\n'),
        [],
    ),
}


@pytest.fixture(scope="module")
def cache_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory, cache_env: dict[str, str]) -> dict[str, list[tuple[int, str, str]]]:
    root = tmp_path_factory.mktemp("tree")
    for relative, (text, _) in CASES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    report = tmp_path_factory.mktemp("report") / "report.json"

    command = [sys.executable, "-m", "leakhunt", "scan", str(root), "--format", "json", "--show-secrets"]
    completed = subprocess.run(
        [*command, "--no-progress", "--output", str(report)], capture_output=True, env=cache_env, timeout=120, check=False
    )

    assert completed.returncode == 1, completed.stderr.decode()
    grouped: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for finding in json.loads(report.read_text(encoding="utf-8"))["findings"]:
        grouped[finding["path"]].append((finding["line"], finding["rule"], finding["secret"]))
    return grouped


@pytest.mark.parametrize("path", sorted(CASES))
def test_file_findings(found: dict[str, list[tuple[int, str, str]]], path: str) -> None:
    assert found.get(path, []) == CASES[path][1]


def test_no_findings_outside_cases(found: dict[str, list[tuple[int, str, str]]]) -> None:
    assert set(found) - set(CASES) == set()
