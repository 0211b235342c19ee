"""Jupyter notebooks, scanned cell by cell, checked through the reports of the real command line."""

from __future__ import annotations

import base64
import json
import random

import pytest
from scan_cli import finding_rows, github_token, leakhunt_fixture  # noqa: F401 - the fixture `leakhunt`


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    return random.Random(request.node.name)


def cell_rows(report: dict) -> list[tuple[str, int, int, str, str, int | None, int | None]]:
    return [
        row + (item.get("cell"), item.get("cell_output"))
        for row, item in zip(finding_rows(report), report["findings"])
    ]


def code_cell(source: list[str], outputs: list[dict] | None = None) -> dict:
    return {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": source, "outputs": outputs or []}


def notebook(cells: list[dict]) -> str:
    document = {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(document, indent=1)


def test_token_in_cell_3_line_2(leakhunt, tmp_path, rng):
    token, in_image = github_token(rng), github_token(rng)
    image = base64.b64encode(f"not a picture: {in_image}".encode()).decode()
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Weekly report\n", "Numbers from the API."]},
        code_cell(["import requests\n", "import pandas as pd"]),
        code_cell(
            ["session = requests.Session()\n", f'session.headers["Authorization"] = "token {token}"\n', "plot()"],
            [{"output_type": "display_data", "metadata": {}, "data": {"image/png": image, "text/plain": ["<Figure>"]}}],
        ),
    ]
    (tmp_path / "analysis.ipynb").write_text(notebook(cells))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert cell_rows(report) == [("analysis.ipynb", 2, 43, "github-pat-classic", token, 3, None)]


def test_token_in_stream_output(leakhunt, tmp_path, rng):
    token = github_token(rng)
    cells = [
        code_cell(["import os\n", "print(os.environ)"], [
            {"output_type": "stream", "name": "stdout", "text": ["environ({'HOME': '/home/ana',\n", f" 'GH_TOKEN': '{token}'}})\n"]},
        ]),
    ]
    (tmp_path / "debug.ipynb").write_text(notebook(cells))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert cell_rows(report) == [("debug.ipynb", 2, 15, "github-pat-classic", token, 1, 1)]


def test_token_in_execute_result_text(leakhunt, tmp_path, rng):
    token = github_token(rng)
    result = {"output_type": "execute_result", "execution_count": 4, "metadata": {},
              "data": {"text/plain": [f"'{token}'"], "text/html": [f"<b>{github_token(rng)}</b>"]}}
    cells = [code_cell(["x = 1"]), code_cell(["client.token"], [result])]
    (tmp_path / "client.ipynb").write_text(notebook(cells))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert cell_rows(report) == [("client.ipynb", 1, 2, "github-pat-classic", token, 2, 1)]


def test_findings_ordered_by_cell(leakhunt, tmp_path, rng):
    first, second, third = github_token(rng), github_token(rng), github_token(rng)
    cells = [
        code_cell(["a = 1\n", "b = 2\n", f"T1 = '{first}'"]),
        code_cell([f"T2 = '{second}'"]),
        {"cell_type": "markdown", "metadata": {}, "source": f"Use `{third}` for the demo."},
    ]
    (tmp_path / "book.ipynb").write_text(notebook(cells))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert cell_rows(report) == [
        ("book.ipynb", 3, 7, "github-pat-classic", first, 1, None),
        ("book.ipynb", 1, 7, "github-pat-classic", second, 2, None),
        ("book.ipynb", 1, 6, "github-pat-classic", third, 3, None),
    ]


def test_nbformat_3_worksheets(leakhunt, tmp_path, rng):
    token = github_token(rng)
    document = {
        "metadata": {"name": "old"},
        "nbformat": 3,
        "nbformat_minor": 0,
        "worksheets": [{"cells": [
            {"cell_type": "markdown", "source": ["Old notebook"]},
            {"cell_type": "code", "input": ["import os\n", f"KEY = '{token}'"], "language": "python", "outputs": []},
        ]}],
    }
    (tmp_path / "legacy.ipynb").write_text(json.dumps(document))

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert cell_rows(report) == [("legacy.ipynb", 2, 8, "github-pat-classic", token, 2, None)]


def test_invalid_json_scanned_as_text(leakhunt, tmp_path, rng):
    token = github_token(rng)
    (tmp_path / "broken.ipynb").write_text('{\n "cells": [\n  {"source": ["x = \'' + token + '\'"]\n')

    run, report = leakhunt.scan_json(tmp_path)

    assert run.returncode == 1
    assert cell_rows(report) == [("broken.ipynb", 3, 21, "github-pat-classic", token, None, None)]


def test_sarif_carries_cell(leakhunt, tmp_path, rng):
    token = github_token(rng)
    (tmp_path / "analysis.ipynb").write_text(notebook([code_cell(["x = 1"]), code_cell(["y = 2\n", f"t = '{token}'"])]))

    run = leakhunt("scan", tmp_path, "--format", "sarif")

    result = json.loads(run.stdout)["runs"][0]["results"][0]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "analysis.ipynb"
    assert location["region"] == {"startLine": 2, "startColumn": 6}
    assert result["properties"]["cell"] == 2
    assert "cell_output" not in result["properties"]
    assert result["message"]["text"].endswith("(cell 2)")


def test_text_report_names_cell(leakhunt, tmp_path, rng):
    token = github_token(rng)
    (tmp_path / "analysis.ipynb").write_text(notebook([code_cell([f"t = '{token}'"])]))

    run = leakhunt("scan", tmp_path)

    assert "(cell 1)" in run.stdout
    assert token not in run.stdout
