"""Project configuration from `leakhunt.toml` or the `[tool.leakhunt]` table of `pyproject.toml`.

The settings are documented in docs/configuration.md. Every error names the configuration
file and the setting, and becomes one line on the command line.
"""

from __future__ import annotations

import dataclasses
import glob
import logging
import math
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leakhunt.errors import ConfigError
from leakhunt.filters import Allowlist
from leakhunt.inputs.tree import PathExcludes
from leakhunt.rules import Rule, Ruleset, load_file, parse_rules

log = logging.getLogger(__name__)

CONFIG_FILE = "leakhunt.toml"
KNOWN_KEYS = frozenset({"rules", "rule_files", "disabled_rules", "exclude_paths", "allowlist", "max_file_size_mb", "migrate"})
ALLOWLIST_KEYS = frozenset({"values", "patterns"})
DEFAULT_MAX_FILE_SIZE_MB = 64.0


@dataclass(frozen=True)
class Config:
    """Settings of one project; every field has a default, so no file is needed."""

    extra_rules: tuple[Rule, ...] = ()
    disabled_rules: tuple[str, ...] = ()
    excludes: PathExcludes = PathExcludes()
    allowlist: Allowlist = Allowlist()
    max_file_size_mb: float = DEFAULT_MAX_FILE_SIZE_MB
    migrate: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    def select_rules(self, builtin: Ruleset) -> Ruleset:
        """Return the built-in rules plus the extra rules, less the disabled ones.

        An extra rule never replaces a built-in one: a reused id raises `RuleError` naming
        both files.
        """
        ruleset = builtin.extended(self.extra_rules)
        unknown = sorted(set(self.disabled_rules) - set(ruleset.by_id))
        if unknown:
            raise ConfigError(f"{self.source}: disabled_rules names unknown rule id(s) {', '.join(unknown)}; "
                              "'leakhunt rules list' shows the ids")
        return ruleset.without(self.disabled_rules)


def find_config(start: Path) -> Path | None:
    """Return `leakhunt.toml`, or a `pyproject.toml` with `[tool.leakhunt]`, in the scan root.

    A `pyproject.toml` that cannot be read or parsed is ignored with a warning, because a
    scanned tree may well hold a broken one. Given with `--config`, the same file is an error.
    """
    folder = start if start.is_dir() else start.parent
    candidate = folder / CONFIG_FILE
    if candidate.is_file():
        return candidate
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return None
    try:
        text = pyproject.read_text(encoding="utf-8")
        document = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        log.warning("ignoring unreadable %s: %s", pyproject, error)
        return None
    return pyproject if "leakhunt" in table_at(document, "tool", pyproject) else None


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    document = read_toml(path)
    if path.name != "pyproject.toml":
        return parse_config(document, path)
    tool = table_at(document, "tool", path)
    if "leakhunt" not in tool:
        raise ConfigError(f"{path}: no [tool.leakhunt] table")
    return parse_config(table_at(tool, "leakhunt", path), path)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read configuration {path}: {error.strerror or error}") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"invalid TOML in configuration {path}: {error}") from error


def with_example_secrets(allowlist: Allowlist, rules: Iterable[Rule]) -> Allowlist:
    """Add the secrets in the examples of `rules` to `allowlist`.

    Those examples are made-up tokens in the configuration or its rule files, so a scan of the
    project does not report the rules' own examples.
    """
    secrets = set()
    for rule in rules:
        for example in rule.examples:
            for match in rule.regex.finditer(example.encode("utf-8")):
                secrets.add(match.group(rule.secret_group).decode("utf-8", "replace"))
    return dataclasses.replace(allowlist, values=allowlist.values | secrets)


def table_at(document: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: '{key}' must be a table")
    return value


def parse_config(table: dict[str, Any], path: Path) -> Config:
    unknown = set(table) - KNOWN_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}; "
                          f"known settings: {', '.join(sorted(KNOWN_KEYS))}")

    extra_rules = parse_rules(table.get("rules", []), origin=str(path))
    for rule_file in rule_files(table, path):
        extra_rules.extend(load_file(rule_file))

    return Config(
        extra_rules=tuple(extra_rules),
        disabled_rules=tuple(string_list(table, "disabled_rules", path)),
        excludes=PathExcludes(tuple(string_list(table, "exclude_paths", path))),
        allowlist=with_example_secrets(parse_allowlist(table.get("allowlist", {}), path), extra_rules),
        max_file_size_mb=parse_size(table, path),
        migrate=dict(table_at(table, "migrate", path)),
        source=str(path),
    )


def rule_files(table: dict[str, Any], path: Path) -> list[Path]:
    """Expand the `rule_files` globs, relative to the configuration's folder."""
    files: list[Path] = []
    for pattern in string_list(table, "rule_files", path):
        matched = sorted(glob.glob(os.path.join(path.parent, pattern), recursive=True))
        if not matched:
            raise ConfigError(f"{path}: rule_files pattern {pattern!r} matches no file")
        files.extend(Path(name) for name in matched)
    return files


def parse_allowlist(table: Any, path: Path) -> Allowlist:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: 'allowlist' must be a table with 'values' and 'patterns'")
    unknown = set(table) - ALLOWLIST_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown allowlist setting(s) {', '.join(sorted(unknown))}; "
                          "known settings: patterns, values")
    patterns = []
    for pattern in string_list(table, "patterns", path, "allowlist."):
        try:
            patterns.append(re.compile(pattern))
        except re.error as error:
            raise ConfigError(f"{path}: invalid allowlist pattern {pattern!r}: {error}") from error
    return Allowlist(values=frozenset(string_list(table, "values", path, "allowlist.")), patterns=tuple(patterns))


def parse_size(table: dict[str, Any], path: Path) -> float:
    value = table.get("max_file_size_mb", DEFAULT_MAX_FILE_SIZE_MB)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ConfigError(f"{path}: 'max_file_size_mb' must be a positive number of MiB, not {value!r}")
    return float(value)


def string_list(table: dict[str, Any], key: str, path: Path, prefix: str = "") -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{path}: '{prefix}{key}' must be a list of strings")
    return value
