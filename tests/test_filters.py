"""The candidate filters, fed with real matches of the built-in rules.

Each case gives a rule id, a text and the exact reason the filter returns (None: reported).
The values are random strings made for these tests, or well-known public placeholders.
"""

from __future__ import annotations

import pytest

from leakhunt.filters import SecretFilter, is_camel_case_name, is_encrypted_file, is_made_up_sequence, is_placeholder
from leakhunt.rules import load_builtin
from leakhunt.secret_names import secret_name_kind

RULES = load_builtin()
HEX_40 = "4415d37e7c7e68329d0331b167758b1320f52045"
TOKEN_32 = "8rsWZ96p0usdJXfZKieid9M5vBfjMj6l"
UUID = "6e0f3b1c-9a7d-4e25-b8c4-2d5f7a913e60"
SEALED_SHORT = "AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq" * 4
# The same digits with one letter in upper case, as an edited example value has.
MIXED_CASE_HEX_40 = HEX_40[:17] + "D" + HEX_40[18:]
HEX_32 = "c705df38d36ff5a366514b460597ebc8"
CHOSEN_PASSWORD = "DNMwg48vBplLDS"


def verdict(rule_id: str, text: str) -> str | None:
    """Return the filter's reason for the first match of the rule in `text`."""
    rule = RULES.by_id[rule_id]
    data = text.encode("utf-8")
    match = rule.regex.search(data)
    assert match is not None, f"{rule_id} does not match {text!r}"
    secret = match.group(rule.secret_group).decode("utf-8")
    return SecretFilter().rejection(rule, secret, data, match)


