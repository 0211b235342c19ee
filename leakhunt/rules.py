"""Rules as data: loading, validation and the content hash that keys the compiled database.

A rule file is TOML with a `[[rules]]` array. Each rule names the regular expression that finds
the secret, the capture group that contains it, and its own examples and negative examples, so
`leakhunt rules check` can prove every rule against both engines.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

from leakhunt import __version__
from leakhunt.cache import default_cache_dir, read_entry, write_entry
from leakhunt.errors import RuleError

log = logging.getLogger(__name__)

CONFIDENCES = ("low", "medium", "high")
# Bumped when the JSON form of cached parsed rules changes.
PARSED_RULES_FORMAT = "1"
RULE_ID = re.compile(r"[a-z0-9][a-z0-9.-]{1,80}")
KNOWN_KEYS = frozenset(
    {
        "id",
        "name",
        "pattern",
        "secret_group",
        "keywords",
        "entropy",
        "confidence",
        "references",
        "examples",
        "negative_examples",
        "generic",
        "validator",
        "description",
    }
)


@dataclass(frozen=True)
class Rule:
    """One detector: a pattern, the group that is the secret, and its own test cases."""

    id: str
    name: str
    pattern: str
    secret_group: int | str = 0
    keywords: tuple[str, ...] = ()
    entropy: float | None = None
    confidence: str = "medium"
    references: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    negative_examples: tuple[str, ...] = ()
    generic: bool = False
    validator: str | None = None
    description: str = ""
    origin: str = field(default="", compare=False)

    @cached_property
    def regex(self) -> re.Pattern[bytes]:
        """The compiled Python pattern, over bytes, built on first use."""
        return re.compile(self.pattern.encode("utf-8"))

    @property
    def hyperscan_expression(self) -> bytes:
        """The expression given to Hyperscan, which compiles it in prefilter mode."""
        return self.pattern.encode("utf-8")


@dataclass(frozen=True)
class Ruleset:
    """An ordered, validated set of rules with unique ids."""

    rules: tuple[Rule, ...]

    @cached_property
    def by_id(self) -> Mapping[str, Rule]:
        return {rule.id: rule for rule in self.rules}

    @cached_property
    def digest(self) -> str:
        """Return a hash of every field that changes what the rules match."""
        hasher = hashlib.sha256()
        for rule in self.rules:
            parts = (rule.id, rule.pattern, str(rule.secret_group), str(rule.entropy), rule.validator or "")
            hasher.update("\x1f".join(parts).encode("utf-8"))
            hasher.update(b"\x1e")
        return hasher.hexdigest()

    def without(self, disabled: Iterable[str]) -> Ruleset:
        disabled_ids = set(disabled)
        unknown = disabled_ids - set(self.by_id)
        if unknown:
            raise RuleError(f"cannot disable unknown rule id(s): {', '.join(sorted(unknown))}")
        return Ruleset(tuple(rule for rule in self.rules if rule.id not in disabled_ids))

    def extended(self, extra: Iterable[Rule]) -> Ruleset:
        """Return this set plus `extra`; an extra rule may not reuse a built-in id."""
        extra_rules = tuple(extra)
        for rule in extra_rules:
            if rule.id in self.by_id:
                existing = self.by_id[rule.id]
                raise RuleError(
                    f"{rule.origin}: rule {rule.id!r} duplicates the id of a rule in {existing.origin}; "
                    "extra rules extend the built-in set and need ids of their own"
                )
        return build_ruleset(self.rules + extra_rules)


def builtin_rules_folder() -> Path:
    """Return the folder of built-in rule files.

    An installed wheel carries the top-level `rules/` folder as the package data
    `leakhunt.builtin_rules`. An editable install or a source checkout has only `rules/`
    beside the package, because setuptools' editable finder does not map that folder.
    """
    # The folder has no __init__.py, so it is a namespace package: `resources.files` returns a
    # MultiplexedPath there, whose str() is not a path, while the spec lists the real folder.
    try:
        spec = importlib.util.find_spec("leakhunt.builtin_rules")
    except ModuleNotFoundError:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parent.parent / "rules"


def builtin_rule_files() -> list[Path]:
    """Return the rule files shipped with leakhunt, sorted by name."""
    return sorted(builtin_rules_folder().glob("*.toml"))


def load_builtin(cache_dir: Path | None | Literal["default"] = "default") -> Ruleset:
    return load_files(builtin_rule_files(), cache_dir)


def load_files(paths: Iterable[Path], cache_dir: Path | None | Literal["default"] = "default") -> Ruleset:
    rules: list[Rule] = []
    for path in paths:
        rules.extend(load_file(path, cache_dir))
    return build_ruleset(rules)


def load_file(path: Path, cache_dir: Path | None | Literal["default"] = "default") -> list[Rule]:
    """Load and validate the rules of one file, through the parsed-rule cache in `cache_dir`.

    A cache entry is named by a hash of the file's bytes and of the code that parses them,
    so an edited rule file or a new leakhunt never reads an old entry. `cache_dir` None
    parses every time; the default is the user's cache folder.
    """
    try:
        content = path.read_bytes()
    except OSError as error:
        raise RuleError(f"{path}: cannot read rule file: {error.strerror}") from error

    folder = default_cache_dir() if cache_dir == "default" else cache_dir
    entry = folder / f"parsed-{parsed_rules_key(content)}.json" if folder is not None else None
    if entry is not None:
        cached = read_cached_rules(entry, origin=str(path))
        if cached is not None:
            return cached

    rules = parse_file_content(content, path)
    if entry is not None:
        write_entry(entry, json.dumps([rule_fields(rule) for rule in rules]).encode("utf-8"))
    return rules


def parse_file_content(content: bytes, path: Path) -> list[Rule]:
    return parse_rules(rule_tables(content, path), origin=str(path))


def rule_tables(content: bytes, path: Path) -> Any:
    """Return the `rules` array of a rule file's TOML, unchecked; invalid TOML raises `RuleError`."""
    import tomllib

    try:
        # Newlines are translated as `Path.read_text` does, so multi-line strings read the same.
        text = content.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        document = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise RuleError(f"{path}: invalid TOML: {error}") from error
    return document.get("rules", [])


