"""The runtime helper that migrated code imports, against the moto server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType

import pytest

from leakhunt.migrate import runtime_helper
from leakhunt.migrate.helper import HELPER_MARKER, render_helper

from .migrate_support import MotoServer

REGION = "eu-west-1"


@pytest.fixture
def helper(aws_env: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setattr(runtime_helper, "_client", None)
    runtime_helper.clear_cache()
    yield runtime_helper
    runtime_helper.clear_cache()


def test_reads_plain_and_json_secrets(helper: ModuleType, aws_env: MotoServer) -> None:
    secrets_manager = aws_env.client("secretsmanager", REGION)
    secrets_manager.create_secret(Name="helper/plain", SecretString="plain value 1")
    secrets_manager.create_secret(Name="helper/db", SecretString=json.dumps({"USER": "app", "PORT": 5432}))
    assert helper.get_secret("helper/plain") == "plain value 1"
    assert helper.get_secret("helper/db", key="USER") == "app"
    assert helper.get_secret("helper/db", key="PORT") == "5432"


def test_cache_keeps_value_until_ttl(helper: ModuleType, aws_env: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets_manager = aws_env.client("secretsmanager", REGION)
    secrets_manager.create_secret(Name="helper/cached", SecretString="first")
    assert helper.get_secret("helper/cached") == "first"
    secrets_manager.put_secret_value(SecretId="helper/cached", SecretString="second")
    assert helper.get_secret("helper/cached") == "first"

    monkeypatch.setenv("LEAKHUNT_SECRETS_TTL_SECONDS", "0")
    helper.clear_cache()
    assert helper.get_secret("helper/cached") == "second"
    secrets_manager.put_secret_value(SecretId="helper/cached", SecretString="third")
    assert helper.get_secret("helper/cached") == "third"


def test_errors_name_secret_not_value(helper: ModuleType, aws_env: MotoServer) -> None:
    secrets_manager = aws_env.client("secretsmanager", REGION)
    secrets_manager.create_secret(Name="helper/text", SecretString="not json 7")
    with pytest.raises(helper.SecretLookupError) as missing:
        helper.get_secret("helper/none-such")
    assert str(missing.value) == "cannot read secret 'helper/none-such': ResourceNotFoundException"
    with pytest.raises(helper.SecretLookupError) as not_json:
        helper.get_secret("helper/text", key="PASSWORD")
    assert str(not_json.value) == "secret 'helper/text' is not a JSON object, so it has no key 'PASSWORD'"
    assert not_json.value.__cause__ is None
    assert not_json.value.__suppress_context__


def test_rendered_helper_has_region() -> None:
    source = render_helper("eu-north-1").decode()
    assert source.startswith(HELPER_MARKER)
    assert '\nDEFAULT_REGION = "eu-north-1"\n' in source
    compile(source, "_leakhunt_secrets.py", "exec")
