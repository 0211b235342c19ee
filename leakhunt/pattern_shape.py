"""Read the shape of a rule's pattern to learn where its matches can start or end.

The matcher confirms a rule with Python `re` only near the places Hyperscan points at, and
that is exact only for patterns of two shapes:

- anchored: every match starts with one of a few literal strings, so `re.match` at each
  place where Hyperscan finds one of them gives the same matches as `re.finditer` over the
  whole buffer;
- line-bounded: no match can contain a newline or depend on what follows the end of its
  line, so `re.finditer` over the lines where Hyperscan reports a match end gives the same
  matches as over the whole buffer.

The analysis walks the parse tree of CPython's `re` module (`re._parser`, Python 3.11 and
later). Any construct it does not know makes it return "no shape", which keeps the full scan.
"""

from __future__ import annotations

import re
import re._constants as sre
import re._parser as sre_parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

NEWLINE = ord("\n")
# A single byte occurs too often in source text to narrow down where `re` runs. Two bytes
# such as `pw` can, and a buffer where they occur too often falls back to the full scan.
MIN_ANCHOR_BYTES = 2
MAX_ANCHORS = 64
MAX_ANCHOR_BYTES = 64
# Small character classes such as `[_-]` are expanded into this many literals at most.
MAX_CLASS_LITERALS = 4
REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
# Whether each class escape matches a newline, for byte patterns.
CATEGORY_HAS_NEWLINE = {
    sre.CATEGORY_DIGIT: False,
    sre.CATEGORY_NOT_DIGIT: True,
    sre.CATEGORY_SPACE: True,
    sre.CATEGORY_NOT_SPACE: False,
    sre.CATEGORY_WORD: False,
    sre.CATEGORY_NOT_WORD: True,
    sre.CATEGORY_LINEBREAK: True,
    sre.CATEGORY_NOT_LINEBREAK: False,
}
# Zero-width assertions that read the same at the end of a line as at the end of a buffer.
LINE_SAFE_ASSERTIONS = frozenset({sre.AT_BEGINNING, sre.AT_BEGINNING_STRING, sre.AT_BOUNDARY, sre.AT_NON_BOUNDARY})


@dataclass(frozen=True)
class Anchor:
    """A literal that every match of a pattern may start with; `caseless` when it ignores case."""

    literal: bytes
    caseless: bool


class NotAnchored(Exception):
    """Raised inside the walk when a pattern's matches do not all start with literals."""


def parse(pattern: bytes) -> Any:
    return sre_parse.parse(pattern, 0)


def leading_anchors(pattern: bytes) -> tuple[Anchor, ...]:
    """Return literals one of which starts every match of `pattern`, or () when there are none.

    Each literal has at least MIN_ANCHOR_BYTES bytes. A literal is caseless when any of its
    bytes was parsed under IGNORECASE, which can only widen the set of places it is found.
    """
    try:
        tree = parse(pattern)
        prefixes, _ = extend_prefixes([(b"", False)], tree.data, tree.state.flags)
    except (re.error, NotAnchored, RecursionError):
        return ()
    if not prefixes or any(len(literal) < MIN_ANCHOR_BYTES for literal, _ in prefixes):
        return ()
    return tuple(Anchor(literal, caseless) for literal, caseless in sorted(set(prefixes)))


Prefixes = list[tuple[bytes, bool]]


def extend_prefixes(prefixes: Prefixes, items: Sequence[Any], flags: int) -> tuple[Prefixes, bool]:
    """Extend each prefix by the literal start of `items`; the flag is True when all of `items` was literal."""
    for op, argument in items:
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue
        if op is sre.LITERAL:
            prefixes = [(literal + bytes((argument,)), caseless or bool(flags & re.IGNORECASE)) for literal, caseless in prefixes]
        elif op is sre.IN:
            expanded = extend_by_class(prefixes, argument, flags)
            if expanded is None:
                return require_prefixes(prefixes), False
            prefixes = expanded
        elif op is sre.SUBPATTERN:
            _, added, removed, child = argument
            prefixes, complete = extend_prefixes(prefixes, child.data, (flags | added) & ~removed)
            if not complete:
                return prefixes, False
        elif op is sre.ATOMIC_GROUP:
            prefixes, complete = extend_prefixes(prefixes, argument.data, flags)
            if not complete:
                return prefixes, False
        elif op is sre.BRANCH:
            prefixes, complete = extend_by_branch(prefixes, argument[1], flags)
            if not complete:
                return prefixes, False
        elif op in REPEATS:
            low, _, child = argument
            if low == 0:
                return require_prefixes(prefixes), False
            prefixes, _ = extend_prefixes(prefixes, child.data, flags)
            return prefixes, False
        else:
            return require_prefixes(prefixes), False
        if len(prefixes) > MAX_ANCHORS:
            raise NotAnchored
        if any(len(literal) >= MAX_ANCHOR_BYTES for literal, _ in prefixes):
            return prefixes, False
    return prefixes, True


