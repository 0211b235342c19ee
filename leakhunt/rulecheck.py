"""Prove each rule against its own examples in both engines, Hyperscan and Python `re`.

A rule whose `re` step may take more than linear time on a long line is a problem too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from leakhunt.errors import RuleError
from leakhunt.filters import SecretFilter
from leakhunt.matcher import Matcher, check_hyperscan_expression
from leakhunt.regex_cost import quadratic_risks
from leakhunt.rules import Rule, Ruleset, parse_rule, rule_tables


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


def load_for_check(paths: Sequence[Path]) -> tuple[Ruleset, list[str]]:
    """Load each rule of `paths` that parses and compiles, and describe each one that does not.

    Unlike loading for a scan, one broken rule does not stop the others from being checked.
    """
    rules: dict[str, Rule] = {}
    problems: list[str] = []
    for path in paths:
        try:
            tables = rule_tables(path.read_bytes(), path)
        except OSError as error:
            problems.append(f"{path}: cannot read rule file: {error.strerror}")
            continue
        except RuleError as error:
            problems.append(str(error))
            continue
        if not isinstance(tables, list):
            problems.append(f"{path}: 'rules' must be an array of tables")
            continue
        for table in tables:
            try:
                rule = parse_rule(table, str(path))
                check_hyperscan_expression(rule)
            except RuleError as error:
                problems.append(str(error))
                continue
            if rule.id in rules:
                problems.append(f"{path}: rule {rule.id!r} duplicates an id already defined in {rules[rule.id].origin}")
                continue
            rules[rule.id] = rule
    return Ruleset(tuple(rules.values())), problems
