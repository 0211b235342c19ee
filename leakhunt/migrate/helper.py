"""Placement and source of the runtime helper in the migrated project."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

HELPER_MARKER = "# Written by leakhunt migrate. It reads the migrated secrets from AWS Secrets Manager.\n"
PACKAGE_HELPER = "_leakhunt_secrets"
TOP_LEVEL_HELPER = "leakhunt_secrets"
REGION_LINE = re.compile(r'^DEFAULT_REGION = "[a-z0-9-]+"$', re.MULTILINE)


@dataclass(frozen=True)
class HelperLocation:
    """The dotted module the rewritten code imports, and its file relative to the project root."""

    module: str
    path: str


def locate_helper(root: Path, python_paths: Iterable[str], configured: str | None,
                  written: HelperLocation | None = None) -> HelperLocation:
    """Place the helper in the one top-level package the rewritten files belong to, else at the root.

    A `[migrate] helper_module` setting wins; its file goes under `src/` when the project keeps
    its top-level package there. Without that setting, the helper that an earlier `--apply`
    wrote (`written`) stays where it is, because rewritten code already imports it.
    """
    if configured:
        parts = configured.split(".")
        base = PurePosixPath("src") if (root / "src" / parts[0]).is_dir() else PurePosixPath()
        return HelperLocation(configured, str(base.joinpath(*parts[:-1], parts[-1] + ".py")))
    if written is not None:
        return written

    packages = {package for package in (top_package(root, path) for path in python_paths) if package is not None}
    if len(packages) == 1:
        folder = packages.pop()
        return HelperLocation(f"{folder.name}.{PACKAGE_HELPER}", str(folder / f"{PACKAGE_HELPER}.py"))
    return HelperLocation(TOP_LEVEL_HELPER, f"{TOP_LEVEL_HELPER}.py")


def top_package(root: Path, path: str) -> PurePosixPath | None:
    """Return the folder of the outermost package that contains `path`, or None for a script."""
    folder = PurePosixPath(path).parent
    top = None
    while folder != PurePosixPath(".") and (root / folder / "__init__.py").is_file():
        top = folder
        folder = folder.parent
    return top


def render_helper(region: str) -> bytes:
    """Return the helper's source with the migration's region as its default region."""
    from leakhunt.migrate import runtime_helper

    source = Path(runtime_helper.__file__).read_text(encoding="utf-8")
    source = REGION_LINE.sub(f'DEFAULT_REGION = "{region}"', source, count=1)
    return (HELPER_MARKER + source).encode("utf-8")
