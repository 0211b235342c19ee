#!/usr/bin/env python3
"""Time leakhunt's working-tree scan against gitleaks and Kingfisher on three inputs.

The inputs live outside the repository, in one data folder:

- `tree/`: third-party Python code, installed from PyPI with `pip install --target` by a
  fresh virtual environment. `--target` keeps the words `site-packages` out of the path,
  because gitleaks 8.30's default configuration skips every path that contains them;
- `flat/`: 100 files of 2 MiB each, the tree's `.py` files concatenated in path order;
- `single/`: one small source file, so its time is mostly start-up.

Each round runs every tool once on every input, in an order that rotates between rounds,
after one untimed warm-up run per tool and input. The script prints the median wall time of
each tool, the ratios leakhunt/Kingfisher and leakhunt/gitleaks, and leakhunt's own summary of
the tree. See bench/README.md.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGES = ("numpy", "pandas", "django", "boto3", "sympy", "scipy", "matplotlib", "requests", "sqlalchemy")
FLAT_FILES = 100
FLAT_FILE_BYTES = 2 * 1024 * 1024
SINGLE_FILE = Path("requests") / "auth.py"
TOOLS = ("leakhunt", "kingfisher", "gitleaks")
INPUTS = ("tree", "flat", "single")
# Exit statuses that mean "scanned, with or without findings".
SUCCESS_CODES = {"leakhunt": {0, 1}, "gitleaks": {0, 1}, "kingfisher": {0, 200}}


@dataclass(frozen=True)
class Inputs:
    tree: Path
    flat: Path
    single: Path

    def path(self, name: str) -> Path:
        return {"tree": self.tree, "flat": self.flat, "single": self.single}[name]


@dataclass(frozen=True)
class Tools:
    leakhunt: list[str]
    leakhunt_config: Path | None
    gitleaks: str
    kingfisher: str

    def command(self, tool: str, target: Path, report: Path) -> list[str]:
        if tool == "leakhunt":
            config = ["--config", str(self.leakhunt_config)] if self.leakhunt_config else []
            return [*self.leakhunt, "scan", str(target), "--format", "json", "--output", str(report),
                    "--no-progress", *config]
        if tool == "gitleaks":
            return [self.gitleaks, "dir", str(target), "--no-banner", "--log-level", "error",
                    "--report-format", "json", "--report-path", str(report)]
        return [self.kingfisher, "scan", str(target), "--no-validate", "--no-update-check", "--git-history", "none",
                "--format", "json", "--output", str(report)]


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=os.environ.get("LEAKHUNT_BENCH_DATA"),
                        help="folder of the inputs (default: $LEAKHUNT_BENCH_DATA)")
    parser.add_argument("--tree", type=Path, help="tree of third-party code (default: DATA/tree)")
    parser.add_argument("--flat", type=Path, help="folder of the flat corpus (default: DATA/flat)")
    parser.add_argument("--single", type=Path, help="one small file (default: DATA/single/auth.py)")
    parser.add_argument("--create", action="store_true",
                        help="build missing inputs; the tree is installed with pip from PyPI")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default: 5)")
    parser.add_argument("--inputs", default=",".join(INPUTS), help=f"comma-separated inputs (default: {','.join(INPUTS)})")
    parser.add_argument("--peers-bin", type=Path, default=os.environ.get("PEERS_BIN"),
                        help="folder holding the gitleaks and kingfisher binaries (default: $PEERS_BIN, else PATH)")
    parser.add_argument("--leakhunt", default=None,
                        help="leakhunt command line (default: the leakhunt script beside this Python)")
    parser.add_argument("--config", type=Path, help="leakhunt configuration passed with --config, e.g. to add rules")
    parser.add_argument("--markdown", action="store_true", help="print the results as a Markdown table too")
    arguments = parser.parse_args(argv)
    if arguments.data is None and not (arguments.tree and arguments.flat and arguments.single):
        parser.error("give --data (or set LEAKHUNT_BENCH_DATA), or all of --tree, --flat and --single")
    return arguments


def resolve_inputs(arguments: argparse.Namespace) -> Inputs:
    data = arguments.data
    return Inputs(
        tree=arguments.tree or data / "tree",
        flat=arguments.flat or data / "flat",
        single=arguments.single or data / "single" / SINGLE_FILE.name,
    )


def create_inputs(inputs: Inputs) -> None:
    if not inputs.tree.is_dir():
        install_tree(inputs.tree)
    if not inputs.flat.is_dir():
        build_flat_corpus(inputs.tree, inputs.flat)
    if not inputs.single.is_file():
        inputs.single.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(pick_single_file(inputs.tree), inputs.single)


def install_tree(tree: Path) -> None:
    environment = tree.parent / f".{tree.name}-venv"
    print(f"installing {', '.join(PACKAGES)} into {tree} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(environment)], check=True)
    pip = environment / "bin" / "pip"
    subprocess.run([str(pip), "install", "--quiet", "--target", str(tree), *PACKAGES], check=True)


def build_flat_corpus(tree: Path, flat: Path) -> None:
    """Write FLAT_FILES files of FLAT_FILE_BYTES, cycling through the tree's `.py` files in path order."""
    sources = sorted(path for path in tree.rglob("*.py") if path.is_file() and not path.is_symlink())
    if not sources:
        raise SystemExit(f"no .py files under {tree} to build the flat corpus from")
    flat.mkdir(parents=True)
    next_source = 0
    for number in range(FLAT_FILES):
        chunks: list[bytes] = []
        size = 0
        while size < FLAT_FILE_BYTES:
            chunk = sources[next_source % len(sources)].read_bytes()
            next_source += 1
            chunks.append(chunk)
            size += len(chunk)
        (flat / f"part-{number:03d}.txt").write_bytes(b"".join(chunks)[:FLAT_FILE_BYTES])


