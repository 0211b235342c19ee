"""SaaS, messaging, payment and AI rules, run through the CLI on realistic project files.

Every token below was generated at random in its provider's public format, and none is live.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from leakhunt.validators import (
    Verdict,
    crc32_hex_little_endian_suffix,
    crc32_hex_suffix,
    discord_bot_token,
    grafana_api_key,
    json_payload,
)

SLACK_BOT = "xoxb-514146388467-5827197584040-TEiHeoyoXHCe2HJFcYvJPenG"
SENDGRID = "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"
ATLASSIAN = (
    "ATATT3xFfGF0Qoc9hfXdqVRMYtRCehNDQtK3ppOZvWXSkKsafk0l_FWYP5iFOF-OaC05wLMRgx75XYDonIjUKsnStbRgrDw4zOxoSx2o5IBK"
    "ULV5dtEg5NnshDrfKWJhjnIPyda8p12KlyAW7s7Yhzcwz4sV2CuhZ4-KmvPHk5f2UhtQgCPnpo=12B065D1"
)
STRIPE_SECRET = (
    "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"
)
STRIPE_PUBLISHABLE = (
    "pk_live_514NTrp36qCsGbslrAr0NNOXwlyvqy5VeKSl5r0dWdGtttRHncPKOBzopAcZzFkBCfEmDi8VSTKxFKhg0Tk0x4WbRU6F8soVx0g"
)
OPENAI_PROJECT = (
    "sk-proj-4RM-ajwK3RECbAml1E-4KO1Duu4_8wKnh5mQdiQhw57JwuwcdVM7fcK-ECxohaAIs9b7s6TLuWT3BlbkFJb8GfvJV8nBonOL8Sus"
    "czF7iBQEJiPwy2s-6411_8gtXg_EYE_PEnweVnn4L9iVjqk5Pakutryr"
)
TWILIO_AUTH = "9cb79e40f5adbeb0dbad710f374aadc3"
DATADOG_API = "30ca7a38953813a27b567db7367c823d"
GRAFANA_SERVICE_ACCOUNT = "glsa_nhOPFyZ4KwX6N6hQjIg4bvTLVU2ul0dO_c89256b9"
ANTHROPIC = (
    "sk-ant-api03-X4cqQtcCOXnDsUvv8V4T2jibcEzuOD847Igj2qCUnfOF8N_1ZZF0RIi1mtd8_bleaM_xQSheJb3zBjOsvdviXSTSrBc9nAA"
)
MAILCHIMP = "c6b6da8f4643230e8c39fa68d8e53030-us14"
DISCORD_WEBHOOK = (
    "https://discord.com/api/webhooks/1245664627222347595/"
    "6OCOo6m7WGMV_ckEnvHhxIC2p8YiwFBvW3yLRyBJud01Y3hpcBZM_khwD4-ZnWb4PBQK"
)
MAPBOX_PUBLIC = "pk.eyJ1Ijoia3FwZ21lZmEiLCJhIjoicmtmYWIyMHc5ZGFxbGdsa2Z1b2NvdDMydiJ9.JAZFuKSf64yYolcoWYK40E"

SETTINGS_PY = f'''"""Django settings for the shop project."""
import os

DEBUG = False
SLACK_BOT_TOKEN = "{SLACK_BOT}"
EMAIL_BACKEND = "sendgrid_backend.SendgridBackend"
SENDGRID_API_KEY = os.environ.get("SENDGRID_API_KEY", "{SENDGRID}")
JIRA = {{
    "url": "https://acme.atlassian.net",
    "token": "{ATLASSIAN}",
}}
'''

DOTENV = f"""# Local overrides for development
STRIPE_SECRET_KEY={STRIPE_SECRET}
STRIPE_PUBLISHABLE_KEY={STRIPE_PUBLISHABLE}
OPENAI_API_KEY={OPENAI_PROJECT}
TWILIO_AUTH_TOKEN={TWILIO_AUTH}
"""

GROUP_VARS_YML = f"""---
datadog_site: datadoghq.eu
datadog_api_key: "{DATADOG_API}"
grafana:
  url: https://grafana.internal.example
  token: {GRAFANA_SERVICE_ACCOUNT}
anthropic_api_key: {ANTHROPIC}
mailchimp: {MAILCHIMP}
"""

PUBLIC_KEYS_JS = f"""import mapboxgl from "mapbox-gl";

mapboxgl.accessToken = "{MAPBOX_PUBLIC}";
const stripe = Stripe("{STRIPE_PUBLISHABLE}");
"""

NOTIFY_JS = PUBLIC_KEYS_JS + f"""const DISCORD_WEBHOOK = "{DISCORD_WEBHOOK}";

export async function notify(message) {{
  await fetch(DISCORD_WEBHOOK, {{ method: "POST", body: JSON.stringify({{ content: message }}) }});
}}
"""

EXPECTED_FINDINGS = [
    ("atlassian-api-token", "app/settings.py", 10, ATLASSIAN, "high"),
    ("sendgrid-api-key", "app/settings.py", 7, SENDGRID, "high"),
    ("slack-bot-token", "app/settings.py", 5, SLACK_BOT, "high"),
    ("openai-project-key", ".env", 4, OPENAI_PROJECT, "high"),
    ("stripe-secret-key", ".env", 2, STRIPE_SECRET, "high"),
    ("twilio-auth-token", ".env", 5, TWILIO_AUTH, "medium"),
    ("anthropic-api-key", "deploy/group_vars.yml", 7, ANTHROPIC, "high"),
    ("datadog-api-key", "deploy/group_vars.yml", 3, DATADOG_API, "medium"),
    ("grafana-service-account-token", "deploy/group_vars.yml", 6, GRAFANA_SERVICE_ACCOUNT, "high"),
    ("mailchimp-api-key", "deploy/group_vars.yml", 8, MAILCHIMP, "high"),
    ("discord-webhook-url", "web/src/notify.js", 5, DISCORD_WEBHOOK, "high"),
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rule cache shared by the scans of this module, so the rule database compiles once."""
    return tmp_path_factory.mktemp("cache")


