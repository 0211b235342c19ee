"""Secrets inside base64 and percent-encoded text, checked through the JSON report of the real command line."""

from __future__ import annotations

import base64
import json
import random
import urllib.parse

import pytest
from scan_cli import finding_rows, github_token, leakhunt_fixture  # noqa: F401 - the fixture `leakhunt`

from leakhunt.decoding import base64_fragments, is_mostly_text
from leakhunt.encoded_spans import base64_runs_around


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    return random.Random(request.node.name)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def decoded_rows(report: dict) -> list[tuple[str, int, int, str, str, str | None]]:
    return [row + (item.get("decoded"),) for row, item in zip(finding_rows(report), report["findings"])]


def test_kubernetes_secret_data_value(leakhunt, tmp_path, rng):
    token = github_token(rng)
    (tmp_path / "secret.yaml").write_text(
        "apiVersion: v1\n"
        "kind: Secret\n"
        "metadata:\n"
        "  name: ci-credentials\n"
        "type: Opaque\n"
        "data:\n"
        f"  username: {b64('deploy-bot')}\n"
        f"  token: {b64(token)}\n"
    )

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert decoded_rows(report) == [("secret.yaml", 8, 10, "github-pat-classic", token, "base64")]


def test_kubernetes_secret_password_reported_once(leakhunt, tmp_path):
    password = "S3cr3t!Passw0rd-2024"
    encoded = b64(password)
    (tmp_path / "secret.yaml").write_text(
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: {encoded}\n")

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert decoded_rows(report) == [("secret.yaml", 6, 13, "kubernetes-secret-data", encoded, None)]


def test_decoded_finding_is_redacted(leakhunt, tmp_path, rng):
    token = github_token(rng)
    (tmp_path / "secret.yaml").write_text(f"kind: Secret\ndata:\n  token: {b64(token)}\n")

    run = leakhunt("scan", tmp_path, "--format", "json")

    finding = run.report()["findings"][0]
    assert finding["secret"] == token[:4] + "*****"
    assert finding["redacted"] is True
    assert token not in run.stdout
    assert b64(token) not in run.stdout


def test_percent_encoded_token_in_url_query(leakhunt, tmp_path, rng):
    token = github_token(rng)
    inner = f"https://api.example.com/user?access_token={token}&page=2"
    url = "https://proxy.example.com/fetch?url=" + urllib.parse.quote(inner, safe="")
    (tmp_path / "links.md").write_text(f"# Links\n\nMirror: {url}\n")

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    column = len("Mirror: ") + url.index(token) + 1
    assert decoded_rows(report) == [("links.md", 3, column, "github-pat-classic", token, "percent")]


def test_fully_percent_encoded_token(leakhunt, tmp_path, rng):
    token = github_token(rng)
    encoded = "".join(f"%{byte:02X}" for byte in f"token={token}".encode())
    (tmp_path / "request.log").write_text(f"GET /login?{encoded} 200\n")

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    column = len("GET /login?") + 3 * len("token=") + 1
    assert decoded_rows(report) == [("request.log", 1, column, "github-pat-classic", token, "percent")]


def test_echo_base64_decode_in_script(leakhunt, tmp_path, rng):
    token = github_token(rng)
    (tmp_path / "deploy.sh").write_text(
        "#!/bin/sh\n"
        "set -eu\n"
        f'export GH_TOKEN="$(echo {b64("  " + token)} | base64 -d)"\n'
    )

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert decoded_rows(report) == [("deploy.sh", 3, 25, "github-pat-classic", token, "base64")]


def test_urlsafe_unpadded_base64(leakhunt, tmp_path, rng):
    token = github_token(rng)
    encoded = base64.urlsafe_b64encode(f"t={token};".encode()).decode().rstrip("=")
    (tmp_path / "config.ini").write_text(f"[auth]\nblob = {encoded}\n")

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert decoded_rows(report) == [("config.ini", 2, 8, "github-pat-classic", token, "base64")]


def test_base64_inside_base64(leakhunt, tmp_path, rng):
    token = github_token(rng)
    auth = b64(f"ci-bot:{token}")
    docker_config = json.dumps({"auths": {"ghcr.io": {"auth": auth}}})
    (tmp_path / "pull-secret.yaml").write_text(
        "apiVersion: v1\n"
        "kind: Secret\n"
        "type: kubernetes.io/dockerconfigjson\n"
        "data:\n"
        f"  .dockerconfigjson: {b64(docker_config)}\n"
    )

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert decoded_rows(report) == [
        ("pull-secret.yaml", 5, 22, "docker-config-auth", auth, "base64"),
        ("pull-secret.yaml", 5, 22, "github-pat-classic", token, "base64+base64"),
    ]


def test_plain_and_encoded_token_both_reported(leakhunt, tmp_path, rng):
    plain, hidden = github_token(rng), github_token(rng)
    (tmp_path / "env.sh").write_text(f"export A={plain}\nexport B=$(echo {b64(hidden)} | base64 -d)\n")

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert decoded_rows(report) == [
        ("env.sh", 1, 10, "github-pat-classic", plain, None),
        ("env.sh", 2, 17, "github-pat-classic", hidden, "base64"),
    ]


def test_wrapped_base64_block_joined(leakhunt, tmp_path, rng):
    token = github_token(rng)
    config = f"# {'x' * 39}\ntoken = {token}\nregion = eu-west-1\n".encode()
    lines = base64.encodebytes(config).decode().splitlines()
    (tmp_path / "values.yaml").write_text("app:\n  config: |\n" + "".join(f"    {line}\n" for line in lines) + "  replicas: 2\n")

    run, report = leakhunt.scan_json(tmp_path)

    assert len(lines) == 2
    assert all(token.encode() not in base64.b64decode(line) for line in lines)
    assert run.returncode == 1
    assert decoded_rows(report) == [("values.yaml", 3, 5, "github-pat-classic", token, "base64")]


def test_adjacent_base64_values_stay_apart(leakhunt, tmp_path, rng):
    first, second = github_token(rng), github_token(rng)
    (tmp_path / "secret.yaml").write_text(f"kind: Secret\ndata:\n  a: {b64(first)}\n  b: {b64(second)}\n")

    run, report = leakhunt.scan_json(tmp_path)

    assert len(b64(first)) % 4 == 0
    assert run.returncode == 1
    assert decoded_rows(report) == [
        ("secret.yaml", 3, 6, "github-pat-classic", first, "base64"),
        ("secret.yaml", 4, 6, "github-pat-classic", second, "base64"),
    ]


def test_random_binary_blob_yields_nothing(leakhunt, tmp_path, rng):
    blobs = [base64.b64encode(rng.randbytes(size)).decode() for size in (18, 48, 300, 3000)]
    lines = [f"  blob{index}: {blob}" for index, blob in enumerate(blobs)]
    (tmp_path / "secret.yaml").write_text("kind: Secret\ndata:\n" + "\n".join(lines) + "\n")

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 0
    assert report["findings"] == []
    assert report["skipped"] == []


def test_allow_comment_covers_decoded_secret(leakhunt, tmp_path, rng):
    token = github_token(rng)
    (tmp_path / "secret.yaml").write_text(f"kind: Secret\ndata:\n  token: {b64(token)}  # leakhunt:allow test fixture\n")

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 0
    assert report["findings"] == []


def test_named_value_matches_local_rule(leakhunt, tmp_path):
    (tmp_path / "leakhunt.toml").write_text(
        "[[rules]]\n"
        'id = "test-db-password"\n'
        'name = "Database password"\n'
        '''pattern = '(?i)db_password:\\s*([A-Za-z0-9]{4,}[#!%][A-Za-z0-9]{4,})(?:\\s|$)'\n'''
        'keywords = ["db_password"]\n'
    )
    (tmp_path / "db.yaml").write_text(f"kind: Secret\ndata:\n  db_password: {b64('Wq7rT2#pLm9xVbK4sDe8Zn')}\n")

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert decoded_rows(report) == [("db.yaml", 3, 16, "test-db-password", "Wq7rT2#pLm9xVbK4sDe8Zn", "base64")]


def test_json_report_schema_accepts_decoded(leakhunt, tmp_path, rng):
    jsonschema = pytest.importorskip("jsonschema")
    from importlib import resources

    schema = json.loads(resources.files("leakhunt.report").joinpath("schema/report-v1.json").read_text())
    token = github_token(rng)
    (tmp_path / "secret.yaml").write_text(f"kind: Secret\ndata:\n  token: {b64(token)}\n")

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    jsonschema.validate(report, schema)
    assert report["findings"][0]["decoded"] == "base64"


def test_sarif_names_decoding(leakhunt, tmp_path, rng):
    token = github_token(rng)
    (tmp_path / "secret.yaml").write_text(f"kind: Secret\ndata:\n  token: {b64(token)}\n")

    run = leakhunt("scan", tmp_path, "--format", "sarif")

    result = json.loads(run.stdout)["runs"][0]["results"][0]
    assert result["properties"]["decoded"] == "base64"
    assert result["message"]["text"].endswith("(decoded: base64)")
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 3, "startColumn": 10}


@pytest.mark.parametrize("prefix", ["", "x", "xy"])
def test_keyword_fragment_in_any_alignment(prefix):
    encoded = base64.b64encode(f"{prefix}ghp_0123456789".encode())

    assert any(fragment in encoded for fragment in base64_fragments(b"ghp_"))


def test_mostly_text_rejects_binary():
    assert is_mostly_text("naïve café config\n".encode())
    assert not is_mostly_text(bytes(range(256)))
    assert not is_mostly_text(b"abc\x00\x01\x02def")


def test_base64_run_walked_once_for_many_keyword_hits() -> None:
    run = base64.b64encode(b"password=" * 3000)
    data = b"font = url(data:font/woff2;base64," + run + b")\nnext = 1\n"
    start = data.index(run)
    hits_inside = range(start + 100, start + len(run), 997)

    assert list(base64_runs_around(data, hits_inside)) == [(start, start + len(run))]


def test_base64_runs_around_separate_runs() -> None:
    first, second = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", b"YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4"
    data = first + b" = " + second + b"\n"

    assert list(base64_runs_around(data, [10, 20, len(first) + 3 + 5])) == [
        (0, len(first)),
        (len(first) + 3, len(first) + 3 + len(second)),
    ]
