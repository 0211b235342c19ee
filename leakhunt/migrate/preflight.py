"""Checks that run before `--apply` stores anything, so a doomed run changes nothing.

They cover the options, the secret names, that the files are those the plan was made from,
that the AWS credentials work, that the KMS key is enabled in the target region, and that
the rotation function exists there.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from leakhunt.errors import MigrationError
from leakhunt.migrate.files import content_hash
from leakhunt.migrate.journal import Journal
from leakhunt.migrate.naming import name_problem
from leakhunt.migrate.options import ApplyOptions, check_options
from leakhunt.migrate.plan import Plan
from leakhunt.migrate.store import SecretStore, describe_aws_error, error_code

log = logging.getLogger(__name__)

LAMBDA_ARN = re.compile(r"arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:[A-Za-z0-9_-]+(?::[\w$-]+)?")


@dataclass(frozen=True)
class Preflight:
    """Facts the checks established: the AWS caller and the KMS key's full ARN."""

    account: str
    caller_arn: str
    kms_key_arn: str


def check_offline(plan: Plan, root: Path, options: ApplyOptions, journal: Journal) -> None:
    """Run the checks that need no AWS call."""
    check_options(options)
    check_names(plan)
    check_files(plan, root, journal)
    if options.rotation.lambda_arn:
        match = LAMBDA_ARN.fullmatch(options.rotation.lambda_arn)
        if match is None:
            raise MigrationError(f"--rotation-lambda {options.rotation.lambda_arn!r} is not a Lambda function ARN")
        if match["region"] != options.region:
            raise MigrationError(f"the rotation function is in {match['region']}, but the secrets go to {options.region}; "
                                 "Secrets Manager needs a function in the same region")


def check_names(plan: Plan) -> None:
    for secret in plan.secrets:
        problem = name_problem(secret.name)
        if problem is not None:
            raise MigrationError(f"secret name {secret.name!r} {problem}; set another one in [migrate.names]")


def check_files(plan: Plan, root: Path, journal: Journal) -> None:
    """Raise unless each file is as the plan saw it or as this migration wrote it."""
    for path, planned in sorted(plan.files.items()):
        try:
            current = content_hash((root / path).read_bytes())
        except OSError as error:
            raise MigrationError(f"cannot read {path}: {error.strerror or error}") from error
        if current != planned and current not in journal.accepted_hashes(path):
            raise MigrationError(f"{path} changed since the plan was made; run `leakhunt migrate {root}` again "
                                 "to refresh the plan, then --apply")


def check_aws(store: SecretStore, options: ApplyOptions) -> Preflight:
    """Check credentials, the KMS key and the rotation function against AWS."""
    account, caller = check_credentials(store)
    key_arn = check_kms_key(store, options)
    if options.rotation.lambda_arn:
        check_rotation_function(store, options.rotation.lambda_arn)
    return Preflight(account=account, caller_arn=caller, kms_key_arn=key_arn)


def check_credentials(store: SecretStore) -> tuple[str, str]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        identity = store.client("sts").get_caller_identity()
        return identity["Account"], identity["Arn"]
    except ClientError as error:
        log.info("sts:GetCallerIdentity failed (%s); trying secretsmanager:ListSecrets", error_code(error))
    except BotoCoreError as error:
        raise MigrationError(f"AWS credentials check failed: {describe_aws_error(error, store.endpoint)}") from None
    try:
        store.client("secretsmanager").list_secrets(MaxResults=1)
    except (ClientError, BotoCoreError) as error:
        raise MigrationError(f"AWS credentials check failed: {describe_aws_error(error, store.endpoint)}") from None
    return "unknown", "unknown"


def check_kms_key(store: SecretStore, options: ApplyOptions) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    key = options.kms_key
    try:
        metadata = store.client("kms").describe_key(KeyId=key)["KeyMetadata"]
    except ClientError as error:
        if error_code(error) == "NotFoundException":
            raise MigrationError(f"KMS key {key} not found in {options.region}; pass a key id, ARN or alias "
                                 "of that region with --kms-key") from None
        raise MigrationError(f"KMS key {key}: DescribeKey failed: {describe_aws_error(error, store.endpoint)}") from None
    except BotoCoreError as error:
        raise MigrationError(f"KMS key {key}: DescribeKey failed: {describe_aws_error(error, store.endpoint)}") from None

    arn = metadata["Arn"]
    state = metadata.get("KeyState", "Unknown")
    if not metadata.get("Enabled") or state != "Enabled":
        raise MigrationError(f"KMS key {key} is {state.lower()} in {options.region}; enable it or pass another --kms-key")
    if arn.split(":")[3] != options.region:
        raise MigrationError(f"KMS key {key} is in {arn.split(':')[3]}, not in {options.region}")
    if metadata.get("KeyUsage", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT" or \
            metadata.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
        raise MigrationError(f"KMS key {key} is not a symmetric encryption key, which Secrets Manager needs")
    return arn


def check_rotation_function(store: SecretStore, arn: str) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        store.client("lambda").get_function(FunctionName=arn)
    except ClientError as error:
        code = error_code(error)
        if code in ("AccessDenied", "AccessDeniedException"):
            log.warning("cannot check the rotation function %s (%s); Secrets Manager checks it when rotation starts",
                        arn, code)
            return
        raise MigrationError(f"rotation function {arn}: {describe_aws_error(error, store.endpoint)}") from None
    except BotoCoreError as error:
        raise MigrationError(f"rotation function {arn}: {describe_aws_error(error, store.endpoint)}") from None
