"""Syntactic context of the string literals of a Python module, which decides how a secret moves.

A site is one string literal with its context: the rewrite kind, the names that lead to it
(the anchor, such as `DATABASES/default/PASSWORD`), and for connection settings the group it
belongs to. The planner and every codemod describe literals with the same `SiteIndex`.
Neither a site's kind nor its anchor depends on positions, so a site found at plan time is
found again at apply time, after other literals of the file were rewritten and lines moved.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import CodeRange

# Kinds that the codemods rewrite in place.
AUTOMATIC_KINDS = (
    "module-constant",
    "class-attribute",
    "local-variable",
    "dict-value",
    "call-argument",
    "environ-default",
    "concatenation",
    "bytes",
)
# Kinds for which the migration writes a patch to review and leaves the code as it is.
REVIEW_KINDS = ("embedded", "f-string", "default-argument", "expression")
# Kinds that are only reported: rewriting them would change what the code means.
REPORT_KINDS = ("docstring", "comment", "match-pattern", "annotation", "aws-access-key", "outside-literal", "syntax-error")

ENVIRON_GETTERS = frozenset({"os.environ.get", "environ.get", "os.getenv", "getenv"})
PASSWORD_KEYS = frozenset({"password", "passwd", "pwd", "pass", "secret"})
IDENTITY_KEYS = frozenset({"user", "username", "login", "host", "hostname", "server", "name", "database", "db", "dbname"})
CONNECTION_KEYS = PASSWORD_KEYS | IDENTITY_KEYS | {"port"}
# Parents in which a replacement expression needs no parentheses of its own.
LOOSE_PARENTS = (cst.Assign, cst.AnnAssign, cst.Arg, cst.DictElement, cst.Return, cst.Element, cst.Expr)

Position = tuple[int, int]
LiteralNode = cst.SimpleString | cst.FormattedString


@dataclass(frozen=True)
class Group:
    """A connection's settings that move together into one JSON secret."""

    anchor: tuple[str, ...]
    key: str
    container: cst.Dict | cst.Call


@dataclass(frozen=True, eq=False)
class Site:
    """One string literal in context.

    `replaced` is the node a codemod swaps out: the literal itself, the implicit
    concatenation around it, or the `os.environ.get` call whose default it is.
    """

    literal: LiteralNode
    replaced: cst.BaseExpression
    kind: str
    anchor: tuple[str, ...]
    value: str | bytes | None
    start: Position
    end: Position
    group: Group | None = None
    callee: str = ""
    keyword: str = ""
    reason: str = ""
    needs_parentheses: bool = False

    @property
    def text_value(self) -> str | None:
        """Return the literal's value as text; bytes literals decode as UTF-8."""
        if isinstance(self.value, bytes):
            return self.value.decode("utf-8", "surrogateescape")
        return self.value

    def contains(self, position: Position) -> bool:
        return self.start <= position < self.end


class LiteralCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.literals: list[LiteralNode] = []

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self.literals.append(node)

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        self.literals.append(node)


