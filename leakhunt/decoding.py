"""Find secrets in base64 and percent-encoded text, and report them where the encoded text is.

Decoding stays off the hot path. One Hyperscan pass over the buffer looks for literals, the
base64 forms of every rule keyword and the marker of a Kubernetes Secret, and one `re` search
looks for two percent escapes close together. Only what they find is decoded. A keyword's
base64 form is widened to the base64 run around it, and a pair of escapes to the URL around
it. In a Kubernetes Secret, whose values may be bare passwords under a key name, every base64
run that the compiled `BASE64_SEGMENT` regex finds is decoded. Each segment is decoded within
fixed limits, and decoded bytes that are not mostly printable text are dropped, so a random
base64 blob yields nothing. The matcher then scans all decoded texts of the buffer as one
buffer. A finding keeps its rule id and the decoded secret, takes the line and column where
its outermost encoded segment starts, and names the encodings in `Provenance.decoded`.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import dataclasses
import hashlib
import logging
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes

import hyperscan

from leakhunt.encoded_spans import (
    BASE64_SEGMENT,
    MAX_PERCENT_PAIR_CHARS,
    MAX_SEGMENT_CHARS,
    PERCENT_PAIR,
    base64_blocks,
    base64_runs_around,
    percent_encoded_offset,
    percent_runs,
)
from leakhunt.findings import Provenance
from leakhunt.cache import default_cache_dir, read_entry, write_entry
from leakhunt.matcher import Match, Matcher, is_allowed
from leakhunt.rules import CONFIDENCES, Rule, Ruleset

log = logging.getLogger(__name__)

MatchGroup = tuple[Provenance, list[Match]]

BASE64 = "base64"
PERCENT = "percent"

MAX_DECODED_BYTES = 4 * 1024 * 1024
# Encoded text inside decoded text is decoded once more, no deeper.
MAX_DEPTH = 2
# The first 48 characters (36 bytes) are decoded first, so a long binary blob costs little.
PROBE_CHARS = 48
# Decoded text keeps up to this much of the line before its encoded segment, so rules that
# need a name before the value (`password: <base64>`) can match.
CONTEXT_BYTES = 120
MAX_CONTROL_RATIO = 0.05
MIN_FRAGMENT_CHARS = 4
MIN_KEYWORD_CHARS = 3
MAX_KEYWORD_PREFIX_CHARS = 8
# Past this many keyword fragments in one buffer, every base64 run of it is decoded instead.
MAX_FRAGMENT_HITS = 4096

SECRET_MARKERS = (b"kind: Secret", b'"kind": "Secret"', b'"kind":"Secret"')
MARKER_ID, FRAGMENT_ID, PERCENT_ID = 0, 1, 2

TEXT_BYTES = bytes(range(0x20, 0x7F)) + b"\t\n\r"
HIGH_BYTES = bytes(range(0x80, 0x100))
URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
STANDARD_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


@dataclass
class DecodeBudget:
    """Decoded bytes left for one file; every decode, printable or not, spends from it."""

    remaining: int = MAX_DECODED_BYTES

    def spend(self, size: int) -> bool:
        """Take `size` bytes from the budget, returning False when too few are left."""
        if size > self.remaining:
            self.remaining = 0
            return False
        self.remaining -= size
        return True


@dataclass(frozen=True)
class Segment:
    """Decoded text, with the span of the outermost encoded text it came from."""

    start: int
    end: int
    encodings: tuple[str, ...]
    context: bytes
    text: bytes


@dataclass
class GateHits:
    """The gate's findings in one buffer."""

    every_base64_run: bool = False
    fragment_ends: list[int] = field(default_factory=list)
    percent_pair_end: int | None = None

    def __bool__(self) -> bool:
        return self.every_base64_run or bool(self.fragment_ends) or self.percent_pair_end is not None


