"""Prove each rule against its own examples in both engines, Hyperscan and Python `re`.

A rule whose `re` step may take more than linear time on a long line is a problem too.
"""

from __future__ import annotations

from dataclasses import dataclass

from leakhunt.filters import SecretFilter
from leakhunt.matcher import Matcher
from leakhunt.regex_cost import quadratic_risks
from leakhunt.rules import Rule, Ruleset


@dataclass(frozen=True)
class RuleProblem:
    """One way a rule fails its own examples."""

    rule: Rule
    message: str

    def __str__(self) -> str:
        return f"{self.rule.origin}: rule {self.rule.id}: {self.message}"


def check_ruleset(ruleset: Ruleset) -> list[RuleProblem]:
    """Compile every rule in one database and run each example and negative example through it."""
    matcher = Matcher(ruleset, SecretFilter(), cache_dir=None)
    problems: list[RuleProblem] = []
    for rule in ruleset.rules:
        problems.extend(check_rule(matcher, rule))
    return problems


def check_rule(matcher: Matcher, rule: Rule) -> list[RuleProblem]:
    problems = []
    if not rule.examples:
        problems.append(RuleProblem(rule, "has no examples"))
    if not rule.negative_examples:
        problems.append(RuleProblem(rule, "has no negative examples"))
    for example in rule.examples:
        data = example.encode("utf-8")
        if rule not in matcher.fired_rules(data):
            engines = "Hyperscan and re do" if rule.regex.search(data) is None else "Hyperscan does"
            problems.append(RuleProblem(rule, f"{engines} not match example {shorten(example)!r}"))
        elif not matcher.confirm(rule, data):
            problems.append(RuleProblem(rule, f"re or the filters reject example {shorten(example)!r}"))
    for negative in rule.negative_examples:
        if matcher.confirm(rule, negative.encode("utf-8")):
            problems.append(RuleProblem(rule, f"matches negative example {shorten(negative)!r}"))
    for risk in quadratic_risks(rule.pattern):
        problems.append(RuleProblem(rule, f"pattern may take quadratic time on a long line: {risk}"))
    return problems


def shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
