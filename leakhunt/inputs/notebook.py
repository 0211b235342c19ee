"""Jupyter notebooks: scan each cell's source and text outputs, located by cell and line.

A finding in a notebook keeps the notebook's path. Its line and column count from the start
of the cell source, and `Provenance.cell` is the cell number. Cells are numbered from 1 in
file order, code, markdown and raw cells alike. A finding in an output also sets
`Provenance.cell_output`, the output's number from 1, and its line counts from the start of
that output's text. Stream text and `text/plain` results are scanned. Images, HTML and other
rich outputs, and the notebook metadata, are not. A file that is not valid notebook JSON is
scanned as plain text.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from leakhunt.decoding import DecodeBudget, MatchGroup, scan_text
from leakhunt.findings import Provenance
from leakhunt.inputs.content import text_buffer
from leakhunt.matcher import Matcher

log = logging.getLogger(__name__)

NOTEBOOK_SUFFIX = ".ipynb"
NBFORMAT_KEY = b'"nbformat"'
NOTEBOOK_PROBE_BYTES = 64
RESULT_OUTPUT_TYPES = frozenset({"execute_result", "display_data", "pyout"})


def is_notebook(name: str) -> bool:
    return name.lower().endswith(NOTEBOOK_SUFFIX)


def looks_like_notebook(data: bytes) -> bool:
    """Return True for text that may be notebook JSON: an object holding an nbformat key.

    Git blobs are matched before their paths are known, so notebooks are recognized by content.
    """
    return data[:NOTEBOOK_PROBE_BYTES].lstrip()[:1] == b"{" and NBFORMAT_KEY in data


def scan_notebook(matcher: Matcher, data: bytes, provenance: Provenance) -> list[MatchGroup]:
    """Scan a notebook cell by cell, or as plain text when it is not notebook JSON.

    Raises `BinaryContent` when the fallback finds binary data.
    """
    cells = parse_cells(data)
    if cells is None:
        log.debug("%s: not a valid notebook, scanning it as text", provenance.path)
        return scan_text(matcher, text_buffer(data), provenance)

    budget = DecodeBudget()
    groups: list[MatchGroup] = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            continue
        cell_provenance = dataclasses.replace(provenance, cell=number)
        source = joined_text(cell.get("source", cell.get("input")))
        if source:
            groups.extend(scan_text(matcher, encode(source), cell_provenance, budget))
        outputs = cell.get("outputs")
        for output_number, output in enumerate(outputs if isinstance(outputs, list) else [], start=1):
            text = output_text(output)
            if text:
                output_provenance = dataclasses.replace(cell_provenance, cell_output=output_number)
                groups.extend(scan_text(matcher, encode(text), output_provenance, budget))
    return groups


def parse_cells(data: bytes) -> list[Any] | None:
    """Return the cells of nbformat 4, or of every worksheet of nbformat 3, or None."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None

    cells = document.get("cells")
    worksheets = document.get("worksheets")
    if cells is None and isinstance(worksheets, list):
        cells = []
        for worksheet in worksheets:
            sheet_cells = worksheet.get("cells") if isinstance(worksheet, dict) else None
            if isinstance(sheet_cells, list):
                cells.extend(sheet_cells)
    return cells if isinstance(cells, list) else None


def output_text(output: Any) -> str:
    """Return the text of a stream or `text/plain` result output, or an empty string."""
    if not isinstance(output, dict):
        return ""
    kind = output.get("output_type")
    if kind == "stream":
        return joined_text(output.get("text"))
    if kind not in RESULT_OUTPUT_TYPES:
        return ""
    data = output.get("data")
    if isinstance(data, dict):
        return joined_text(data.get("text/plain"))
    # nbformat 3 stores the text/plain representation under "text".
    return joined_text(output.get("text"))


def joined_text(value: Any) -> str:
    """Return notebook text, which nbformat stores as one string or a list of lines."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part for part in value if isinstance(part, str))
    return ""


def encode(text: str) -> bytes:
    # JSON strings may hold lone surrogates, which UTF-8 cannot encode.
    return text.encode("utf-8", "replace")
