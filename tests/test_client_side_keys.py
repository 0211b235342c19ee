"""Keys that ship to browsers and apps by design are reported at low confidence, not hidden.

A Google API key counts as a server credential only under a credential name or in a Gemini API
URL. Bare, in a Firebase config, under `key` or behind a public build-variable prefix, it is
`gcp-api-key-unnamed` at low confidence. Mailchimp mobile SDK keys are low as well, and a JWT
after `Basic` is no finding. Every key is generated here from random characters.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
from pathlib import Path

from scan_cli import leakhunt_fixture  # noqa: F401 - the fixture `leakhunt`

BASE64URL = string.ascii_letters + string.digits + "_-"
# Google API keys seen in public code end in one of these characters, whose two low bits are zero.
GOOGLE_KEY_LAST = "AEIMQUYcgkosw048"


def google_api_key() -> str:
    body = "".join(secrets.choice(BASE64URL) for _ in range(32))
    return "AIzaSy" + body + secrets.choice(GOOGLE_KEY_LAST)


def base64url_json(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def rows(report: dict[str, object]) -> list[tuple[str, int, str, str, str]]:
    findings = report["findings"]
    assert isinstance(findings, list)
    return sorted((item["path"], item["line"], item["rule"], item["confidence"], item["secret"]) for item in findings)


def test_key_confidence_by_context(leakhunt, tmp_path: Path) -> None:
    server_key, firebase_key, bare_key, public_key, query_key = (google_api_key() for _ in range(5))
    sdk_key = secrets.token_hex(16) + "-us7"
    jwt = ".".join(
        (base64url_json({"alg": "HS256", "typ": "JWT"}), base64url_json({"score": 0.5}), secrets.token_urlsafe(32))
    )
    write(tmp_path, "server/.env", f"GEMINI_API_KEY={server_key}\n")
    write(
        tmp_path,
        "web/firebase.js",
        f'const firebaseConfig = {{\n  apiKey: "{firebase_key}",\n  authDomain: "shop-1.firebaseapp.com",\n}};\n',
    )
    write(tmp_path, "notes.txt", f"{bare_key}\n")
    write(tmp_path, "web/.env.local", f"NEXT_PUBLIC_FIREBASE_API_KEY={public_key}\n")
    write(tmp_path, "web/map.html", f'<script src="https://maps.googleapis.com/maps/api/js?key={query_key}"></script>\n')
    write(tmp_path, "ios/AppDelegate.swift", f'Mailchimp.initialize(token: "{sdk_key}")\n')
    write(tmp_path, "docs/api.md", f'curl -H "Authorization: Basic {jwt}" https://api.corp.example\n')

    _, default_report = leakhunt.scan_json(tmp_path)
    _, low_report = leakhunt.scan_json(tmp_path, "--min-confidence", "low")

    assert rows(default_report) == [("server/.env", 1, "gcp-api-key", "high", server_key)]
    assert rows(low_report) == [
        ("ios/AppDelegate.swift", 1, "mailchimp-sdk-key", "low", sdk_key),
        ("notes.txt", 1, "gcp-api-key-unnamed", "low", bare_key),
        ("server/.env", 1, "gcp-api-key", "high", server_key),
        ("web/.env.local", 1, "gcp-api-key-unnamed", "low", public_key),
        ("web/firebase.js", 2, "gcp-api-key-unnamed", "low", firebase_key),
        ("web/map.html", 1, "gcp-api-key-unnamed", "low", query_key),
    ]