class SiteIndex:
    """Describes the string literals of one module from its parent and position metadata."""

    def __init__(self, module: cst.Module, parents: Mapping[cst.CSTNode, cst.CSTNode],
                 positions: Mapping[cst.CSTNode, CodeRange]) -> None:
        self.module = module
        self.parents = parents
        self.positions = positions
        collector = LiteralCollector()
        module.visit(collector)
        self.literals = collector.literals
        self._sites: dict[int, Site] = {}

    @classmethod
    def of(cls, module: cst.Module) -> SiteIndex:
        """Index a module that no codemod is transforming; metadata is resolved on it directly."""
        from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        metadata = wrapper.resolve_many((ParentNodeProvider, PositionProvider))
        return cls(module, metadata[ParentNodeProvider], metadata[PositionProvider])

    def sites(self) -> Iterator[Site]:
        for literal in self.literals:
            yield self.describe(literal)

    def site_at(self, position: Position) -> Site | None:
        """Return the innermost literal that contains a 1-based line and 0-based column."""
        best: Site | None = None
        for literal in self.literals:
            code_range = self.positions[literal]
            if not (code_range.start.line, code_range.start.column) <= position < (code_range.end.line, code_range.end.column):
                continue
            site = self.describe(literal)
            if best is None or site.start >= best.start:
                best = site
        return best

    def find(self, kind: str, anchor: tuple[str, ...]) -> list[Site]:
        return [site for site in self.sites() if site.kind == kind and site.anchor == anchor]

    def describe(self, literal: LiteralNode) -> Site:
        cached = self._sites.get(id(literal))
        if cached is None:
            cached = self._describe(literal)
            self._sites[id(literal)] = cached
        return cached

    def group_members(self, group: Group) -> list[Site]:
        """Return the sites of a group's plain string values, the secret among them."""
        members = []
        for key, value in connection_entries(group.container):
            if key.lower() in CONNECTION_KEYS and isinstance(value, cst.SimpleString):
                members.append(self.describe(value))
        return members

    def _describe(self, literal: LiteralNode) -> Site:
        outer: cst.BaseExpression = literal
        while isinstance(self.parents.get(outer), cst.ConcatenatedString):
            outer = self.parents[outer]
        code_range = self.positions[literal]
        base = {
            "literal": literal,
            "replaced": literal,
            "value": literal.evaluated_value if isinstance(literal, cst.SimpleString) else None,
            "start": (code_range.start.line, code_range.start.column),
            "end": (code_range.end.line, code_range.end.column),
        }

        special = self.special_context(literal, outer)
        if special is not None:
            kind, reason, label = special
            if label:
                anchor = self.scope(outer) + (label,)
            elif literal is outer and isinstance(literal, cst.FormattedString):
                anchor = self.context_of(outer).anchor
            else:
                anchor = self.scope(outer) + (kind,)
            return Site(kind=kind, anchor=anchor, reason=reason, **base)

        context = self.context_of(outer)
        kind = context.kind
        replaced: cst.BaseExpression = literal
        if kind == "environ-default":
            replaced = context.replaced or literal
        elif kind == "expression":
            context = Context("expression", context.anchor, reason="the literal is not a constant, attribute, "
                              "dict value or call argument, so its replacement needs a review")
        elif outer is not literal:
            kind, replaced = "concatenation", outer
        elif isinstance(base["value"], bytes):
            kind = "bytes"
        base["replaced"] = replaced
        return Site(kind=kind, anchor=context.anchor, group=context.group, callee=context.callee,
                    keyword=context.keyword, reason=context.reason,
                    needs_parentheses=not isinstance(self.parents.get(replaced), LOOSE_PARENTS) and not replaced.lpar,
                    **base)

    def special_context(self, literal: LiteralNode, outer: cst.BaseExpression) -> tuple[str, str, str] | None:
        """Return the review or report kind, the reason and a naming label of a literal whose
        context forbids a plain rewrite, or None."""
        if isinstance(literal, cst.FormattedString):
            return "f-string", "the secret is part of an f-string", ""
        child: cst.CSTNode = outer
        parent = self.parents.get(child)
        while parent is not None:
            if isinstance(parent, cst.FormattedStringExpression):
                return "f-string", "the secret is part of an f-string", ""
            if isinstance(parent, cst.Annotation):
                return "annotation", "an annotation is a type, not a value the program reads", ""
            if isinstance(parent, cst.MatchCase) and child is parent.pattern:
                return "match-pattern", "a match pattern compares against the value, so it cannot be looked up", ""
            if isinstance(parent, cst.Param) and child is parent.default:
                return ("default-argument", "a default argument is evaluated once, when the function is defined",
                        parent.name.value)
            if isinstance(parent, cst.Expr) and child is outer:
                return "docstring", "a docstring or bare string is documentation, not a value the program reads", ""
            if isinstance(parent, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                break
            child, parent = parent, self.parents.get(parent)
        return None

    def context_of(self, expression: cst.BaseExpression) -> Context:
        parent = self.parents.get(expression)
        if isinstance(parent, cst.Arg) and expression is parent.value:
            return self.argument_context(parent)
        if isinstance(parent, cst.DictElement) and expression is parent.value:
            container = self.parents[parent]
            key = key_text(parent.key)
            anchor = self.container_anchor(container) + (key,)
            return Context("dict-value", anchor, group=self.connection_group(container, key))
        if isinstance(parent, (cst.Assign, cst.AnnAssign)) and expression is parent.value:
            target = assignment_target(parent)
            if target is not None:
                return Context(self.assignment_kind(parent), self.scope(parent) + (target,))
        return Context("expression", self.scope(expression) + ("value",))

    def argument_context(self, argument: cst.Arg) -> Context:
        call = self.parents[argument]
        assert isinstance(call, cst.Call)
        callee = dotted_name(call.func)
        index = call.args.index(argument)
        keyword = argument.keyword.value if argument.keyword else ""
        if callee in ENVIRON_GETTERS and (keyword == "default" or (not keyword and index == 1)):
            variable = call.args[0].value if call.args else None
            name = variable.evaluated_value if isinstance(variable, cst.SimpleString) else None
            return Context("environ-default", self.scope(call) + (str(name or "environ"),), replaced=call,
                           callee=callee, keyword=keyword)
        label = keyword or f"arg{index}"
        anchor = self.call_anchor(call)
        return Context("call-argument", anchor + (label,), group=self.connection_group(call, label),
                       callee=callee, keyword=keyword)

    def connection_group(self, container: cst.CSTNode, key: str) -> Group | None:
        if not isinstance(container, (cst.Dict, cst.Call)) or key.lower() not in CONNECTION_KEYS:
            return None
        keys = {entry_key.lower() for entry_key, _ in connection_entries(container)}
        if not (keys & PASSWORD_KEYS and keys & IDENTITY_KEYS):
            return None
        anchor = self.container_anchor(container) if isinstance(container, cst.Dict) else self.call_anchor(container)
        return Group(anchor, key, container)

    def container_anchor(self, container: cst.CSTNode) -> tuple[str, ...]:
        """Name a dict by where it sits: the variable, dict key or argument whose value it is."""
        parent = self.parents.get(container)
        if isinstance(parent, cst.DictElement) and container is parent.value:
            return self.container_anchor(self.parents[parent]) + (key_text(parent.key),)
        if isinstance(parent, (cst.Assign, cst.AnnAssign)) and container is parent.value:
            target = assignment_target(parent)
            if target is not None:
                return self.scope(parent) + (target,)
        if isinstance(parent, cst.Arg) and container is parent.value:
            call = self.parents[parent]
            assert isinstance(call, cst.Call)
            label = parent.keyword.value if parent.keyword else f"arg{call.args.index(parent)}"
            return self.call_anchor(call) + (label,)
        return self.scope(container) + ("dict",)

    def call_anchor(self, call: cst.Call) -> tuple[str, ...]:
        callee = dotted_name(call.func).rsplit(".", 1)[-1] or "call"
        scope = self.scope(call)
        # `def connect(): return psycopg2.connect(...)` gives `connect`, not `connect/connect`.
        return scope if scope and scope[-1] == callee else scope + (callee,)

    def assignment_kind(self, statement: cst.CSTNode) -> str:
        scope = self.enclosing_scope(statement)
        if scope is None:
            return "module-constant"
        return "class-attribute" if isinstance(scope, cst.ClassDef) else "local-variable"

    def enclosing_scope(self, node: cst.CSTNode) -> cst.ClassDef | cst.FunctionDef | None:
        parent = self.parents.get(node)
        while parent is not None and not isinstance(parent, (cst.ClassDef, cst.FunctionDef)):
            parent = self.parents.get(parent)
        return parent

    def scope(self, node: cst.CSTNode) -> tuple[str, ...]:
        """Return the names of the classes and functions around a node, outermost first."""
        names: list[str] = []
        scope = self.enclosing_scope(node)
        while scope is not None:
            names.append(scope.name.value)
            scope = self.enclosing_scope(scope)
        return tuple(reversed(names))


@dataclass(frozen=True)
class Context:
    kind: str
    anchor: tuple[str, ...]
    group: Group | None = None
    replaced: cst.BaseExpression | None = None
    callee: str = ""
    keyword: str = ""
    reason: str = ""


def connection_entries(container: cst.Dict | cst.Call) -> list[tuple[str, cst.BaseExpression]]:
    """Return (key, value) pairs of a dict literal's string keys or a call's keyword arguments."""
    if isinstance(container, cst.Dict):
        return [(key_text(element.key), element.value) for element in container.elements
                if isinstance(element, cst.DictElement)]
    return [(argument.keyword.value, argument.value) for argument in container.args if argument.keyword]


def key_text(key: cst.BaseExpression) -> str:
    if isinstance(key, cst.SimpleString) and isinstance(key.evaluated_value, str):
        return key.evaluated_value
    if isinstance(key, (cst.Name, cst.Attribute)):
        return dotted_name(key)
    return "key"


def assignment_target(statement: cst.Assign | cst.AnnAssign) -> str | None:
    target = statement.targets[0].target if isinstance(statement, cst.Assign) else statement.target
    if isinstance(target, cst.Name):
        return target.value
    if isinstance(target, cst.Attribute):
        return target.attr.value
    return None


def dotted_name(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        prefix = dotted_name(node.value)
        return f"{prefix}.{node.attr.value}" if prefix else node.attr.value
    return ""
