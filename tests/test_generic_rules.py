"""The generic, URL and connection-string rules, checked through the CLI's JSON report.

One tree contains a file per situation and is scanned once. Each test compares the findings
of its file, as (line, rule, secret), with the exact list expected. All secret values here
were generated at random for these tests.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

HEX_1 = "b08f27a9cee06ea382c46ca496de9203a1e06cfc0eb9765c6b37ac1bbc813eee"
HEX_2 = "fe2771acb98f11fe94cbeaedf7039c0b861c93dda5ed3b72ff50df2bf8278fa7"
HEX_3 = "04677496a68b0a863cd38e784e87b4f9327b6accb2a57ec1c2822fe8c22ecf9f"
HEX_128 = (
    "b17529922f17545ea72673aa845660a64a94812a7c5074a5d4b21b63b10a1cdf"
    "d49ade44a22cb6c2c1fbc9c3d8a2a6f91c3b0cb0a8dd3415d2fe2f7fe86f6878"
)
ORACLE_PASSWORD = "Vb7#Lq2xZt9mWp4K"
MIRROR_PASSWORD = "O8qagiArQ3Hhv5I9f0f6"
HUMAN_PASSWORD = "tWZB8~U=*m*Inc"
PASSWORD_2 = "1C%2gclrio4ctMpT"
PASSWORD_3 = "L?m4MW!FjgFR"
PASSWORD_4 = "FDsy98=_8QT!gmV"
PASSWORD_5 = "sOMRiU6yiVvm%"
TOKEN_24 = "4eD3NVgtqCQ4zHS1sOO2cBus"
TOKEN_32 = "e04GdG6U3oPGJ47NpxkhgJnFTneFXAIt"
TOKEN_40 = "I2OBTJiJZnwuQoYi33vDPM0FbM8eXZZunagZENGm"
TOKEN_28 = "fjWtc6GQi7ddo0vG8oHUa0c6Bwxy"
TOKEN_36 = "lq9ekkQESwc69r5jew1bzCtHuizKR5BPKnHj"
TOKEN_32B = "tODFBFPQ2JlLMJeE0FnETuqhYGYhtMvJ"
TOKEN_26 = "MUuwTMiALHuzPpop78iwMbl3cU"
TOKEN_30 = "DltIxzYzU9p0yxXIYIdWbEGuUtGBgV"
TOKEN_22 = "fKuDA5QCPFSwRzrt91FjZc"
TOKEN_34 = "DqgCM54BU8gZC4UsRLdmhImfA2ZsRWshCk"
DJANGO_KEY = "django-insecure-2xbc9oe#+j=%6^4sph05gof^o4kt79b(ghxx*rqu!f*2^tq01"
BASIC_CREDENTIALS = base64.b64encode(f"ci-bot:{PASSWORD_2}".encode()).decode()
DOCKER_AUTH = base64.b64encode(f"deploy:{PASSWORD_3}".encode()).decode()
KUBERNETES_PASSWORD = base64.b64encode(PASSWORD_4.encode()).decode()
SEALED_VALUE = (
    "AgBWw4EnHWx7hhfLe3epsvI0vflKuYA9TmIcCTGBeWHpQuCiCJay8/6oUrrIu7jsaMihvJkNjWhX5F5aSByRPXFn902+z84fmBLwzPmDK"
    "tI09Y3Dz0tDgzy9Ac73vYAX098I3K43cEKmF+7esa+JzOdj2a7Rz1z4fWuYuOZ3y1bXeKM/YCG0V3NTZDoPHhTJEaFMBxTTLzucNPxWHIF"
    "bir0wQOOWw0pY9GyclON9b8Q9wDwniEd6Dcqu0cv8co0d0es/My1HuYfDUUjEp5s4akP0kFr4odSgvLSeEh/RCwR6s6KbqjfXSqzd+AeoH"
    "b5cQlOUBfFECyewBE4QgBpUebpIQBAWV/DCMUdVulD12ov4XUv76KxfUlkNOCPPA35=="
)
BCRYPT_HASH = "$2b$12$fZLxxFxu4VkN.aLRpmEpVTB8uEI2Rpieentx7YQ59ksUy9sDsmZmX"

# Each file of the scanned tree with the findings expected in it as (line, rule, secret).
CASES: dict[str, tuple[str, list[tuple[int, str, str]]]] = {
    "helm/values.yaml": (
        (
            "---\n"
            "settings: |\n"
            "  signing:\n"
            f'    - secret_key: "{HEX_1}"\n'
            f"    - secret_key: {HEX_2}\n"
            f'worker_secret_key: "{HEX_3}"\n'
        ),
        [(4, "generic-secret", HEX_1), (5, "generic-secret", HEX_2), (6, "generic-secret", HEX_3)],
    ),
    "src/Db.cs": (
        (
            "// Oracle connection\n"
            f'string ora = "Data Source=ora01.corp.example:1521/SALESPDB;User ID=svc_sales;Password={ORACLE_PASSWORD};";\n'
        ),
        [(2, "connection-string-password", ORACLE_PASSWORD)],
    ),
    "docs/mirrors.html": (
        (
            "<html><body>\n"
            "<h1>Mirrors</h1>\n"
            f'<p><a href="https://ci:{MIRROR_PASSWORD}@git.corp.example/tools/build.git">'
            f"https://ci:{MIRROR_PASSWORD}@git.corp.example/tools/build.git</a></p>\n"
            "</body></html>\n"
        ),
        [(3, "url-credentials", MIRROR_PASSWORD), (3, "url-credentials", MIRROR_PASSWORD)],
    ),
    "config/index.js": (
        (
            "module.exports = {\n"
            "  db: { user: 'shop', password: '********' },\n"
            "  vault: { password: '/parameters/prod/shop/password' },\n"
            "  mail: { password: 'changeme' },\n"
            "  apiKey: '<your-api-key>',\n"
            "  token: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',\n"
            "  secret: process.env.SHOP_SECRET,\n"
            "};\n"
        ),
        [],
    ),
    "deploy/sealed.yaml": (
        (
            "apiVersion: bitnami.com/v1alpha1\n"
            "kind: SealedSecret\n"
            "metadata:\n"
            "  name: shop-db\n"
            "spec:\n"
            "  encryptedData:\n"
            f"    password: {SEALED_VALUE}\n"
            f"    api_token: {SEALED_VALUE[::-1]}\n"
        ),
        [],
    ),
    "web/index.html": (
        (
            "<!doctype html>\n<html><head>\n"
            '<link rel="stylesheet" href="https://cdn.corp.example/kit/2.1.0/kit.min.css" '
            'integrity="sha384-NYiVu/gKXJ8w+780g4cslbunjAay0MMBE0Vu6GSxvFBhYozycqgWy7b+5jSKV6fD" crossorigin="anonymous">\n'
            '<script src="https://cdn.corp.example/kit/2.1.0/kit.min.js" '
            'integrity="sha512-P/jMp7Rkqys4s3Qaby+Nu0XY/IimRF3W2s4qUFSWXLQG/osmBKygU/HcvR+wOZTfH4Ogl/DEP7hCM/t/rVNUdQ==" '
            'crossorigin="anonymous"></script>\n'
            "</head><body></body></html>\n"
        ),
        [],
    ),
    "web/package-lock.json": (
        (
            '{\n  "name": "web",\n  "lockfileVersion": 3,\n  "packages": {\n'
            '    "node_modules/tiny-queue": {\n'
            '      "version": "0.2.1",\n'
            '      "resolved": "https://registry.npmjs.org/tiny-queue/-/tiny-queue-0.2.1.tgz",\n'
            '      "integrity": "sha512-P/jMp7Rkqys4s3Qaby+Nu0XY/IimRF3W2s4qUFSWXLQG/osmBKygU/HcvR+wOZTfH4Ogl/DEP7hCM/t/rVNUdQ=="\n'
            "    }\n  }\n}\n"
        ),
        [],
    ),
    "config/secrets.yml": (
        (f"production:\n  SECRET_KEY_BASE: {HEX_128}\n"),
        [(2, "generic-secret", HEX_128)],
    ),
    "app/settings.py": (
        (f"DEBUG = False\nDATABASE_PASSWORD = \"{PASSWORD_2}\"\nSECRET_KEY = '{DJANGO_KEY}'\n"),
        [(2, "generic-password", PASSWORD_2), (3, "generic-secret", DJANGO_KEY)],
    ),
    "app/config.ts": (
        f"export const apiKey: string = '{TOKEN_24}';\n",
        [(1, "generic-secret", TOKEN_24)],
    ),
    "app/config.json": (
        (f'{{\n  "db": {{\n    "password": "{HUMAN_PASSWORD}"\n  }},\n  "client_secret": "{TOKEN_32}"\n}}\n'),
        [(3, "generic-password", HUMAN_PASSWORD), (5, "generic-secret", TOKEN_32)],
    ),
    ".env": (
        (f"APP_ENV=production\nBILLING_API_KEY={TOKEN_40}\nREDIS_URL=redis://:{PASSWORD_5}@cache.internal:6379/0\n"),
        [(2, "generic-secret", TOKEN_40), (3, "url-credentials", PASSWORD_5)],
    ),
    "conf/app.ini": (
        (f"[database]\nhost = db.internal\npassword = {PASSWORD_3}\n"),
        [(3, "generic-password", PASSWORD_3)],
    ),
    "conf/app.properties": (
        (f"app.secret={TOKEN_28}\ndb.url=jdbc:mysql://db.internal:3306/shop?user=shop&password={PASSWORD_5}\n"),
        [(1, "generic-secret", TOKEN_28), (2, "jdbc-url-password", PASSWORD_5)],
    ),
    "infra/main.tf": (
        (f'resource "aws_db_instance" "shop" {{\n  password = "{PASSWORD_2}"\n  username = var.db_user\n}}\n'),
        [(2, "generic-password", PASSWORD_2)],
    ),
    "Dockerfile": (
        (f"FROM python:3.12-slim\nENV SERVICE_PASSWORD={PASSWORD_3}\nARG BUILD_TOKEN {TOKEN_36}\n"),
        [(2, "generic-password", PASSWORD_3), (3, "generic-secret-dockerfile-env", TOKEN_36)],
    ),
    "scripts/deploy.sh": (
        (
            "#!/bin/sh\n"
            f"export DEPLOY_TOKEN={TOKEN_32B}\n"
            f"curl -s -u ci-bot:{PASSWORD_4} https://ci.corp.example/job/build\n"
            f'curl -H "Authorization: Bearer {TOKEN_34}" https://api.corp.example/v1/me\n'
        ),
        [
            (2, "generic-secret", TOKEN_32B),
            (3, "curl-basic-auth", PASSWORD_4),
            (4, "curl-auth-header", TOKEN_34),
        ],
    ),
    "web.config": (
        (
            "<configuration><appSettings>\n"
            f'  <add key="SmtpPassword" value="{PASSWORD_5}" />\n'
            "</appSettings></configuration>\n"
        ),
        [(2, "generic-secret-xml-key-value", PASSWORD_5)],
    ),
    "settings.xml": (
        (
            "<settings><servers><server>\n"
            "  <id>corp</id>\n"
            f"  <password>{PASSWORD_4}</password>\n"
            "</server></servers></settings>\n"
        ),
        [(3, "generic-secret-xml-element", PASSWORD_4)],
    ),
    "wp-config.php": (
        (f"<?php\ndefine('DB_PASSWORD', '{PASSWORD_3}');\n$mail->Password = '{PASSWORD_2}';\n"),
        [(2, "generic-secret-quoted-pair", PASSWORD_3), (3, "generic-password", PASSWORD_2)],
    ),
    "cmd/main.go": (
        (f'var authToken string = "{TOKEN_26}"\nsessionSecret := "{TOKEN_30}"\n'),
        [(1, "generic-secret", TOKEN_26), (2, "generic-secret", TOKEN_30)],
    ),
    "src/Config.cs": (
        f'private const string ClientSecret = "{TOKEN_22}";\n',
        [(1, "generic-secret", TOKEN_22)],
    ),
    "home/.netrc": (
        f"machine api.corp.example\n  login ci-bot\n  password {PASSWORD_5}\n",
        [(3, "netrc-password", PASSWORD_5)],
    ),
    "requests/orders.http": (
        (f"GET /v2/orders HTTP/1.1\nHost: api.corp.example\nAuthorization: Basic {BASIC_CREDENTIALS}\n"),
        [(3, "http-basic-authorization", BASIC_CREDENTIALS)],
    ),
    "requests/items.http": (
        (f"GET /v1/items HTTP/1.1\nHost: api.corp.example\nX-Inventory-ApiKey: {TOKEN_28}\n"
         "X-RateLimit-Remaining: 4999\n"),
        [(3, "http-api-key-header", TOKEN_28)],
    ),
    "web/search.js": (
        f"docsearch({{\n  apiKey: '{TOKEN_32B}',\n  indexName: 'docs',\n}});\n",
        [(2, "generic-secret", TOKEN_32B)],
    ),
    "deploy/db-secret.yaml": (
        (
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: shop-db\ntype: Opaque\ndata:\n"
            "  username: c2hvcA==\n"
            f"  password: {KUBERNETES_PASSWORD}\n"
        ),
        [(8, "kubernetes-secret-data", KUBERNETES_PASSWORD)],
    ),
    "ci/.npmrc": (
        f"//npm.corp.example/:_authToken={TOKEN_36}\n",
        [(1, "npmrc-auth-token", TOKEN_36)],
    ),
    "ci/.pypirc": (
        (
            "[distutils]\nindex-servers = corp\n\n[corp]\nrepository = https://pypi.corp.example/\n"
            f"username = ci-bot\npassword = {PASSWORD_2}\n"
        ),
        [(7, "generic-password", PASSWORD_2)],
    ),
    "ci/docker-config.json": (
        (f'{{"auths": {{"registry.corp.example": {{"auth": "{DOCKER_AUTH}"}}}}}}\n'),
        [(1, "docker-config-auth", DOCKER_AUTH)],
    ),
    "ops/restart.bat": (
        f"psexec \\\\build01 -u CORP\\svc-build -p {PASSWORD_5} cmd /c shutdown -r\n",
        [(1, "psexec-password", PASSWORD_5)],
    ),
    "conf/users.xml": (
        f'<users>\n  <user name="ci" password="{PASSWORD_4}" roles="deploy"/>\n</users>\n',
        [(2, "generic-password", PASSWORD_4)],
    ),
    "conf/services.yaml": (
        (
            f"mongo: mongodb+srv://svc:{TOKEN_22}@cluster0.corp.example/shop\n"
            f"smtp: smtps://mailer:{PASSWORD_2}@smtp.corp.example:465\n"
            "docs: https://docs.corp.example/setup\n"
        ),
        [(1, "url-credentials", TOKEN_22), (2, "url-credentials", PASSWORD_2)],
    ),
    "ci/legacy.npmrc": (
        f"registry=https://npm.corp.example/\n_auth={DOCKER_AUTH}\n",
        [(2, "npmrc-basic-auth", DOCKER_AUTH)],
    ),
    "etc/shadow.txt": (f"deploy:{BCRYPT_HASH}:19700:0:99999:7:::\n", []),
    "locale/de.json": ('{\n  "password": "Passwort",\n  "token": "Zugriffstoken",\n  "secret": "Geheimnis"\n}\n', []),
    "locale/fr.py": ("LABELS = {'password': 'Mot de passe', 'password_hint': 'Au moins 12 caractères'}\n", []),
    "app/not_secrets.py": (
        (
            "password = get_password()\n"
            'token = os.environ["APP_TOKEN"]\n'
            "secret_key = settings.SECRET_KEY\n"
            "api_key = None\n"
            "auth_enabled = True\n"
            "token_ttl_seconds = 3600\n"
            'password_file = "/run/secrets/db_password"\n'
            'auth_url = "https://login.corp.example/oauth2/token"\n'
            'client_secret = "${CLIENT_SECRET}"\n'
            'client_id = "5f0c8a8e-2c1b-4f4e-9d7a-3b6e1f2a9c44"\n'
            'password = "12345678"\n'
            'public_key = "x4Qm9Tz2Lr7Vn1Kp8Ws3Yb6Hd0Jf5Gc"\n'
        ),
        [],
    ),
}


@pytest.fixture(scope="module")
def cache_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Return an environment whose rule cache lives in a temporary folder."""
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}


