"""The two-step matcher: Hyperscan finds which rules can fire in a buffer, `re` confirms them.

Every rule is compiled into one Hyperscan database in prefilter mode with HS_FLAG_SINGLEMATCH,
so one pass over a buffer costs one callback per rule that fires, not one per match. Only the
rules that fired run their Python pattern. A rule whose matches all start with a few literals,
or never cross a line, runs `re` only at the places that its position database reports. Any
other rule runs `re` over the whole buffer. No Python code runs per byte or per line: line numbers
are counted by `bytes.count` for each confirmed match only.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import hyperscan

from leakhunt.cache import default_cache_dir
from leakhunt.database import (
    ENGINE_VERSION,
    HYPERSCAN_FLAGS,
    check_hyperscan_expression,
    compile_database,
    load_compiled,
)
from leakhunt.filters import SecretFilter
from leakhunt.rules import CONFIDENCES, Rule, Ruleset
from leakhunt.validators import VALIDATORS, Verdict

__all__ = [
    "ENGINE_VERSION",
    "HYPERSCAN_FLAGS",
    "Candidate",
    "Match",
    "Matcher",
    "check_hyperscan_expression",
    "compile_database",
    "default_cache_dir",
]

log = logging.getLogger(__name__)

ALLOW_MARKER = b"leakhunt:allow"
ALLOW_LIST_SEPARATOR = re.compile(rb"[,\s]+")
RULE_ID_SHAPE = re.compile(rb"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+")
# Above this many position reports per byte, confirming over the whole buffer is cheaper.
REPORTS_PER_BYTE_LIMIT = 1 / 32
MIN_REPORT_LIMIT = 1024


@dataclass(frozen=True)
class Match:
    """A confirmed secret in one buffer: byte offsets of the secret and where it starts."""

    rule_id: str
    start: int
    end: int
    line: int
    column: int
    secret: str
    confidence: str


@dataclass(frozen=True)
class Candidate:
    """A secret that a rule's Python pattern found and the filters kept, not yet located."""

    rule: Rule
    start: int
    end: int
    secret: str
    confidence: str


