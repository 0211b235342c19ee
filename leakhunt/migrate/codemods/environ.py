"""Codemod for environment defaults: the environment variable keeps priority.

`os.environ.get("API_TOKEN", "ghp_...")` becomes
`os.environ.get("API_TOKEN") or get_secret("myapp/settings/API_TOKEN")`, so a deployment
that sets the variable still wins. An empty variable now falls through to the lookup
where it used to yield the empty string.
"""

from __future__ import annotations

import libcst as cst

from leakhunt.migrate.codemods.base import RewriteTarget, SecretCodemod, keep_parentheses
from leakhunt.migrate.sites import Site


class EnvironDefaultCodemod(SecretCodemod):
    DESCRIPTION = "Replace the secret default of os.environ.get or os.getenv by a Secrets Manager lookup."
    KIND = "environ-default"

    def replace(self, matched: list[tuple[Site, RewriteTarget]], node: cst.BaseExpression) -> cst.BaseExpression:
        site, target = matched[0]
        assert isinstance(node, cst.Call)
        arguments = [argument for index, argument in enumerate(node.args) if not is_default(index, argument)]
        arguments[-1] = arguments[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        without_default = node.with_changes(args=arguments, lpar=[], rpar=[])
        either = cst.BooleanOperation(left=without_default, operator=cst.Or(), right=self.lookup(target, site))
        return keep_parentheses(either, node, site.needs_parentheses)


def is_default(index: int, argument: cst.Arg) -> bool:
    if argument.keyword is not None:
        return argument.keyword.value == "default"
    return index == 1