def scan(target: Path, report: Path, env: dict[str, str], *options: str) -> subprocess.CompletedProcess[bytes]:
    command = [
        sys.executable,
        "-m",
        "leakhunt",
        "scan",
        str(target),
        "--format",
        "json",
        "--show-secrets",
        "--no-progress",
        "--output",
        str(report),
        *options,
    ]
    return subprocess.run(command, capture_output=True, env=env, timeout=120, check=False)


def findings_by_path(report: Path) -> dict[str, list[tuple[int, str, str]]]:
    grouped: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for finding in json.loads(report.read_text(encoding="utf-8"))["findings"]:
        grouped[finding["path"]].append((finding["line"], finding["rule"], finding["secret"]))
    return grouped


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tree")
    for relative, (text, _) in CASES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def found(tree: Path, tmp_path_factory: pytest.TempPathFactory, cache_env: dict[str, str]) -> dict[str, list]:
    report = tmp_path_factory.mktemp("report") / "report.json"
    completed = scan(tree, report, cache_env)
    assert completed.returncode == 1, completed.stderr.decode()
    return findings_by_path(report)


@pytest.mark.parametrize("path", sorted(CASES))
def test_file_findings(found: dict[str, list], path: str) -> None:
    assert found.get(path, []) == CASES[path][1]


