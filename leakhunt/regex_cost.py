r"""Find rule patterns whose Python `re` step can take more than linear time on one long line.

`re` tries a match at every start position and backtracks. Two shapes make that super-linear:

- Many starts, one run. An unbounded repeat such as `\s*` or `[^"]+` consumes a run of the
  characters it accepts, so it costs time in proportion to that run at every start position
  that reaches it. When many start positions inside one long run reach the repeat, as
  `[a-z]+x` does on a line of 100,000 letters, the work grows with the square of the run.
  The check accepts an unbounded repeat over a set S only when the pattern before it requires
  a character outside S, and every unbounded repeat in between consumes no character of S.
  Only start positions just before that character can then reach a given run of S.
- Ambiguous splits. A repeated group whose body can split one input in several ways, as in
  `(a+)+` or `(?:\w{1,30}){1,10}`, backtracks through every split when the rest fails. The
  check walks the body twice in a row, with its variable-width repeats made unbounded, and
  rejects it unless every such repeat is ended by a required character it cannot consume
  before the next repeat that overlaps it begins.

A positive lookahead that checks a bounded form of the items after it, as in
`(?=X{m,N}?Y)X{m,}?Y`, bounds those items, so they are checked in its bounded form.

The check is sufficient, not necessary: it may reject a pattern that `re` runs in linear
time, and it rejects constructs it does not model. It reads the parse tree of CPython's `re`
module (`re._parser`, Python 3.11 and later), which is not a public interface.
"""

from __future__ import annotations

import enum
import re
import re._constants as sre
import re._parser as sre_parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

ALL_BYTES = frozenset(range(256))
DIGITS = frozenset(range(ord("0"), ord("9") + 1))
LETTERS = frozenset(range(ord("a"), ord("z") + 1)) | frozenset(range(ord("A"), ord("Z") + 1))
WORD = DIGITS | LETTERS | {ord("_")}
SPACE = frozenset(b" \t\n\r\f\v")
LINEBREAK = frozenset(b"\n")
CATEGORIES = {
    sre.CATEGORY_DIGIT: DIGITS,
    sre.CATEGORY_NOT_DIGIT: ALL_BYTES - DIGITS,
    sre.CATEGORY_SPACE: SPACE,
    sre.CATEGORY_NOT_SPACE: ALL_BYTES - SPACE,
    sre.CATEGORY_WORD: WORD,
    sre.CATEGORY_NOT_WORD: ALL_BYTES - WORD,
    sre.CATEGORY_LINEBREAK: LINEBREAK,
    sre.CATEGORY_NOT_LINEBREAK: ALL_BYTES - LINEBREAK,
}
SINGLE_CHARACTER_ITEMS = (sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY)
REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
# Alternatives are expanded into separate paths for the split check, up to this many.
MAX_PATHS = 256
LOOKAHEAD = 1


class UnknownConstruct(Exception):
    """Raised for a construct the walk does not model; the pattern is then rejected."""


class Reach(enum.Enum):
    """The first thing a backward look from an unbounded repeat over a set S finds."""

    GUARDED = "a required character outside the set"
    BLOCKED = "an unbounded repeat over some of the same characters comes first"
    OPEN = "nothing before it requires a character outside the set"


@dataclass(frozen=True)
class Required:
    """A place that consumes exactly one character of `characters`."""

    characters: frozenset[int]


@dataclass(frozen=True)
class Unbounded:
    """An unbounded repeat that consumes characters of `characters`."""

    characters: frozenset[int]


@dataclass(frozen=True)
class Choice:
    """A branch or an optional part: exactly one of `alternatives` is taken."""

    alternatives: tuple[tuple[Event, ...], ...]


Event = Required | Unbounded | Choice