def write_tree(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def scan_json(target: Path, report: Path, cache: Path) -> tuple[int, dict]:
    """Run `leakhunt scan` on `target` as a user would and return its exit status and JSON report."""
    environment = dict(os.environ, XDG_CACHE_HOME=str(cache))
    command = [sys.executable, "-m", "leakhunt", "scan", str(target), "--format", "json", "--show-secrets",
               "--output", str(report)]
    completed = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    assert completed.returncode in (0, 1), completed.stderr
    return completed.returncode, json.loads(report.read_text(encoding="utf-8"))


def finding_rows(report: dict) -> list[tuple[str, str, int, str, str]]:
    rows = [(f["rule"], f["path"], f["line"], f["secret"], f["confidence"]) for f in report["findings"]]
    return sorted(rows, key=lambda row: (row[1], row[0]))


def test_scan_finds_tokens_in_project(tmp_path: Path, cache: Path) -> None:
    project = tmp_path / "project"
    write_tree(project, {
        "app/settings.py": SETTINGS_PY,
        ".env": DOTENV,
        "deploy/group_vars.yml": GROUP_VARS_YML,
        "web/src/notify.js": NOTIFY_JS,
    })

    status, report = scan_json(project, tmp_path / "report.json", cache)

    assert status == 1
    assert finding_rows(report) == sorted(EXPECTED_FINDINGS, key=lambda row: (row[1], row[0]))


def test_scan_skips_publishable_keys(tmp_path: Path, cache: Path) -> None:
    project = tmp_path / "project"
    write_tree(project, {"web/src/map.js": PUBLIC_KEYS_JS})

    status, report = scan_json(project, tmp_path / "report.json", cache)

    assert status == 0
    assert report["findings"] == []
    assert report["stats"]["files_scanned"] == 1


def test_grafana_checksum_vendor_vector() -> None:
    # The token Grafana's own satokengen tests decode successfully.
    assert crc32_hex_little_endian_suffix("glsa_iNValIdinValiDinvalidinvalidinva_5b582697") is Verdict.CONFIRMED
    assert crc32_hex_little_endian_suffix(GRAFANA_SERVICE_ACCOUNT) is Verdict.CONFIRMED


def test_grafana_checksum_mismatch() -> None:
    assert crc32_hex_little_endian_suffix("glsa_iNValIdinValiDinvalidinvalidinva_5b582698") is Verdict.UNKNOWN
    assert crc32_hex_little_endian_suffix("glsa_short") is Verdict.UNKNOWN


def test_atlassian_checksum() -> None:
    body = "ATATT3xFfGF0" + "Zq7" * 50 + "="
    checksum = format(zlib.crc32(body.encode("ascii")), "08X")

    assert crc32_hex_suffix(body + checksum) is Verdict.CONFIRMED
    assert crc32_hex_suffix(ATLASSIAN) is Verdict.CONFIRMED
    assert crc32_hex_suffix(body + "00000000") is Verdict.UNKNOWN
    assert crc32_hex_suffix("ATATT3xFfGF0nochecksum") is Verdict.UNKNOWN


def encode_json(payload: dict, urlsafe: bool = False) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    encoded = base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)
    return encoded.decode("ascii")


@pytest.mark.parametrize(
    "token",
    [
        "sntrys_" + encode_json({"iat": 1717171717.5, "url": "https://sentry.io", "org": "acme"}) + "_" + "Ab1+" * 10 + "xyz",
        "glc_" + encode_json({"o": "744587", "n": "stack-write", "k": "Q3k9aB7xT2mN8pL4vR6sW1yZ", "m": {"r": "us"}}),
        "sk." + encode_json({"u": "mapper", "a": "ckq1x2y3z4a5b6c7d8e9f0g1h"}, urlsafe=True).rstrip("=") + ".JAZFuKSf64yYolcoWYK40E",
    ],
    ids=["sentry", "grafana-cloud", "mapbox"],
)
def test_json_payload_decodable_object(token: str) -> None:
    assert json_payload(token) is Verdict.CONFIRMED


def test_json_payload_garbage() -> None:
    assert json_payload("sntrys_eyJnotbase64!!_" + "A" * 43) is Verdict.UNKNOWN
    assert json_payload("glc_" + base64.b64encode(b"plain text, not json").decode("ascii")) is Verdict.UNKNOWN


def test_grafana_key_needs_name() -> None:
    grafana = encode_json({"k": "Q3k9aB7xT2mN8pL4vR6sW1yZ0cD5eF6g", "n": "deploy", "id": 1})
    power_bi = encode_json({"k": "b56e542d-43dc-4e65-9f36-d82ebc1459d3", "t": "72f988bf-86f1-41af-91ab-2d7cd011db47", "c": 5})

    assert grafana_api_key(grafana) is Verdict.CONFIRMED
    assert grafana_api_key(power_bi) is Verdict.REJECTED


def test_discord_token_decodes_user_id() -> None:
    user_id = base64.urlsafe_b64encode(b"1088213527465230428").decode("ascii").rstrip("=")
    not_an_id = base64.urlsafe_b64encode(b"hello-world-bot-user").decode("ascii").rstrip("=")
    tail = ".GZx3Qw.Xk8fLq2Vb9nR4tY7uJ1mP5sD0aC6eH3iO8wKzT"

    assert discord_bot_token(user_id + tail) is Verdict.CONFIRMED
    assert discord_bot_token(not_an_id + tail) is Verdict.REJECTED