def test_no_findings_outside_cases(found: dict[str, list]) -> None:
    assert set(found) - set(CASES) == set()


def test_mirror_link_columns(tree: Path, tmp_path: Path, cache_env: dict[str, str]) -> None:
    line = CASES["docs/mirrors.html"][0].splitlines()[2]
    in_href = line.index(MIRROR_PASSWORD) + 1
    in_text = line.index(MIRROR_PASSWORD, in_href) + 1
    report = tmp_path / "report.json"

    scan(tree / "docs", report, cache_env)

    columns = [finding["column"] for finding in json.loads(report.read_text())["findings"]]
    assert columns == [in_href, in_text]
    assert (in_href, in_text) == (24, 90)


def test_password_hash_low_confidence(tree: Path, tmp_path: Path, cache_env: dict[str, str]) -> None:
    report = tmp_path / "report.json"
    completed = scan(tree / "etc", report, cache_env, "--min-confidence", "low")
    assert completed.returncode == 1
    assert findings_by_path(report) == {"shadow.txt": [(1, "password-hash-crypt", BCRYPT_HASH)]}


def test_long_minified_line(tmp_path: Path, cache_env: dict[str, str]) -> None:
    source = tmp_path / "src"
    source.mkdir()
    pieces = '" + "b'.join(f"y{index}" for index in range(28000))
    (source / "bundle.min.js").write_text(f'var password_hint = "{pieces}"\n', encoding="utf-8")
    assert (source / "bundle.min.js").stat().st_size > 300_000
    report = tmp_path / "report.json"

    completed = scan(source, report, cache_env)

    assert completed.returncode == 0, completed.stderr.decode()
    assert b"Traceback" not in completed.stderr
    assert findings_by_path(report) == {}