class Matcher:
    """Finds confirmed secrets in byte buffers with one ruleset."""

    def __init__(self, ruleset: Ruleset, secret_filter: SecretFilter, cache_dir: Path | None = None) -> None:
        self.ruleset = ruleset
        self.secret_filter = secret_filter
        compiled = load_compiled(ruleset, cache_dir)
        self.database = compiled.fired
        self.positions = compiled.positions
        self.compiled = compiled.compiled
        # The position database of each windowed rule, by rule index.
        self.position_database_of = {
            index: number for number, item in enumerate(self.positions) for index in item.rule_of
        }
        self.windowed = frozenset(self.position_database_of)
        self.anchored = frozenset(
            index
            for item in self.positions
            for index, length in zip(item.rule_of, item.anchor_length, strict=True)
            if length
        )
        self.known_ids = frozenset(rule.id.encode("ascii") for rule in ruleset.rules)

    def fired_indexes(self, data: bytes) -> list[int]:
        """Return the indexes of the rules whose Hyperscan expression matches somewhere in `data`, ascending.

        Ruleset order breaks ties in `drop_overlaps`, so the same rule wins on every input.
        """
        fired: list[int] = []
        self.database.scan(data, match_event_handler=lambda rule_index, *_: fired.append(rule_index))
        return sorted(fired)

    def fired_rules(self, data: bytes) -> list[Rule]:
        """Return the rules whose Hyperscan expression matches somewhere in `data`."""
        rules = self.ruleset.rules
        return [rules[index] for index in self.fired_indexes(data)]

    def scan(self, data: bytes) -> list[Match]:
        if not data:
            return []
        fired = self.fired_indexes(data)
        if not fired:
            return []

        rules = self.ruleset.rules
        candidates: list[Candidate] = []
        windowed = [index for index in fired if index in self.windowed]
        positions = self.report_positions(data, windowed) if windowed else {}
        for index in fired:
            rule = rules[index]
            rule_positions = positions.get(index)
            if rule_positions is None:
                candidates.extend(self.confirm(rule, data))
            else:
                candidates.extend(self.confirm_near(rule, data, rule_positions, anchored=index in self.anchored))
        if not candidates:
            return []
        return locate(drop_overlaps(candidates), data, self.known_ids)

    def report_positions(self, data: bytes, windowed: Iterable[int]) -> dict[int, list[int]]:
        """Return, for the `windowed` rules, the positions where `re` must look.

        A position is a match start for an anchored rule and a match end for a line-bounded
        one, in ascending order. A rule is left out when its position database reports more
        often than confirming the whole buffer would cost, so it is confirmed over the whole
        buffer.
        """
        wanted = set(windowed)
        positions: dict[int, list[int]] = {}
        for number in sorted({self.position_database_of[index] for index in wanted}):
            item = self.positions[number]
            reports = position_reports(item.database, data)
            if reports is None:
                continue
            for index in wanted.intersection(item.rule_of):
                positions[index] = []
            rule_of, anchor_length = item.rule_of, item.anchor_length
            for expression, end in reports:
                index = rule_of[expression]
                if index in wanted:
                    positions[index].append(end - anchor_length[expression])
        for found in positions.values():
            found.sort()
        return positions

    def confirm(self, rule: Rule, data: bytes) -> list[Candidate]:
        """Run the rule's Python pattern over `data` and keep the secrets the filters accept."""
        accept = self.acceptor(rule, data)
        confirmed = []
        for found in rule.regex.finditer(data):
            candidate = accept(found)
            if candidate is not None:
                confirmed.append(candidate)
        return confirmed

    def confirm_near(self, rule: Rule, data: bytes, positions: list[int], anchored: bool) -> list[Candidate]:
        """Confirm `rule` only at the reported positions; the result equals that of `confirm`.

        For an anchored rule every match starts at a reported position, so `re.match` at each
        one, skipping those inside the previous match, finds what `finditer` finds. For a
        line-bounded rule every match lies on a line where a match end was reported.
        """
        if not positions:
            return []
        if anchored:
            found = matches_at_starts(rule.regex, data, positions)
        else:
            found = matches_on_lines(rule.regex, data, positions)
        accept = self.acceptor(rule, data)
        confirmed = []
        for match in found:
            candidate = accept(match)
            if candidate is not None:
                confirmed.append(candidate)
        return confirmed

    def acceptor(self, rule: Rule, data: bytes) -> Callable[[re.Match[bytes]], Candidate | None]:
        """Return the function that turns one `re` match of `rule` into a candidate, or None when filtered."""
        validator = VALIDATORS[rule.validator] if rule.validator else None
        secret_filter = self.secret_filter

        def accept(found: re.Match[bytes]) -> Candidate | None:
            start, end = found.span(rule.secret_group)
            if start >= end:
                return None
            secret = data[start:end].decode("utf-8", "replace")
            reason = secret_filter.rejection(rule, secret, data, found)
            if reason is not None:
                log.debug("rule %s: candidate dropped (%s)", rule.id, reason)
                return None
            verdict = validator(secret) if validator else Verdict.UNKNOWN
            if verdict is Verdict.REJECTED:
                log.debug("rule %s: candidate dropped (fails %s check)", rule.id, rule.validator)
                return None
            confidence = "high" if verdict is Verdict.CONFIRMED else rule.confidence
            return Candidate(rule, start, end, secret, confidence)

        return accept


def position_reports(database: hyperscan.Database, data: bytes) -> list[tuple[int, int]] | None:
    """Return (expression, end) of each report of `database` over `data`, or None when there are too many."""
    reports: list[tuple[int, int]] = []
    limit = max(MIN_REPORT_LIMIT, int(len(data) * REPORTS_PER_BYTE_LIMIT))

    def on_report(expression: int, _start: int, end: int, _flags: int, _context: object) -> bool:
        reports.append((expression, end))
        return len(reports) > limit

    try:
        database.scan(data, match_event_handler=on_report)
    except hyperscan.ScanTerminated:
        log.debug("more than %d position reports in a buffer of %d bytes; confirming it whole", limit, len(data))
        return None
    return reports


def matches_at_starts(regex: re.Pattern[bytes], data: bytes, starts: list[int]) -> list[re.Match[bytes]]:
    """Return the non-overlapping matches that begin at one of `starts`, sorted ascending."""
    found = []
    resume = 0
    for start in starts:
        if start < resume:
            continue
        match = regex.match(data, start)
        if match is not None:
            found.append(match)
            resume = max(match.end(), start + 1)
    return found