@dataclass
class Walk:
    """The state of a walk over one sequence: what it consumed so far, and the problems found."""

    ignore_case: bool
    dot_all: bool
    multiline: bool
    groups: dict[int, Any]
    events: list[Event] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def branch(self, events: Sequence[Event] = ()) -> Walk:
        """Return a walk with the same flags and groups that starts after `events`."""
        return Walk(self.ignore_case, self.dot_all, self.multiline, self.groups, list(events))


def quadratic_risks(pattern: str) -> list[str]:
    """Return why `pattern` may take more than linear time on a long line; empty when it cannot."""
    try:
        tree = sre_parse.parse(pattern.encode("utf-8"), 0)
    except re.error as error:
        return [f"invalid pattern: {error}"]
    flags = tree.state.flags
    walk = Walk(ignore_case=bool(flags & sre.SRE_FLAG_IGNORECASE), dot_all=bool(flags & sre.SRE_FLAG_DOTALL),
                multiline=bool(flags & sre.SRE_FLAG_MULTILINE), groups={})
    try:
        walk_sequence(tree.data, walk)
    except (UnknownConstruct, RecursionError) as error:
        return [f"construct the check does not model: {error}"]
    return walk.problems


def walk_sequence(items: Iterable[tuple[Any, Any]], walk: Walk) -> None:
    """Walk `items` in order, letting a bounding lookahead stand in for the part it checks."""
    items = list(items)
    index = 0
    while index < len(items):
        op, value = items[index]
        if op == sre.ASSERT and value[0] == LOOKAHEAD:
            checked = bounded_by_lookahead(list(value[1]), items[index + 1 :], walk)
            if checked:
                walk_lookaround(value[1], walk)
                walk_sequence(list(value[1])[:checked], walk)
                index += 1 + checked
                continue
        walk_item(op, value, walk)
        index += 1


def bounded_by_lookahead(lookahead: list[Any], following: list[Any], walk: Walk) -> int:
    """Return how many leading `following` items a lookahead bounds, or 0.

    Rules write `(?=X{m,N}?Y)X{m,}?Y`: a bounded lookahead, then the same pattern with the
    bound removed. The second part runs only where the lookahead found a match within N
    characters, and it stops there too, so it costs what the lookahead costs. This is true
    item by item, for the items that repeat the lookahead's, when each unbounded repeat is
    lazy, or greedy over characters that what follows it in the lookahead cannot start with.
    """
    covered = 0
    relaxed = False
    for index, (checked, item) in enumerate(zip(lookahead, following)):
        if same_items([checked], [item]):
            covered = index + 1
            continue
        if not relaxes(checked, item, lookahead[index + 1 :], walk):
            break
        covered = index + 1
        relaxed = True
    return covered if relaxed else 0


def relaxes(checked: tuple[Any, Any], item: tuple[Any, Any], checked_rest: list[Any], walk: Walk) -> bool:
    """Return True when `item` is the bounded repeat `checked` with its maximum removed."""
    (checked_op, checked_value), (op, value) = checked, item
    if checked_op not in REPEATS or op not in REPEATS:
        return False
    low, high, body = value
    checked_low, checked_high, checked_body = checked_value
    if high != sre.MAXREPEAT or checked_high == sre.MAXREPEAT or low != checked_low:
        return False
    if not same_items(body, checked_body):
        return False
    if op == sre.MIN_REPEAT:
        return True
    return not first_characters(checked_rest, walk) & consumable(body, walk)


def same_items(first: Any, second: Any) -> bool:
    return repr(list(first)) == repr(list(second))


def first_characters(items: Sequence[Any], walk: Walk) -> frozenset[int]:
    """Return the characters the text after a place can start with, when `items` come next.

    When the items can match nothing, what follows them is unknown and every character counts.
    """
    characters: set[int] = set()
    for op, value in items:
        if op in SINGLE_CHARACTER_ITEMS:
            return frozenset(characters | item_characters(op, value, walk))
        if op == sre.ASSERT_NOT and value[0] == LOOKAHEAD and len(value[1]) == 1 and value[1][0][0] in SINGLE_CHARACTER_ITEMS:
            excluded = item_characters(value[1][0][0], value[1][0][1], walk)
            return frozenset(characters | (ALL_BYTES - excluded))
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue
        if op not in REPEATS and op not in (sre.SUBPATTERN, sre.BRANCH):
            break
        part = [(op, value)]
        characters |= consumable(part, walk)
        if min_width(part) >= 1:
            return frozenset(characters)
    return ALL_BYTES


