"""Project configuration from `leakhunt.toml` or the `[tool.leakhunt]` table of `pyproject.toml`."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leakhunt.errors import ConfigError
from leakhunt.filters import Allowlist
from leakhunt.inputs.tree import PathExcludes
from leakhunt.rules import Rule, load_file, parse_rules

CONFIG_FILE = "leakhunt.toml"
KNOWN_KEYS = frozenset({"rules", "rule_files", "disabled_rules", "exclude_paths", "allowlist", "max_file_size_mb", "migrate"})
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


def find_config(start: Path) -> Path | None:
    """Return `leakhunt.toml`, or a `pyproject.toml` with `[tool.leakhunt]`, in the scan root."""
    folder = start if start.is_dir() else start.parent
    candidate = folder / CONFIG_FILE
    if candidate.is_file():
        return candidate
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file() and "leakhunt" in read_toml(pyproject).get("tool", {}):
        return pyproject
    return None


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    document = read_toml(path)
    table = document.get("tool", {}).get("leakhunt", {}) if path.name == "pyproject.toml" else document
    return parse_config(table, path)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read configuration {path}: {error.strerror}") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"invalid TOML in configuration {path}: {error}") from error


def parse_config(table: dict[str, Any], path: Path) -> Config:
    unknown = set(table) - KNOWN_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")

    extra_rules = parse_rules(table.get("rules", []), origin=str(path))
    for pattern in string_list(table, "rule_files", path):
        matched = sorted(path.parent.glob(pattern))
        if not matched:
            raise ConfigError(f"{path}: rule_files pattern {pattern!r} matches no file")
        for rule_file in matched:
            extra_rules.extend(load_file(rule_file))

    return Config(
        extra_rules=tuple(extra_rules),
        disabled_rules=tuple(string_list(table, "disabled_rules", path)),
        excludes=PathExcludes(tuple(string_list(table, "exclude_paths", path))),
        allowlist=parse_allowlist(table.get("allowlist", {}), path),
        max_file_size_mb=parse_size(table, path),
        migrate=dict(table.get("migrate", {})),
        source=str(path),
    )


def parse_allowlist(table: Any, path: Path) -> Allowlist:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: 'allowlist' must be a table with 'values' and 'patterns'")
    patterns = []
    for pattern in string_list(table, "patterns", path):
        try:
            patterns.append(re.compile(pattern))
        except re.error as error:
            raise ConfigError(f"{path}: invalid allowlist pattern {pattern!r}: {error}") from error
    return Allowlist(values=frozenset(string_list(table, "values", path)), patterns=tuple(patterns))


def parse_size(table: dict[str, Any], path: Path) -> float:
    value = table.get("max_file_size_mb", DEFAULT_MAX_FILE_SIZE_MB)
    if not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"{path}: 'max_file_size_mb' must be a positive number of MiB")
    return float(value)


def string_list(table: dict[str, Any], key: str, path: Path) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{path}: '{key}' must be a list of strings")
    return value
