"""Apply the codemods to files: previews for the plan, in-place rewrites and review patches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from leakhunt.errors import MigrationError
from leakhunt.migrate.codemods import REVIEW_CODEMODS, Rewrite, RewriteTarget, rewrite_source
from leakhunt.migrate.files import redact_diff, unified_diff
from leakhunt.migrate.plan import Plan
from leakhunt.migrate.resolve import Resolution
from leakhunt.migrate.sites import AUTOMATIC_KINDS


def automatic(targets: Iterable[tuple[str, RewriteTarget]]) -> dict[str, list[RewriteTarget]]:
    """Group the targets that are rewritten in place by file."""
    by_path: dict[str, list[RewriteTarget]] = defaultdict(list)
    for path, target in targets:
        if target.kind in AUTOMATIC_KINDS:
            by_path[path].append(target)
    return by_path


def review(targets: Iterable[tuple[str, RewriteTarget]]) -> list[tuple[str, RewriteTarget]]:
    return [(path, target) for path, target in targets if target.kind not in AUTOMATIC_KINDS]


def rewrite(source: bytes, path: str, targets: Sequence[RewriteTarget], helper_module: str) -> Rewrite:
    """Rewrite one file's targets, and fail unless every target was found and replaced."""
    result = rewrite_source(source, path, targets, helper_module)
    missing = len(targets) - len(result.rewritten)
    if missing > 0:
        names = sorted({target.secret_name for target in targets if target not in result.rewritten})
        raise MigrationError(f"{path}: {missing} location(s) of {', '.join(names)} were not found for rewriting; "
                             "the file was left unchanged")
    return result


def review_patch(source: bytes, path: str, targets: Sequence[RewriteTarget],
                 helper_module: str) -> tuple[str, tuple[RewriteTarget, ...]]:
    """Return one patch that replaces the review-only `targets` of a file, with the targets it covers.

    One patch per file, so applying it never makes another patch of the same file stale.
    The patch is "" when no target could be replaced.
    """
    result = rewrite_source(source, path, targets, helper_module, REVIEW_CODEMODS)
    if not result.rewritten:
        return "", ()
    return unified_diff(path, source, result.source), result.rewritten


def review_by_file(targets: Iterable[tuple[str, RewriteTarget]]) -> dict[str, list[RewriteTarget]]:
    """Group the review-only targets by file, in path order."""
    grouped: dict[str, list[RewriteTarget]] = {}
    for path, target in sorted(review(targets), key=lambda entry: entry[0]):
        grouped.setdefault(path, []).append(target)
    return grouped


def preview(plan: Plan, resolution: Resolution, secret_values: Iterable[str]) -> tuple[str, str]:
    """Return the diffs of the automatic rewrite and of the review-only patches, with every
    value in `secret_values` redacted."""
    secret_texts = set(secret_values) | resolution.all_secret_texts()
    all_targets = [entry for entries in resolution.targets.values() for entry in entries]
    diffs = []
    for path, targets in sorted(automatic(all_targets).items()):
        source = resolution.sources[path]
        try:
            result = rewrite(source, path, targets, plan.helper.module)
        except MigrationError as error:
            diffs.append(f"# {error}\n")
            continue
        diffs.append(unified_diff(path, source, result.source))
    patches = []
    for path, targets in review_by_file(all_targets).items():
        patches.append(review_patch(resolution.sources[path], path, targets, plan.helper.module)[0])
    settings = resolution.setting_texts
    return redact_diff("".join(diffs), secret_texts, settings), redact_diff("".join(patches), secret_texts, settings)
