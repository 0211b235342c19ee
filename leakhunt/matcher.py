"""The two-step matcher: Hyperscan says which rules can fire in a buffer, `re` confirms them.

Every rule is compiled into one Hyperscan database in prefilter mode with HS_FLAG_SINGLEMATCH,
so one pass over a buffer costs one callback per rule that fires, not one per match. Only the
rules that fired run their Python pattern over that buffer. No Python code runs per byte or
per line: line numbers are counted by `bytes.count` for each confirmed match only.
"""

from __future__ import annotations

import bisect
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import hyperscan

from leakhunt.errors import RuleError
from leakhunt.filters import SecretFilter
from leakhunt.rules import CONFIDENCES, Rule, Ruleset
from leakhunt.validators import VALIDATORS, Verdict

log = logging.getLogger(__name__)

ALLOW_MARKER = b"leakhunt:allow"
# Bumped when the way expressions are compiled changes, so old cached databases are not loaded.
ENGINE_VERSION = "1"
HYPERSCAN_FLAGS = hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_PREFILTER


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


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "leakhunt"


def compile_database(rules: Sequence[Rule]) -> hyperscan.Database:
    """Compile all rules into one block-mode database, naming the rule that fails to compile."""
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        database.compile(
            expressions=[rule.hyperscan_expression for rule in rules],
            ids=list(range(len(rules))),
            flags=[HYPERSCAN_FLAGS] * len(rules),
        )
    except hyperscan.error as error:
        for rule in rules:
            check_hyperscan_expression(rule)
        raise RuleError(f"Hyperscan could not compile the rule set: {error}") from error
    return database


def check_hyperscan_expression(rule: Rule) -> None:
    """Raise `RuleError` naming the rule when Hyperscan rejects its expression."""
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        database.compile(expressions=[rule.hyperscan_expression], ids=[0], flags=[HYPERSCAN_FLAGS])
    except hyperscan.error as error:
        raise RuleError(f"{rule.origin}: rule {rule.id}: Hyperscan rejects the pattern: {error}") from error


def load_database(ruleset: Ruleset, cache_dir: Path | None) -> hyperscan.Database:
    """Load the compiled database from the cache, compiling and storing it on a miss."""
    if cache_dir is None:
        return compile_database(ruleset.rules)

    key = f"{hyperscan.__version__}-{ENGINE_VERSION}-{ruleset.digest[:32]}"
    cached = cache_dir / f"rules-{key}.hsdb"
    try:
        database = hyperscan.loadb(cached.read_bytes(), hyperscan.HS_MODE_BLOCK)
        database.scratch = hyperscan.Scratch(database)
        return database
    except FileNotFoundError:
        pass
    except (OSError, hyperscan.error) as error:
        log.warning("ignoring unreadable rule cache %s: %s", cached, error)

    database = compile_database(ruleset.rules)
    store_database(database, cached)
    return database


def store_database(database: hyperscan.Database, cached: Path) -> None:
    """Write the serialized database atomically; a cache that cannot be written is skipped."""
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cached.parent, prefix=".tmp-", delete=False) as handle:
            handle.write(hyperscan.dumpb(database))
        os.replace(handle.name, cached)
    except OSError as error:
        log.info("cannot write rule cache %s: %s", cached, error)


class Matcher:
    """Finds confirmed secrets in byte buffers with one ruleset."""

    def __init__(self, ruleset: Ruleset, secret_filter: SecretFilter, cache_dir: Path | None = None) -> None:
        self.ruleset = ruleset
        self.secret_filter = secret_filter
        self.database = load_database(ruleset, cache_dir)
        self.known_ids = frozenset(rule.id.encode("ascii") for rule in ruleset.rules)

    def fired_rules(self, data: bytes) -> list[Rule]:
        """Return the rules whose Hyperscan expression matches somewhere in `data`, in ruleset order.

        Ruleset order breaks ties in `drop_overlaps`, so the same rule wins on every input.
        """
        fired: list[int] = []
        self.database.scan(data, match_event_handler=lambda rule_index, *_: fired.append(rule_index))
        rules = self.ruleset.rules
        return [rules[index] for index in sorted(fired)]

    def scan(self, data: bytes) -> list[Match]:
        if not data:
            return []
        candidates = []
        for rule in self.fired_rules(data):
            candidates.extend(self.confirm(rule, data))
        if not candidates:
            return []
        return locate(drop_overlaps(candidates), data, self.known_ids)

    def confirm(self, rule: Rule, data: bytes) -> list[Candidate]:
        """Run the rule's Python pattern over `data` and keep the secrets the filters accept."""
        confirmed = []
        validator = VALIDATORS[rule.validator] if rule.validator else None
        for found in rule.regex.finditer(data):
            start, end = found.span(rule.secret_group)
            if start >= end:
                continue
            secret = data[start:end].decode("utf-8", "replace")
            reason = self.secret_filter.rejection(rule, secret, data, found)
            if reason is not None:
                log.debug("rule %s: candidate dropped (%s)", rule.id, reason)
                continue
            verdict = validator(secret) if validator else Verdict.UNKNOWN
            if verdict is Verdict.REJECTED:
                log.debug("rule %s: candidate dropped (fails %s check)", rule.id, rule.validator)
                continue
            confidence = "high" if verdict is Verdict.CONFIRMED else rule.confidence
            confirmed.append(Candidate(rule, start, end, secret, confidence))
        return confirmed


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


def is_allowed(line_text: bytes, rule_id: str, known_ids: frozenset[bytes]) -> bool:
    """Return True when the line carries `leakhunt:allow` for this rule.

    `leakhunt:allow` suppresses every rule on the line. When the word after the marker is a
    rule id, or a comma-separated list of them, only those rules are suppressed. Any other
    word after the marker reads as a reason and suppresses every rule.
    """
    position = line_text.find(ALLOW_MARKER)
    while position >= 0:
        rest = line_text[position + len(ALLOW_MARKER) :]
        words = rest.split(None, 1) if rest[:1] in (b" ", b"\t") else []
        named = [word for word in words[0].split(b",") if word in known_ids] if words else []
        if not named or rule_id.encode("ascii") in named:
            return True
        position = line_text.find(ALLOW_MARKER, position + 1)
    return False
