"""Codemod for bytes literals: `KEY = b"..."` becomes `KEY = get_secret("...").encode()`."""

from __future__ import annotations

import libcst as cst

from leakhunt.migrate.codemods.base import RewriteTarget, SecretCodemod, keep_parentheses
from leakhunt.migrate.sites import Site


class BytesLiteralCodemod(SecretCodemod):
    DESCRIPTION = "Replace a secret bytes literal by a Secrets Manager lookup encoded as UTF-8."
    KIND = "bytes"

    def replace(self, matched: list[tuple[Site, RewriteTarget]], node: cst.BaseExpression) -> cst.BaseExpression:
        site, target = matched[0]
        return keep_parentheses(encoded(self.lookup(target, site)), node, site.needs_parentheses)


def encoded(lookup: cst.BaseExpression) -> cst.BaseExpression:
    return cst.Call(func=cst.Attribute(value=lookup, attr=cst.Name("encode")))
