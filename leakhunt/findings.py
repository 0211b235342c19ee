"""Findings: confirmed matches with provenance, a line-independent fingerprint and redaction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

FINGERPRINT_SALT = b"leakhunt-fingerprint-v1\x00"
REDACTED = "*****"


@dataclass(frozen=True)
class Provenance:
    """The origin of a blob: a path, and for history scans the commit that introduced it.

    A path of the form `bundle.zip!pkg/settings.py` names a member of an archive. `cell` and
    `cell_output` are the 1-based cell and output numbers of a Jupyter notebook blob, whose
    line numbers count from the start of that cell source or output. `decoded` names the
    encodings that were undone to reach the secret, outermost first, such as `base64` or
    `percent+base64`, and the line and column are then those of the encoded text.
    """

    path: str
    commit: str | None = None
    author: str | None = None
    email: str | None = None
    date: str | None = None
    commits: tuple[str, ...] = ()
    cell: int | None = None
    cell_output: int | None = None
    decoded: str | None = None


@dataclass(frozen=True)
class Finding:
    """A secret that a rule found and the filters kept."""

    rule_id: str
    rule_name: str
    confidence: str
    provenance: Provenance
    line: int
    column: int
    secret: str
    fingerprint: str
    redacted: bool = False

    @property
    def path(self) -> str:
        return self.provenance.path

    def with_secret_redacted(self) -> Finding:
        return replace(self, secret=redact(self.secret), redacted=True)


def secret_hash(rule_id: str, secret: str) -> str:
    """Return a salted SHA-256 of the secret, truncated to 64 bits, for fingerprints and baselines."""
    digest = hashlib.sha256(FINGERPRINT_SALT + rule_id.encode("utf-8") + b"\x00" + secret.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:16]


def fingerprint(rule_id: str, path: str, secret: str) -> str:
    """Return `rule:path:hash`; it does not change when lines move, only when the secret does."""
    return f"{rule_id}:{path}:{secret_hash(rule_id, secret)}"


def redact(secret: str) -> str:
    """Keep the first four characters of secrets of 16 characters or more, hide the rest."""
    if len(secret) >= 16:
        return secret[:4] + REDACTED
    return REDACTED