CASES = [
    # Values a person chose, assigned to a password name, are reported.
    ("generic-password", 'password = "C4Xq0Wyd#RvqhsA"', None),
    ("generic-password", "DB_PASSWORD=Skmb1cUZjB6cp~", None),
    # Translations, words and labels are not passwords.
    ("generic-password", '"password": "Passwort",', "a word"),
    ("generic-password", "password: Contraseña", "a word"),
    ("generic-password", 'addPassword: "#add-password"', "not a secret name"),
    ("generic-password", 'new_password: "#add-password"', "a word"),
    ("generic-password", 'password = "PassWordMustBeAtLeast8Chars."', "a phrase"),
    ("generic-password", 'password = "73019458"', "too short or a number"),
    ("generic-password", 'password = "12345678"', "placeholder"),
    ("generic-password", 'password = "P@55w0rd!"', "placeholder"),
    ("generic-password", "password_file: secrets.yaml", "not a secret name"),
    # Masked values, placeholders and references.
    ("generic-password", "password: '********'", "placeholder"),
    ("generic-password", "password: changeme", "placeholder"),
    ("generic-password", "password: '/parameters/prod/db/password'", "reference"),
    ("generic-password", "password = getPassword()", "expression"),
    ("generic-password", "password = var.db_password", "expression"),
    ("generic-password", 'password: "$ANSIBLE_VAULT;1.1;AES256"', "known non-secret"),
    ("generic-password", 'password: "$db_password"', "placeholder"),
    ("generic-password", 'password: "$dbpass-suffix"', "variable"),
    ("generic-secret", "apiKey: '<your-api-key>',", "placeholder"),
    ("generic-secret", "token: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',", "placeholder"),
    ("generic-secret", "secret: process.env.APP_SECRET,", "reference"),
    ("generic-secret", 'token = "${API_TOKEN}"', "placeholder"),
    ("generic-secret", 'token = "{{api_token}}"', "placeholder"),
    ("generic-secret", 'access_key = "AKIAIOSFODNN7EXAMPLE"', "placeholder"),
    ("generic-secret", "auth: true", "placeholder"),
    ("generic-secret", 'secret = "https://vault.corp.internal/v1/kv/app"', "url"),
    ("generic-secret", "startToken:Token=None,", "expression"),
    # Names that hold no secret.
    ("generic-secret", f'token_url = "{TOKEN_32}"', "not a secret name"),
    ("generic-secret", f'public_key = "{TOKEN_32}"', "not a secret name"),
    ("generic-secret", f'csrf-token="{TOKEN_32}"', "not a secret name"),
    ("generic-secret", f'primary_key = "{TOKEN_32}"', "not a secret name"),
    # Random-looking values that are identifiers, digests or encrypted data.
    ("generic-secret", f'token = "{UUID}"', "uuid"),
    ("generic-secret", f'access_key = "{UUID}"', "uuid"),
    ("generic-secret", f'ref = {{"commit": "v2", "auth": "{HEX_40}"}}', "hash"),
    ("generic-secret", f'token = "{HEX_40}"', None),
    (
        "generic-secret",
        'token: "sha512-P/jMp7Rkqys4s3Qaby+Nu0XY/IimRF3W2s4qUFSWXLQG/osmBKygU/HcvR+wOZTfH4Ogl"',
        "known non-secret",
    ),
    (
        "generic-secret",
        'secret: "ENC[AES256_GCM,data:W3PiZ6lD6bpfAdI=,iv:2qF98Zkc,tag:FzoL,type:str]"',
        "known non-secret",
    ),
    ("generic-secret", "secret: ENC[AES256_GCM,data:W3PiZ6lD6bpfAdI=,type:str]", "known non-secret"),
    ("generic-secret", 'avatar_token: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAE"', "known non-secret"),
    ("generic-password", "(`password: <base64>`)", "placeholder"),
    ("generic-secret", 'accessToken = "pk.eyJ1IjoibWFwdXNlciIsImEiOiJja3p4eTEyMzQwMDAwMmxvNjc4OTBhYmNkIn0.Qm9ndXNTaWduYXR1cmVfeHl6"', "known non-secret"),
    ("generic-secret", 'stripe_secret = "pk_live_51Hq8ZkLmN4pQrStUvWxYz0123456789abcdefgh"', "known non-secret"),
    (
        "generic-secret",
        f"kind: SealedSecret\nspec:\n  encryptedData:\n    api_token: {SEALED_SHORT}\n",
        "encrypted file",
    ),
    ("generic-secret", f"api_token: {TOKEN_32}\nsops:\n    version: 3.8.1\n", "encrypted file"),
    ("generic-secret", f"api_token: {TOKEN_32}\n-----BEGIN PGP MESSAGE-----\nhQEMA\n", "encrypted file"),
    ("generic-password", "password: cGFzc3dvcmQ=", "base64 of a placeholder"),
    # Values that do not look random enough for their name.
    ("generic-secret", 'api_key = "SecurityIdentifier"', "an identifier"),
    ("generic-secret-quoted-pair", '("auth_token", "symbol2label")', "an identifier"),
    ("generic-secret", "AUTH=<mechanism>.", "placeholder"),
    ("generic-secret", 'api_key = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6"', "a made-up sequence"),
    ("generic-secret", 'api_key = "b20f9694e8c700ee"', "too short for hex"),
    ("generic-secret", 'api_key = "aaaaaaaaaaab"', "placeholder"),
    ("generic-secret", f"meraki-api-key: {MIXED_CASE_HEX_40}", "hex in mixed case"),
    ("generic-secret", f"meraki-api-key: {HEX_40}", None),
    ("generic-secret", f'"token3": "xoxp-1234-1234-1234-{HEX_32}"', "a made-up sequence"),
    ("generic-secret", f'"token3": "xoxp-8301-5522-9127-{HEX_32}"', None),
    # Sample values printed in vendor documentation.
    ("nuget-config-password", '<add key="ClearTextPassword" value="33f!!lloppa" />', "documented sample"),
    ("nuget-config-password", '<add key="ClearTextPassword" value="hal+9ooo_da!sY" />', "documented sample"),
    ("nuget-config-password", f'<add key="ClearTextPassword" value="{CHOSEN_PASSWORD}" />', None),
    ("generic-password", '"NewPassword": "]35d/{pB9Fo9wJ",', "documented sample"),
    ("generic-password", '"Password": "h]6EszR}vJ*m",', "documented sample"),
    ("generic-password", f'"Password": "{CHOSEN_PASSWORD}",', None),
    (
        "azure-sas-token",
        "https://acct.blob.core.windows.net/c?sp=r&amp;st=2023-12-20T14:54:52Z&amp;se=2023-12-20T22:54:52Z"
        "&amp;spr=https&amp;sv=2021-06-08&amp;sr=c&amp;sig=aBBKDWQvyuVcTPH9EBp%2FXTI9E%2F%2Fmq171%2BZU178wcwqU%3D",
        "documented sample",
    ),
    # Oracle's demonstration login, scott/tiger, in documentation.
    ("url-credentials", "mssql+pyodbc://scott:tiger^5HHH@mssql2017:1433/test", "documented sample"),
    ("url-credentials", f"postgresql://scott:{CHOSEN_PASSWORD}@db.corp.example/app", None),
    # An anonymous login takes any password.
    ("generic-password", f'server->user = "anonymous";\nserver->password = "{CHOSEN_PASSWORD}";', "anonymous login"),
    ("generic-password", f'server->user = "deploy";\nserver->password = "{CHOSEN_PASSWORD}";', None),
    ("generic-password", f'# no anonymous access\npassword = "{CHOSEN_PASSWORD}"', None),
    ("generic-password", f'"login": "anonymous", "password": "{CHOSEN_PASSWORD}"', "anonymous login"),
    # Header credentials keep UUIDs and 16-digit hex.
    ("curl-auth-header", f'curl -H "X-Api-Key: {UUID}" https://api.corp.example', None),
    ("curl-auth-header", 'curl -H "Token: 3fea6af1349166ea" https://api.corp.example', None),
    # So do names ending in API key or API token, because Heroku, Snyk and Opsgenie issue UUID keys.
    ("generic-secret", f'api_token = "{UUID}"', None),
    ("generic-secret-quoted-pair", f'token = GetEnvOrDefault("api_token", "{UUID}")', None),
    ("generic-secret", f'headers = {{"X-Api-Key": "{UUID}"}}', None),
    # Passwords found by syntax may be words, but not placeholders or the user name.
    ("url-credentials", "https://deploy:saffron@git.corp.example/app.git", None),
    ("url-credentials", "postgres://app:app@db.internal/app", "same as the user name"),
    ("url-credentials", "redis://:changeme@cache:6379", "placeholder"),
    ("url-credentials", "https://ci:${GIT_TOKEN}@git.corp.example/app.git", "placeholder"),
    ("curl-basic-auth", 'curl -u "$USER:$PASS" https://corp.example', "placeholder"),
    ("connection-string-password", "Server=db;Uid=app;Pwd={0};", "placeholder"),
    ("psexec-password", "psexec \\\\host -u admin -p %ADMIN_PASSWORD% cmd", "placeholder"),
]