def walk_item(op: Any, value: Any, walk: Walk) -> None:
    if op in SINGLE_CHARACTER_ITEMS:
        walk.events.append(Required(item_characters(op, value, walk)))
    elif op == sre.AT:
        walk_anchor(value, walk)
    elif op == sre.SUBPATTERN:
        group, add_flags, del_flags, body = value
        if group is not None:
            walk.groups[group] = body
        walk_scoped(body, walk, add_flags, del_flags)
    elif op == sre.BRANCH:
        walk_choice(value[1], walk)
    elif op in REPEATS:
        walk_repeat(value, walk)
    elif op in (sre.ASSERT, sre.ASSERT_NOT):
        walk_lookaround(value[1], walk)
    elif op == sre.ATOMIC_GROUP:
        walk_sequence(value, walk)
    elif op == sre.GROUPREF:
        walk_backreference(value, walk)
    else:
        raise UnknownConstruct(str(op))


def walk_anchor(anchor: Any, walk: Walk) -> None:
    """Record `\\A`, and `^`, as a place that no character, or only a newline, can precede."""
    if anchor == sre.AT_BEGINNING_STRING or (anchor == sre.AT_BEGINNING and not walk.multiline):
        walk.events.append(Required(frozenset()))
    elif anchor in (sre.AT_BEGINNING, sre.AT_BEGINNING_LINE):
        walk.events.append(Required(LINEBREAK))


def walk_scoped(body: Any, walk: Walk, add_flags: int, del_flags: int) -> None:
    """Walk a group with its inline flags, such as `(?i:...)`, in effect."""
    saved = (walk.ignore_case, walk.dot_all, walk.multiline)
    for flag, name in ((sre.SRE_FLAG_IGNORECASE, "ignore_case"), (sre.SRE_FLAG_DOTALL, "dot_all"),
                       (sre.SRE_FLAG_MULTILINE, "multiline")):
        if (add_flags | del_flags) & flag:
            setattr(walk, name, bool(add_flags & flag))
    walk_sequence(body, walk)
    walk.ignore_case, walk.dot_all, walk.multiline = saved


def walk_choice(alternatives: Sequence[Any], walk: Walk) -> None:
    """Walk each alternative after what came before, then record the choice as one event."""
    alternative_events = []
    for alternative in alternatives:
        sub = walk.branch(walk.events)
        walk_sequence(alternative, sub)
        walk.problems.extend(sub.problems)
        alternative_events.append(tuple(sub.events[len(walk.events) :]))
    walk.events.append(Choice(tuple(alternative_events)))


def walk_repeat(value: Any, walk: Walk) -> None:
    low, high, body = value
    if high > 1 and has_variable_repeat(body):
        check_splits(body, walk)

    if high != sre.MAXREPEAT:
        if low >= 1:
            walk_sequence(body, walk)
        else:
            walk_choice([body, []], walk)
        return

    characters = consumable(body, walk)
    outcome = reach(walk.events, characters)
    if outcome is not Reach.GUARDED:
        walk.problems.append(f"unbounded repeat over {describe(characters)}: {outcome.value}")
    if low >= 1 and min_width(body) >= 1:
        walk.events.append(Required(characters))
    walk.events.append(Unbounded(characters))


def walk_lookaround(body: Any, walk: Walk) -> None:
    """Check a lookaround, which runs wherever it is reached, without recording what it reads."""
    look = walk.branch(walk.events)
    walk_sequence(body, look)
    walk.problems.extend(look.problems)


