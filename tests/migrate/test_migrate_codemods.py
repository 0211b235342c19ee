"""Before/after tests of each codemod: one rewrite kind each, every other byte kept."""

from __future__ import annotations

import pytest

from leakhunt.errors import MigrationError
from leakhunt.migrate.codemods import REVIEW_CODEMODS, RewriteTarget, rewrite_source

HELPER = "app._leakhunt_secrets"
IMPORT = "from app._leakhunt_secrets import get_secret\n"
# libcst's AddImportsVisitor ends a new import block with a blank line.
IMPORTED = IMPORT + "\n"


def rewrite(source: str, *targets: RewriteTarget, review: bool = False) -> str:
    codemods = REVIEW_CODEMODS if review else None
    arguments = (source.encode(), "app/settings.py", list(targets), HELPER) + ((codemods,) if codemods else ())
    result = rewrite_source(*arguments)
    assert len(result.rewritten) == len(targets)
    return result.source.decode()


def target(kind: str, anchor: tuple[str, ...], value: str | bytes | None, name: str, key: str | None = None,
           site_kind: str | None = None, secret_text: str = "", url_quoted: bool = False) -> RewriteTarget:
    return RewriteTarget(kind, site_kind or kind, anchor, value, name, key, secret_text, url_quoted)


def test_module_constant_keeps_comment_and_quotes() -> None:
    source = "import os\n\nTOKEN = 'tok-1'  # the bot's token\n"
    after = rewrite(source, target("module-constant", ("TOKEN",), "tok-1", "app/settings/TOKEN"))
    assert after == "import os\n" + IMPORT + "\nTOKEN = get_secret('app/settings/TOKEN')  # the bot's token\n"


def test_class_attribute() -> None:
    source = "class Config:\n    SECRET = \"s-1\"\n    DEBUG = False\n"
    after = rewrite(source, target("class-attribute", ("Config", "SECRET"), "s-1", "app/settings/Config/SECRET"))
    assert after == IMPORTED + "class Config:\n    SECRET = get_secret(\"app/settings/Config/SECRET\")\n    DEBUG = False\n"


def test_local_variable() -> None:
    source = "def token():\n    value = \"t-1\"\n    return value\n"
    after = rewrite(source, target("local-variable", ("token", "value"), "t-1", "app/settings/token/value"))
    assert after == IMPORTED + "def token():\n    value = get_secret(\"app/settings/token/value\")\n    return value\n"


def test_dict_value_uses_json_key() -> None:
    source = 'DATABASES = {"default": {"USER": "app", "PASSWORD": "pw-1"}}\n'
    after = rewrite(
        source,
        target("dict-value", ("DATABASES", "default", "USER"), "app", "app/settings/DATABASES/default", "USER"),
        target("dict-value", ("DATABASES", "default", "PASSWORD"), "pw-1", "app/settings/DATABASES/default", "PASSWORD"),
    )
    assert after == IMPORTED + ('DATABASES = {"default": {"USER": get_secret("app/settings/DATABASES/default", key="USER"), '
                              '"PASSWORD": get_secret("app/settings/DATABASES/default", key="PASSWORD")}}\n')


def test_call_argument() -> None:
    source = "client = Github(login_or_token=\"g-1\", timeout=5)\n"
    after = rewrite(source, target("call-argument", ("Github", "login_or_token"), "g-1", "app/settings/Github"))
    assert after == IMPORTED + "client = Github(login_or_token=get_secret(\"app/settings/Github\"), timeout=5)\n"


def test_environ_default_keeps_variable_priority() -> None:
    source = 'import os\nTOKEN = os.environ.get("TOKEN", "e-1")\nKEY = os.getenv("KEY", "e-2").strip()\n'
    after = rewrite(
        source,
        target("environ-default", ("TOKEN",), "e-1", "app/settings/TOKEN"),
        target("environ-default", ("KEY",), "e-2", "app/settings/KEY"),
    )
    assert after == ("import os\n" + IMPORTED + 'TOKEN = os.environ.get("TOKEN") or get_secret("app/settings/TOKEN")\n'
                     'KEY = (os.getenv("KEY") or get_secret("app/settings/KEY")).strip()\n')


def test_concatenation_joins_with_plus() -> None:
    source = 'HEADER = ("token "  # the scheme\n          "c-1")\n'
    after = rewrite(source, target("concatenation", ("HEADER",), "c-1", "app/settings/HEADER"))
    assert after == IMPORTED + 'HEADER = ("token " +  # the scheme\n          get_secret("app/settings/HEADER"))\n'


