"""Find where base64 and percent-encoded text starts and ends in a buffer.

Every function here works on byte offsets with `bytes` methods (`rstrip`, `lstrip`, `count`)
and compiled `re` searches, so no Python code runs per byte.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

MIN_BASE64_CHARS = 24
MAX_SEGMENT_CHARS = 64 * 1024
RUN_CHUNK_BYTES = 4096
BASE64_CHARACTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"
BASE64_SEGMENT = re.compile(rb"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{%d,}" % MIN_BASE64_CHARS)
# A base64 run that fills its line up to a multiple of 4 characters, at least this long, may
# go on at the next line, as `base64` (76 columns) and PEM (64 columns) wrap their output.
MIN_WRAPPED_LINE_CHARS = 48
INDENTATION = b" \t"
MAX_INDENTATION_BYTES = 256
# RFC 3986 unreserved, sub-delimiter and path characters, so one segment spans a whole URL.
URL_CHARACTERS = BASE64_CHARACTERS + b".~!$&'()*,;=:@?"
PERCENT_PAIR = re.compile(rb"%%[0-9A-Fa-f]{2}[%b]{0,64}%%[0-9A-Fa-f]{2}" % re.escape(URL_CHARACTERS))
MAX_PERCENT_PAIR_CHARS = 3 + 64 + 3
PERCENT_ESCAPE = re.compile(rb"%[0-9A-Fa-f]{2}")


def base64_blocks(data: bytes, runs: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Yield each base64 segment, with its `=` padding, that contains one of `runs` (ascending).

    A run that belongs to a block wrapped over several lines yields the whole block once.
    """
    covered = -1
    for start, end in runs:
        if start < covered:
            continue
        start, end = wrapped_block_start(data, start, end), wrapped_block_end(data, start, end)
        covered = end
        end = after_padding(data, end)
        if MIN_BASE64_CHARS <= end - start <= MAX_SEGMENT_CHARS:
            yield start, end


def base64_runs_around(data: bytes, positions: Iterable[int]) -> Iterator[tuple[int, int]]:
    """Yield the base64 run that ends or goes on at each of `positions` (ascending), each run once.

    Many keyword hits can fall inside one long run, such as an inlined font. The run is walked
    for the first of them only, so the cost stays linear in the size of `data`.
    """
    covered = -1
    for position in positions:
        if position <= covered:
            continue
        start = run_start(data, position, BASE64_CHARACTERS)
        covered = run_end(data, position, BASE64_CHARACTERS)
        yield start, covered


def wrapped_block_start(data: bytes, start: int, end: int) -> int:
    """Move `start` back over the lines of a wrapped block that the run at `start:end` continues."""
    block_end = end
    while block_end - start < MAX_SEGMENT_CHARS and fills_line(data, start, end):
        previous_end = previous_line_end(data, start)
        if previous_end is None:
            break
        previous_start = run_start(data, previous_end, BASE64_CHARACTERS)
        if not wraps(previous_end - previous_start):
            break
        start, end = previous_start, previous_end
    return start


def wrapped_block_end(data: bytes, start: int, end: int) -> int:
    """Move `end` forward over the lines that continue the run at `start:end` as a wrapped block."""
    piece_start = start
    while end - start < MAX_SEGMENT_CHARS and wraps(end - piece_start):
        next_start = next_line_start(data, end)
        if next_start is None:
            break
        next_end = run_end(data, next_start, BASE64_CHARACTERS)
        if next_end == next_start or not fills_line(data, next_start, next_end):
            break
        piece_start, end = next_start, next_end
    return end


def wraps(length: int) -> bool:
    return length >= MIN_WRAPPED_LINE_CHARS and length % 4 == 0


def fills_line(data: bytes, start: int, end: int) -> bool:
    """Return True when only indentation precedes `start` on its line and only padding follows `end`."""
    head = data[max(0, start - MAX_INDENTATION_BYTES) : start].rstrip(INDENTATION)
    end = after_padding(data, end)
    return (not head or head.endswith(b"\n")) and (end == len(data) or data[end : end + 1] in (b"\n", b"\r"))


def previous_line_end(data: bytes, start: int) -> int | None:
    """Return where the text of the line before `start`'s line ends, or None on the first line."""
    window_start = max(0, start - MAX_INDENTATION_BYTES)
    position = window_start + len(data[window_start:start].rstrip(INDENTATION))
    if position == 0 or data[position - 1 : position] != b"\n":
        return None
    position -= 1
    if data[position - 1 : position] == b"\r":
        position -= 1
    return position


def next_line_start(data: bytes, end: int) -> int | None:
    """Return where the text of the line after `end` starts, past its indentation, or None."""
    if data.startswith(b"\r\n", end):
        position = end + 2
    elif data.startswith(b"\n", end):
        position = end + 1
    else:
        return None
    indentation = data[position : position + MAX_INDENTATION_BYTES]
    return position + len(indentation) - len(indentation.lstrip(INDENTATION))


def after_padding(data: bytes, end: int) -> int:
    """Return the offset after up to two `=` padding characters at `end`."""
    padding = data[end : end + 2]
    return end + len(padding) - len(padding.lstrip(b"="))


def percent_runs(data: bytes, search_from: int = 0) -> Iterator[tuple[int, int]]:
    """Yield each run of URL characters in which two percent escapes stand close together.

    The search starts at `search_from`, no later than the first pair, and resumes after each
    run, so neither the escapes inside one run nor lone escapes elsewhere cost Python work each.
    """
    pair = PERCENT_PAIR.search(data, search_from)
    while pair is not None:
        position = pair.start()
        start = run_start(data, position, URL_CHARACTERS)
        end = run_end(data, position, URL_CHARACTERS + b"%")
        if end - start <= MAX_SEGMENT_CHARS:
            yield start, end
        pair = PERCENT_PAIR.search(data, max(end, pair.end()))


def percent_encoded_offset(encoded: bytes, decoded_offset: int) -> int:
    """Return the offset in `encoded` of the byte at `decoded_offset` of its percent-decoded form."""
    shift = 0
    for escape in PERCENT_ESCAPE.finditer(encoded):
        if escape.start() - shift >= decoded_offset:
            break
        shift += 2
    return decoded_offset + shift


def run_start(data: bytes, position: int, characters: bytes) -> int:
    """Return where the run of `characters` that ends at `position` starts."""
    start = position
    while start > 0:
        chunk = data[max(0, start - RUN_CHUNK_BYTES) : start]
        outside = len(chunk.rstrip(characters))
        start -= len(chunk) - outside
        if outside:
            break
    return start


def run_end(data: bytes, position: int, characters: bytes) -> int:
    """Return where the run of `characters` that starts at `position` ends."""
    end = position
    while end < len(data):
        chunk = data[end : end + RUN_CHUNK_BYTES]
        outside = len(chunk.lstrip(characters))
        end += len(chunk) - outside
        if outside:
            break
    return end
