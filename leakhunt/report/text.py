"""The terminal report: findings grouped by file, then a summary of the scan.

Everything taken from the scanned files is passed through `terminal_safe` and printed as
plain `Text`, never as rich markup, so a file name or secret cannot change colours, insert
emoji or move the cursor.
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby
from typing import IO

from rich.console import Console
from rich.text import Text

from leakhunt.findings import Finding
from leakhunt.report import location_note
from leakhunt.report.escaping import terminal_safe
from leakhunt.scan import ScanResult

CONFIDENCE_STYLES = {"high": "bold red", "medium": "yellow", "low": "dim"}
BYTES_PER_MIB = 1024 * 1024


def render(result: ScanResult, console: Console, verbose: bool = False) -> None:
    for path, group in groupby(result.findings, key=lambda finding: finding.path):
        render_file(path, list(group), console)
    render_summary(result, console, verbose)


def render_file(path: str, findings: list[Finding], console: Console) -> None:
    console.print(Text(terminal_safe(path), style="bold"))
    width = max(len(f"{finding.line}:{finding.column}") for finding in findings)
    rule_width = max(len(finding.rule_id) for finding in findings)
    for finding in findings:
        location = f"{finding.line}:{finding.column}"
        line = Text.assemble(
            f"  {location:<{width}}  ",
            (f"{finding.confidence:<6}", CONFIDENCE_STYLES[finding.confidence]),
            f"  {finding.rule_id:<{rule_width}}  ",
            terminal_safe(finding.secret),
        )
        note = location_note(finding.provenance)
        if note:
            line.append(f"  ({terminal_safe(note)})")
        console.print(line)
        provenance = finding.provenance
        if provenance.commit:
            author = terminal_safe(provenance.author or "unknown author")
            email = f" <{terminal_safe(provenance.email)}>" if provenance.email else ""
            date = f" on {terminal_safe(provenance.date)}" if provenance.date else ""
            console.print(Text(f"  {'':<{width}}  commit {provenance.commit[:12]} by {author}{email}{date}", style="dim"))
        later = [commit for commit in provenance.commits if commit != provenance.commit]
        if later:
            listed = ", ".join(commit[:12] for commit in later)
            console.print(Text(f"  {'':<{width}}  also added by {plural(len(later), 'commit')}: {listed}", style="dim"))
    console.print()


def render_summary(result: ScanResult, console: Console, verbose: bool) -> None:
    for notice in result.notices:
        console.print(Text.assemble(("notice: ", "yellow"), terminal_safe(notice)))
    if result.findings:
        console.print(findings_summary(result.findings))
    else:
        console.print(Text("no findings", style="green"))

    size = result.bytes_scanned / BYTES_PER_MIB
    console.print(f"scanned {plural(result.files_scanned, 'file')} ({size:.2f} MiB) in {result.seconds:.2f} s")

    if result.skipped:
        reasons = Counter(item.reason.split(" (")[0] for item in result.skipped)
        summary = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items(), key=lambda pair: (-pair[1], pair[0])))
        console.print(Text(f"skipped {plural(len(result.skipped), 'file')}: {terminal_safe(summary)}"))
        if verbose:
            for item in result.skipped:
                console.print(Text(f"  {terminal_safe(item.path)}: {terminal_safe(item.reason)}"))


def findings_summary(findings: tuple[Finding, ...]) -> Text:
    """Return e.g. `3 findings in 2 files: github-pat-classic 2, aws-access-key-id 1`."""
    files = len({finding.path for finding in findings})
    by_rule = Counter(finding.rule_id for finding in findings)
    rules = ", ".join(f"{rule_id} {count}" for rule_id, count in sorted(by_rule.items(), key=lambda pair: (-pair[1], pair[0])))
    return Text.assemble((f"{plural(len(findings), 'finding')}", "bold red"), f" in {plural(files, 'file')}: {rules}")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def console_for(file: IO[str] | None = None) -> Console:
    """Return a console that never wraps, highlights or reads markup.

    It writes plain text to `file`, and to standard output colours only on a terminal.
    """
    if file is None:
        return Console(soft_wrap=True, emoji=False, highlight=False, markup=False)
    return Console(file=file, soft_wrap=True, emoji=False, highlight=False, markup=False, color_system=None,
                   force_terminal=False)
