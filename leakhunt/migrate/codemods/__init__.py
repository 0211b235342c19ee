"""LibCST codemods that replace secret literals by runtime lookups, one codemod per kind."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.codemod import CodemodContext

from leakhunt.errors import MigrationError
from leakhunt.migrate.codemods.base import LOOKUP_FUNCTION, HelperImport, RewriteTarget, SecretCodemod
from leakhunt.migrate.codemods.bytes_literal import BytesLiteralCodemod
from leakhunt.migrate.codemods.concatenation import ConcatenationCodemod
from leakhunt.migrate.codemods.environ import EnvironDefaultCodemod
from leakhunt.migrate.codemods.lookup import (
    CallArgumentCodemod,
    ClassAttributeCodemod,
    DictValueCodemod,
    ExpressionCodemod,
    LocalVariableCodemod,
    ModuleConstantCodemod,
)
from leakhunt.migrate.codemods.review import DefaultArgumentCodemod, EmbeddedSecretCodemod, FormattedStringCodemod

AUTOMATIC_CODEMODS: tuple[type[SecretCodemod], ...] = (
    ModuleConstantCodemod,
    ClassAttributeCodemod,
    LocalVariableCodemod,
    DictValueCodemod,
    CallArgumentCodemod,
    EnvironDefaultCodemod,
    ConcatenationCodemod,
    BytesLiteralCodemod,
)
REVIEW_CODEMODS: tuple[type[SecretCodemod], ...] = (
    EmbeddedSecretCodemod,
    FormattedStringCodemod,
    DefaultArgumentCodemod,
    ExpressionCodemod,
)
ALIASED_LOOKUP = "leakhunt_get_secret"

__all__ = ["AUTOMATIC_CODEMODS", "REVIEW_CODEMODS", "HelperImport", "Rewrite", "RewriteTarget", "rewrite_source"]


@dataclass(frozen=True)
class Rewrite:
    """A module's new source and the targets that the codemods replaced in it."""

    source: bytes
    rewritten: tuple[RewriteTarget, ...]


def rewrite_source(source: bytes, path: str, targets: Sequence[RewriteTarget], helper_module: str,
                   codemods: Sequence[type[SecretCodemod]] = AUTOMATIC_CODEMODS) -> Rewrite:
    """Run the codemods for `targets` over one module and check that the result compiles.

    Raises `MigrationError` when the source does not parse or the result does not compile.
    """
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        raise MigrationError(f"{path}: cannot parse the file: {error.message} at line {error.raw_line}") from None
    helper = HelperImport(helper_module, lookup_name(source, helper_module))
    rewritten: list[RewriteTarget] = []
    kinds = {target.kind for target in targets}
    for codemod_class in codemods:
        # Creating a codemod inspects every attribute of its class, so only needed ones are made.
        if codemod_class.KIND not in kinds:
            continue
        codemod = codemod_class(CodemodContext(filename=path), targets, helper)
        module = codemod.transform_module(module)
        rewritten.extend(codemod.rewritten)
    result = module.bytes
    if rewritten:
        check_compiles(result, path)
    return Rewrite(result, tuple(rewritten))


def lookup_name(source: bytes, helper_module: str) -> str:
    """Return `get_secret`, or an alias when the module already uses that name for something else."""
    if not re.search(rb"\b" + LOOKUP_FUNCTION.encode() + rb"\b", source):
        return LOOKUP_FUNCTION
    own_import = rb"from\s+" + re.escape(helper_module.encode()) + rb"\s+import\s+" + LOOKUP_FUNCTION.encode() + rb"\b(?!\s+as\b)"
    return LOOKUP_FUNCTION if re.search(own_import, source) else ALIASED_LOOKUP


def check_compiles(source: bytes, path: str) -> None:
    try:
        compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        raise MigrationError(f"{path}: the rewritten file does not compile ({error}); the file was left unchanged") from None
