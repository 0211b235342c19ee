"""Read the values of a plan's secrets from the files as they are now.

The plan stores no values, so the plan step and every apply run read them again. Each
location is found by its kind and anchor in the current file. A finding's location only
matches a literal whose fingerprint is the one recorded. A location that a previous run has
already rewritten is no longer found, which is how an interrupted run resumes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from leakhunt.findings import Finding, fingerprint
from leakhunt.migrate.codemods.base import RewriteTarget
from leakhunt.migrate.plan import Location, Plan, PlannedSecret


@dataclass
class Resolution:
    """Values and rewrite targets of the secrets whose locations are still in the files."""

    values: dict[str, str] = field(default_factory=dict)
    targets: dict[str, list[tuple[str, RewriteTarget]]] = field(default_factory=lambda: defaultdict(list))
    secret_texts: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # Values grouped with a secret that no rule found, such as a connection's host.
    setting_texts: set[str] = field(default_factory=set)
    sources: dict[str, bytes] = field(default_factory=dict)

    def all_secret_texts(self) -> set[str]:
        return {text for texts in self.secret_texts.values() for text in texts}


class Resolver:
    def __init__(self, plan: Plan, root: Path, findings: Sequence[Finding]) -> None:
        self.plan = plan
        self.root = root
        self.by_fingerprint = {finding.fingerprint: finding.secret for finding in findings}
        self.indexes: dict[str, Any] = {}
        self.resolution = Resolution()

    def resolve(self) -> Resolution:
        for secret in self.plan.secrets:
            self.resolve_secret(secret)
        return self.resolution

    def resolve_secret(self, secret: PlannedSecret) -> None:
        values: dict[str | None, str] = {}
        for location in secret.locations:
            if location.disposition == "manual":
                text = self.by_fingerprint.get(location.fingerprint or "")
                if text is not None:
                    values.setdefault(location.key, text)
                    self.resolution.secret_texts[secret.name].add(text)
                continue
            found = self.find(location)
            if found is None:
                continue
            site, value, secret_text = found
            values.setdefault(location.key, value)
            if location.fingerprint:
                self.resolution.secret_texts[secret.name].add(secret_text or value)
            else:
                self.resolution.setting_texts.add(value)
            target = RewriteTarget(
                kind=location.kind, site_kind=location.site_kind, anchor=location.anchor, value=site.value,
                secret_name=secret.name, json_key=location.key, secret_text=secret_text,
                url_quoted=location.url_quoted,
            )
            self.resolution.targets[secret.name].append((location.path, target))

        if secret.keys:
            if all(key in values for key in secret.keys):
                self.resolution.values[secret.name] = json.dumps({key: values[key] for key in secret.keys})
        elif None in values:
            self.resolution.values[secret.name] = values[None]

    def find(self, location: Location) -> tuple[Any, str, str] | None:
        """Return the site, the value to store and the secret's source text of a location."""
        index = self.index(location.path)
        if index is None:
            return None
        embedded = location.kind in ("embedded", "f-string")
        secret_text = self.by_fingerprint.get(location.fingerprint or "", "") if embedded else ""
        if embedded and not secret_text:
            return None
        for site in index.find(location.site_kind, location.anchor):
            text = site.text_value
            if embedded:
                if contains(site, secret_text):
                    return site, unquote(secret_text) if location.url_quoted else secret_text, secret_text
            elif text is not None and (location.rule_id is None
                                       or fingerprint(location.rule_id, location.path, text) == location.fingerprint):
                return site, text, ""
        return None

    def index(self, path: str) -> Any:
        if path not in self.indexes:
            self.indexes[path] = self.load_index(path)
        return self.indexes[path]

    def load_index(self, path: str) -> Any:
        import libcst as cst

        from leakhunt.migrate.sites import SiteIndex

        try:
            data = (self.root / path).read_bytes()
            index = SiteIndex.of(cst.parse_module(data))
        except (OSError, cst.ParserSyntaxError):
            return None
        self.resolution.sources[path] = data
        return index


def contains(site: Any, text: str) -> bool:
    import libcst as cst

    literal = site.literal
    if isinstance(literal, cst.FormattedString):
        return any(isinstance(part, cst.FormattedStringText) and text in part.value for part in literal.parts)
    return site.text_value is not None and text in site.text_value


def resolve(plan: Plan, root: Path, findings: Sequence[Finding]) -> Resolution:
    return Resolver(plan, root, findings).resolve()