def test_concatenation_keeps_untouched_runs() -> None:
    source = 'URL = "a" "b" "c-1" "d"\n'
    after = rewrite(source, target("concatenation", ("URL",), "c-1", "app/settings/URL"))
    assert after == IMPORTED + 'URL = "a" "b" + get_secret("app/settings/URL") + "d"\n'


def test_bytes_literal_is_encoded() -> None:
    source = 'KEY = b"k-1"\n'
    after = rewrite(source, target("bytes", ("KEY",), b"k-1", "app/settings/KEY"))
    assert after == IMPORTED + 'KEY = get_secret("app/settings/KEY").encode()\n'


def test_crlf_line_endings_are_kept() -> None:
    source = 'import os\r\nTOKEN = "t-1"\r\nOTHER = 1\r\n'
    after = rewrite(source, target("module-constant", ("TOKEN",), "t-1", "app/settings/TOKEN"))
    assert after == 'import os\r\nfrom app._leakhunt_secrets import get_secret\r\n\r\nTOKEN = get_secret("app/settings/TOKEN")\r\nOTHER = 1\r\n'


def test_import_added_once_and_reused() -> None:
    source = IMPORT + 'A = "a-1"\nB = "b-1"\n'
    after = rewrite(
        source,
        target("module-constant", ("A",), "a-1", "app/settings/A"),
        target("module-constant", ("B",), "b-1", "app/settings/B"),
    )
    assert after == IMPORT + 'A = get_secret("app/settings/A")\nB = get_secret("app/settings/B")\n'


def test_existing_get_secret_gets_alias() -> None:
    source = 'from vault import get_secret\nA = "a-1"\n'
    after = rewrite(source, target("module-constant", ("A",), "a-1", "app/settings/A"))
    assert after == ('from vault import get_secret\nfrom app._leakhunt_secrets import get_secret as leakhunt_get_secret\n'
                     '\nA = leakhunt_get_secret("app/settings/A")\n')


def test_other_literal_with_same_value_untouched() -> None:
    source = 'A = "same-1"\nprint("same-1")\n'
    after = rewrite(source, target("module-constant", ("A",), "same-1", "app/settings/A"))
    assert after == IMPORTED + 'A = get_secret("app/settings/A")\nprint("same-1")\n'


def test_unparsable_source_is_rejected() -> None:
    with pytest.raises(MigrationError, match=r"app/settings.py: cannot parse the file"):
        rewrite_source(b"A = (\n", "app/settings.py", [], HELPER)


def test_review_embedded_url_is_quoted() -> None:
    source = 'DSN = "postgres://app:p%40ss-1@db/app"\n'
    after = rewrite(source, target("embedded", ("DSN",), "postgres://app:p%40ss-1@db/app", "app/settings/DSN",
                                   site_kind="module-constant", secret_text="p%40ss-1", url_quoted=True), review=True)
    assert after == (IMPORT + "from urllib.parse import quote\n\n"
                     "DSN = \"postgres://app:\" + quote(get_secret(\"app/settings/DSN\"), safe='') + \"@db/app\"\n")


def test_review_f_string_field() -> None:
    source = 'HEADERS = {"Authorization": f"token f-1 for {USER}"}\n'
    after = rewrite(source, target("f-string", ("HEADERS", "Authorization"), None, "app/settings/HEADERS",
                                   secret_text="f-1"), review=True)
    assert after == IMPORTED + "HEADERS = {\"Authorization\": f\"token {get_secret('app/settings/HEADERS')} for {USER}\"}\n"


def test_review_default_argument() -> None:
    source = 'def fetch(url, token="d-1"):\n    """Fetch."""\n    return token\n'
    after = rewrite(source, target("default-argument", ("fetch", "token"), "d-1", "app/settings/fetch/token"), review=True)
    assert after == (IMPORTED + 'def fetch(url, token=None):\n    """Fetch."""\n    if token is None:\n'
                     '        token = get_secret("app/settings/fetch/token")\n    return token\n')


def test_review_other_expression() -> None:
    source = 'TOKENS = ["x-1"]\n'
    after = rewrite(source, target("expression", ("value",), "x-1", "app/settings/value"), review=True)
    assert after == IMPORTED + 'TOKENS = [get_secret("app/settings/value")]\n'