def parsed_rules_key(content: bytes) -> str:
    hasher = hashlib.sha256(parser_fingerprint().encode("ascii"))
    hasher.update(content)
    return hasher.hexdigest()[:40]


@cache
def parser_fingerprint() -> str:
    """Return a hash of the code that parses and validates rules, part of every cache key."""
    hasher = hashlib.sha256(f"{PARSED_RULES_FORMAT}-{__version__}".encode("ascii"))
    for module_file in (__file__, validators_module_file()):
        try:
            hasher.update(Path(module_file).read_bytes())
        except OSError:
            hasher.update(module_file.encode("utf-8", "surrogateescape"))
    return hasher.hexdigest()


def validators_module_file() -> str:
    from leakhunt import validators

    return validators.__file__ or ""


def rule_fields(rule: Rule) -> dict[str, Any]:
    """Return the fields of a rule that its file defines, as JSON values."""
    return {item.name: getattr(rule, item.name) for item in fields(Rule) if item.name != "origin"}


def read_cached_rules(entry: Path, origin: str) -> list[Rule] | None:
    content = read_entry(entry)
    if content is None:
        return None
    try:
        records = json.loads(content)
        rules = [Rule(**{key: tuple(value) if isinstance(value, list) else value for key, value in record.items()},
                      origin=origin) for record in records]
    except (ValueError, TypeError, AttributeError) as error:
        log.warning("ignoring invalid parsed-rule cache entry %s: %s", entry, error)
        return None
    log.debug("loaded %d rules of %s from the cache", len(rules), origin)
    return rules


def parse_rules(tables: Any, origin: str) -> list[Rule]:
    """Build rules from TOML tables, raising `RuleError` that names `origin` and the rule id."""
    if not isinstance(tables, list):
        raise RuleError(f"{origin}: 'rules' must be an array of tables")
    return [parse_rule(table, origin) for table in tables]


def parse_rule(table: Any, origin: str) -> Rule:
    if not isinstance(table, dict):
        raise RuleError(f"{origin}: each entry of 'rules' must be a table")
    rule_id = table.get("id")
    if not isinstance(rule_id, str) or not RULE_ID.fullmatch(rule_id):
        raise RuleError(f"{origin}: rule id {rule_id!r} is missing or invalid (lowercase letters, digits, '-', '.')")

    where = f"{origin}: rule {rule_id}"
    unknown = set(table) - KNOWN_KEYS
    if unknown:
        raise RuleError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("name", "pattern"):
        if not isinstance(table.get(key), str) or not table[key]:
            raise RuleError(f"{where}: '{key}' is missing or empty")
    confidence = table.get("confidence", "medium")
    if confidence not in CONFIDENCES:
        raise RuleError(f"{where}: confidence {confidence!r} is not one of {', '.join(CONFIDENCES)}")

    try:
        compiled = re.compile(table["pattern"].encode("utf-8"))
    except re.error as error:
        raise RuleError(f"{where}: invalid pattern: {error}") from error
    secret_group = resolve_secret_group(table.get("secret_group"), compiled, where)

    return Rule(
        id=rule_id,
        name=table["name"],
        pattern=table["pattern"],
        secret_group=secret_group,
        keywords=tuple(string_list(table, "keywords", where)),
        entropy=optional_float(table, "entropy", where),
        confidence=confidence,
        references=tuple(string_list(table, "references", where)),
        examples=tuple(string_list(table, "examples", where)),
        negative_examples=tuple(string_list(table, "negative_examples", where)),
        generic=bool(table.get("generic", False)),
        validator=parse_validator(table.get("validator"), where),
        description=table.get("description", ""),
        origin=origin,
    )


def parse_validator(value: Any, where: str) -> str | None:
    from leakhunt.validators import VALIDATORS

    if value is None or value in VALIDATORS:
        return value
    raise RuleError(f"{where}: unknown validator {value!r}; known: {', '.join(sorted(VALIDATORS))}")


def resolve_secret_group(value: Any, compiled: re.Pattern[bytes], where: str) -> int | str:
    """Default to the group named `secret`, then to group 1, then to the whole match."""
    if value is None:
        if "secret" in compiled.groupindex:
            return "secret"
        return 1 if compiled.groups else 0
    if isinstance(value, int) and 0 <= value <= compiled.groups:
        return value
    if isinstance(value, str) and value in compiled.groupindex:
        return value
    raise RuleError(f"{where}: secret_group {value!r} does not name a group of the pattern")


def string_list(table: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RuleError(f"{where}: '{key}' must be a list of strings")
    return value


def optional_float(table: Mapping[str, Any], key: str, where: str) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, (int, float)) or value < 0:
        raise RuleError(f"{where}: '{key}' must be a non-negative number")
    return float(value)


def build_ruleset(rules: Iterable[Rule]) -> Ruleset:
    seen: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in seen:
            raise RuleError(f"{rule.origin}: rule {rule.id!r} duplicates an id already defined in {seen[rule.id].origin}")
        seen[rule.id] = rule
    return Ruleset(tuple(seen.values()))
