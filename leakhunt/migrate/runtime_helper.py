"""Read secrets from AWS Secrets Manager at run time, through a cache with a time to live.

`leakhunt migrate --apply` copies this module into the migrated project, where the rewritten
code calls `get_secret(name)` or `get_secret(name, key="PASSWORD")`. It needs only boto3.
It follows the defaults of SecretCacheConfig in aws-secretsmanager-caching-python: each
secret is kept for a refresh interval of 3600 s (LEAKHUNT_SECRETS_TTL_SECONDS overrides it),
at most 1024 secrets are cached, and the AWSCURRENT version is read. The region and endpoint come from the standard
AWS settings: AWS_REGION or AWS_DEFAULT_REGION, and AWS_ENDPOINT_URL_SECRETS_MANAGER or
AWS_ENDPOINT_URL. Errors name the secret id and the AWS error code, never the value.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

DEFAULT_REGION = "eu-central-1"
DEFAULT_TTL_SECONDS = 3600.0
MAX_CACHED_SECRETS = 1024

_lock = threading.Lock()
_cache: dict[str, tuple[float, str]] = {}
_client: Any = None


class SecretLookupError(RuntimeError):
    """A secret cannot be read; the message names the secret id and the cause."""


def get_secret(secret_id: str, key: str | None = None) -> str:
    """Return the secret's string, or with `key` that key's value in a JSON secret."""
    text = _secret_string(secret_id)
    if key is None:
        return text
    try:
        document = json.loads(text)
    except ValueError:
        raise SecretLookupError(f"secret {secret_id!r} is not a JSON object, so it has no key {key!r}") from None
    if not isinstance(document, dict) or key not in document:
        raise SecretLookupError(f"secret {secret_id!r} has no key {key!r}")
    value = document[key]
    return value if isinstance(value, str) else json.dumps(value)


def clear_cache() -> None:
    """Forget every cached secret, so the next lookups read Secrets Manager again."""
    with _lock:
        _cache.clear()


def _ttl_seconds() -> float:
    try:
        return float(os.environ.get("LEAKHUNT_SECRETS_TTL_SECONDS", DEFAULT_TTL_SECONDS))
    except ValueError:
        return DEFAULT_TTL_SECONDS


def _secret_string(secret_id: str) -> str:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(secret_id)
        if cached is not None and cached[0] > now:
            return cached[1]

    text = _fetch(secret_id)

    with _lock:
        if secret_id not in _cache and len(_cache) >= MAX_CACHED_SECRETS:
            _cache.pop(next(iter(_cache)))
        _cache[secret_id] = (now + _ttl_seconds(), text)
    return text


def _fetch(secret_id: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = _secrets_client().get_secret_value(SecretId=secret_id)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Unknown")
        raise SecretLookupError(f"cannot read secret {secret_id!r}: {code}") from None
    except BotoCoreError as error:
        raise SecretLookupError(f"cannot read secret {secret_id!r}: {type(error).__name__}: {error}") from None
    if "SecretString" not in response:
        raise SecretLookupError(f"secret {secret_id!r} contains binary data, not a string")
    return response["SecretString"]


def _secrets_client() -> Any:
    global _client
    with _lock:
        if _client is None:
            import boto3

            region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
            endpoint = os.environ.get("AWS_ENDPOINT_URL_SECRETS_MANAGER") or os.environ.get("AWS_ENDPOINT_URL") or None
            _client = boto3.session.Session().client("secretsmanager", region_name=region, endpoint_url=endpoint)
        return _client
