"""Filters that drop candidate secrets which are placeholders, references or known non-secrets.

Every check looks at one candidate: its value, the variable name it is assigned to when the
rule captures one, and at most a few dozen bytes before it. The only check that reads the
whole buffer, the search for encrypted-file markers, runs once per buffer and is memoized.

The placeholder heuristics follow those of detect-secrets 1.5 (`detect_secrets.filters.heuristic`:
sequential strings, UUIDs, templated values, indirect references). They are written here
rather than imported because importing `detect_secrets` loads its whole scanning core, which
costs about 0.19 s of start-up and would slow every pre-commit run.
"""

from __future__ import annotations

import base64
import binascii
import functools
import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import unquote

import hyperscan

from leakhunt.database import literal_expression
from leakhunt.rules import Rule
from leakhunt.secret_names import NAME_WORD, SecretKind, secret_name_kind

# Values that stand in for a secret in docs, templates and masked output.
PLACEHOLDER_WORDS = frozenset(
    """
    changeme change_me changeit password passwd pass pwd pw secret token apikey api_key example
    sample dummy fake test testing todo fixme redacted removed hidden none null nil undefined
    empty default placeholder mypassword yourpassword your_password your_token your_api_key
    notasecret not_a_secret secretkey secret_key xxx insert_here replace_me replaceme
    password123 password1 passw0rd p@ssw0rd p@ssword pa$$word pa55word p4ssw0rd admin123
    test123 secret123 admin root letmein qwerty foobar foo bar baz abc123 s3cr3t s3cret
    user username guest hunter2 mysecret mypass supersecret topsecret x-oauth-basic
    access_token auth_token api_token client_secret private_key true false yes no tiger
    """.split()
)
PLACEHOLDER_PATTERN = re.compile(
    r"""
    ^\W*(?:x{3,}|\*{3,}|\.{3,}|-{3,}|_{3,}|\#{3,}|0{6,}|1{6,}|9{6,}|•{3,})\W*$  # a masked value
    | x{4,} | X{4,} | \*{3,} | •{3,}             # a partly masked value
    | ^(.)\1{2,}$                               # one character repeated
    | ^<[^<>]*>$ | ^<[A-Za-z_][A-Za-z0-9_ .-]*$ | <[A-Za-z_ -]*(?:key|token|secret|password|pass)[A-Za-z_ -]*> | &lt;.*&gt;  # <your-api-key>
    | \$\{[^}]*\} | \{\{[^}]*\}\} | \$\([^)]*\) | %\([^)]*\)s | \(\([^)]*\)\) | \#\{  # ${VAR}, {{ var }}
    | ^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$ | ^\$\d+$  # $VAR, $1
    | ^%[A-Za-z_]+%$ | ^@@?[A-Za-z_.]+@@?$ | ^\[[A-Za-z_ -]+\]$ | ^\{[A-Za-z_][\w.\[\]'" -]*\}$
    | ^\{\d*\}$ | ^%[sd]$                       # format placeholders: {0}, {}, %s
    | \.\.\.$ | …                                # a value cut short in docs or logs
    | (?i:^(?:your|my|insert|replace|enter|put|add)[-_ ]?(?:.*[-_ ])?(?:key|token|secret|password|pass|here|id)s?$)
    | (?i:example|placeholder|redacted|dummy|changeme|notreal|not[-_]?real|fake[-_]?key)
    """,
    re.VERBOSE,
)
INDIRECT_REFERENCE = re.compile(
    r"""
    ^(?:process\.env|import\.meta\.env|os\.environ|os\.getenv|getenv|env\(|ENV\[|ENV\.fetch|System\.getenv
       |Deno\.env|config\.|settings\.|secrets\.|vars\.|@Microsoft\.KeyVault\()
    | ^/(?:[A-Za-z0-9_.@-]+/){1,}[A-Za-z0-9_.@-]+$  # a parameter-store or file path
    | ^(?:\.{1,2}|~)/[A-Za-z0-9_.@/-]+$  # a relative path
    | ^(?:arn|ssm|vault|secretsmanager|op|awssm|gcpsm|azkv|sm|projects|ref\+[a-z]+):  # a secret-manager reference
    """,
    re.VERBOSE,
)
# A value that starts with a shell, PHP or Perl variable: `$password`, `${HOME}x`, `$(cat f)`.
VARIABLE_START = re.compile(r"^\$[A-Za-z_{(]")
# An unquoted value that is code, not a literal: a dotted name, a call, an index, or an
# assignment of one name to another such as the default in `token: Token=None`.
# Also a name that a unary operator starts (`+dollarToken`, minified `!0`) or a colon ends, as in
# `if password1 != password2:`.
UNQUOTED_EXPRESSION = re.compile(
    r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$|[(\[{]|^[A-Za-z_][\w.]*=[A-Za-z_][\w.]*$"
    r"|^[+!~][\w$]|^[A-Za-z_$][\w$]*:$"
)
# A quoted value that is itself an identifier naming a secret, such as a form field "new_password2".
SECRET_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*_\w*$|^\w*\d$")
SECRET_WORDS = re.compile(r"(?i)pass(?:word|wd)?|secret|token")
# Values that look random but are not credentials: identifiers, digests and encrypted payloads.
KNOWN_NON_SECRETS = re.compile(
    r"""
    ^sha(?:1|256|384|512)-[A-Za-z0-9+/]+={0,2}$  # subresource or lock-file integrity hash
    | ^(?:sha1|sha256|sha512|md5):[0-9a-fA-F]{16,}$
    | ^ENC\[(?:AES256_GCM|PKCS7)  # SOPS or hiera-eyaml
    | ^AgA[A-Za-z0-9+/]{200,}={0,2}$ | ^Ag[BCDEFGHIJKLMNOPQRSTUVWXYZ][A-Za-z0-9+/]{300,}={0,2}$  # SealedSecret
    | ^\$ANSIBLE_VAULT  # Ansible Vault
    | ^data:image/  # base64 image
    | ^-----BEGIN\ PGP\ MESSAGE  # PGP armor of an encrypted message
    | ^\{[A-Za-z0-9+/]{20,}={0,2}\}$  # a Maven settings.xml password encrypted with the master password
    | ^\$(?:1|2[abxy]?|5|6|7|8|9|y|gy|apr1|argon2(?:id|i|d)?|pbkdf2[-_a-z0-9]*|scrypt|bcrypt)\$  # password hash
    | ^pk\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$  # a Mapbox public token, meant to ship in web pages
    | ^pk_(?:live|test)_[A-Za-z0-9]{20,}$  # a Stripe publishable key, likewise public
    """,
    re.VERBOSE,
)
# A UUID is random, but in a name = value pair it is far more often an identifier (a client,
# tenant, credentials or key id) than a secret. In an HTTP header named Authorization or
# X-Api-Key the protocol makes it a credential, so header rules keep UUIDs, and so does a
# name that ends in "API key" or "API token", as services such as Heroku issue UUID keys.
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
API_KEY_NAME = re.compile(r"api[_.-]?(?:key|token)$", re.IGNORECASE)
ENCRYPTED_FILE_MARKERS = (
    b"kind: SealedSecret",
    b'"kind": "SealedSecret"',
    b"\nsops:\n",
    b'"sops": {',
    b"-----BEGIN PGP MESSAGE-----",
)
# Names around a 40- or 64-digit hex value that make it a git object id or a digest.
HASH_CONTEXT = re.compile(rb"(?i)commit|sha|\brev|hash|digest|checksum|object|\btree|parent|etag|integrity")
HASH_CONTEXT_WINDOW = 48
# An anonymous FTP login takes any password, by convention an e-mail address such as `guest@`.
ANONYMOUS_USER = re.compile(rb"""(?i)(?:user|login)[\w-]{0,20}["']?\s{0,3}(?:=>|=|:)\s{0,3}["']?anonymous\b""")
ANONYMOUS_WINDOW = 120

# The characters of a variable name, read backwards from where a rule's match starts.
NAME_HEAD_REVERSED = re.compile(rb"[\w.-]{0,64}")
NAME_LOOKBACK = 64
# Tails of values that name a file rather than hold a secret.
FILE_NAME = re.compile(
    r"(?i)^[\w.-]+\.(?:txt|json|ya?ml|pem|key|p12|pfx|crt|cer|der|jks|keystore|env|ini|conf|cfg|properties|xml"
    r"|toml|gpg|asc|enc|pub|ppk|kdbx|sh|py|js)$"
)
# Parts of identifiers: words in any case style, acronyms, numbers, short tags such as v2 or
# rc0, and two words joined by a number such as symbol2label.
IDENTIFIER_SEGMENT = re.compile(
    r"[a-z]+[0-9]*|(?:[A-Z]?[a-z]{2,})+[0-9]*|[A-Z]+[0-9]*|[0-9]+|[a-z]{1,4}[0-9]{1,4}[a-z]{0,2}|[a-z]{3,}[0-9]{1,2}[a-z]{3,}"
)
SEGMENT_SEPARATORS = re.compile(r"[-_.:/]+")
HEX_VALUE = re.compile(r"[0-9a-fA-F]+")
BASE64_VALUE = re.compile(r"(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
NUMBER_LIKE = re.compile(r"[\d.,:_+-]+")
# Punctuation that labels and translations carry around a word (`Password:`, `(Passwort)`).
# Symbols such as $ # @ % stay, because a chosen password often ends or starts with one.
SENTENCE_PUNCTUATION = "!\"'()*,./:;<>?[]`{}-_ "
WORD_SEPARATORS = re.compile(r"[-_.\s]")
# A CSS selector or page anchor: `#add-password`, `.token-field`.
SELECTOR = re.compile(r"^[#.][A-Za-z][\w-]*$")
ASCENDING_RUN = 5
# Groups between separators, as in `xoxp-1234-1234-1234-…`: the same counting group three times is typed.
TOKEN_GROUP = re.compile(r"[A-Za-z0-9]{3,}")
REPEATED_GROUP_COUNT = 3
# Sample credentials printed in vendor documentation, which copies of the docs carry verbatim.
# The nuget.config reference shows the first two as clear-text package source passwords. The
# AWS IAM API reference shows the next three in its ChangePassword and CreateLoginProfile
# examples, and the DataSync reference shows the SAS signature, which botocore installs ship.
# The signature is stored percent-decoded, because secrets are compared after percent-decoding.
DOCUMENTED_SAMPLES = frozenset({
    "33f!!lloppa",
    "hal+9ooo_da!sY",
    "]35d/{pB9Fo9wJ",
    "3s0K_;xh4~8XXI",
    "h]6EszR}vJ*m",
    "aBBKDWQvyuVcTPH9EBp/XTI9E//mq171+ZU178wcwqU=",
})
# Oracle's demonstration schema logs in as scott with the password tiger. The documentation of
# SQLAlchemy and of many database drivers uses that login, sometimes with a suffix.
DEMO_LOGIN_USER = "scott"
DEMO_LOGIN_PASSWORD_PREFIX = "tiger"
CAMEL_CASE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
CAPITALIZED_WORD = re.compile(r"[A-Z][a-z]{2,}")
# An index or a call inside a value, as in `Jobs[-1].JobId` or `getToken()`: code, not a token.
CODE_EXPRESSION = re.compile(r"[A-Za-z_]\w*\[-?\w*\]|[A-Za-z_]\w+\([^()]*\)")
# Words that make a value containing them an example: `changeme-in-prod`, `not-a-secret-key`.
PLACEHOLDER_INFIXES = ("changeme", "example", "sample")
TOKEN_PLACEHOLDER_INFIXES = ("password", "passwort", "passwd", "secret")
TRAILING_DIGITS_AND_SYMBOLS = "0123456789!@#$%^&*._-?"
LEETSPEAK = str.maketrans({"@": "a", "4": "a", "5": "s", "$": "s", "0": "o", "1": "i", "3": "e", "7": "t"})


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


def ascending_run(characters: str) -> int:
    """Return the longest run of characters that each count up by one from the previous one."""
    longest = run = 1 if characters else 0
    for previous, current in itertools.pairwise(characters):
        run = run + 1 if ord(current) == ord(previous) + 1 else 1
        longest = max(longest, run)
    return longest


def is_made_up_sequence(text: str) -> bool:
    """Return True for values typed as a sequence: `abcdefg12346` or `a1b2c3d4e5f6g7h8`.

    A run of five counting characters, or letters and digits that both count when read apart,
    almost never occurs in a random token.
    """
    lowered = text.lower()
    if ascending_run(lowered) >= ASCENDING_RUN:
        return True
    letters = "".join(character for character in lowered if character.isalpha())
    digits = "".join(character for character in lowered if character.isdigit())
    return ascending_run(letters) >= ASCENDING_RUN + 1 and ascending_run(digits) >= ASCENDING_RUN - 1


def has_repeated_group(text: str) -> bool:
    """Return True when one counting group such as `1234` or `abc` occurs three times, as in `1234-1234-1234`."""
    groups = Counter(TOKEN_GROUP.findall(text))
    return any(
        count >= REPEATED_GROUP_COUNT and ascending_run(group.lower()) == len(group) for group, count in groups.items()
    )


def is_mixed_case_hex(text: str) -> bool:
    """Return True for hex digits in both cases, as in `acdeFf05…`: hex encoders write one case.

    A random value over a wider alphabet uses only hex letters with odds below 1e-9 at 20
    characters, so such a value is a hex string someone edited by hand.
    """
    letters = [character for character in text if character.isalpha()]
    return (
        HEX_VALUE.fullmatch(text) is not None
        and any(character.isupper() for character in letters)
        and any(character.islower() for character in letters)
    )


def is_placeholder(secret: str) -> bool:
    """Return True for masked values, template variables, stand-in words and typed sequences."""
    lowered = secret.lower().strip("'\"` <>[](){}")
    if lowered in PLACEHOLDER_WORDS:
        return True
    if PLACEHOLDER_PATTERN.search(secret):
        return True
    return is_sequential(lowered)


def is_repetitive(secret: str) -> bool:
    """Return True when one character makes up most of the value, as in `aaaaaaab`."""
    if len(secret) < 8:
        return False
    most_common = max(map(secret.count, set(secret)))
    return most_common / len(secret) > 0.6


@functools.lru_cache(maxsize=1)
def is_encrypted_file(data: bytes) -> bool:
    """Return True when the buffer is a SealedSecret, a SOPS file or a PGP-encrypted message.

    The cache keeps the last buffer, so all candidates of one buffer cost one search. CPython
    stores the hash of a bytes object in the object, so looking the buffer up again costs no rehash.
    One Hyperscan pass finds the markers in about 1 ms per 2 MiB of source, where five `in`
    searches took 3.6 ms.
    """
    found: list[int] = []
    encrypted_marker_database().scan(data, match_event_handler=lambda marker, *_: found.append(marker))
    return bool(found)


@functools.cache
def encrypted_marker_database() -> hyperscan.Database:
    """Compile ENCRYPTED_FILE_MARKERS as literals, which takes under a millisecond, once per process."""
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=[literal_expression(marker) for marker in ENCRYPTED_FILE_MARKERS],
        ids=list(range(len(ENCRYPTED_FILE_MARKERS))),
        flags=[hyperscan.HS_FLAG_SINGLEMATCH] * len(ENCRYPTED_FILE_MARKERS),
    )
    return database


@dataclass(frozen=True)
class CandidateContext:
    """Facts that a generic rule's match gives about its value besides the value itself.

    Rules pass it through named groups: `name` (the variable name), `header` (an HTTP header
    name, which makes the value a credential by protocol), `q` (the opening quote, empty for
    an unquoted value) and `user` (the user name next to a password).
    """

    name: str | None
    quoted: bool
    user: str | None
    start: int
    in_header: bool = False

    @classmethod
    def of(cls, rule: Rule, data: bytes, match: re.Match[bytes] | None) -> CandidateContext:
        if match is None:
            return cls(name=None, quoted=True, user=None, start=0)
        groups = rule.regex.groupindex
        name = full_name(data, match, "name") if "name" in groups else None
        if "header" in groups:
            name = decoded_group(match, "header")
        return cls(
            name=name,
            quoted=bool(match.group("q")) if "q" in groups else True,
            user=decoded_group(match, "user") if "user" in groups else None,
            start=match.start(rule.secret_group),
            in_header="header" in groups,
        )

    def secret_kind(self, rule: Rule) -> SecretKind | None:
        """Return the kind of secret the name announces, or, without a name, the one the rule's group names.

        A rule whose secret group is named `password` finds passwords by syntax (URL user
        information, `curl -u`); any other unnamed value must look like a token.
        """
        if self.name is not None:
            return secret_name_kind(self.name)
        return "password" if rule.secret_group == "password" else "token"


def decoded_group(match: re.Match[bytes], group: str) -> str | None:
    value = match.group(group)
    return None if value is None else value.decode("utf-8", "replace")


def full_name(data: bytes, match: re.Match[bytes], group: str) -> str:
    """Return the name group, extended back over the name characters just before it.

    Rules start matching at the secret word, so `DB_PASSWORD` is matched from `PASSWORD`. The
    extension recovers the `DB_` prefix without the pattern scanning every word character.
    """
    start = match.start(group)
    reversed_window = data[max(0, start - NAME_LOOKBACK) : start][::-1]
    head = NAME_HEAD_REVERSED.match(reversed_window).group(0)[::-1]  # type: ignore[union-attr]
    return (head + (match.group(group) or b"")).decode("utf-8", "replace")


def is_word(value: str) -> bool:
    """Return True for values made of letters only, ignoring separators and surrounding punctuation.

    Such values are words, translations or identifiers (`Passwort`, `__PASSWORD__`,
    `add-password`), not passwords someone chose.
    """
    core = value.strip(SENTENCE_PUNCTUATION)
    return bool(core) and WORD_SEPARATORS.sub("", core).isalpha()


def is_identifier(value: str) -> bool:
    """Return True for values such as `my-secrets-manager-secret` or `DOC_Vector_5_32`.

    Every part between separators is a word in some case style, an acronym, a number, or a
    short tag such as v2 or rc0.
    """
    segments = [segment for segment in SEGMENT_SEPARATORS.split(value) if segment]
    return bool(segments) and all(IDENTIFIER_SEGMENT.fullmatch(segment) for segment in segments)


def is_camel_case_name(value: str, min_word_length: float = 3.5) -> bool:
    """Return True for names such as `AWSAccessKeyId`: capitalized words, 3.5 characters each on average.

    Random tokens switch case or between letters and digits every two characters or so, and
    rarely hold two capitalized runs of three letters.
    """
    if not CAMEL_CASE_NAME.fullmatch(value) or len(CAPITALIZED_WORD.findall(value)) < 2:
        return False
    words = NAME_WORD.findall(value)
    return len(value) / len(words) >= min_word_length


def is_phrase(value: str) -> bool:
    """Return True for sentences written as one word, as in `PassWordMustBeAtLeast6Chars.`."""
    core = value.strip(SENTENCE_PUNCTUATION).rstrip(TRAILING_DIGITS_AND_SYMBOLS)
    return len(CAPITALIZED_WORD.findall(core)) >= 3 and is_camel_case_name(core, min_word_length=3.0)


def contains_placeholder_word(value: str, kind: SecretKind) -> bool:
    """Return True when a value spells a placeholder, also in leetspeak or with a suffix: `P@55w0rd!`.

    Any value containing `example` or `changeme` is one. A token containing `password` or
    `secret` is one too; a password may contain those words (`CleartextPassword1`), because
    people do choose such passwords.
    """
    lowered = value.lower()
    infixes = PLACEHOLDER_INFIXES if kind == "password" else PLACEHOLDER_INFIXES + TOKEN_PLACEHOLDER_INFIXES
    if any(word in lowered for word in infixes):
        return True
    plain = lowered.rstrip(TRAILING_DIGITS_AND_SYMBOLS).translate(LEETSPEAK)
    return plain in PLACEHOLDER_WORDS


def token_entropy_floor(value: str) -> float:
    """Return the entropy a random token of this length and alphabet almost always exceeds.

    The floors sit near the 0.5th percentile of uniformly random strings of the same length:
    hex strings are capped at 3.0 bits per character, other alphabets at 3.5.
    """
    length_bits = math.log2(len(value))
    if HEX_VALUE.fullmatch(value):
        return min(3.0, 0.65 * length_bits)
    return min(3.5, 0.75 * length_bits)


def decoded_base64_text(value: str) -> str | None:
    """Return the text a base64 value decodes to, or None if it is not base64 of printable text."""
    if len(value) < 8 or not BASE64_VALUE.fullmatch(value):
        return None
    try:
        text = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return text if text.isprintable() else None


def password_rejection(value: str, named: bool) -> str | None:
    """Check a value that a name or a syntax marks as a password.

    A value found by its variable name must not be a word, because forms and translation files
    assign labels such as `Passwort` to keys named `password`. A value found by a syntax that
    only carries passwords (a URL's userinfo, `curl -u`) may be a word.
    """
    if len(value) < 3 or value.isdigit():
        return "too short or a number"
    if not named:
        return None
    if len(value) < 6:
        return "too short"
    if is_word(value) or SELECTOR.match(value):
        return "a word"
    if is_phrase(value):
        return "a phrase"
    if NUMBER_LIKE.fullmatch(value):
        return "a number"
    if FILE_NAME.match(value):
        return "a file name"
    if shannon_entropy(value) < 2.0:
        return "low entropy"
    return None


def token_rejection(value: str, context: CandidateContext) -> str | None:
    """Check a value that a name marks as a token, key or secret: it must look random.

    Hex values need 20 digits, because 16-digit hex strings are mostly ids and digests in
    data files; in an HTTP credential header 16 are enough.
    """
    if len(value) < 10:
        return "too short"
    is_hex = HEX_VALUE.fullmatch(value) is not None
    if is_hex and len(value) < (16 if context.in_header else 20):
        return "too short for hex"
    if not is_hex and (is_identifier(value) or is_camel_case_name(value) or CODE_EXPRESSION.search(value)):
        return "an identifier"
    if FILE_NAME.match(value):
        return "a file name"
    if is_made_up_sequence(value) or has_repeated_group(value):
        return "a made-up sequence"
    if len(value) >= 20 and is_mixed_case_hex(value):
        return "hex in mixed case"
    if shannon_entropy(value) < token_entropy_floor(value):
        return "low entropy"
    return None


def is_in_hash_context(value: str, data: bytes, start: int) -> bool:
    """Return True for a 40- or 64-digit hex value after a commit, digest or hash word on its line."""
    if len(value) not in (40, 64) or not HEX_VALUE.fullmatch(value):
        return False
    window_start = max(0, start - HASH_CONTEXT_WINDOW)
    newline = data.rfind(b"\n", window_start, start)
    if newline >= 0:
        window_start = newline + 1
    return HASH_CONTEXT.search(data, window_start, start) is not None


def is_anonymous_login(data: bytes, start: int) -> bool:
    """Return True when a user or login name is set to `anonymous` just before a password."""
    return ANONYMOUS_USER.search(data, max(0, start - ANONYMOUS_WINDOW), start) is not None


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

    def rejection(self, rule: Rule, secret: str, data: bytes, match: re.Match[bytes] | None = None) -> str | None:
        """Return why `secret` is not reported, or None when it is a finding.

        `match` is the rule's match that contains the secret; generic rules read the variable name,
        the quoting and the user name from it.
        """
        if self.allowlist.allows(secret):
            return "allowlisted"
        if not rule.generic:
            return format_rejection(rule, secret)

        context = CandidateContext.of(rule, data, match)
        kind = context.secret_kind(rule)
        if kind is None:
            return "not a secret name"
        return format_rejection(rule, secret) or generic_rejection(secret, data, context, kind)


def format_rejection(rule: Rule, secret: str) -> str | None:
    """Apply the checks that every rule needs: its entropy floor and placeholders."""
    if rule.entropy is not None and shannon_entropy(secret) < rule.entropy:
        return "low entropy"
    if is_placeholder(secret) or is_repetitive(secret):
        return "placeholder"
    if unquote(secret) in DOCUMENTED_SAMPLES:
        return "documented sample"
    return None


def generic_rejection(secret: str, data: bytes, context: CandidateContext, kind: SecretKind) -> str | None:
    """Apply the checks that only values found by name or context, not by format, need."""
    reason = (
        known_value_rejection(secret, context)
        or reference_rejection(secret, context)
        or stand_in_rejection(secret, data, context, kind)
    )
    if reason is not None:
        return reason
    if kind == "password":
        return password_rejection(secret, named=context.name is not None)
    return token_rejection(secret, context)


def reference_rejection(secret: str, context: CandidateContext) -> str | None:
    """Reject values that point at a secret instead of holding one: variables, paths, code, URLs."""
    if INDIRECT_REFERENCE.search(secret):
        return "reference"
    if VARIABLE_START.match(secret):
        return "variable"
    if not context.quoted and UNQUOTED_EXPRESSION.search(secret):
        return "expression"
    if "://" in secret:
        return "url"
    return None


def known_value_rejection(secret: str, context: CandidateContext) -> str | None:
    """Reject values whose form is known not to be a credential: digests, ids, encrypted data."""
    if KNOWN_NON_SECRETS.search(secret):
        return "known non-secret"
    if UUID.match(secret) and not context.in_header and not API_KEY_NAME.search(context.name or ""):
        return "uuid"
    return None


def stand_in_rejection(secret: str, data: bytes, context: CandidateContext, kind: SecretKind) -> str | None:
    """Reject values that only stand in for a secret, or sit where no plain secret can be."""
    if context.user is not None and context.user == secret:
        return "same as the user name"
    if context.user == DEMO_LOGIN_USER and secret.lower().startswith(DEMO_LOGIN_PASSWORD_PREFIX):
        return "documented sample"
    if kind == "password" and is_anonymous_login(data, context.start):
        return "anonymous login"
    if contains_placeholder_word(secret, kind):
        return "placeholder"
    if SECRET_FIELD_NAME.match(secret) and SECRET_WORDS.search(secret) and not any(c.isdigit() for c in secret[:-1]):
        return "field name"
    decoded = decoded_base64_text(secret)
    if decoded is not None and (is_placeholder(decoded) or not decoded.strip()):
        return "base64 of a placeholder"
    if is_in_hash_context(secret, data, context.start):
        return "hash"
    if is_encrypted_file(data):
        return "encrypted file"
    return None