def walk_backreference(group: int, walk: Walk) -> None:
    """Record a backreference, which consumes again what its group consumed."""
    body = walk.groups.get(group)
    if body is None:
        raise UnknownConstruct(f"backreference to group {group} before the group")
    characters = consumable(body, walk)
    low, high = width(body)
    if high == sre.MAXREPEAT:
        walk.events.append(Unbounded(characters))
    elif low >= 1:
        walk.events.append(Required(characters))
    elif high >= 1:
        walk.events.append(Choice(((Required(characters),), ())))


def reach(events: Sequence[Event], characters: frozenset[int]) -> Reach:
    """Look back through `events` from an unbounded repeat over `characters`."""
    for event in reversed(events):
        if isinstance(event, Unbounded):
            if event.characters & characters:
                return Reach.BLOCKED
        elif isinstance(event, Required):
            if not event.characters & characters:
                return Reach.GUARDED
        else:
            outcomes = [reach(alternative, characters) for alternative in event.alternatives]
            if Reach.BLOCKED in outcomes:
                return Reach.BLOCKED
            if all(outcome is Reach.GUARDED for outcome in outcomes):
                return Reach.GUARDED
    return Reach.OPEN


def check_splits(body: Any, walk: Walk) -> None:
    """Reject a repeated body that can split one input in more than one way."""
    twice = walk.branch()
    walk_sequence(widened(body) + widened(body), twice)
    if any(has_ambiguous_split(path) for path in linear_paths(twice.events)):
        walk.problems.append(f"repeated group over {describe(consumable(body, walk))} can match one input in several ways")


def has_ambiguous_split(path: Sequence[Required | Unbounded]) -> bool:
    """Return True when an unbounded repeat of `path` can give characters to a later one.

    A repeat ends for certain at the first required character it cannot consume. A later
    repeat over some of the same characters that starts before that character could take
    part of its run.
    """
    for index, first in enumerate(path):
        if not isinstance(first, Unbounded):
            continue
        for later in path[index + 1 :]:
            if isinstance(later, Required) and not later.characters & first.characters:
                break
            if isinstance(later, Unbounded) and later.characters & first.characters:
                return True
    return False


def linear_paths(events: Sequence[Event]) -> list[list[Required | Unbounded]]:
    """Expand every choice, returning each sequence of required parts and repeats one match can take."""
    paths: list[list[Required | Unbounded]] = [[]]
    for event in events:
        if isinstance(event, Choice):
            tails = [tail for alternative in event.alternatives for tail in linear_paths(alternative)]
            paths = [path + tail for path in paths for tail in tails]
            if len(paths) > MAX_PATHS:
                raise UnknownConstruct(f"more than {MAX_PATHS} ways through a repeated group")
        else:
            paths = [path + [event] for path in paths]
    return paths


def widened(items: Sequence[Any]) -> list[Any]:
    """Return `items` with every variable-width repeat made unbounded, except an optional part (`?`)."""
    result: list[tuple[Any, Any]] = []
    for op, value in items:
        if op in REPEATS:
            low, high, body = value
            variable = low != high and high > 1
            result.append((op, (low, sre.MAXREPEAT if variable else high, widened(body))))
        elif op == sre.SUBPATTERN:
            group, add_flags, del_flags, body = value
            result.append((op, (group, add_flags, del_flags, widened(body))))
        elif op == sre.BRANCH:
            result.append((op, (value[0], [widened(alternative) for alternative in value[1]])))
        else:
            result.append((op, value))
    return result


def has_variable_repeat(items: Iterable[tuple[Any, Any]]) -> bool:
    for op, value in items:
        if op in REPEATS and (value[0] != value[1] or has_variable_repeat(value[2])):
            return True
        if op == sre.SUBPATTERN and has_variable_repeat(value[3]):
            return True
        if op == sre.BRANCH and any(has_variable_repeat(alternative) for alternative in value[1]):
            return True
    return False


