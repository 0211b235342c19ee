#!/usr/bin/env python3
"""Time full-history scans of leakhunt, gitleaks and Kingfisher on real repositories.

usage: bench_history.py [--rounds N] [--data DIR] [--peers DIR] [--leakhunt CMD] [REPO ...]

Each REPO is a bare mirror (default: the requests and sympy snapshots under /work/.mirror).
It is cloned once with `git clone --mirror` into DIR (default /work/bench-data), outside the
project. The stored snapshots lack blobs of 4 MiB and more. `git log -p`, which gitleaks
runs, stops at the first missing blob, so each missing blob gets a small placeholder through
`refs/replace/`, which git commands honour. The tools then run alternately, one fresh
process per run under `/usr/bin/time`, and the script prints the median wall time, the
ratio to leakhunt and the peak resident set size (the largest of the tool and its children).
No tool validates secrets over the network: Kingfisher runs with --no-validate.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT_REPOS = ["/work/.mirror/psf+requests/repo", "/work/.mirror/sympy+sympy/repo"]
PLACEHOLDER = "placeholder for blob {oid}, which the stored snapshot lacks\n"


def prepare(mirror: Path, data: Path) -> Path:
    """Clone the mirror into the data folder once and give every missing blob a placeholder."""
    name = mirror.parent.name.split("+")[-1] if mirror.name == "repo" else mirror.stem
    target = data / f"{name}.git"
    if not target.exists():
        data.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "-q", "--mirror", str(mirror), str(target)], check=True)
    listing = subprocess.run(["git", "-C", str(target), "--no-replace-objects", "rev-list", "--objects", "--all",
                              "--missing=print"], capture_output=True, text=True, check=True).stdout
    missing = [line[1:] for line in listing.splitlines() if line.startswith("?")]
    existing = subprocess.run(["git", "-C", str(target), "for-each-ref", "--format=%(refname)", "refs/replace/"],
                              capture_output=True, text=True, check=True).stdout.split()
    for oid in missing:
        if f"refs/replace/{oid}" in existing:
            continue
        placeholder = subprocess.run(["git", "-C", str(target), "hash-object", "-w", "--stdin"],
                                     input=PLACEHOLDER.format(oid=oid), capture_output=True, text=True, check=True)
        subprocess.run(["git", "-C", str(target), "update-ref", f"refs/replace/{oid}", placeholder.stdout.strip()],
                       check=True)
    print(f"{target}: {len(missing)} missing blob(s) replaced by placeholders", file=sys.stderr)
    return target


def commands(repo: Path, report: Path, leakhunt: list[str], peers: Path) -> dict[str, list[str]]:
    return {
        "leakhunt": [*leakhunt, "scan", str(repo), "--git", "--no-progress", "--format", "json",
                     "--output", str(report)],
        "gitleaks": [str(peers / "gitleaks"), "git", str(repo), "--no-banner", "--redact", "--log-level", "error",
                     "--report-format", "json", "--report-path", str(report)],
        "kingfisher": [str(peers / "kingfisher"), "scan", str(repo), "--git-history", "full", "--no-validate",
                       "--no-update-check", "--quiet", "--format", "json", "--output", str(report)],
    }


def timed(command: list[str]) -> tuple[float, int, int]:
    """Run one command under /usr/bin/time; return wall seconds, peak RSS in KiB and exit status."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as measure:
        completed = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", measure.name, *command],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        fields = measure.read().split()
    if completed.returncode not in (0, 1, 200, 205):
        raise SystemExit(f"{shlex.join(command)} failed with status {completed.returncode}: "
                         f"{completed.stderr.strip()[-500:]}")
    return float(fields[-2]), int(fields[-1]), completed.returncode


def count_findings(tool: str, report: Path) -> int:
    document = json.loads(report.read_text() or "[]")
    if tool == "leakhunt":
        return len(document["findings"])
    if tool == "kingfisher":
        return len(document.get("findings", []))
    return len(document)


def bench(repo: Path, rounds: int, leakhunt: list[str], peers: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-history-") as scratch:
        report = Path(scratch) / "report.json"
        tools = commands(repo, report, leakhunt, peers)
        walls: dict[str, list[float]] = {tool: [] for tool in tools}
        peaks: dict[str, list[int]] = {tool: [] for tool in tools}
        found: dict[str, int] = {}
        for _ in range(rounds):
            for tool, command in tools.items():
                wall, peak, _ = timed(command)
                walls[tool].append(wall)
                peaks[tool].append(peak)
                found[tool] = count_findings(tool, report)

    base = statistics.median(walls["leakhunt"])
    print(f"\n{repo.name}: {rounds} rounds, tools alternating")
    print(f"{'tool':<11} {'median s':>9} {'min s':>7} {'max s':>7} {'x leakhunt':>10} {'peak RSS MiB':>12} {'findings':>9}")
    for tool in tools:
        median = statistics.median(walls[tool])
        print(f"{tool:<11} {median:>9.2f} {min(walls[tool]):>7.2f} {max(walls[tool]):>7.2f} {median / base:>10.2f} "
              f"{max(peaks[tool]) / 1024:>12.0f} {found[tool]:>9}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repos", nargs="*", type=Path, default=[Path(path) for path in DEFAULT_REPOS])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path("/work/bench-data"))
    parser.add_argument("--peers", type=Path, default=Path(os.environ.get("PEERS_BIN", "/work/peers/bin")))
    parser.add_argument("--leakhunt", default="leakhunt", help="command that runs leakhunt (default: leakhunt)")
    args = parser.parse_args()

    for mirror in args.repos:
        bench(prepare(mirror, args.data), args.rounds, shlex.split(args.leakhunt), args.peers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
