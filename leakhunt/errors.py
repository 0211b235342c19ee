"""The exception family of leakhunt.

Each layer raises its own subclass. The command-line layer catches `LeakhuntError` in one
place, prints its message as one line and exits with status 2.
"""

from __future__ import annotations


class LeakhuntError(Exception):
    """Base class of every error that leakhunt reports to the user as one line."""


class RuleError(LeakhuntError):
    """A rule file or a rule in it is invalid."""


class ConfigError(LeakhuntError):
    """The project configuration is invalid."""


class InputError(LeakhuntError):
    """A scan target cannot be read."""


class GitError(InputError):
    """A git repository, ref or object cannot be read."""


class BaselineError(LeakhuntError):
    """A baseline or ignore file cannot be read or written."""


class ReportError(LeakhuntError):
    """A report cannot be written."""


class MigrationError(LeakhuntError):
    """A migration step failed; the message names the secret and the cause."""
