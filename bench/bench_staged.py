#!/usr/bin/env python3
"""Time the pre-commit path: `leakhunt scan --staged` against `gitleaks git --pre-commit --staged`.

usage: python bench_staged.py [--rounds N] [--data DIR] [--peers DIR] [--leakhunt CMD] [MIRROR]

Run it with the Python of a virtual environment that has leakhunt installed, which also
provides the token checksum. The work tree is a clone of MIRROR (default: the sympy snapshot under /work/.mirror) in DIR
(default /work/bench-data), outside the project. One tracked file gets two new lines, one
with a generated GitHub token, and is staged. Both tools then run alternately, one fresh
process per run. The script prints median wall times, their ratio and peak RSS, and resets
the change at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

from leakhunt.validators import BASE62, base62


def github_token() -> str:
    payload = "".join(random.choice(BASE62) for _ in range(30))
    return f"ghp_{payload}{base62(zlib.crc32(payload.encode('ascii')), 6)}"


def prepare(mirror: Path, data: Path) -> tuple[Path, str]:
    """Clone the mirror with a work tree once and stage a two-line change to one file."""
    name = mirror.parent.name.split("+")[-1] if mirror.name == "repo" else mirror.stem
    work = data / f"{name}-work"
    if not work.exists():
        data.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "-q", str(mirror), str(work)], check=True)
    tracked = subprocess.run(["git", "-C", str(work), "ls-files", "*.py"], capture_output=True, text=True,
                             check=True).stdout.split()
    target = sorted(tracked)[len(tracked) // 2]
    with open(work / target, "a", encoding="utf-8") as handle:
        handle.write(f"\nDEPLOY_TOKEN = '{github_token()}'\n")
    subprocess.run(["git", "-C", str(work), "add", target], check=True)
    return work, target


def reset(work: Path, target: str) -> None:
    subprocess.run(["git", "-C", str(work), "reset", "-q", "--", target], check=True)
    subprocess.run(["git", "-C", str(work), "checkout", "-q", "--", target], check=True)


def timed(command: list[str], cwd: Path) -> tuple[float, int, int]:
    with tempfile.NamedTemporaryFile("r", suffix=".time") as measure:
        completed = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", measure.name, *command], cwd=cwd,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        fields = measure.read().split()
    if completed.returncode not in (0, 1):
        raise SystemExit(f"{shlex.join(command)} failed with status {completed.returncode}: "
                         f"{completed.stderr.strip()[-500:]}")
    return float(fields[-2]), int(fields[-1]), completed.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mirror", nargs="?", type=Path, default=Path("/work/.mirror/sympy+sympy/repo"))
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--data", type=Path, default=Path("/work/bench-data"))
    parser.add_argument("--peers", type=Path, default=Path(os.environ.get("PEERS_BIN", "/work/peers/bin")))
    parser.add_argument("--leakhunt", default="leakhunt", help="command that runs leakhunt (default: leakhunt)")
    args = parser.parse_args()

    work, target = prepare(args.mirror, args.data)
    tools = {
        "leakhunt": [*shlex.split(args.leakhunt), "scan", ".", "--staged", "--no-progress"],
        "gitleaks": [str(args.peers / "gitleaks"), "git", "--pre-commit", "--staged", "--no-banner", "--redact",
                     "--log-level", "error", "."],
    }
    walls: dict[str, list[float]] = {tool: [] for tool in tools}
    peaks: dict[str, list[int]] = {tool: [] for tool in tools}
    statuses: dict[str, set[int]] = {tool: set() for tool in tools}
    try:
        for tool, command in tools.items():
            timed(command, work)
        for _ in range(args.rounds):
            for tool, command in tools.items():
                wall, peak, status = timed(command, work)
                walls[tool].append(wall)
                peaks[tool].append(peak)
                statuses[tool].add(status)
    finally:
        reset(work, target)

    base = statistics.median(walls["gitleaks"])
    print(f"\n{work.name}: one staged file ({target}), {args.rounds} rounds after one warm-up, tools alternating")
    print(f"{'tool':<9} {'median s':>9} {'min s':>7} {'max s':>7} {'x gitleaks':>10} {'peak RSS MiB':>12} {'exit':>5}")
    for tool in tools:
        median = statistics.median(walls[tool])
        print(f"{tool:<9} {median:>9.3f} {min(walls[tool]):>7.3f} {max(walls[tool]):>7.3f} {median / base:>10.2f} "
              f"{max(peaks[tool]) / 1024:>12.0f} {','.join(map(str, sorted(statuses[tool]))):>5}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