def pick_single_file(tree: Path) -> Path:
    preferred = tree / SINGLE_FILE
    if preferred.is_file():
        return preferred
    candidates = sorted(path for path in tree.rglob("*.py") if 8192 <= path.stat().st_size <= 16384)
    if not candidates:
        raise SystemExit(f"no .py file of 8 to 16 KiB under {tree}")
    return candidates[0]


def resolve_tools(arguments: argparse.Namespace) -> Tools:
    if arguments.leakhunt:
        leakhunt = shlex.split(arguments.leakhunt)
    else:
        script = Path(sys.executable).parent / "leakhunt"
        leakhunt = [str(script)] if script.exists() else [sys.executable, "-m", "leakhunt"]
    return Tools(leakhunt, arguments.config, find_binary("gitleaks", arguments.peers_bin),
                 find_binary("kingfisher", arguments.peers_bin))


def find_binary(name: str, folder: Path | None) -> str:
    found = shutil.which(name, path=str(folder) if folder else None)
    if found is None:
        raise SystemExit(f"{name} not found in {folder or 'PATH'}; give --peers-bin")
    return found


@dataclass(frozen=True)
class Timing:
    """Wall time of one run, and the CPU time (user + system) of the process and its children."""

    wall: float
    cpu: float


def run_tool(tools: Tools, tool: str, target: Path, report: Path) -> Timing:
    command = tools.command(tool, target, report)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode not in SUCCESS_CODES[tool]:
        message = completed.stderr.decode("utf-8", "replace").strip()[-2000:]
        raise SystemExit(f"{shlex.join(command)} exited with {completed.returncode}:\n{message}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(elapsed, cpu)


def measure(tools: Tools, inputs: Inputs, names: Sequence[str], rounds: int,
            reports: Path) -> dict[tuple[str, str], list[Timing]]:
    """Return the timings of each (input, tool) pair, after one warm-up run of each."""
    times: dict[tuple[str, str], list[Timing]] = collections.defaultdict(list)
    for name in names:
        for tool in TOOLS:
            run_tool(tools, tool, inputs.path(name), reports / f"{tool}-{name}.json")
    for round_number in range(rounds):
        order = TOOLS[round_number % len(TOOLS):] + TOOLS[: round_number % len(TOOLS)]
        for name in names:
            for tool in order:
                times[name, tool].append(run_tool(tools, tool, inputs.path(name), reports / f"{tool}-{name}.json"))
        print(f"round {round_number + 1}/{rounds} done", file=sys.stderr)
    return times


def count_findings(tool: str, report: Path) -> int:
    document = json.loads(report.read_text(encoding="utf-8") or "[]")
    if tool == "gitleaks":
        return len(document)
    return len(document["findings"])


def result_rows(times: dict[tuple[str, str], list[Timing]], names: Sequence[str], reports: Path) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        wall = {tool: statistics.median(timing.wall for timing in times[name, tool]) for tool in TOOLS}
        cpu = {tool: statistics.median(timing.cpu for timing in times[name, tool]) for tool in TOOLS}
        rows.append({
            "input": name,
            "wall": wall,
            "cpu": cpu,
            "findings": {tool: count_findings(tool, reports / f"{tool}-{name}.json") for tool in TOOLS},
        })
    return rows


def print_table(rows: list[dict[str, Any]], markdown: bool) -> None:
    header = ["input", "leakhunt s", "Kingfisher s", "gitleaks s", "leakhunt/Kingfisher", "leakhunt/gitleaks",
              "CPU s (lh/kf/gl)", "findings (lh/kf/gl)"]
    lines = []
    for row in rows:
        wall, cpu, findings = row["wall"], row["cpu"], row["findings"]
        lines.append([row["input"], f"{wall['leakhunt']:.2f}", f"{wall['kingfisher']:.2f}", f"{wall['gitleaks']:.2f}",
                      f"{wall['leakhunt'] / wall['kingfisher']:.2f}", f"{wall['leakhunt'] / wall['gitleaks']:.2f}",
                      f"{cpu['leakhunt']:.2f}/{cpu['kingfisher']:.2f}/{cpu['gitleaks']:.2f}",
                      f"{findings['leakhunt']}/{findings['kingfisher']}/{findings['gitleaks']}"])
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for line in lines:
            print("| " + " | ".join(line) + " |")
        return
    widths = [max(len(header[index]), *(len(line[index]) for line in lines)) for index in range(len(header))]
    for line in [header, *lines]:
        print("  ".join(cell.rjust(width) for cell, width in zip(line, widths)))


def print_tree_summary(report: Path) -> None:
    document = json.loads(report.read_text(encoding="utf-8"))
    stats = document["stats"]
    by_rule = collections.Counter(finding["rule"] for finding in document["findings"])
    print(f"\nleakhunt on the tree: {stats['files_scanned']} files, {stats['bytes_scanned'] / 1e6:.1f} MB scanned, "
          f"{len(document['skipped'])} skipped, {len(document['findings'])} findings, {stats['seconds']:.2f} s "
          "(its own clock)")
    for rule, count in by_rule.most_common():
        print(f"  {count:5d}  {rule}")


def tool_version(command: list[str]) -> str:
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    return (completed.stdout or completed.stderr).strip().splitlines()[0] if (completed.stdout or completed.stderr) else "?"


def print_machine(tools: Tools, inputs: Inputs) -> None:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    print(f"machine: {os.cpu_count()} cores, {model}, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}")
    print(f"tools: {tool_version([*tools.leakhunt, '--version'])}, gitleaks {tool_version([tools.gitleaks, 'version'])}, "
          f"{tool_version([tools.kingfisher, '--version'])}")
    print(f"inputs: tree {inputs.tree}, flat {inputs.flat}, single {inputs.single}")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    inputs = resolve_inputs(arguments)
    if arguments.create:
        create_inputs(inputs)
    names = [name.strip() for name in arguments.inputs.split(",") if name.strip()]
    for name in names:
        if name not in INPUTS:
            raise SystemExit(f"unknown input {name!r}; choose from {', '.join(INPUTS)}")
        if not inputs.path(name).exists():
            raise SystemExit(f"input {inputs.path(name)} not found; give --create to build it")
    tools = resolve_tools(arguments)

    with tempfile.TemporaryDirectory(prefix="leakhunt-bench-") as folder:
        reports = Path(folder)
        times = measure(tools, inputs, names, arguments.rounds, reports)
        print_machine(tools, inputs)
        rows = result_rows(times, names, reports)
        print(f"medians of {arguments.rounds} rounds; wall and CPU (user + system) seconds:")
        print_table(rows, markdown=False)
        if arguments.markdown:
            print()
            print_table(rows, markdown=True)
        if "tree" in names:
            print_tree_summary(reports / "leakhunt-tree.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
