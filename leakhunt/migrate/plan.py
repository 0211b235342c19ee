"""The migration plan: which secret each finding becomes, and what the code change will be.

Building a plan places each finding of a Python file in its syntactic context and names the
secrets. The settings of one connection become one JSON secret, and locations that contain the
same value share one secret. The plan records locations, names and
content hashes, never values: `resolve` reads the values again from the files when needed.
"""

from __future__ import annotations

import io
import json
import tokenize
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from leakhunt.errors import MigrationError
from leakhunt.findings import Finding
from leakhunt.migrate import naming
from leakhunt.migrate.files import content_hash
from leakhunt.migrate.helper import HelperLocation, locate_helper
from leakhunt.migrate.journal import JOURNAL_FILE, Journal
from leakhunt.migrate.options import ProjectSettings

PLAN_VERSION = 1
STATE_FOLDER = ".leakhunt"
PYTHON_SUFFIXES = (".py", ".pyw")
AWS_KEYWORDS = frozenset({"aws_access_key_id", "aws_secret_access_key", "aws_session_token"})
AWS_FACTORIES = frozenset({"client", "resource", "Session"})


@dataclass(frozen=True)
class Location:
    """One place in the project that contains a secret, or a setting grouped with one.

    `kind` is the rewrite kind, `site_kind` the kind that `SiteIndex` gives the literal; they
    differ for a secret inside a longer literal. `key` names the value inside a JSON secret.
    """

    path: str
    line: int
    column: int
    kind: str
    disposition: str
    anchor: tuple[str, ...] = ()
    site_kind: str = ""
    key: str | None = None
    rule_id: str | None = None
    fingerprint: str | None = None
    reason: str = ""
    url_quoted: bool = False

    def describe(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class PlannedSecret:
    """A secret to create: its name, its JSON keys (none for a plain string) and its locations."""

    name: str
    default_name: str
    keys: tuple[str, ...]
    locations: tuple[Location, ...]

    def locations_of(self, disposition: str) -> list[Location]:
        return [location for location in self.locations if location.disposition == disposition]

    @property
    def manual_only(self) -> bool:
        return all(location.disposition == "manual" for location in self.locations)


@dataclass(frozen=True)
class Plan:
    """Everything `--apply` needs except the values, which it reads from the files again."""

    root: str
    prefix: str
    helper: HelperLocation
    files: Mapping[str, str]
    secrets: tuple[PlannedSecret, ...]
    reported: tuple[Location, ...]
    diff: str = ""
    review_diff: str = ""
    version: int = PLAN_VERSION

    def secret(self, name: str) -> PlannedSecret:
        return next(secret for secret in self.secrets if secret.name == name)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str) -> Plan:
        try:
            document = json.loads(text)
            if document.get("version") != PLAN_VERSION:
                raise MigrationError(f"{source}: plan version {document.get('version')!r} is not {PLAN_VERSION}; "
                                     "run `leakhunt migrate PATH` again")
            return cls(
                root=document["root"],
                prefix=document["prefix"],
                helper=HelperLocation(**document["helper"]),
                files=dict(document["files"]),
                secrets=tuple(
                    PlannedSecret(item["name"], item["default_name"], tuple(item["keys"]),
                                  tuple(location_from(entry) for entry in item["locations"]))
                    for item in document["secrets"]
                ),
                reported=tuple(location_from(entry) for entry in document["reported"]),
                diff=document.get("diff", ""),
                review_diff=document.get("review_diff", ""),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise MigrationError(f"{source}: invalid migration plan ({error}); run `leakhunt migrate PATH` again") from None


def location_from(entry: Mapping[str, Any]) -> Location:
    return Location(**{**entry, "anchor": tuple(entry.get("anchor", ()))})


@dataclass(frozen=True)
class Entry:
    """A location with its default name, before names are merged and made unique."""

    location: Location
    default_name: str
    value: str | None
    secret: bool
    group: str | None = None


@dataclass
class PlanBuilder:
    """Turns the findings of one scan into a plan."""

    root: Path
    findings: Sequence[Finding]
    project: ProjectSettings
    prefix: str = ""
    repository: str = ""
    sources: dict[str, bytes] = field(default_factory=dict)

    def build(self) -> Plan:
        self.repository = naming.repository_name(self.root)
        self.prefix = self.project.prefix or self.repository
        entries: list[Entry] = []
        reported: list[Location] = []
        by_path: dict[str, list[Finding]] = defaultdict(list)
        for finding in self.findings:
            if not is_own_file(finding.path):
                by_path[finding.path].append(finding)

        for path, findings in sorted(by_path.items()):
            data = self.read(path)
            if path.endswith(PYTHON_SUFFIXES):
                found, skipped = self.python_entries(path, data, findings)
            else:
                found, skipped = self.other_entries(path, data, findings), []
            entries.extend(found)
            reported.extend(skipped)

        secrets = merge(entries, self.project.names)
        automatic_paths = {location.path for secret in secrets for location in secret.locations_of("automatic")}
        helper = locate_helper(self.root, sorted(automatic_paths), self.project.helper_module,
                               written_helper(self.root / STATE_FOLDER / JOURNAL_FILE))
        plan = Plan(
            root=str(self.root.resolve()),
            prefix=self.prefix,
            helper=helper,
            files={path: content_hash(self.sources[path]) for path in sorted(by_path) if path in self.sources},
            secrets=tuple(secrets),
            reported=tuple(sorted(reported, key=lambda location: (location.path, location.line, location.column))),
        )
        return plan

    def read(self, path: str) -> bytes:
        try:
            data = (self.root / path).read_bytes()
        except OSError as error:
            raise MigrationError(f"cannot read {path}: {error.strerror or error}") from error
        self.sources[path] = data
        return data

    def python_entries(self, path: str, data: bytes, findings: Sequence[Finding]) -> tuple[list[Entry], list[Location]]:
        import libcst as cst

        from leakhunt.migrate.sites import SiteIndex

        try:
            index = SiteIndex.of(cst.parse_module(data))
        except cst.ParserSyntaxError as error:
            reason = f"the file does not parse (syntax error at line {error.raw_line}), so nothing in it can be rewritten"
            return [], [report(finding, "syntax-error", reason) for finding in findings]

        comments = comment_spans(data)
        lines = data.decode("utf-8", "surrogateescape").splitlines()
        entries: list[Entry] = []
        reported: list[Location] = []
        grouped: set[int] = set()
        for finding in findings:
            position = (finding.line, finding.column - 1)
            site = index.site_at(position)
            if site is None:
                in_comment = any(start <= position < end for start, end in comments)
                reported.append(report(finding, "comment", "comments are documentation; delete the secret by hand")
                                if in_comment else
                                report(finding, "outside-literal", "the secret is not inside a string literal"))
                continue
            if site.kind in REPORT_KINDS_SET:
                reported.append(report(finding, site.kind, site.reason))
                continue
            if is_aws_key_for_boto(finding, site):
                reported.append(report(finding, "aws-access-key", "an access key passed to boto3 belongs in an IAM "
                                       "role or the standard credential chain, not in Secrets Manager"))
                continue

            url_quoted = in_url(lines[finding.line - 1] if finding.line <= len(lines) else "", finding)
            entry = self.site_entry(path, finding, site, url_quoted)
            if entry is None:
                reported.append(report(finding, "embedded", "the secret is part of a longer bytes literal"))
                continue
            if entry.location.disposition == "automatic" and groupable(index, site):
                if id(site.group.container) not in grouped:
                    grouped.add(id(site.group.container))
                    entries.extend(self.group_entries(path, index, site, findings))
                continue
            entries.append(entry)
        return entries, reported

    def site_entry(self, path: str, finding: Finding, site: Any, url_quoted: bool) -> Entry | None:
        from leakhunt.migrate.sites import AUTOMATIC_KINDS

        text = site.text_value
        whole = text == finding.secret
        if site.kind == "f-string" or not whole:
            if isinstance(site.value, bytes):
                return None
            kind, disposition = ("f-string" if site.kind == "f-string" else "embedded"), "review"
            reason = site.reason or "the secret is part of a longer string; the patch splits the literal"
            value = unquote(finding.secret) if url_quoted else finding.secret
        else:
            kind, value, url_quoted = site.kind, text, False
            disposition = "automatic" if site.kind in AUTOMATIC_KINDS else "review"
            reason = site.reason
        location = Location(
            path=path, line=finding.line, column=finding.column, kind=kind, disposition=disposition,
            anchor=site.anchor, site_kind=site.kind, rule_id=finding.rule_id, fingerprint=finding.fingerprint,
            reason=reason, url_quoted=url_quoted,
        )
        return Entry(location, naming.secret_name(self.prefix, path, site.anchor, self.repository), value, secret=True)

    def group_entries(self, path: str, index: Any, site: Any, findings: Sequence[Finding]) -> list[Entry]:
        """Return one entry per plain string setting of the connection that `site` belongs to."""
        group = site.group
        group_name = naming.secret_name(self.prefix, path, group.anchor, self.repository)
        secrets_at = {(finding.line, finding.column - 1): finding for finding in findings}
        entries = []
        for member in index.group_members(group):
            if not isinstance(member.value, str) or not member.value:
                continue
            # The secret starts after the literal's opening quote, so compare by line and span.
            finding = next((candidate for (line, column), candidate in secrets_at.items()
                            if member.contains((line, column))), None)
            # Like a finding of `leakhunt scan`, a location names the first character of the value.
            delimiter = len(member.literal.prefix) + len(member.literal.quote)
            line, column = (finding.line, finding.column) if finding else (member.start[0], member.start[1] + 1 + delimiter)
            location = Location(
                path=path, line=line, column=column, kind=member.kind,
                disposition="automatic", anchor=member.anchor, site_kind=member.kind, key=member.group.key,
                rule_id=finding.rule_id if finding else None, fingerprint=finding.fingerprint if finding else None,
            )
            entries.append(Entry(location, group_name, member.value, secret=finding is not None, group=group_name))
        return entries

    def other_entries(self, path: str, data: bytes, findings: Sequence[Finding]) -> list[Entry]:
        lines = data.decode("utf-8", "surrogateescape").splitlines()
        entries = []
        for finding in findings:
            line_text = lines[finding.line - 1] if finding.line <= len(lines) else ""
            label = naming.assigned_label(line_text, finding.column) or f"{finding.rule_id}-line{finding.line}"
            location = Location(
                path=path, line=finding.line, column=finding.column, kind="non-python", disposition="manual",
                anchor=(label,), rule_id=finding.rule_id, fingerprint=finding.fingerprint,
                reason="not Python source: replace the value with a reference to the secret by hand",
            )
            default_name = naming.secret_name(self.prefix, path, (label,), self.repository)
            entries.append(Entry(location, default_name, finding.secret, secret=True))
        return entries


REPORT_KINDS_SET = frozenset({"docstring", "comment", "match-pattern", "annotation", "aws-access-key",
                              "outside-literal", "syntax-error"})


def groupable(index: Any, site: Any) -> bool:
    """Return True when a connection's settings can move into one JSON secret.

    Each setting must be a plain string literal whose kind and anchor no other literal of the
    file shares, because settings that are not findings are found again by anchor alone. Two
    `DATABASES` assignments in the branches of an `if` share anchors, so their secrets stay
    separate.
    """
    if site.group is None or site.kind not in ("dict-value", "call-argument"):
        return False
    return all(len(index.find(member.kind, member.anchor)) == 1 for member in index.group_members(site.group))


def report(finding: Finding, kind: str, reason: str) -> Location:
    return Location(path=finding.path, line=finding.line, column=finding.column, kind=kind, disposition="report",
                    rule_id=finding.rule_id, fingerprint=finding.fingerprint, reason=reason)


def is_own_file(path: str) -> bool:
    """Return True for files that the migration itself writes, which are never migrated."""
    return path == STATE_FOLDER or path.startswith(STATE_FOLDER + "/")


def is_aws_key_for_boto(finding: Finding, site: Any) -> bool:
    if not finding.rule_id.startswith("aws-") or site.kind != "call-argument":
        return False
    callee = site.callee
    return (callee.split(".", 1)[0] in ("boto3", "botocore") or callee.rsplit(".", 1)[-1] in AWS_FACTORIES
            or site.keyword in AWS_KEYWORDS)


def in_url(line_text: str, finding: Finding) -> bool:
    """Return True when the secret is the password of a URL such as `scheme://user:SECRET@host`."""
    start = finding.column - 1
    before = line_text[:start]
    after = line_text[start + len(finding.secret):]
    return "://" in before and before.endswith(":") and after.startswith("@")


def comment_spans(data: bytes) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    spans = []
    try:
        for token in tokenize.tokenize(io.BytesIO(data).readline):
            if token.type == tokenize.COMMENT:
                spans.append((token.start, token.end))
    except (tokenize.TokenError, SyntaxError):
        pass
    return spans


def merge(entries: Iterable[Entry], overrides: Mapping[str, str]) -> list[PlannedSecret]:
    """Group entries into secrets: a connection's settings form one, equal values share one."""
    ordered = sorted(entries, key=lambda entry: (entry.group is None, entry.location.path, entry.location.line,
                                                 entry.location.column))
    names: dict[str, str] = {}
    by_value: dict[str, tuple[str, str | None]] = {}
    locations: dict[str, list[Location]] = defaultdict(list)
    defaults: dict[str, str] = {}
    taken: set[str] = set()

    for entry in ordered:
        location = entry.location
        if entry.group is not None:
            if entry.group not in names:
                names[entry.group] = unique(naming.overridden(entry.group, overrides), taken)
                defaults[names[entry.group]] = entry.group
            name = names[entry.group]
            locations[name].append(location)
            if entry.secret and entry.value is not None:
                by_value.setdefault(entry.value, (name, location.key))
            continue

        existing = by_value.get(entry.value) if entry.value is not None else None
        if existing is not None:
            name, key = existing
            locations[name].append(replace(location, key=key))
            continue
        name = unique(naming.overridden(entry.default_name, overrides), taken)
        defaults[name] = entry.default_name
        locations[name].append(location)
        if entry.value is not None:
            by_value[entry.value] = (name, None)

    secrets = []
    for name, found in locations.items():
        keys = tuple(sorted({location.key for location in found if location.key is not None}))
        ordered_locations = tuple(sorted(found, key=lambda location: (location.path, location.line, location.column)))
        secrets.append(PlannedSecret(name, defaults[name], keys, ordered_locations))
    return sorted(secrets, key=lambda secret: secret.name)


def unique(name: str, taken: set[str]) -> str:
    chosen = naming.unique_name(name, taken)
    taken.add(chosen)
    return chosen


def written_helper(journal_path: Path) -> HelperLocation | None:
    """Return the helper that the last `--apply` recorded writing, or None."""
    records = Journal(journal_path).of("helper-written")
    if not records:
        return None
    record = records[-1]
    module = record.get("module") or module_of(record["path"])
    return HelperLocation(module, record["path"])


def module_of(path: str) -> str:
    """Return the dotted module of a helper file, for journals that recorded only its path."""
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if len(parts) > 1 and parts[0] == "src":
        parts = parts[1:]
    return ".".join(parts)


def make_plan(root: Path, findings: Sequence[Finding], project: ProjectSettings) -> tuple[Plan, Any]:
    """Build the plan of a scanned tree with its diffs, and return it with its resolution."""
    from leakhunt.migrate.resolve import resolve
    from leakhunt.migrate.rewrite import preview

    plan = PlanBuilder(root, findings, project).build()
    resolution = resolve(plan, root, findings)
    diff, review_diff = preview(plan, resolution, (finding.secret for finding in findings))
    return replace(plan, diff=diff, review_diff=review_diff), resolution
