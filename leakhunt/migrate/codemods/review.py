"""Codemods whose output is only proposed as a patch, because the change needs a person.

- `embedded`: the secret is part of a longer literal, such as the password in a DSN. The
  literal is split around a lookup, which is URL-quoted when the secret sits in a URL.
- `f-string`: the secret text becomes a replacement field of the f-string.
- `default-argument`: the default becomes `None` and the function looks the secret up
  when called, which changes when the lookup happens.
"""

from __future__ import annotations

import libcst as cst

from leakhunt.migrate.codemods.base import RewriteTarget, SecretCodemod, keep_parentheses
from leakhunt.migrate.sites import Site, SiteIndex


class EmbeddedSecretCodemod(SecretCodemod):
    DESCRIPTION = "Split a literal that contains a secret around a Secrets Manager lookup."
    KIND = "embedded"

    def replace(self, matched: list[tuple[Site, RewriteTarget]], node: cst.BaseExpression) -> cst.BaseExpression:
        site, target = matched[0]
        literal = site.literal
        assert isinstance(literal, cst.SimpleString)
        body = literal.raw_value
        start = body.find(target.secret_text)
        if start < 0:
            return node
        lookup = self.lookup(target, site)
        if target.url_quoted:
            self.add_needed_import("urllib.parse", "quote")
            lookup = cst.parse_expression(f"quote({cst.Module([]).code_for_node(lookup)}, safe='')")
        opening = literal.prefix + literal.quote
        pieces: list[cst.BaseExpression] = []
        if start:
            pieces.append(cst.SimpleString(opening + body[:start] + literal.quote))
        pieces.append(lookup)
        rest = body[start + len(target.secret_text):]
        if rest:
            pieces.append(cst.SimpleString(opening + rest + literal.quote))
        expression = pieces[0]
        for piece in pieces[1:]:
            expression = cst.BinaryOperation(left=expression, operator=cst.Add(), right=piece)
        return keep_parentheses(expression, node, site.needs_parentheses)


class FormattedStringCodemod(SecretCodemod):
    DESCRIPTION = "Turn the secret text of an f-string into a replacement field that looks the secret up."
    KIND = "f-string"

    def match(self, site: Site) -> RewriteTarget | None:
        for target in self.targets:
            if site.kind == target.site_kind and site.anchor == target.anchor and contains_text(site, target.secret_text):
                return target
        return None

    def candidates(self, index: SiteIndex) -> list[cst.SimpleString | cst.FormattedString]:
        # An f-string has no value before it runs, so targets are found by their text.
        return [literal for literal in index.literals if isinstance(literal, cst.FormattedString)]

    def replace(self, matched: list[tuple[Site, RewriteTarget]], node: cst.BaseExpression) -> cst.BaseExpression:
        site, target = matched[0]
        assert isinstance(node, cst.FormattedString)
        inner_quote = "'" if node.start.endswith('"') else '"'
        lookup = self.lookup(target, site, quote=inner_quote)
        if target.url_quoted:
            self.add_needed_import("urllib.parse", "quote")
            lookup = cst.parse_expression(f"quote({cst.Module([]).code_for_node(lookup)}, safe={inner_quote * 2})")
        parts: list[cst.BaseFormattedStringContent] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText) and target.secret_text in part.value:
                before, _, after = part.value.partition(target.secret_text)
                parts.extend(cst.FormattedStringText(text) for text in (before,) if text)
                parts.append(cst.FormattedStringExpression(expression=lookup))
                parts.extend(cst.FormattedStringText(text) for text in (after,) if text)
            else:
                parts.append(part)
        return node.with_changes(parts=parts)


class DefaultArgumentCodemod(SecretCodemod):
    DESCRIPTION = "Make a secret default argument None and look the secret up when the function runs."
    KIND = "default-argument"

    def prepare(self, index: SiteIndex) -> None:
        self.functions: dict[int, list[tuple[str, cst.BaseExpression]]] = {}
        for _, matched in self.pending.values():
            for site, target in matched:
                function = index.enclosing_scope(site.literal)
                if isinstance(function, cst.FunctionDef):
                    self.functions.setdefault(id(function), []).append((site.anchor[-1], self.lookup(target, site)))

    def replace(self, matched: list[tuple[Site, RewriteTarget]], node: cst.BaseExpression) -> cst.BaseExpression:
        return cst.Name("None")

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        lookups = self.functions.get(id(original_node))
        if not lookups or not isinstance(updated_node.body, cst.IndentedBlock):
            return updated_node
        statements = list(updated_node.body.body)
        position = 1 if statements and is_docstring(statements[0]) else 0
        module = cst.Module([])
        for parameter, lookup in reversed(lookups):
            check = cst.parse_statement(f"if {parameter} is None:\n    {parameter} = {module.code_for_node(lookup)}\n")
            statements.insert(position, check)
        return updated_node.with_changes(body=updated_node.body.with_changes(body=statements))


def contains_text(site: Site, text: str) -> bool:
    literal = site.literal
    return isinstance(literal, cst.FormattedString) and any(
        isinstance(part, cst.FormattedStringText) and text in part.value for part in literal.parts
    )


def is_docstring(statement: cst.BaseStatement) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr)
            and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))
