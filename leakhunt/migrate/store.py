"""AWS Secrets Manager through boto3: create, read back, rotate, and one-line error messages.

Every AWS error becomes a `MigrationError` whose message names the secret and the cause.
Messages carry error codes, names and ARNs; no request or response body is logged or shown.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leakhunt.errors import MigrationError
from leakhunt.migrate.options import ApplyOptions, Rotation

log = logging.getLogger(__name__)

ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
                           "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "KMSAccessDeniedException"})
THROTTLING = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
                        "ProvisionedThroughputExceededException"})
KMS_UNUSABLE = frozenset({"KMSDisabledException", "KMSInvalidStateException", "KMSNotFoundException",
                          "DisabledException", "EncryptionFailure", "DecryptionFailure"})
MAX_ATTEMPTS = 3
# PBKDF2 rounds for the request token: the token becomes the version id, which callers with
# DescribeSecret can read, so guessing a weak value from it must stay expensive.
TOKEN_ROUNDS = 100_000


@dataclass(frozen=True)
class StoredSecret:
    """A secret version that Secrets Manager holds, and how it came to hold it."""

    name: str
    arn: str
    version_id: str
    outcome: str


def request_token(name: str, value: str) -> str:
    """Return a ClientRequestToken derived from the name and a slow salted hash of the value.

    Repeating a create with the same token and value is a no-op in Secrets Manager, so a
    run that stopped after its request was sent creates no second version.
    """
    digest = hashlib.pbkdf2_hmac("sha256", value.encode("utf-8", "surrogateescape"),
                                 b"leakhunt-request-token\x00" + name.encode("utf-8"), TOKEN_ROUNDS)
    return str(uuid.UUID(bytes=digest[:16]))


def describe_aws_error(error: Exception, endpoint: str | None = None) -> str:
    """Return the cause of a boto3 or botocore error as a short phrase."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "Unknown")
        if code in ACCESS_DENIED:
            return f"access denied ({code}); the caller's IAM policy does not allow this call"
        if code in THROTTLING:
            return f"throttled by AWS ({code}) after {MAX_ATTEMPTS} attempts; run the command again later"
        if code in KMS_UNUSABLE:
            return f"the KMS key cannot be used ({code}); check that it is enabled and that its policy allows this caller"
        if code == "ResourceExistsException":
            return "a secret with this name already exists (ResourceExistsException)"
        if code == "ResourceNotFoundException":
            return "not found (ResourceNotFoundException)"
        message = error.response.get("Error", {}).get("Message", "")
        return f"{code}: {message}" if message else code
    if isinstance(error, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)):
        where = endpoint or getattr(error, "kwargs", {}).get("endpoint_url", "the AWS endpoint")
        return f"cannot reach {where} ({type(error).__name__})"
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return "no usable AWS credentials; set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    if isinstance(error, NoRegionError):
        return "no AWS region; pass --region"
    return f"{type(error).__name__}: {error}"


def error_code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


class SecretStore:
    """Secrets Manager, STS, KMS and Lambda clients of one region and endpoint."""

    def __init__(self, options: ApplyOptions) -> None:
        import boto3
        from botocore.config import Config

        self.options = options
        self.session = boto3.session.Session(region_name=options.region)
        self.config = Config(retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
                             connect_timeout=5, read_timeout=30)
        self.clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = self.session.client(service, endpoint_url=self.options.endpoint_url,
                                                        config=self.config)
        return self.clients[service]

    @property
    def endpoint(self) -> str:
        return self.options.endpoint_url or self.client("secretsmanager").meta.endpoint_url

    def failure(self, name: str, action: str, error: Exception) -> MigrationError:
        return MigrationError(f"secret {name}: {action} failed: {describe_aws_error(error, self.endpoint)}")

    def store(self, name: str, value: str, *, description: str, tags: Mapping[str, str], kms_key: str,
              force: bool) -> StoredSecret:
        """Create the secret, or accept an existing one that has the same value.

        An existing secret with another value is left alone unless `force`, which stores the
        value as a new version.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        secrets = self.client("secretsmanager")
        token = request_token(name, value)
        try:
            response = secrets.create_secret(
                Name=name, SecretString=value, KmsKeyId=kms_key, Description=description,
                Tags=[{"Key": key, "Value": tag} for key, tag in sorted(tags.items())], ClientRequestToken=token,
            )
            return StoredSecret(name, response["ARN"], response["VersionId"], "created")
        except ClientError as error:
            if error_code(error) != "ResourceExistsException":
                raise self.failure(name, "CreateSecret", error) from None
        except BotoCoreError as error:
            raise self.failure(name, "CreateSecret", error) from None

        try:
            current = secrets.get_secret_value(SecretId=name)
        except (ClientError, BotoCoreError) as error:
            raise self.failure(name, "GetSecretValue of the existing secret", error) from None
        if current.get("SecretString") == value:
            return StoredSecret(name, current["ARN"], current["VersionId"], "existing")
        if not force:
            raise MigrationError(f"secret {name}: a secret with this name already has a different value; "
                                 "pass --force to store this value as its new version, or rename it in [migrate.names]")
        try:
            response = secrets.put_secret_value(SecretId=name, SecretString=value, ClientRequestToken=token)
        except (ClientError, BotoCoreError) as error:
            raise self.failure(name, "PutSecretValue", error) from None
        return StoredSecret(name, response["ARN"], response["VersionId"], "updated")

    def verify(self, stored: StoredSecret, value: str) -> None:
        """Read the stored version back and compare it with the value from the code."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client("secretsmanager").get_secret_value(SecretId=stored.arn, VersionId=stored.version_id)
        except (ClientError, BotoCoreError) as error:
            raise self.failure(stored.name, "reading the value back", error) from None
        if response.get("SecretString") != value:
            raise MigrationError(f"secret {stored.name}: the value read back differs from the value in the code")

    def describe(self, name: str) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client("secretsmanager").describe_secret(SecretId=name)
        except (ClientError, BotoCoreError) as error:
            raise self.failure(name, "DescribeSecret", error) from None

    def enable_rotation(self, name: str, rotation: Rotation) -> bool:
        """Turn on rotation unless it is on with the same function and rules; return True when changed.

        RotateImmediately is false: the running code still uses the old value until the
        rewritten code is deployed, so the first rotation waits for the schedule.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        rules = rotation.rules()
        described = self.describe(name)
        current_rules = described.get("RotationRules") or {}
        if (described.get("RotationEnabled") and described.get("RotationLambdaARN") == rotation.lambda_arn
                and all(current_rules.get(key) == value for key, value in rules.items())):
            return False
        try:
            self.client("secretsmanager").rotate_secret(
                SecretId=name, RotationLambdaARN=rotation.lambda_arn, RotationRules=rules, RotateImmediately=False,
            )
        except (ClientError, BotoCoreError) as error:
            raise self.failure(name, "RotateSecret", error) from None
        return True
