"""Settings of a migration: the `[migrate]` table of the configuration and the apply options."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from leakhunt.errors import ConfigError, MigrationError

DEFAULT_REGION = "eu-central-1"
DEFAULT_KMS_KEY = "alias/aws/secretsmanager"
# Commercial AWS regions located in EU member states: Frankfurt, Ireland, Paris, Stockholm,
# Milan and Spain. London (eu-west-2) and Zurich (eu-central-2) are outside the EU.
EU_REGIONS = frozenset({"eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1", "eu-south-1", "eu-south-2"})
REGION_PATTERN = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d")
KNOWN_KEYS = frozenset({"prefix", "names", "region", "kms_key", "helper_module", "tags"})
MODULE_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
SCHEDULE_PATTERN = re.compile(r"(?:rate\(\d+ (?:hours?|days?)\)|cron\([^()]+\))")
TAG_KEY_PATTERN = re.compile(r"[\w.:/=+\-@ ]{1,128}")
TAG_VALUE_PATTERN = re.compile(r"[\w.:/=+\-@ ]{0,256}")


@dataclass(frozen=True)
class ProjectSettings:
    """The `[migrate]` table of `leakhunt.toml`; each field is optional."""

    prefix: str | None = None
    names: Mapping[str, str] = field(default_factory=dict)
    region: str | None = None
    kms_key: str | None = None
    helper_module: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


def parse_project_settings(table: Mapping[str, Any], source: str | None) -> ProjectSettings:
    where = f"{source or 'configuration'}: [migrate]"
    unknown = set(table) - KNOWN_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    helper_module = optional_string(table, "helper_module", where)
    if helper_module is not None and not MODULE_PATTERN.fullmatch(helper_module):
        raise ConfigError(f"{where}: helper_module {helper_module!r} is not a dotted module name")
    return ProjectSettings(
        prefix=optional_string(table, "prefix", where),
        names=string_table(table, "names", where),
        region=optional_string(table, "region", where),
        kms_key=optional_string(table, "kms_key", where),
        helper_module=helper_module,
        tags=string_table(table, "tags", where),
    )


def optional_string(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigError(f"{where}: '{key}' must be a non-empty string")
    return value


def string_table(table: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
    value = table.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        raise ConfigError(f"{where}: '{key}' must be a table of strings")
    return dict(value)


@dataclass(frozen=True)
class Rotation:
    """Rotation settings of the stored secrets. Without a function there is no rotation."""

    lambda_arn: str | None = None
    after_days: int | None = None
    schedule: str | None = None

    @property
    def enabled(self) -> bool:
        return self.lambda_arn is not None

    def rules(self) -> dict[str, Any]:
        if self.schedule:
            return {"ScheduleExpression": self.schedule}
        return {"AutomaticallyAfterDays": self.after_days or 30}


@dataclass(frozen=True)
class ApplyOptions:
    """Settings of `--apply`: region, endpoint, KMS key, rotation, conflicts and tags."""

    region: str = DEFAULT_REGION
    endpoint_url: str | None = None
    kms_key: str = DEFAULT_KMS_KEY
    allow_region_outside_eu: bool = False
    rotation: Rotation = Rotation()
    force: bool = False
    upload_non_python: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)


def check_options(options: ApplyOptions) -> None:
    """Raise `MigrationError` for options that no AWS call is needed to reject."""
    if not REGION_PATTERN.fullmatch(options.region):
        raise MigrationError(f"invalid region {options.region!r}; use a code such as {DEFAULT_REGION}")
    if options.region not in EU_REGIONS and not options.allow_region_outside_eu:
        raise MigrationError(
            f"region {options.region} is outside the EU; choose one of {', '.join(sorted(EU_REGIONS))} "
            "or pass --allow-region-outside-eu"
        )
    rotation = options.rotation
    if rotation.after_days is not None and not 1 <= rotation.after_days <= 1000:
        raise MigrationError(f"--rotate-after-days must be between 1 and 1000, not {rotation.after_days}")
    if rotation.schedule is not None and not SCHEDULE_PATTERN.fullmatch(rotation.schedule):
        raise MigrationError(f"invalid --rotation-schedule {rotation.schedule!r}; use rate(N days) or cron(...)")
    if not rotation.enabled and (rotation.after_days is not None or rotation.schedule is not None):
        raise MigrationError("--rotate-after-days and --rotation-schedule need --rotation-lambda ARN")
    for key, value in options.tags.items():
        if not TAG_KEY_PATTERN.fullmatch(key) or not TAG_VALUE_PATTERN.fullmatch(value) or \
                key.lower().startswith("aws:"):
            raise MigrationError(f"invalid tag {key!r}: keys have 1 to 128 and values at most 256 letters, digits, "
                                 "spaces and _.:/=+-@, and the aws: prefix is reserved")