class Gate:
    """Says where a buffer may hold encoded secrets.

    One Hyperscan database finds Secret markers, keyword fragments and the first pair of
    percent escapes close together.
    """

    def __init__(self, ruleset: Ruleset, cache_dir: Path | None) -> None:
        fragments = sorted(keyword_fragments(ruleset))
        expressions = [re.escape(literal) for literal in (*SECRET_MARKERS, *fragments)] + [PERCENT_PAIR.pattern]
        ids = [MARKER_ID] * len(SECRET_MARKERS) + [FRAGMENT_ID] * len(fragments) + [PERCENT_ID]
        single = hyperscan.HS_FLAG_SINGLEMATCH
        flags = [single | hyperscan.HS_FLAG_CASELESS] * len(SECRET_MARKERS) + [0] * len(fragments) + [single]
        self.database = load_gate_database(expressions, ids, flags, cache_dir)

    def inspect(self, data: bytes) -> GateHits:
        # NOTE: this is a second Hyperscan pass over every file; folding the gate's expressions
        # into the matcher's database would save most of its cost.
        hits = GateHits()

        def on_match(gate_id: int, start: int, end: int, *_: object) -> bool:
            if gate_id == PERCENT_ID:
                hits.percent_pair_end = end
            elif gate_id == MARKER_ID or len(hits.fragment_ends) >= MAX_FRAGMENT_HITS:
                hits.every_base64_run = True
            else:
                hits.fragment_ends.append(end)
            return hits.every_base64_run and hits.percent_pair_end is not None

        try:
            self.database.scan(data, match_event_handler=on_match)
        except hyperscan.ScanTerminated:
            pass  # on_match stopped the scan because nothing more can change the outcome
        return hits


# Gates by ruleset. Each entry keeps its ruleset alive, so the id of a cached ruleset is never reused.
_gates: dict[int, tuple[Ruleset, Gate]] = {}


def gate_for(ruleset: Ruleset) -> Gate:
    cached = _gates.get(id(ruleset))
    if cached is None or cached[0] is not ruleset:
        cached = (ruleset, Gate(ruleset, default_cache_dir()))
        _gates[id(ruleset)] = cached
    return cached[1]


def load_gate_database(expressions: Sequence[bytes], ids: Sequence[int], flags: Sequence[int],
                       cache_dir: Path | None) -> hyperscan.Database:
    """Load the gate database from the rule cache, compiling and storing it on a miss.

    The 2,039 keyword fragments of 410 rules took about 0.9 s to compile on a busy 2-core
    machine, too long to pay on every run.
    """
    hasher = hashlib.sha256(hyperscan.__version__.encode("ascii"))
    for expression, gate_id, flag in zip(expressions, ids, flags):
        hasher.update(b"%d %d %s\x00" % (gate_id, flag, expression))
    cached = cache_dir / f"gate-{hasher.hexdigest()[:32]}.hsdb" if cache_dir is not None else None
    content = read_entry(cached) if cached is not None else None
    if content is not None:
        try:
            database = hyperscan.loadb(content, hyperscan.HS_MODE_BLOCK)
            database.scratch = hyperscan.Scratch(database)
            return database
        except hyperscan.error as error:
            log.warning("ignoring unreadable gate cache %s: %s", cached, error)

    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(expressions=list(expressions), ids=list(ids), flags=list(flags))
    if cached is not None:
        write_entry(cached, hyperscan.dumpb(database))
    return database


def keyword_fragments(ruleset: Ruleset) -> set[bytes]:
    """Return the base64 text that every rule keyword encodes to, in either alphabet."""
    fragments: set[bytes] = set()
    for rule in ruleset.rules:
        for variant in keyword_variants(rule):
            for fragment in base64_fragments(variant.encode("utf-8")):
                fragments.add(fragment)
                fragments.add(fragment.translate(STANDARD_TO_URLSAFE))
    return fragments


def keyword_variants(rule: Rule) -> set[str]:
    """Return the spellings of a rule's keywords that its secrets are likely to contain.

    Keywords are lowercase and match in any case, but base64 differs per case. A keyword
    counts as written, as its rule's examples write it, and for a generic rule also in upper
    case and capitalized. Only its first MAX_KEYWORD_PREFIX_CHARS characters are kept, since
    those are distinctive, and every fragment more makes the gate slower to compile.
    """
    variants: set[str] = set()
    for keyword in rule.keywords:
        if len(keyword) < MIN_KEYWORD_CHARS:
            continue
        variants.add(keyword)
        if rule.generic:
            variants.update((keyword.upper(), keyword.capitalize()))
        spelling = re.compile(re.escape(keyword), re.IGNORECASE)
        for example in rule.examples:
            variants.update(found.group() for found in spelling.finditer(example))
    return {variant[:MAX_KEYWORD_PREFIX_CHARS] for variant in variants}


