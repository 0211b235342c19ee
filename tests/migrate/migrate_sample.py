"""A sample project with a secret of every kind the migration handles, in freshly generated tokens."""

from __future__ import annotations

import secrets
import string
import textwrap
import zlib
from dataclasses import dataclass
from pathlib import Path

from leakhunt.validators import base62

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
BASE32 = string.ascii_uppercase + "234567"
PASSWORD_ALPHABET = string.ascii_letters + string.digits + "!#%+._-"

PASSWORD_RULE = '''
[[rules]]
id = "sample-password-assignment"
name = "Password assigned in code (sample project rule)"
pattern = \'\'\'(?i)["']?(?:password|passwd)["']?\\s*[:=]\\s*["']([A-Za-z0-9!#%+._-]{16,})["']\'\'\'
keywords = ["password", "passwd"]
entropy = 3.0
confidence = "high"
'''


def github_token() -> str:
    """Return a random `ghp_` token whose last six characters are the CRC32 checksum."""
    payload = "".join(secrets.choice(BASE62) for _ in range(30))
    return f"ghp_{payload}{base62(zlib.crc32(payload.encode()), 6)}"


def aws_key_id() -> str:
    while True:
        body = "".join(secrets.choice(BASE32) for _ in range(16))
        if any(character.isdigit() for character in body):
            return "AKIA" + body


def aws_secret_key() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits + "/+") for _ in range(40))


def password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(24))


@dataclass(frozen=True)
class SampleProject:
    """The sample's root and the values it hides, by the name of the place that contains them."""

    root: Path
    values: dict[str, str]


SETTINGS = '''\
"""Settings of myapp."""
import os

GITHUB_TOKEN = "{constant}"  # the deploy bot's token
SIGNING_KEY = b"{bytes}"
AUTH_HEADER = ("token "  # the scheme
               "{concatenation}")
API_TOKEN = os.environ.get("API_TOKEN", "{environ}")
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "appdb",
        "USER": "app",
        "PASSWORD": "{database_password}",
        "HOST": "db.internal",
        "PORT": 5432,
    }}
}}
'''

CLIENTS = '''\
import boto3


def psycopg_connect(**settings):
    return settings


class Github:
    def __init__(self, login_or_token):
        self.token = login_or_token


class GitHubClient:
    token = '{class_attribute}'


def connect():
    return psycopg_connect(host="reports.internal", user="reporter", password="{call_password}", dbname="reports")


def github():
    return Github(login_or_token="{call_argument}")


def local_token():
    token = "{local}"
    return token


def storage():
    return boto3.client("s3", aws_access_key_id="{aws_key_id}", aws_secret_access_key="{aws_secret}")


def fetch(token="{default_argument}"):
    return token


HEADERS = {{"Authorization": f"token {fstring}"}}
REPO_URL = "https://x-access-token:{embedded}@github.com/example/repo.git"


def documented():
    """Call with a token such as {docstring}."""


# The old token was {comment}, revoked.


def classify(value):
    match value:
        case "{match}":
            return "known"
    return "unknown"


checked: "{annotation}" = 1
'''

ENV_FILE = "DEPLOY_TOKEN={manual}\n"

AUTOMATIC = ("constant", "bytes", "concatenation", "environ", "database_password", "class_attribute",
             "call_password", "call_argument", "local")
REVIEW = ("default_argument", "fstring", "embedded")
REPORT = ("aws_key_id", "docstring", "comment", "match", "annotation")


def make_sample(parent: Path, name: str = "myapp", prefix: str | None = None) -> SampleProject:
    """Write the sample project under `parent/name` and return it with its values."""
    values = {key: github_token() for key in AUTOMATIC + REVIEW + REPORT + ("manual",)}
    values.update(database_password=password(), call_password=password(), aws_key_id=aws_key_id(),
                  aws_secret=aws_secret_key())
    root = parent / name
    package = root / "myapp"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(SETTINGS.format(**values))
    (package / "clients.py").write_text(CLIENTS.format(**values))
    (root / "deploy.env").write_text(ENV_FILE.format(**values))
    config = PASSWORD_RULE
    if prefix:
        config = f'[migrate]\nprefix = "{prefix}"\n' + config
    (root / "leakhunt.toml").write_text(textwrap.dedent(config))
    return SampleProject(root, values)
