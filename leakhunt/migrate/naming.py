"""Secret names: derived from the repository, the file and the variable, overridable by config.

A name reads `<prefix>/<module>/<anchor>`, for example `myapp/settings/DATABASE_PASSWORD`
for `DATABASE_PASSWORD = "..."` in `settings.py` of the repository `myapp`, or
`myapp/settings/DATABASES/default` for the JSON secret that contains one Django connection.
The prefix is `[migrate] prefix`, else the repository name. It replaces a leading folder named
like the repository, so `myapp/settings.py` gives `shop/settings/...` with the prefix `shop`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

# Secrets Manager accepts 1 to 512 characters of ASCII letters, digits and /_+=.@-.
NAME_PATTERN = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")
INVALID_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_+=.@-]")
# A name that ends in a hyphen and six characters reads like the random suffix of a secret
# ARN, so a partial ARN lookup could match the wrong secret.
ARN_SUFFIX_LIKE = re.compile(r"-[A-Za-z0-9]{6}$")
ASSIGNED_NAME = re.compile(r"""([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*(?::=|=>|[:=])\s*["']?\s*$""")


def repository_name(root: Path) -> str:
    """Return the name of the git work tree that contains `root`, or of `root` itself."""
    folder = root.resolve()
    if folder.is_file():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return sanitize_part(candidate.name)
    return sanitize_part(folder.name)


def module_parts(path: str, prefix: str, repository: str | None = None) -> list[str]:
    """Return the name parts of a file: its folders and stem, without `__init__` and without
    a leading folder named like the prefix or the repository, because the prefix is already
    the first part of the name."""
    pure = PurePosixPath(path)
    parts = list(pure.parent.parts)
    stem = pure.stem if pure.suffix in (".py", ".pyw", ".pyi") else pure.name
    if stem != "__init__":
        parts.append(stem)
    if len(parts) > 1 and parts[0] in (prefix, repository):
        parts = parts[1:]
    return [sanitize_part(part) for part in parts]


def secret_name(prefix: str, path: str, anchor: Iterable[str], repository: str | None = None) -> str:
    parts = [prefix, *module_parts(path, prefix, repository), *(sanitize_part(part) for part in anchor)]
    return "/".join(part for part in parts if part)


def sanitize_part(text: str) -> str:
    return INVALID_NAME_CHARACTERS.sub("_", text) or "_"


def name_problem(name: str) -> str | None:
    """Return why Secrets Manager would reject or misread a name, or None when it is valid."""
    if not NAME_PATTERN.fullmatch(name):
        return "must be 1 to 512 characters of letters, digits and /_+=.@-"
    if ARN_SUFFIX_LIKE.search(name):
        return "ends in a hyphen and six characters, which reads like the random suffix of a secret ARN"
    return None


def unique_name(name: str, taken: set[str]) -> str:
    """Return `name`, or `name_2`, `name_3`... when another value already took it."""
    candidate = name
    number = 2
    while candidate in taken:
        candidate = f"{name}_{number}"
        number += 1
    return candidate


def overridden(name: str, overrides: Mapping[str, str]) -> str:
    return overrides.get(name, name)


def assigned_label(line_text: str, column: int) -> str | None:
    """Return the key that a line of a non-Python file assigns before a 1-based column.

    `DB_PASSWORD=...` in a .env file and `password: ...` in YAML both yield their key.
    """
    found = ASSIGNED_NAME.search(line_text[: max(column - 1, 0)])
    return found.group(1) if found else None
