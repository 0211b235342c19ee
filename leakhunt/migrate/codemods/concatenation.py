"""Codemod for implicit concatenation: the secret part becomes a lookup joined by `+`.

`HEADER = ("token " "ghp_...")` becomes `HEADER = ("token " + get_secret("..."))`. Parts
next to each other that hold no secret stay implicitly concatenated, and the whitespace and
comments between parts stay where they were.
"""

from __future__ import annotations

import itertools

import libcst as cst

from leakhunt.migrate.codemods.base import RewriteTarget, SecretCodemod, keep_parentheses
from leakhunt.migrate.codemods.bytes_literal import encoded
from leakhunt.migrate.sites import Site

Part = cst.SimpleString | cst.FormattedString


class ConcatenationCodemod(SecretCodemod):
    DESCRIPTION = "Replace a secret part of an implicit string concatenation by a Secrets Manager lookup."
    KIND = "concatenation"

    def replace(self, matched: list[tuple[Site, RewriteTarget]], node: cst.BaseExpression) -> cst.BaseExpression:
        assert isinstance(node, cst.ConcatenatedString)
        original = matched[0][0].replaced
        assert isinstance(original, cst.ConcatenatedString)
        original_parts, _ = flatten(original)
        parts, gaps = flatten(node)
        replacements: dict[int, cst.BaseExpression] = {}
        for site, target in matched:
            index = next(i for i, part in enumerate(original_parts) if part is site.literal)
            lookup = self.lookup(target, site)
            replacements[index] = encoded(lookup) if isinstance(site.value, bytes) else lookup

        segments = split_segments(parts, gaps, replacements)
        result = segments[0][1]
        for (previous_last, _), (_, expression) in itertools.pairwise(segments):
            result = joined(result, gaps[previous_last], expression)
        return keep_parentheses(result, node, matched[0][0].needs_parentheses)


def flatten(node: cst.ConcatenatedString) -> tuple[list[Part], list[cst.BaseParenthesizableWhitespace]]:
    """Return the parts of a concatenation and the whitespace between each pair of them."""
    parts: list[Part] = []
    gaps: list[cst.BaseParenthesizableWhitespace] = []
    current: cst.BaseExpression = node
    while isinstance(current, cst.ConcatenatedString):
        assert isinstance(current.left, (cst.SimpleString, cst.FormattedString))
        parts.append(current.left)
        gaps.append(current.whitespace_between)
        current = current.right
    assert isinstance(current, (cst.SimpleString, cst.FormattedString))
    parts.append(current)
    return parts, gaps


def split_segments(parts: list[Part], gaps: list[cst.BaseParenthesizableWhitespace],
                   replacements: dict[int, cst.BaseExpression]) -> list[tuple[int, cst.BaseExpression]]:
    """Return (index of the last part, expression) for each replaced part and each run of
    untouched parts between them."""
    segments: list[tuple[int, cst.BaseExpression]] = []
    run: list[int] = []
    for index in range(len(parts)):
        if index not in replacements:
            run.append(index)
            continue
        if run:
            segments.append((run[-1], implicit(parts, gaps, run)))
            run = []
        segments.append((index, replacements[index]))
    if run:
        segments.append((run[-1], implicit(parts, gaps, run)))
    return segments


def implicit(parts: list[Part], gaps: list[cst.BaseParenthesizableWhitespace], run: list[int]) -> cst.BaseExpression:
    """Rebuild an implicit concatenation of consecutive parts, or return the single part."""
    expression: cst.BaseExpression = parts[run[-1]]
    for index in reversed(run[:-1]):
        expression = cst.ConcatenatedString(left=parts[index], right=expression, whitespace_between=gaps[index])
    return expression


def joined(left: cst.BaseExpression, gap: cst.BaseParenthesizableWhitespace, right: cst.BaseExpression) -> cst.BaseExpression:
    operator = cst.Add(whitespace_before=cst.SimpleWhitespace(" "), whitespace_after=gap_after(gap))
    return cst.BinaryOperation(left=left, operator=operator, right=right)


def gap_after(gap: cst.BaseParenthesizableWhitespace) -> cst.BaseParenthesizableWhitespace:
    if isinstance(gap, cst.SimpleWhitespace) and not gap.value:
        return cst.SimpleWhitespace(" ")
    return gap