def base64_fragments(word: bytes) -> list[bytes]:
    """Return the base64 characters that encode `word` at each of the three byte alignments.

    A base64 character carries 6 bits, so only the characters whose bits all come from `word`
    are the same whatever bytes surround it. Fragments shorter than 4 characters are dropped,
    because they occur by chance too often to be worth a decode.
    """
    fragments = []
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + word)
        first = -(-offset * 8 // 6)
        last = (offset + len(word)) * 8 // 6
        if last - first >= MIN_FRAGMENT_CHARS:
            fragments.append(encoded[first:last])
    return fragments


def scan_text(matcher: Matcher, data: bytes, provenance: Provenance, budget: DecodeBudget | None = None) -> list[MatchGroup]:
    """Scan a text blob as it is and then its encoded segments, returning matches by provenance.

    A generic rule's match on encoded text is dropped when a format rule found a secret in the
    decoded text, because that secret is the more exact finding for the same bytes. A generic
    rule's match in decoded text is dropped when a rule already reported the encoded text.
    """
    plain = matcher.scan(data)
    decoded = scan_encoded(matcher, data, provenance, plain, budget)
    plain = drop_superseded(plain, decoded, matcher)
    decoded = drop_repeated(decoded, plain, matcher)
    groups: list[MatchGroup] = [(provenance, plain)] if plain else []
    return groups + decoded


def drop_repeated(decoded: list[MatchGroup], plain: Sequence[Match], matcher: Matcher) -> list[MatchGroup]:
    """Return `decoded` without the generic matches on encoded text that a plain match of at
    least the same confidence covers."""
    if not plain:
        return decoded
    by_id = matcher.ruleset.by_id

    def covered(match: Match) -> bool:
        rank = CONFIDENCES.index(match.confidence)
        return any(other.start <= match.start and match.end <= other.end and CONFIDENCES.index(other.confidence) >= rank
                   for other in plain)

    remaining_groups = []
    for provenance, matches in decoded:
        remaining = [match for match in matches if not (by_id[match.rule_id].generic and covered(match))]
        if remaining:
            remaining_groups.append((provenance, remaining))
    return remaining_groups


def drop_superseded(plain: list[Match], decoded: Sequence[MatchGroup], matcher: Matcher) -> list[Match]:
    """Return `plain` without the generic matches that lie inside a segment where a format rule matched."""
    by_id = matcher.ruleset.by_id
    segments = [(match.start, match.end) for _, matches in decoded for match in matches if not by_id[match.rule_id].generic]
    if not segments:
        return plain
    return [
        match for match in plain
        if not (by_id[match.rule_id].generic and any(start <= match.start and match.end <= end for start, end in segments))
    ]


def scan_encoded(matcher: Matcher, data: bytes, provenance: Provenance, plain: Sequence[Match] = (),
                 budget: DecodeBudget | None = None) -> list[MatchGroup]:
    """Find secrets in the encoded segments of `data` that `plain`, the matches in `data` itself, lack.

    Each match is located at the start of its outermost encoded segment in `data`, with the
    segment's byte span as `start` and `end`. A `leakhunt:allow` marker on that line applies.
    """
    if not data:
        return []
    gate = gate_for(matcher.ruleset)
    hits = gate.inspect(data)
    if not hits:
        return []

    budget = budget if budget is not None else DecodeBudget()
    segments = collect_segments(data, hits, gate, budget)
    if not segments:
        return []

    found = match_segments(matcher, segments)
    new = drop_known(found, plain)
    return group_by_encoding(locate_segments(new, data, matcher.known_ids), provenance)


def collect_segments(data: bytes, hits: GateHits, gate: Gate, budget: DecodeBudget) -> list[Segment]:
    """Decode the segments of `data`, and the segments inside those, down to MAX_DEPTH."""
    level = find_segments(data, hits, budget)
    segments = list(level)
    for _ in range(MAX_DEPTH - 1):
        level = [child for parent in level for child in nested_segments(parent, gate, budget)]
        segments.extend(level)
    return segments


def find_segments(data: bytes, hits: GateHits, budget: DecodeBudget) -> list[Segment]:
    segments = []
    for name, start, end in candidate_spans(data, hits):
        if budget.remaining == 0:
            log.debug("decoding stopped: the decoded-size budget of the file is spent")
            break
        if name == BASE64:
            text = decode_base64(data[start:end].translate(None, b" \t\r\n"), budget)
        else:
            text = decode_percent(data[start:end], budget)
        if text is not None:
            segments.append(Segment(start, end, (name,), line_context(data, start), text))
    return segments


def candidate_spans(data: bytes, hits: GateHits) -> Iterator[tuple[str, int, int]]:
    """Yield the encoding and span of each segment worth decoding, as the gate hits direct."""
    # NOTE: a keyword whose base64 form a line break splits leaves no fragment hit, so a wrapped
    # block is decoded only when another keyword in it, or a Secret marker, is found.
    runs: Iterable[tuple[int, int]] = ()
    if hits.every_base64_run:
        runs = (found.span() for found in BASE64_SEGMENT.finditer(data))
    elif hits.fragment_ends:
        runs = base64_runs_around(data, sorted(hits.fragment_ends))
    for start, end in base64_blocks(data, runs):
        yield BASE64, start, end
    if hits.percent_pair_end is not None:
        for start, end in percent_runs(data, max(0, hits.percent_pair_end - MAX_PERCENT_PAIR_CHARS)):
            yield PERCENT, start, end


def nested_segments(parent: Segment, gate: Gate, budget: DecodeBudget) -> list[Segment]:
    """Return the segments encoded inside `parent`'s text, located at `parent`'s span."""
    hits = gate.inspect(parent.text)
    if not hits:
        return []
    return [
        Segment(parent.start, parent.end, parent.encodings + child.encodings, child.context, child.text)
        for child in find_segments(parent.text, hits, budget)
    ]


def line_context(data: bytes, start: int) -> bytes:
    window_start = max(0, start - CONTEXT_BYTES)
    newline = data.rfind(b"\n", window_start, start)
    return data[newline + 1 if newline >= 0 else window_start : start]


def decode_base64(segment: bytes, budget: DecodeBudget) -> bytes | None:
    """Decode standard or URL-safe base64, padded or not, returning None unless it is text."""
    if len(segment) > MAX_SEGMENT_CHARS:
        return None
    body = segment.rstrip(b"=")
    if b"-" in body or b"_" in body:
        if b"+" in body or b"/" in body:
            return None
        body = body.translate(URLSAFE_TO_STANDARD)
    if len(body) % 4 == 1:
        body = body[:-1]

    if len(body) > PROBE_CHARS:
        probe = binascii.a2b_base64(body[:PROBE_CHARS])
        if not budget.spend(len(probe)) or not is_mostly_text(probe):
            return None
    decoded = binascii.a2b_base64(body + b"=" * (-len(body) % 4))
    if not budget.spend(len(decoded)) or not is_mostly_text(decoded):
        return None
    return decoded


def decode_percent(segment: bytes, budget: DecodeBudget) -> bytes | None:
    """Decode %XX escapes, keeping `+` as it is, returning None unless the result is text."""
    if len(segment) > MAX_SEGMENT_CHARS:
        return None
    decoded = unquote_to_bytes(segment)
    if not budget.spend(len(decoded)) or not is_mostly_text(decoded):
        return None
    return decoded


def is_mostly_text(decoded: bytes) -> bool:
    """Return True for UTF-8 text in which at most 5 % of the bytes are control characters.

    A UTF-8 sequence cut at the end is accepted, because a probe can end inside one.
    """
    if not decoded:
        return False
    other = decoded.translate(None, TEXT_BYTES)
    if not other:
        return True
    controls = other.translate(None, HIGH_BYTES)
    if len(controls) > len(decoded) * MAX_CONTROL_RATIO:
        return False
    if len(controls) == len(other):
        return True
    try:
        codecs.utf_8_decode(decoded, "strict", False)
    except UnicodeDecodeError:
        return False
    return True


def match_segments(matcher: Matcher, segments: Sequence[Segment]) -> list[tuple[Segment, Match]]:
    """Scan every segment's context and text in one buffer and keep matches inside a text.

    Each match's `start` and `end` are returned as offsets in its segment's decoded text.
    """
    parts: list[bytes] = []
    text_starts: list[int] = []
    text_ends: list[int] = []
    offset = 0
    for segment in segments:
        offset += len(segment.context)
        text_starts.append(offset)
        offset += len(segment.text) + 1
        text_ends.append(offset - 1)
        parts.extend((segment.context, segment.text, b"\n"))

    found = []
    for match in matcher.scan(b"".join(parts)):
        index = bisect_right(text_starts, match.start) - 1
        if index >= 0 and match.end <= text_ends[index]:
            offset = text_starts[index]
            found.append((segments[index], dataclasses.replace(match, start=match.start - offset, end=match.end - offset)))
    return found


def drop_known(found: Iterable[tuple[Segment, Match]], plain: Sequence[Match]) -> list[tuple[Segment, Match]]:
    """Drop a secret that the plain scan found inside the segment, or that a segment with fewer
    encodings over the same bytes already yielded."""
    known: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for match in plain:
        known.setdefault((match.rule_id, match.secret), []).append((match.start, match.end))
        if "%" in match.secret:
            # A rule that matched the percent-encoded text already reports this secret there.
            known.setdefault((match.rule_id, unquote(match.secret)), []).append((match.start, match.end))

    new = []
    for segment, match in sorted(found, key=lambda pair: (len(pair[0].encodings), pair[0].start)):
        spans = known.setdefault((match.rule_id, match.secret), [])
        if any(start < segment.end and segment.start < end for start, end in spans):
            continue
        spans.append((segment.start, segment.end))
        new.append((segment, match))
    return new


def locate_segments(found: Iterable[tuple[Segment, Match]], data: bytes,
                    known_ids: frozenset[bytes]) -> list[tuple[Segment, Match]]:
    """Move each match to its line and character column in `data`.

    That is where the percent-encoded form of the secret starts in a percent-encoded segment,
    and where the segment starts otherwise, since a base64 character mixes bits of two bytes.
    """
    spans = [(encoded_span(data, segment, match), segment, match) for segment, match in found]
    located = []
    line = 1
    counted_to = 0
    for (start, end), segment, match in sorted(spans, key=lambda item: item[0]):
        line += data.count(b"\n", counted_to, start)
        counted_to = start
        line_start = data.rfind(b"\n", 0, start) + 1
        line_end = data.find(b"\n", start)
        line_text = data[line_start : len(data) if line_end < 0 else line_end]
        if is_allowed(line_text, match.rule_id, known_ids):
            continue
        column = len(data[line_start:start].decode("utf-8", "replace")) + 1
        moved = dataclasses.replace(match, start=start, end=end, line=line, column=column)
        located.append((segment, moved))
    return located


def encoded_span(data: bytes, segment: Segment, match: Match) -> tuple[int, int]:
    """Return the span in `data` of the encoded text that decodes to `match`, a match in `segment`'s text."""
    if segment.encodings != (PERCENT,):
        return segment.start, segment.end
    encoded = data[segment.start : segment.end]
    return (segment.start + percent_encoded_offset(encoded, match.start),
            segment.start + percent_encoded_offset(encoded, match.end))


def group_by_encoding(located: Iterable[tuple[Segment, Match]], provenance: Provenance) -> list[MatchGroup]:
    groups: dict[str, list[Match]] = {}
    for segment, match in located:
        groups.setdefault("+".join(segment.encodings), []).append(match)
    return [(dataclasses.replace(provenance, decoded=name), matches) for name, matches in groups.items()]