def require_prefixes(prefixes: Prefixes) -> Prefixes:
    """Stop the walk; a pattern whose start is not literal at all has no anchors."""
    if not prefixes or all(not literal for literal, _ in prefixes):
        raise NotAnchored
    return prefixes


def extend_by_class(prefixes: Prefixes, items: Sequence[Any], flags: int) -> Prefixes | None:
    """Expand a small class of plain literals such as `[_-]`; return None for any other class."""
    if len(items) > MAX_CLASS_LITERALS or any(op is not sre.LITERAL for op, _ in items):
        return None
    caseless = bool(flags & re.IGNORECASE)
    return [(literal + bytes((code,)), known or caseless) for literal, known in prefixes for _, code in items]


def extend_by_branch(prefixes: Prefixes, alternatives: Sequence[Any], flags: int) -> tuple[Prefixes, bool]:
    extended: Prefixes = []
    complete = True
    for alternative in alternatives:
        branch_prefixes, branch_complete = extend_prefixes(prefixes, alternative.data, flags)
        extended.extend(branch_prefixes)
        complete = complete and branch_complete
    return extended, complete


def is_line_bounded(pattern: bytes) -> bool:
    """Return True when no match of `pattern` can contain a newline or look past the end of its line."""
    try:
        tree = parse(pattern)
        return not may_cross_line(tree.data, tree.state.flags)
    except (re.error, RecursionError):
        return False


def may_cross_line(items: Sequence[Any], flags: int) -> bool:
    return any(item_may_cross_line(op, argument, flags) for op, argument in items)


def item_may_cross_line(op: Any, argument: Any, flags: int) -> bool:
    if op is sre.LITERAL:
        return argument == NEWLINE
    if op is sre.NOT_LITERAL:
        return argument != NEWLINE
    if op is sre.ANY:
        return bool(flags & re.DOTALL)
    if op is sre.IN:
        return class_has_newline(argument)
    if op is sre.AT:
        return argument not in LINE_SAFE_ASSERTIONS and not (argument is sre.AT_END and flags & re.MULTILINE)
    if op is sre.SUBPATTERN:
        _, added, removed, child = argument
        return may_cross_line(child.data, (flags | added) & ~removed)
    if op is sre.BRANCH:
        return any(may_cross_line(alternative.data, flags) for alternative in argument[1])
    if op in REPEATS:
        return may_cross_line(argument[2].data, flags)
    if op is sre.ATOMIC_GROUP:
        return may_cross_line(argument.data, flags)
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        direction, child = argument
        # A look-behind reads only text before the current position, and `re` reads that text in full.
        return direction > 0 and may_cross_line(child.data, flags)
    if op is sre.GROUPREF:
        return False
    if op is sre.GROUPREF_EXISTS:
        _, present, absent = argument
        return may_cross_line(present.data, flags) or (absent is not None and may_cross_line(absent.data, flags))
    return True


def class_has_newline(items: Sequence[Any]) -> bool:
    negated = False
    found = False
    for op, argument in items:
        if op is sre.NEGATE:
            negated = True
        elif op is sre.LITERAL:
            found = found or argument == NEWLINE
        elif op is sre.RANGE:
            found = found or argument[0] <= NEWLINE <= argument[1]
        elif op is sre.CATEGORY:
            found = found or CATEGORY_HAS_NEWLINE.get(argument, True)
        else:
            return True
    return found != negated
