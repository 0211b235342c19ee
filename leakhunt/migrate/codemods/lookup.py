"""Codemods that replace a whole string literal by a call of the runtime lookup.

`TOKEN = "ghp_..."` becomes `TOKEN = get_secret("myapp/settings/TOKEN")`, and the
value under `"PASSWORD"` of a Django `DATABASES` entry becomes
`get_secret("myapp/settings/DATABASES/default", key="PASSWORD")`. Each context is its own
codemod so a run can be limited to one kind.
"""

from __future__ import annotations

from leakhunt.migrate.codemods.base import SecretCodemod


class ModuleConstantCodemod(SecretCodemod):
    DESCRIPTION = "Replace a secret assigned to a module-level name by a Secrets Manager lookup."
    KIND = "module-constant"


class ClassAttributeCodemod(SecretCodemod):
    DESCRIPTION = "Replace a secret assigned to a class attribute by a Secrets Manager lookup."
    KIND = "class-attribute"


class LocalVariableCodemod(SecretCodemod):
    DESCRIPTION = "Replace a secret assigned inside a function by a Secrets Manager lookup."
    KIND = "local-variable"


class DictValueCodemod(SecretCodemod):
    DESCRIPTION = "Replace a secret dict value, such as a Django DATABASES password, by a Secrets Manager lookup."
    KIND = "dict-value"


class CallArgumentCodemod(SecretCodemod):
    DESCRIPTION = "Replace a secret passed as a call argument by a Secrets Manager lookup."
    KIND = "call-argument"


class ExpressionCodemod(SecretCodemod):
    """Proposes the lookup for a literal in any other expression; used for review patches."""

    DESCRIPTION = "Replace a secret literal in any other expression by a Secrets Manager lookup."
    KIND = "expression"
