"""Classification of variable names by the secret they announce: a password, a token, or none.

A name is split into lowercase words at case changes, digits and punctuation, so `DB_PASSWORD`,
`dbPassword` and `db.password` all read as ["db", "password"]. The last secret word decides
the kind, and the words around it can make the name describe something else: `password_hint`,
`token_url` and `public_key` name no secret.
"""

from __future__ import annotations

import re
from typing import Literal

SecretKind = Literal["password", "token"]

NAME_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
PASSWORD_WORDS = frozenset({"password", "passwd", "passwort", "pwd", "pass", "passphrase", "passcode", "pw", "pword"})
SECRET_WORDS = frozenset(
    """
    secret token credential credentials creds cred auth authorization oauth apikey
    apitoken apisecret accesskey privatekey secretkey authtoken accesstoken refreshtoken
    clientsecret appsecret masterkey signingkey encryptionkey appkey sessionkey
    """.split()
)
# Words that make a following "key" a secret: `api_key`, `signingKey`.
KEY_QUALIFIERS = frozenset(
    {"api", "access", "private", "secret", "signing", "encryption", "master", "app", "client", "session",
     "shared", "auth", "hmac", "jwt", "crypto", "cipher"}
)
PASSWORD_SUFFIXES = ("password", "passwd", "pwd", "passphrase")
SECRET_SUFFIXES = ("secret", "token", "apikey", "accesskey", "secretkey", "privatekey", "credentials", "credential")
# Prefixes that make a word ending in "pass" a password: `dbpass`, `rootpass`; unlike `bypass`.
PASS_PREFIXES = frozenset(
    {"db", "my", "root", "admin", "user", "smtp", "mail", "ftp", "app", "sql", "mysql", "pg", "redis", "ldap",
     "bind", "sys", "ssh", "web", "api", "svc", "service", "proxy", "vnc", "rdp", "wifi", "key"}
)
# Single words that end like a secret but name something public or short-lived.
PUBLIC_COMPOUNDS = frozenset(
    {"csrftoken", "xsrftoken", "nexttoken", "pagetoken", "synctoken", "cancellationtoken", "continuationtoken",
     "publictoken", "idempotencytoken", "resumetoken", "publickey"}
)
# Words that may follow the secret word without changing what the value is: `secret_key_base`,
# `password_prod`, `apiKeyValue`. Any other word after it (`password_hint`, `token_url`,
# `secretName`) names something else.
SECRET_NAME_TAILS = frozenset(
    """
    key keys value val string str b64 base64 hex raw plain plaintext cleartext data base bytes encoded
    secret secrets token pass password prod production dev development stage staging live local default
    main primary secondary old new current override
    """.split()
)
# Words before the secret word that make the name describe something that is not a secret.
PUBLIC_PREFIXES = frozenset(
    """
    public publishable csrf xsrf authenticity next page continuation cancellation sync cursor forgot
    reset change add edit hint no without is has show hide toggle min max hashed hash salt encrypted
    """.split()
)

def name_words(name: str) -> list[str]:
    """Split a variable name into lowercase words at case changes, digits and punctuation."""
    return [word.lower() for word in NAME_WORD.findall(name)]


def word_kind(word: str, previous: str | None) -> SecretKind | None:
    """Return what one word of a name says about the value: a password, a token, or nothing."""
    if word in PASSWORD_WORDS:
        return "password"
    if word in SECRET_WORDS:
        return "token"
    if word in ("key", "keys") and previous in KEY_QUALIFIERS:
        return "token"
    if word in PUBLIC_COMPOUNDS:
        return None
    if word.endswith(PASSWORD_SUFFIXES) or (word.endswith("pass") and word[:-4] in PASS_PREFIXES):
        return "password"
    if word.endswith(SECRET_SUFFIXES):
        return "token"
    return None


def secret_name_kind(name: str) -> SecretKind | None:
    """Return the kind of secret a variable name announces, or None when it names no secret.

    The last secret word decides. Words after it must only qualify the value (`SECRET_KEY_BASE`),
    and no word before it may make the name public (`public_key`, `csrf-token`).
    """
    words = name_words(name)
    kind: SecretKind | None = None
    position = -1
    for index, word in enumerate(words):
        found = word_kind(word, words[index - 1] if index else None)
        if found is not None:
            kind, position = found, index
    if kind is None:
        return None
    if any(word not in SECRET_NAME_TAILS and not word.isdigit() for word in words[position + 1 :]):
        return None
    if any(word in PUBLIC_PREFIXES for word in words[:position]):
        return None
    return kind
