"""The terminal report: findings grouped by file, then a summary."""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from rich.console import Console
from rich.markup import escape

from leakhunt.scan import ScanResult

CONFIDENCE_STYLES = {"high": "bold red", "medium": "yellow", "low": "dim"}


def render(result: ScanResult, console: Console, verbose: bool = False) -> None:
    for path, group in groupby(result.findings, key=lambda finding: finding.path):
        console.print(f"[bold]{escape(printable(path))}[/bold]")
        for finding in group:
            style = CONFIDENCE_STYLES[finding.confidence]
            where = f"{finding.line}:{finding.column}"
            provenance = finding.provenance
            origin = f"  commit {provenance.commit[:12]} by {escape(provenance.author or '?')} on {provenance.date}" if provenance.commit else ""
            console.print(
                f"  {where:>9}  [{style}]{finding.confidence:<6}[/{style}]  {escape(finding.rule_id)}  "
                f"{escape(printable(finding.secret))}{origin}"
            )
        console.print()
    render_summary(result, console, verbose)


def render_summary(result: ScanResult, console: Console, verbose: bool) -> None:
    for notice in result.notices:
        console.print(f"[yellow]notice:[/yellow] {escape(notice)}")
    if result.skipped:
        reasons = Counter(item.reason.split(" (")[0] for item in result.skipped)
        summary = ", ".join(f"{count} {reason}" for reason, count in reasons.most_common())
        console.print(f"skipped {len(result.skipped)} file(s): {escape(summary)}")
        if verbose:
            for item in result.skipped:
                console.print(f"  {escape(printable(item.path))}: {escape(item.reason)}")
    files = len({finding.path for finding in result.findings})
    size = result.bytes_scanned / (1024 * 1024)
    scanned = f"scanned {result.files_scanned} file(s), {size:.1f} MiB in {result.seconds:.2f} s"
    if result.findings:
        console.print(f"[bold red]{len(result.findings)} finding(s)[/bold red] in {files} file(s); {scanned}")
    else:
        console.print(f"[green]no findings[/green]; {scanned}")


def printable(text: str) -> str:
    """Return text safe to print: undecodable bytes and control characters become escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").translate(CONTROL_ESCAPES)


CONTROL_ESCAPES = {code: f"\\x{code:02x}" for code in range(32) if code not in (9,)}