def matches_on_lines(regex: re.Pattern[bytes], data: bytes, ends: list[int]) -> list[re.Match[bytes]]:
    """Return the matches on the lines that hold one of the match `ends`, sorted ascending."""
    found = []
    line_end = -1
    for end in ends:
        if end - 1 <= line_end:
            continue
        line_start = data.rfind(b"\n", 0, max(end - 1, 0)) + 1
        line_end = data.find(b"\n", end)
        if line_end < 0:
            line_end = len(data)
        found.extend(regex.finditer(data, line_start, line_end))
    return found


def drop_overlaps(candidates: list[Candidate]) -> list[Candidate]:
    """Keep one candidate per secret: a format rule beats a generic one, then higher confidence, then longer.

    The kept candidates never overlap, so sorted by start they are also sorted by end, and only
    the kept candidate that starts last before a new one ends can overlap it. Minified files
    give thousands of candidates on one line, so the check uses bisection instead of a scan.
    """

    def rank(candidate: Candidate) -> tuple[int, int, int]:
        return (int(candidate.rule.generic), -CONFIDENCES.index(candidate.confidence), candidate.start - candidate.end)

    kept: list[Candidate] = []
    kept_starts: list[int] = []
    for candidate in sorted(candidates, key=rank):
        index = bisect.bisect_left(kept_starts, candidate.end)
        if index and kept[index - 1].end > candidate.start:
            continue
        kept.insert(index, candidate)
        kept_starts.insert(index, candidate.start)
    return kept


def locate(candidates: list[Candidate], data: bytes, known_ids: frozenset[bytes]) -> list[Match]:
    """Attach line and character column to candidates sorted by offset, skipping allowed lines.

    Line bounds, the allow-marker search and the column count carry over from one candidate to
    the next on the same line, so a long minified line is read once, not once per candidate.
    NOTE: the column adds up decoded pieces between candidate starts. That equals decoding the
    whole line prefix as long as candidates start at UTF-8 character boundaries, which holds
    for secrets that follow an ASCII delimiter or prefix, but not inside invalid UTF-8.
    """
    matches = []
    line = 1
    counted_to = 0
    line_start = 0
    line_end = -1
    has_marker = False
    column = 1
    column_counted_to = 0
    for candidate in candidates:
        rule, start, end = candidate.rule, candidate.start, candidate.end
        newlines = data.count(b"\n", counted_to, start)
        line += newlines
        if newlines:
            line_start = data.rfind(b"\n", counted_to, start) + 1
            column, column_counted_to = 1, line_start
        counted_to = start
        if newlines or end > line_end:
            line_end = data.find(b"\n", end)
            line_end = len(data) if line_end < 0 else line_end
            has_marker = data.find(ALLOW_MARKER, line_start, line_end) >= 0
        if has_marker and is_allowed(data[line_start:line_end], rule.id, known_ids):
            continue
        column += len(data[column_counted_to:start].decode("utf-8", "replace"))
        column_counted_to = start
        matches.append(Match(rule.id, start, end, line, column, candidate.secret, candidate.confidence))
    return matches


def allowed_rule_ids(text: bytes, known_ids: frozenset[bytes]) -> list[bytes]:
    """Return the rule ids at the start of `text`, up to the first word that is no rule id.

    A word shaped like a rule id (words joined by hyphens) counts as one even when no rule
    has it, so a misspelled id suppresses nothing rather than every rule on the line.
    """
    named = []
    for word in ALLOW_LIST_SEPARATOR.split(text.strip()):
        word = word.rstrip(b":;.")
        if word not in known_ids and not RULE_ID_SHAPE.fullmatch(word):
            break
        named.append(word)
    return named


def is_allowed(line_text: bytes, rule_id: str, known_ids: frozenset[bytes]) -> bool:
    """Return True when the line carries `leakhunt:allow` for this rule.

    `leakhunt:allow` suppresses every rule on the line. When rule ids follow the marker,
    separated by commas or spaces, only those rules are suppressed. The first word that is
    not shaped like a rule id starts a reason; a reason alone suppresses every rule.
    """
    position = line_text.find(ALLOW_MARKER)
    while position >= 0:
        rest = line_text[position + len(ALLOW_MARKER) :]
        if rest[:1].isalnum() or rest[:1] in (b"_", b"-"):
            # A longer word such as `leakhunt:allowed` is not the marker.
            position = line_text.find(ALLOW_MARKER, position + 1)
            continue
        named = allowed_rule_ids(rest, known_ids) if rest[:1] in (b" ", b"\t") else []
        if not named or rule_id.encode("ascii") in named:
            return True
        position = line_text.find(ALLOW_MARKER, position + 1)
    return False