@pytest.mark.parametrize(("rule_id", "text", "expected"), CASES)
def test_filter_verdict(rule_id: str, text: str, expected: str | None) -> None:
    assert verdict(rule_id, text) == expected


NAME_KINDS = [
    ("DB_PASSWORD", "password"),
    ("dbPassword", "password"),
    ("dbpass", "password"),
    ("MYSQL_ROOT_PWD", "password"),
    ("app.secret", "token"),
    ("secretKey", "token"),
    ("api_key", "token"),
    ("APIKey", "token"),
    ("SECRET_KEY_BASE", "token"),
    ("AUTH0_CLIENT_SECRET", "token"),
    ("_authToken", "token"),
    ("token-secret", "token"),
    ("password_hint", None),
    ("passwordLabel", None),
    ("token_url", None),
    ("public_key", None),
    ("csrf-token", None),
    ("authenticity_token", None),
    ("primary_key", None),
    ("kms_key_id", None),
    ("credentialsId", None),
    ("accessor", None),
    ("author", None),
    ("bypass", None),
    ("tokenizer", None),
    ("tokens", None),
    ("secretary", None),
]


@pytest.mark.parametrize(("name", "kind"), NAME_KINDS)
def test_secret_name_kind(name: str, kind: str | None) -> None:
    assert secret_name_kind(name) == kind


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("changeme", True),
        ("<your-api-key>", True),
        ("${DB_PASSWORD}", True),
        ("{{ token }}", True),
        ("********", True),
        ("xxxxxxxxxxxx", True),
        ("AKIAIOSFODNN7EXAMPLE", True),
        ("{0}", True),
        ("ops_eyJzaWduSW5BZGRy...", True),
        ("%NUGET_PASSWORD%", True),
        ("abcdefgh", True),
        (TOKEN_32, False),
        ("C4Xq0Wyd#RvqhsA", False),
    ],
)
def test_is_placeholder(value: str, expected: bool) -> None:
    assert is_placeholder(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a1b2c3d4e5f6g7h8", True),
        ("abcdefg12346+FJQCK", True),
        ("xoxp-12345-67890", True),
        (TOKEN_32, False),
        (HEX_40, False),
    ],
)
def test_is_made_up_sequence(value: str, expected: bool) -> None:
    assert is_made_up_sequence(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("PKCS7PrivateKeyTypes", True), ("AWSAccessKeyId", True), ("ultraPictureBox1", True), (TOKEN_32, False)],
)
def test_is_camel_case_name(value: str, expected: bool) -> None:
    assert is_camel_case_name(value) is expected


def test_encrypted_file_memo_follows_buffer() -> None:
    sealed = b"kind: SealedSecret\nspec: {}\n"
    plain = b"kind: Secret\nspec: {}\n"

    assert is_encrypted_file(sealed) is True
    assert is_encrypted_file(plain) is False
    assert is_encrypted_file(sealed) is True
