"""Infrastructure and code-host rules, end to end through `leakhunt scan`, and their validators.

Every token here is generated at test time in the public format of its provider, from random
characters, so none of them is a live credential.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import string
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from leakhunt.validators import VALIDATORS, Verdict

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
BASE64URL = string.ascii_letters + string.digits + "-_"


def random_text(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits)).rjust(width, "0")


def npm_token() -> str:
    """Return an npm token: 30 random base62 characters and their CRC32 in six base62 digits."""
    body = random_text(BASE62, 30)
    return f"npm_{body}{base62(zlib.crc32(body.encode()), 6)}"


def pem_block(label: str, lines: int = 12) -> str:
    body = "\n".join(base64.b64encode(secrets.token_bytes(48)).decode() for _ in range(lines))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"


def urlsafe(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def compact_jwt(header: dict[str, object], payload: dict[str, object]) -> str:
    parts = (json.dumps(header).encode(), json.dumps(payload).encode(), secrets.token_bytes(32))
    return ".".join(urlsafe(part) for part in parts)


def pypi_token(location: bytes) -> str:
    """Return a PyPI-style token: a version-2 macaroon with a location and an identifier field."""
    identifier = secrets.token_hex(16).encode()
    data = bytes([2, 1, len(location)]) + location + bytes([2, len(identifier)]) + identifier + b"\x00\x00"
    data += bytes([6, 32]) + secrets.token_bytes(32)
    return "pypi-" + urlsafe(data)


def run_scan(target: Path, cache: Path) -> list[dict[str, object]]:
    """Run `leakhunt scan --format json --show-secrets` and return its findings."""
    report = target.parent / f"{target.name}-report.json"
    environment = dict(os.environ, XDG_CACHE_HOME=str(cache))
    completed = subprocess.run(
        [sys.executable, "-m", "leakhunt", "scan", str(target), "--format", "json", "--show-secrets", "--output", str(report)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert completed.returncode in (0, 1), completed.stderr
    return json.loads(report.read_text())["findings"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def test_scan_reports_infra_tokens(tmp_path: Path, cache: Path) -> None:
    gitlab = "glpat-" + random_text(BASE64URL, 20)
    digitalocean = "dop_v1_" + secrets.token_hex(32)
    npm = npm_token()
    doppler = "dp.st.prd." + random_text(BASE62, 43)
    vault = "hvs." + random_text(BASE62, 24)
    storage_key = base64.b64encode(secrets.token_bytes(64)).decode()
    service_account_key = pem_block("PRIVATE KEY", lines=25) + "\n"
    ssh_key = pem_block("OPENSSH PRIVATE KEY")

    tree = tmp_path / "repo"
    (tree / "config").mkdir(parents=True)
    (tree / "deploy").mkdir()
    (tree / "keys").mkdir()
    (tree / ".env").write_text(
        "# deploy settings\n"
        f"GITLAB_TOKEN={gitlab}\n"
        f"DIGITALOCEAN_ACCESS_TOKEN={digitalocean}\n"
        f"NPM_TOKEN={npm}\n"
        f"DOPPLER_TOKEN={doppler}\n"
    )
    account = {
        "type": "service_account",
        "project_id": "inventory-prod-41872",
        "private_key_id": secrets.token_hex(20),
        "private_key": service_account_key,
        "client_email": "uploader@inventory-prod-41872.iam.gserviceaccount.com",
    }
    (tree / "config" / "service-account.json").write_text(json.dumps(account, indent=2) + "\n")
    (tree / "deploy" / "values.yaml").write_text(
        "vault:\n"
        f"  token: {vault}\n"
        "storage:\n"
        '  connectionString: "DefaultEndpointsProtocol=https;AccountName=invoices7781;'
        f'AccountKey={storage_key};EndpointSuffix=core.windows.net"\n'
    )
    (tree / "keys" / "deploy_ed25519").write_text(ssh_key + "\n")

    findings = run_scan(tree, cache)

    found = {(item["rule"], item["path"], item["line"], item["secret"]) for item in findings}
    assert found == {
        ("gitlab-personal-access-token", ".env", 2, gitlab),
        ("digitalocean-personal-access-token", ".env", 3, digitalocean),
        ("npm-access-token", ".env", 4, npm),
        ("doppler-service-token", ".env", 5, doppler),
        ("gcp-service-account-key", "config/service-account.json", 5, json.dumps(service_account_key)[1:-1]),
        ("vault-service-token", "deploy/values.yaml", 2, vault),
        ("azure-storage-account-key", "deploy/values.yaml", 4, storage_key),
        ("private-key-openssh", "keys/deploy_ed25519", 1, ssh_key),
    }
    confidence = {item["rule"]: item["confidence"] for item in findings}
    assert confidence["npm-access-token"] == "high"


def test_scan_skips_placeholders(tmp_path: Path, cache: Path) -> None:
    tree = tmp_path / "templates"
    tree.mkdir()
    not_json = urlsafe(b"not a header") + "." + urlsafe(b'{"sub": "x"}') + "." + urlsafe(secrets.token_bytes(32))
    (tree / ".env.example").write_text(
        "GITLAB_TOKEN=glpat-xxxxxxxxxxxxxxxxxxxx\n"
        "VAULT_TOKEN=hvs.<your-vault-token>\n"
        "DIGITALOCEAN_ACCESS_TOKEN=dop_v1_${DO_TOKEN}\n"
        'PRIVATE_KEY="-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----\\n"\n'
        f"SESSION={not_json}\n"
    )
    (tree / "age.txt").write_text("AGE-SECRET-KEY-1" + "Q" * 58 + "\n")

    assert run_scan(tree, cache) == []


BITBUCKET_BODY = "ATBB" + random_text(BASE62, 24)
BECH32_VALID = "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"
PEM_KEY = base64.b64encode(pem_block("RSA PRIVATE KEY").encode()).decode()
PEM_CERTIFICATE = base64.b64encode(pem_block("CERTIFICATE").encode()).decode()
SERVICE_ACCOUNT_JWT = compact_jwt(
    {"alg": "RS256", "kid": "k1"},
    {"iss": "kubernetes/serviceaccount", "sub": "system:serviceaccount:ci:deployer"},
)
BOUND_JWT = compact_jwt(
    {"alg": "RS256"},
    {"iss": "https://kubernetes.default.svc", "kubernetes.io": {"namespace": "ci"}, "sub": "system:serviceaccount:ci:x"},
)
USER_JWT = compact_jwt({"alg": "HS256", "typ": "JWT"}, {"sub": "user-41"})
NO_ALG_JWT = compact_jwt({"typ": "JWT"}, {"sub": "user-41"})
REFERENCE_TOKEN = base64.b64encode(b"reftkn:01:1767225600:" + random_text(BASE62, 27).encode()).decode()
BEDROCK_KEY = "ABSK" + base64.b64encode(b"BedrockAPIKey-x7k2-at-123456789012:" + secrets.token_bytes(45)).decode()

VALIDATOR_CASES = [
    ("crc32-hex-suffix", BITBUCKET_BODY + f"{zlib.crc32(BITBUCKET_BODY.encode()):08X}", Verdict.CONFIRMED),
    ("crc32-hex-suffix", BITBUCKET_BODY + "00000000", Verdict.UNKNOWN),
    ("bech32-checksum", BECH32_VALID, Verdict.CONFIRMED),
    ("bech32-checksum", BECH32_VALID.upper(), Verdict.CONFIRMED),
    ("bech32-checksum", BECH32_VALID[:-1] + "y", Verdict.UNKNOWN),
    ("pypi-macaroon", pypi_token(b"pypi.org"), Verdict.CONFIRMED),
    ("pypi-macaroon", pypi_token(b"test.pypi.org"), Verdict.CONFIRMED),
    ("pypi-macaroon", pypi_token(b"example.org"), Verdict.REJECTED),
    ("pypi-macaroon", "pypi-" + urlsafe(b"\x01" + secrets.token_bytes(60)), Verdict.REJECTED),
    ("jwt-header", USER_JWT, Verdict.UNKNOWN),
    ("jwt-header", NO_ALG_JWT, Verdict.REJECTED),
    ("jwt-header", urlsafe(b"plain words") + "." + urlsafe(b"{}") + ".", Verdict.REJECTED),
    ("jwt-base64", base64.b64encode(USER_JWT.encode()).decode(), Verdict.UNKNOWN),
    ("jwt-base64", base64.b64encode(b"eyJ but not a token at all").decode(), Verdict.REJECTED),
    ("kubernetes-service-account-jwt", SERVICE_ACCOUNT_JWT, Verdict.CONFIRMED),
    ("kubernetes-service-account-jwt", BOUND_JWT, Verdict.CONFIRMED),
    ("kubernetes-service-account-jwt", USER_JWT, Verdict.REJECTED),
    ("base64-pem-private-key", PEM_KEY, Verdict.CONFIRMED),
    ("base64-pem-private-key", PEM_CERTIFICATE, Verdict.REJECTED),
    ("basic-auth-base64", base64.b64encode(b"builder:" + random_text(BASE62, 20).encode()).decode(), Verdict.UNKNOWN),
    ("basic-auth-base64", base64.b64encode(b"no-separator-here").decode(), Verdict.REJECTED),
    ("jfrog-reference-token", REFERENCE_TOKEN, Verdict.CONFIRMED),
    ("jfrog-reference-token", "cmVmdGtu" + random_text(BASE62, 56), Verdict.REJECTED),
    ("aws-bedrock-long-term-key", BEDROCK_KEY, Verdict.CONFIRMED),
    ("aws-bedrock-long-term-key", "ABSK" + base64.b64encode(secrets.token_bytes(60)).decode(), Verdict.REJECTED),
    ("mixed-case-digits", "s.Z4bTMtngfLeQ18AqVoBBkUAOD1", Verdict.UNKNOWN),
    ("mixed-case-digits", "s.AcceptanceTimeoutSeconds", Verdict.REJECTED),
    ("no-sequential-run", "AIzaSy" + random_text(BASE64URL, 33), Verdict.UNKNOWN),
    ("no-sequential-run", "AIzaSyabcdefghijklmnopqrstuvwxyz1234567", Verdict.REJECTED),
]


CASE_IDS = [f"{validator}-{index}-{verdict.value}" for index, (validator, _, verdict) in enumerate(VALIDATOR_CASES)]


@pytest.mark.parametrize(("validator", "token", "verdict"), VALIDATOR_CASES, ids=CASE_IDS)
def test_validator_verdict(validator: str, token: str, verdict: Verdict) -> None:
    assert VALIDATORS[validator](token) is verdict
