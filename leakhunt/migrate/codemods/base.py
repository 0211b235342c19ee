"""Shared parts of the secret codemods: targets, matching sites to targets, and the lookup call."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst
from libcst.codemod import CodemodContext, VisitorBasedCodemodCommand
from libcst.metadata import ParentNodeProvider, PositionProvider

from leakhunt.migrate.sites import Site, SiteIndex

LOOKUP_FUNCTION = "get_secret"


@dataclass(frozen=True)
class RewriteTarget:
    """One literal to replace by a lookup of `secret_name`.

    A site matches when its kind, anchor and value are those recorded here. `kind` is the
    rewrite kind, which differs from `site_kind` only for a secret inside a longer literal
    (`embedded`). There `secret_text` is the secret as the source spells it.
    """

    kind: str
    site_kind: str
    anchor: tuple[str, ...]
    value: str | bytes | None
    secret_name: str
    json_key: str | None = None
    secret_text: str = ""
    url_quoted: bool = False


@dataclass(frozen=True)
class HelperImport:
    """The module that defines the runtime lookup, and the name the rewritten code calls."""

    module: str
    name: str = LOOKUP_FUNCTION


class SecretCodemod(VisitorBasedCodemodCommand):
    """Replace the sites of one rewrite kind that match the targets, and import the lookup."""

    KIND: ClassVar[str]
    METADATA_DEPENDENCIES = (ParentNodeProvider, PositionProvider)

    def __init__(self, context: CodemodContext, targets: Sequence[RewriteTarget], helper: HelperImport) -> None:
        super().__init__(context)
        self.targets = [target for target in targets if target.kind == self.KIND]
        self.helper = helper
        self.pending: dict[int, tuple[cst.CSTNode, list[tuple[Site, RewriteTarget]]]] = {}
        self.rewritten: list[RewriteTarget] = []

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        if not self.targets:
            return tree
        index = SiteIndex(tree, self.metadata[ParentNodeProvider], self.metadata[PositionProvider])
        for literal in self.candidates(index):
            site = index.describe(literal)
            target = self.match(site)
            if target is not None:
                _, matched = self.pending.setdefault(id(site.replaced), (site.replaced, []))
                matched.append((site, target))
        if not self.pending:
            return tree
        self.prepare(index)
        self.add_needed_import(self.helper.module, LOOKUP_FUNCTION,
                               None if self.helper.name == LOOKUP_FUNCTION else self.helper.name)
        return tree.visit(self)

    def candidates(self, index: SiteIndex) -> list[cst.SimpleString | cst.FormattedString]:
        """Return the literals that may match a target: those holding a target's value."""
        values = {target.value for target in self.targets}
        return [literal for literal in index.literals
                if isinstance(literal, cst.SimpleString) and literal.evaluated_value in values]

    def match(self, site: Site) -> RewriteTarget | None:
        for target in self.targets:
            if site.kind == target.site_kind and site.anchor == target.anchor and site.value == target.value:
                return target
        return None

    def prepare(self, index: SiteIndex) -> None:
        """Collect what a codemod needs besides the matched sites; most need nothing."""

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:
        updated = super().on_leave(original_node, updated_node)
        entry = self.pending.get(id(original_node))
        if entry is None or entry[0] is not original_node or not isinstance(updated, cst.BaseExpression):
            return updated
        self.rewritten.extend(target for _, target in entry[1])
        return self.replace(entry[1], updated)

    def replace(self, matched: list[tuple[Site, RewriteTarget]], node: cst.BaseExpression) -> cst.BaseExpression:
        site, target = matched[0]
        return keep_parentheses(self.lookup(target, site), node, site.needs_parentheses)

    def lookup(self, target: RewriteTarget, site: Site, quote: str | None = None) -> cst.BaseExpression:
        """Build `get_secret("name")`, with `key="KEY"` for a member of a JSON secret."""
        quote = quote or quote_of(site.literal)
        arguments = [python_string(target.secret_name, quote)]
        if target.json_key is not None:
            arguments.append(f"key={python_string(target.json_key, quote)}")
        return cst.parse_expression(f"{self.helper.name}({', '.join(arguments)})")


def quote_of(literal: cst.SimpleString | cst.FormattedString) -> str:
    """Return the quote character a literal uses, so the lookup matches the file's style."""
    if isinstance(literal, cst.SimpleString):
        return literal.quote[0]
    return literal.start[-1]


def python_string(text: str, quote: str) -> str:
    if quote in text or "\\" in text or not text.isprintable():
        return repr(text)
    return f"{quote}{text}{quote}"


def keep_parentheses(new: cst.BaseExpression, old: cst.BaseExpression, needs_parentheses: bool) -> cst.BaseExpression:
    """Give the replacement the parentheses of the node it replaces, or new ones where an
    operator in the replacement binds more loosely than the literal did."""
    if old.lpar:
        return new.with_changes(lpar=old.lpar, rpar=old.rpar)
    if needs_parentheses and isinstance(new, (cst.BinaryOperation, cst.BooleanOperation)):
        return new.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return new