def consumable(items: Iterable[tuple[Any, Any]], walk: Walk) -> frozenset[int]:
    """Return every character that `items` can consume."""
    characters: set[int] = set()
    for op, value in items:
        if op in SINGLE_CHARACTER_ITEMS:
            characters |= item_characters(op, value, walk)
        elif op == sre.SUBPATTERN:
            characters |= consumable(value[3], walk)
        elif op == sre.BRANCH:
            for alternative in value[1]:
                characters |= consumable(alternative, walk)
        elif op in REPEATS:
            characters |= consumable(value[2], walk)
        elif op == sre.ATOMIC_GROUP:
            characters |= consumable(value, walk)
        elif op == sre.GROUPREF:
            characters |= consumable(walk.groups.get(value, []), walk)
        elif op not in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            raise UnknownConstruct(str(op))
    return frozenset(characters)


def width(items: Any) -> tuple[int, int]:
    """Return the minimum and maximum number of characters `items` consume."""
    low, high = sre_parse.SubPattern(sre_parse.State(), list(items)).getwidth()
    return low, min(high, sre.MAXREPEAT)


def min_width(items: Any) -> int:
    return width(items)[0]


def item_characters(op: Any, value: Any, walk: Walk) -> frozenset[int]:
    """Return the characters one LITERAL, NOT_LITERAL, IN or ANY item matches."""
    if op == sre.LITERAL:
        characters = frozenset({value})
    elif op == sre.NOT_LITERAL:
        characters = ALL_BYTES - with_case(frozenset({value}), walk.ignore_case)
    elif op == sre.ANY:
        characters = ALL_BYTES if walk.dot_all else ALL_BYTES - LINEBREAK
    else:
        characters = class_characters(value, walk.ignore_case)
    return with_case(characters, walk.ignore_case)


def class_characters(items: list[tuple[Any, Any]], ignore_case: bool) -> frozenset[int]:
    characters: set[int] = set()
    negate = False
    for op, value in items:
        if op == sre.NEGATE:
            negate = True
        elif op == sre.LITERAL:
            characters.add(value)
        elif op == sre.RANGE:
            characters.update(range(value[0], value[1] + 1))
        elif op == sre.CATEGORY:
            characters |= CATEGORIES[value]
        else:
            raise UnknownConstruct(f"class item {op}")
    result = with_case(frozenset(characters), ignore_case)
    return ALL_BYTES - result if negate else result


def with_case(characters: frozenset[int], ignore_case: bool) -> frozenset[int]:
    if not ignore_case:
        return characters
    swapped = {ord(chr(code).swapcase()) for code in characters if code in LETTERS}
    return characters | swapped


def describe(characters: frozenset[int]) -> str:
    """Return a short class such as `[0-9A-Za-z]` or `[^"]` for a set of characters."""
    named = {SPACE: "\\s", ALL_BYTES - SPACE: "\\S", WORD: "\\w", DIGITS: "\\d", ALL_BYTES - LINEBREAK: ".",
             ALL_BYTES: "[\\s\\S]"}
    if characters in named:
        return named[characters]
    if len(characters) > 128:
        return "[^" + class_ranges(ALL_BYTES - characters) + "]"
    return "[" + class_ranges(characters) + "]"


def class_ranges(characters: frozenset[int]) -> str:
    parts = []
    codes = sorted(characters)
    index = 0
    while index < len(codes):
        end = index
        while end + 1 < len(codes) and codes[end + 1] == codes[end] + 1:
            end += 1
        first, last = printable_code(codes[index]), printable_code(codes[end])
        if end == index:
            parts.append(first)
        elif end == index + 1:
            parts.append(first + last)
        else:
            parts.append(f"{first}-{last}")
        index = end + 1
    return "".join(parts)


def printable_code(code: int) -> str:
    character = chr(code)
    if character in "\\]^-":
        return "\\" + character
    return character if character.isprintable() else f"\\x{code:02x}"
