"""Filters that drop candidate secrets which are placeholders, references or known non-secrets.

The heuristics follow those of detect-secrets 1.5 (`detect_secrets.filters.heuristic`:
sequential strings, UUIDs, templated values, indirect references). They are written here
rather than imported because importing `detect_secrets` loads its whole scanning core, which
costs about 0.19 s of start-up and would slow every pre-commit run.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from leakhunt.rules import Rule

# Values that stand in for a secret in docs, templates and masked output.
PLACEHOLDER_WORDS = frozenset(
    """
    changeme change_me changeit password passwd secret token apikey api_key example sample
    dummy fake test testing todo fixme redacted removed hidden none null undefined empty
    default placeholder mypassword yourpassword your_password your_token your_api_key
    notasecret not_a_secret secretkey secret_key xxx insert_here replace_me replaceme
    password123 admin root letmein qwerty foobar foo bar baz abc123 s3cr3t
    """.split()
)
PLACEHOLDER_PATTERN = re.compile(
    r"""
    ^\W*(?:x{3,}|\*{3,}|\.{3,}|-{3,}|_{3,}|\#{3,}|0{6,}|1{6,}|9{6,}|•{3,})\W*$  # a masked value
    | x{4,} | X{4,} | \*{3,} | •{3,}             # a partly masked value
    | ^<[^<>]*>$ | <[A-Za-z_ -]*(?:key|token|secret|password|pass)[A-Za-z_ -]*>  # <your-api-key>
    | \$\{[^}]*\} | \{\{[^}]*\}\} | \$\([^)]*\) | %\([^)]*\)s | ^\$[A-Za-z_][A-Za-z0-9_]*$  # ${VAR}, {{ var }}
    | ^%[A-Za-z_]+%$ | ^@[A-Za-z_.]+@$ | ^\#\{[^}]*\}$ | ^\[[A-Z_]+\]$
    | (?i:^(?:your|my|insert|replace|enter|put|add)[-_ ]?(?:.*[-_ ])?(?:key|token|secret|password|pass|here|id)s?$)
    | (?i:example|placeholder|redacted|dummy|changeme|notreal|not[-_]?real|fake[-_]?key)
    """,
    re.VERBOSE,
)
INDIRECT_REFERENCE = re.compile(
    r"""
    ^(?:process\.env|os\.environ|os\.getenv|getenv|env\(|ENV\[|System\.getenv|config\.|settings\.|secrets\.|vars\.)
    | ^/(?:[A-Za-z0-9_.-]+/){1,}[A-Za-z0-9_.-]+$  # a parameter-store or file path
    | ^(?:arn|ssm|vault|secretsmanager|op|awssm|gcpsm|azkv|sm|projects):  # a secret-manager reference
    """,
    re.VERBOSE,
)
# Values that look random but are not credentials: identifiers, digests and encrypted payloads.
KNOWN_NON_SECRETS = re.compile(
    r"""
    ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$  # UUID
    | ^sha(?:1|256|384|512)-[A-Za-z0-9+/]+={0,2}$  # subresource or lock-file integrity hash
    | ^(?:sha1|sha256|sha512|md5):[0-9a-fA-F]{16,}$
    | ^ENC\[AES256_GCM,  # SOPS
    | ^AgA[A-Za-z0-9+/]{200,}={0,2}$ | ^Ag[BCDEFGHIJKLMNOPQRSTUVWXYZ][A-Za-z0-9+/]{300,}={0,2}$  # SealedSecret
    | ^\$ANSIBLE_VAULT  # Ansible Vault
    | ^data:image/  # base64 image
    | ^\$(?:2[abxy]?|5|6|argon2(?:id|i|d)?|pbkdf2[-_a-z0-9]*|scrypt|bcrypt)\$  # password hash
    """,
    re.VERBOSE,
)
ENCRYPTED_FILE_MARKERS = (b"kind: SealedSecret", b'"kind": "SealedSecret"', b"sops:\n", b'"sops": {', b"$ANSIBLE_VAULT")


def shannon_entropy(text: str) -> float:
    """Return the Shannon entropy of `text` in bits per character."""
    if not text:
        return 0.0
    length = len(text)
    return -sum(count / length * math.log2(count / length) for count in Counter(text).values())


def is_sequential(text: str) -> bool:
    """Return True for runs such as `abcdefgh` or `12345678` (after detect-secrets)."""
    lowered = text.lower()
    for alphabet in ("abcdefghijklmnopqrstuvwxyz0123456789", "0123456789abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm"):
        doubled = alphabet * 2
        if len(lowered) >= 6 and lowered in doubled:
            return True
    return False


def is_placeholder(secret: str) -> bool:
    lowered = secret.lower().strip("'\"` ")
    if lowered in PLACEHOLDER_WORDS:
        return True
    if PLACEHOLDER_PATTERN.search(secret):
        return True
    return is_sequential(lowered)


def is_repetitive(secret: str) -> bool:
    """Return True when one character makes up most of the value, as in `aaaaaaab`."""
    if len(secret) < 8:
        return False
    most_common = Counter(secret).most_common(1)[0][1]
    return most_common / len(secret) > 0.6


@dataclass(frozen=True)
class Allowlist:
    """Values and patterns that the project has declared not to be secrets."""

    values: frozenset[str] = frozenset()
    patterns: tuple[re.Pattern[str], ...] = field(default=())

    def allows(self, secret: str) -> bool:
        if secret in self.values:
            return True
        return any(pattern.search(secret) for pattern in self.patterns)


@dataclass(frozen=True)
class SecretFilter:
    """Decides whether a candidate that a rule matched is reported."""

    allowlist: Allowlist = Allowlist()

    def rejection(self, rule: Rule, secret: str, data: bytes) -> str | None:
        """Return why `secret` is not reported, or None when it is a finding."""
        if self.allowlist.allows(secret):
            return "allowlisted"
        if rule.entropy is not None and shannon_entropy(secret) < rule.entropy:
            return "low entropy"
        if is_placeholder(secret) or is_repetitive(secret):
            return "placeholder"
        if not rule.generic:
            return None
        return generic_rejection(secret, data)


def generic_rejection(secret: str, data: bytes) -> str | None:
    """Apply the checks that only values found by name, not by format, need."""
    if INDIRECT_REFERENCE.search(secret):
        return "reference"
    if KNOWN_NON_SECRETS.search(secret):
        return "known non-secret"
    if any(marker in data for marker in ENCRYPTED_FILE_MARKERS):
        return "encrypted file"
    return None
