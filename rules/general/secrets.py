"""PYS102 hardcoded-secret: credentials written into the source."""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import cached_property
from pathlib import PurePosixPath

import libcst as cst

from rules.context import FileContext, bound_names, dotted_name
from rules.engine import Category, Example, Rule, Severity, register
from rules.general.strings import (
    concatenated_text,
    formatted_text,
    identifier_words,
    split_camel_case,
    string_pieces,
    string_value,
)

# == PYS102 hardcoded-secret ==========================================================

# A name is secret-looking when its LAST word is one of these, or its last two words are
# one of the pairs: `db_password`, `AUTH_TOKEN`, `apiKey`, `JWT_SECRET_KEY` match, while
# `token_url`, `password_field`, `PASSWORD_HASHERS`, `csrf_token_name` do not.
SECRET_WORDS = frozenset({"secret", "password", "passwd", "token", "apikey", "privatekey",
                          "secretkey", "clientsecret"})
SECRET_PAIRS = frozenset({("api", "key"), ("private", "key"), ("secret", "key")})
# Values that name a scheme, header, field or type rather than being a secret.
NON_SECRET_VALUES = frozenset({
    "bearer", "basic", "digest", "token", "jwt", "oauth", "oauth2", "password", "passwd",
    "pass", "pwd", "secret", "api_key", "apikey", "api-key", "authorization", "access_token",
    "refresh_token", "id_token", "csrftoken", "csrfmiddlewaretoken", "client_credentials",
    "string", "str", "text", "hidden", "none", "null", "undefined", "true", "false",
    "required", "optional", "hs256", "rs256",
    # stand-ins for sample data: `User(username="test1", password="test")`
    "test", "testing", "dummy", "fake", "demo",
})
_PLACEHOLDER_MARKERS = ("changeme", "change_me", "change-me", "changethis", "change-this",
                        "change_this", "replaceme", "replace_me", "replace-me", "placeholder",
                        "redacted", "example", "your", "xxxx", "****")
_PLACEHOLDER_SHAPE = re.compile(
    r"<.*>|\[.*\]|\$\{.*\}|\{\{.*\}\}|\{[^{}]*\}|\$[A-Za-z_]\w*|%[sdr]|%\(\w+\)[sdr]"
    r"|[xX*.#?_\-\s]+",
    re.S,
)
# `"5/m/user"`, `"100/day"`, `"10 per minute;1000/hour"`: a rate limit, as django-allauth's
# `RATE_LIMITS = {"reset_password": "20/m/ip,5/m/key"}` (an action's name, not a field).
_RATE = (r"\d+\s*(?:/|per)\s*\d*\s*(?:s|sec|second|m|min|minute|h|hr|hour|d|day|w|week|month"
         r"|y|year)s?(?:/\w+)?")
_RATE_LIMIT = re.compile(rf"{_RATE}(?:\s*[,;]\s*{_RATE})*", re.I)
# `OPENAI_API_KEY`, `IDENT`: the name of a variable or token kind, not its value.
_CONSTANT_VALUE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z][A-Z_]*")
# `"audio.tts.openai.api_key"`, `"services.db.password"`: a dotted configuration path
# (lower-case identifiers, as settings loaders and i18n catalogs key their values).
_CONFIG_PATH = re.compile(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+")
# Words of a description (`"ClickHouse Cloud password"`, `"Stripe API key"`).
_DESCRIPTION_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*[,;)]?|\(?[A-Za-z]+")
_DESCRIBED_THINGS = frozenset({"key", "keys", "token", "tokens", "secret", "secrets",
                               "password", "passwords", "passphrase", "credential",
                               "credentials", "api", "pin", "login"})
_REGEX_MARKERS = ("\\w", "\\d", "\\s", "\\b", "(?", "[^", ".*", ".+")
_HEADER_NAME = re.compile(r"[xX]-[A-Za-z0-9-]+")
# `next_token`, `NextToken`, `aws_secret_access_key`: an identifier of two or more words
# names a field; it is not a credential.
_FIELD_NAME = re.compile(r"[A-Za-z]+(?:_[A-Za-z]+)*")
# Keys that can name a credential field: identifiers and header names, not
# `"AWS::SecretsManager::Secret"` or `"Enter your password"`.
_KEY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_MIN_SECRET_LENGTH = 3  # `"0"`, `"e"`: a counter or a lexer token
_HASH_PREFIXES = ("pbkdf2_", "argon2", "bcrypt", "scrypt", "$2a$", "$2b$", "$2y$", "sha1$",
                  "md5$", "$argon2")
_KEY_FILE_SUFFIXES = (".pem", ".key", ".crt", ".cer", ".p12", ".pfx", ".jks", ".json",
                      ".txt", ".env")
# Words that make a value with spaces a message or a label, not a passphrase.
_MESSAGE_WORDS = frozenset({
    "invalid", "incorrect", "wrong", "required", "missing", "must", "enter", "your", "is",
    "are", "not", "too", "please", "field", "should", "cannot", "does", "expired", "reset",
    "forgot", "confirm", "new", "old", "current", "the", "a", "an", "for", "of", "to",
})
# In test files only values that look like real credentials are flagged.
CREDENTIAL_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-",
                       "sk_live_", "rk_live_", "xoxb-", "xoxp-", "xoxa-", "xapp-", "AKIA",
                       "ASIA", "AIza", "sk-ant-", "sk-proj-", "SG.", "shpat_", "npm_",
                       "pypi-")
# Keys their vendor documents as public, made to ship in browsers and apps: PostHog project
# API keys (`phc_`; personal keys are `phx_`), Stripe publishable keys (`pk_live_`,
# `pk_test_`; secret keys are `sk_`).
PUBLIC_KEY_PREFIXES = ("phc_", "pk_live_", "pk_test_")
# Folders of example and demo code, run to show the package: their logins are published
# stand-ins (piccolo-admin's `example/` app logs in as piccolo/piccolo123).
EXAMPLE_FOLDERS = frozenset({"example", "examples", "demo", "demos"})
_TEST_MARKERS = ("test", "fake", "dummy", "mock", "sample", "fixture", "example",
                 "insecure")
# A long random-looking value that also spells one of these was typed by a person.
_TYPED_MARKERS = (*_TEST_MARKERS, "invalid", "wrong", "foo", "bar", "secret", "passw",
                  "token", "qwerty", "abc", "123", "xyz")
_URL_CREDENTIALS = re.compile(
    r"\b[a-z][a-z0-9+.\-]*://(?P<user>[^\s:/@\x00]*):(?P<password>[^\s/@\x00]+)@", re.I
)
# Cheap per-file prefilter: the lower-cased text of a file with a secret-looking name or a
# URL contains one of these (`apiKey` -> `apikey`, `X-API-Key` -> `api-key`).
PREFILTER_WORDS = ("secret", "passw", "token", "api_key", "apikey", "api-key", "private_key",
                   "privatekey", "private-key", "://")
_ENUM_BASE_SUFFIXES = ("Enum", "Choices", "Flag")


def is_secret_name(name: str) -> bool:
    words = identifier_words(name)
    if not words:
        return False
    return words[-1] in SECRET_WORDS or (len(words) >= 2 and words[-2:] in SECRET_PAIRS)


def is_placeholder(value: str) -> bool:
    """Empty, a template reference or an obvious stand-in: `<token>`, `${DB_PASSWORD}`,
    `{{ secret }}`, `***`, `xxx`, `changeme`, `your-api-key-here`."""
    text = value.strip()
    if not text or _PLACEHOLDER_SHAPE.fullmatch(text) or "${" in text or "{{" in text:
        return True
    lowered = text.lower()
    return any(marker in lowered for marker in _PLACEHOLDER_MARKERS)


def _is_message(value: str) -> bool:
    if "-----BEGIN" in value:
        return False
    if any(ch.isspace() for ch in value.strip()):
        words = value.lower().split()
        return value.rstrip()[-1] in ".!?:" or not _MESSAGE_WORDS.isdisjoint(words)
    return value.endswith(":")


def _is_description(value: str, name: str) -> bool:
    """`"ClickHouse Cloud password"`, `"Stripe API key"`: words naming what belongs in the
    field (a help text, a form label, a settings schema), not the secret. A capitalised
    word and the name's own word (or `key`, `token`, ...) must both be there:
    `"super secret key"` is the passphrase Flask's tutorial ships, and stays a finding."""
    words = value.split()
    if len(words) < 2 or not all(_DESCRIPTION_WORD.fullmatch(w) for w in words):
        return False
    lowered = {w.strip(",;()").lower() for w in words}
    named = bool(lowered & (_DESCRIBED_THINGS | set(identifier_words(name))))
    return named and any(w[0].isupper() for w in words)


def is_non_secret_value(value: str, name: str) -> bool:
    """A value that cannot be the secret itself, whatever the name says (see RULES.md)."""
    if is_placeholder(value):
        return True
    text = value.strip()
    lowered = text.lower()
    if lowered in NON_SECRET_VALUES or "://" in text or _is_message(text):
        return True
    if _is_description(text, name) or _CONFIG_PATH.fullmatch(text):
        return True
    if len(text) <= 64 and identifier_words(text) == identifier_words(name):  # `TOKEN = "token"`
        return True
    if len(text) < _MIN_SECRET_LENGTH:
        return True
    if (_CONSTANT_VALUE.fullmatch(text) or _HEADER_NAME.fullmatch(text)
            or _RATE_LIMIT.fullmatch(text)):
        return True
    if _FIELD_NAME.fullmatch(text) and len(identifier_words(text)) >= 2:
        return True
    if not any(ch.isalnum() for ch in text) or any(m in text for m in _REGEX_MARKERS):
        return True  # punctuation (a lexer token), or a regular expression
    if lowered.startswith(_HASH_PREFIXES):  # a password hash is meant to be stored
        return True
    if text.startswith(PUBLIC_KEY_PREFIXES):  # POSTHOG_API_KEY = "phc_..."
        return True
    return lowered.endswith(_KEY_FILE_SUFFIXES) or (
        text.startswith(("/", "./", "../", "~/")) and text.count("/") >= 2
    )


def _entropy(value: str) -> float:
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in Counter(value).values())


def looks_real(value: str) -> bool:
    """Does a value in a test file look like a real credential rather than a fixture?

    Known provider formats (`ghp_…`, `sk_live_…`, `AKIA…`), private keys, and 20+ character
    random-looking strings mixing character classes; `"secret"`, `"test-token"`, short
    values and anything spelling test/fake/dummy/example are fixtures.
    """
    lowered = value.lower()
    if any(marker in lowered for marker in _TEST_MARKERS):
        return False
    if value.startswith(CREDENTIAL_PREFIXES) and len(value) >= 16:
        return True
    if "PRIVATE KEY-----" in value:
        return True
    if len(value) < 20 or any(ch.isspace() for ch in value):
        return False
    if any(marker in lowered for marker in _TYPED_MARKERS):
        return False
    classes = (any(c.islower() for c in value) + any(c.isupper() for c in value)
               + any(c.isdigit() for c in value))
    return classes >= 2 and _entropy(value) >= 3.6


@register
class HardcodedSecret(Rule):
    code = "PYS102"
    name = "hardcoded-secret"
    severity = Severity.WARNING
    category = Category.SECURITY
    default = True
    rationale = (
        "A committed credential is costly and the rule fires rarely (6 findings on the 23 "
        "tuning projects), so it stays on; but a literal under a secret-like name is often a "
        "sample, a build-time key or a public key (about 1 of those 6 was worth a comment), "
        "so it never fails the gate."
    )
    message = "Hardcoded secret in `{name}`; read it from the environment or a secret store"
    url_message = "Credentials inline in a URL literal; read them from the environment"
    run_on_tests = True
    docs = """
## What it does
Flags a non-empty string literal assigned to a secret-looking name: a variable, attribute,
class attribute, dict key, keyword argument or `config["..."]` item whose name ends with
`secret`, `password`, `passwd`, `token`, `api_key`/`apikey`, `private_key`, `secret_key` or
`client_secret` (any case, `snake_case` or `camelCase`: `DB_PASSWORD`, `apiKey`,
`AUTH_TOKEN`). Also flags any URL literal with inline credentials,
`postgres://user:s3cr3t@db.internal/app`.

Names that only mention the word (`token_url`, `password_field`, `PASSWORD_HASHERS`,
`TOKEN_EXPIRY`) are not secrets, nor are values that cannot be one: empty strings,
environment or settings reads, placeholders (`"<token>"`, `"${DB_PASSWORD}"`, `"***"`,
`"xxx"`, `"changeme"`, `"your-api-key-here"`), scheme and field names (`"bearer"`,
`"basic"`, `"password"`), sample-data stand-ins (`"test"`, `"dummy"`), messages,
descriptions of the field (`"ClickHouse Cloud password"`, `"Stripe API key"`), names of
settings (`"audio.tts.openai.api_key"`, `"OPENAI_API_KEY"`), rate
limits (`"5/m/user"`, `"100/day"`), file paths and password hashes, nor the arguments of a
URL builder (`reverse("confirm", kwargs={"token": "set-password"})`, `url_for(...)`),
which are parts of a URL, nor documented examples (`Field(examples=[...])`,
`openapi_examples=`, an OpenAPI `"example": {...}`) and translation tables (a dict whose
keys are phrases for a quarter or more, where `"Password"` is a label). In test files only
values that look like real credentials are flagged (`ghp_…`, `sk_live_…`, long random
strings), never fixtures like `"secret"` or `"test-token"`; the same holds in example and
demo code (an `example/`, `examples/`, `demo/` or `demos/` folder), whose logins are
published stand-ins. Keys that their vendor documents as public are not secrets either:
PostHog project keys (`phc_…`) and Stripe publishable keys (`pk_live_…`, `pk_test_…`).
Rows of sample data (dicts with the same keys in a list or tuple display, such as pretix's
sample orders for previews) are data, not a credential written once.

By default a value made only of lower-case words (`"reallyhardtoguess"`,
`"build-time-secret-key"`, `"super secret key"`) is not reported: projects ship such
stand-ins in default and build configurations for the operator to replace (flaskbb,
pretix). Select PYS102 by code to have them reported too.

## Why is this bad?
A secret in the source is in every clone, fork, CI log and backup of the repository, and
it cannot be rotated without a deploy. OWASP's Secrets Management Cheat Sheet and the
Twelve-Factor App ("III. Config": store config in the environment) both say to keep
credentials out of code; Django's deployment checklist says the same of `SECRET_KEY`.

## Example
```python
SECRET_KEY = "django-insecure-9x!k2m@4q7zr"
DATABASE_URL = "postgres://app:hunter2@db.internal/app"
```

## Use instead
```python
SECRET_KEY = os.environ["SECRET_KEY"]
DATABASE_URL = os.environ["DATABASE_URL"]
```
or a settings object (pydantic-settings `BaseSettings`, `django-environ`) fed by the
environment or a secret manager.

## Fix
An unconditional module-level `NAME = "..."` becomes `NAME = os.environ["NAME"]` (adding
`import os`; the environment variable is named in upper case). Where the literal is a
default — a class attribute, a value in an `if`/`try` branch, or a name assigned again
in the module — it becomes `os.environ.get("NAME")`, which never raises at import and
never keeps the secret as its default. The finding message never repeats the value.

## Suppress
`# noqa: PYS102` on the line, for a value you know is public (a client-side analytics key).
"""
    bad = (
        Example(
            """
            SECRET_KEY = "django-insecure-9x!k2m@4q7zr"  # flagged
            """,
            fixed="""
            import os
            SECRET_KEY = os.environ["SECRET_KEY"]  # flagged
            """,
        ),
        Example(
            """
            class Config:
                api_key = "a8f5f167f44f4964e6c998dee827110c"  # flagged
            """,
            fixed="""
            import os
            class Config:
                api_key = os.environ.get("API_KEY")  # flagged
            """,
        ),
        """
        import requests

        requests.post("https://x.test", data={"password": "hunter2"})  # flagged
        """,
        """
        import psycopg2

        conn = psycopg2.connect(host="db", password="hunter2")  # flagged
        """,
        """
        from flask import Flask

        app = Flask(__name__)
        app.config["SECRET_KEY"] = "s3cr3t-k3y"  # flagged
        """,
        """
        DATABASE_URL = "postgres://app:hunter2@db.internal/app"  # flagged
        """,
        Example(
            """
            GITHUB_TOKEN = "ghp_4Yb7Qm2Lx9Tz6Wc1Vn8Rk3Ps5Hd0Jf7Ga2Ue"  # flagged
            """,
            "tests/test_client.py",
        ),
    )
    good = (
        """
        import os

        SECRET_KEY = os.environ["SECRET_KEY"]
        """,
        """
        PASSWORD_RESET_TIMEOUT = 3600
        TOKEN_URL = "https://auth.example.com/token"
        """,
        """
        token_type = "bearer"
        API_KEY = ""
        DB_PASSWORD = "${DB_PASSWORD}"
        """,
        """
        AUTH_PASSWORD_VALIDATORS = [
            {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
        ]
        """,
        Example(
            """
            def test_login(client):
                client.login(username="u", password="secret")
            """,
            "tests/test_auth.py",
        ),
    )

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        """`requires` is case-sensitive; one lower-cased copy of the text is cheaper than a
        case-insensitive regex and sees `SECRET_KEY`, `apiKey` and `Password` alike."""
        text = ctx.source.lower()
        return any(word in text for word in PREFILTER_WORDS)

    # -- names ------------------------------------------------------------------------

    def visit_Assign(self, node: cst.Assign) -> None:
        fixable = len(node.targets) == 1
        self._required = fixable and len(self.ctx.ancestors) == 3 and not any(
            self._module_bindings.get(name, 0) > 1 for name in bound_names(node.targets[0].target))
        for target in node.targets:
            self._check_target(target.target, node.value, fixable=fixable)

    _required = False  # the Assign being checked is the one unconditional module-level value

    @cached_property
    def _module_bindings(self) -> Counter[str]:
        """How often each name is assigned outside functions and classes: a second
        assignment (`SECRET_KEY = os.environ.get("SECRET_KEY", SECRET_KEY)`, an `if DEBUG:`
        branch) makes the literal a default."""
        counts: Counter[str] = Counter()
        stack: list[cst.CSTNode] = [self.ctx.module] if self.ctx.module is not None else []
        while stack:
            node = stack.pop()
            if isinstance(node, cst.Assign):
                for target in node.targets:
                    counts.update(bound_names(target.target))
            elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
                counts.update(bound_names(node.target))
            elif isinstance(node, (cst.Module, cst.BaseSuite, cst.SimpleStatementLine,
                                   cst.If, cst.Else, cst.Try, cst.ExceptHandler, cst.Finally,
                                   cst.With, cst.For, cst.While)):
                stack.extend(node.children)
        return counts

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._check_target(node.target, node.value, fixable=False)

    def visit_Dict(self, node: cst.Dict) -> None:
        ancestors = self.ctx.ancestors
        if (len(ancestors) >= 3 and isinstance(ancestors[-2], cst.Arg)
                and ancestors[-2].keyword is not None and ancestors[-2].keyword.value == "kwargs"
                and isinstance(ancestors[-3], cst.Call) and _builds_url(ancestors[-3])):
            return  # reverse("order", kwargs={"secret": "6zzj..."}): parts of a URL
        if _is_message_catalog(node):
            return  # {"Password": "Cyfrinair", "No results found": "..."}: translations
        if _is_sample_row(node, self.ctx):
            return  # [{"code": "F8VVL", "secret": "6zzj..."}, {...}]: rows of sample data
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                key = _key_name(element.key)
                if key is not None:
                    self._check(key, element.value)

    def visit_Call(self, node: cst.Call) -> None:
        if _builds_url(node):  # url_for("reset", token="set-password")
            return
        for arg in node.args:
            if arg.keyword is not None:
                self._check(arg.keyword.value, arg.value)

    def _check_target(self, target: cst.BaseExpression, value: cst.BaseExpression, *,
                      fixable: bool) -> None:
        if isinstance(target, cst.Name):
            self._check(target.value, value, fix_name=fixable)
        elif isinstance(target, cst.Attribute):
            self._check(target.attr.value, value)
        elif isinstance(target, cst.Subscript):  # config["SECRET_KEY"], os.environ["TOKEN"]
            if len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
                key = _key_name(target.slice[0].slice.value)
                if key is not None:
                    self._check(key, value)
        elif (isinstance(target, (cst.Tuple, cst.List)) and isinstance(value, (cst.Tuple,
                                                                               cst.List))
              and len(target.elements) == len(value.elements)):  # user, pw = "a", "b"
            for t, v in zip(target.elements, value.elements, strict=True):
                self._check_target(t.value, v.value, fixable=False)

    def _check(self, name: str, value: cst.BaseExpression, *, fix_name: bool = False) -> None:
        if not is_secret_name(name):
            return
        text = string_value(value)
        if text is None or is_non_secret_value(text, name):
            return
        ctx = self.ctx
        if _fixtures_only(ctx) and not looks_real(text.strip()):
            return
        statement_class = _statement_class(ctx)
        if statement_class is not None and _is_enum(statement_class):
            return  # `class Auth(Enum): TOKEN = "tok"` names a choice
        if _in_documented_example(ctx):
            return  # Field(examples=[{"password": "s3cr3t"}]), OpenAPI "example": {...}
        message = self.message.format(name=_shorten(name))
        if fix_name and not ctx.scopes and not ctx.kind.is_test and not _is_bytes(value):
            # Only the one unconditional module-level value may become a required read;
            # a class attribute (a config class next to others in its module), a branch or
            # a value assigned again elsewhere is a default, and `os.environ[...]` would
            # raise at import where it used to work: it becomes `os.environ.get(...)`.
            read = (f'os.environ["{_env_name(name)}"]' if self._required
                    else f'os.environ.get("{_env_name(name)}")')
            env = cst.parse_expression(read)
            self.report(value, message, replace=(value, env), imports=("import os",),
                        evidence=not _words_only(text))
        else:
            self.report(value, message, evidence=not _words_only(text))

    # -- URLs -------------------------------------------------------------------------

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if "://" in node.value and "@" in node.value and not self._nested_or_docstring():
            text = string_value(node)
            if text is not None:
                self._check_url(node, text)

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> None:
        if self._nested_or_docstring():
            return
        pieces = string_pieces(node)
        raw = "".join(p.value if isinstance(p, cst.SimpleString) else formatted_text(p)
                      for p in pieces if isinstance(p, (cst.SimpleString, cst.FormattedString)))
        if "://" in raw and "@" in raw:  # cheap test on the source before evaluating
            self._check_url(node, concatenated_text(node))

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        if not self._nested_or_docstring():
            text = formatted_text(node)
            if "://" in text and "@" in text:
                self._check_url(node, text)

    def _nested_or_docstring(self) -> bool:
        return isinstance(self.ctx.parent, (cst.ConcatenatedString, cst.Expr))

    def _check_url(self, node: cst.BaseExpression, text: str) -> None:
        """Flag the literal once if a URL in it carries a password. (A URL assigned to a
        secret name is left to this check: the name check skips values with `://`.)
        Multi-line text is prose or documentation (a rule's docs, a help text), not a
        connection string, and is left alone."""
        if "\n" in text:
            return
        for match in _URL_CREDENTIALS.finditer(text):
            password = match.group("password")
            if (is_placeholder(password) or password.lower() in NON_SECRET_VALUES
                    or len(password) < _MIN_SECRET_LENGTH):
                continue
            if _fixtures_only(self.ctx) and not looks_real(password):
                continue
            self.report(node, self.url_message)
            return

_WORDS_ONLY = re.compile(r"[a-z]+(?:[\s_-]+[a-z]+)*")


def _words_only(value: str) -> bool:
    """`"reallyhardtoguess"`, `"build-time-secret-key"`, `"super secret key"`: lower-case
    words, no digits or capitals — a stand-in a project ships for the operator to replace
    (flaskbb's default config, pretix's build settings), not a generated credential. Such a
    value is reported only where PYS102 is chosen by code."""
    return _WORDS_ONLY.fullmatch(value.strip()) is not None


def _is_sample_row(node: cst.Dict, ctx: FileContext) -> bool:
    """Is the dict one of several rows of a list or tuple display, each with the same
    keys (pretix's sample orders for previews)? A credential is written once; a value that
    varies from row to row is data."""
    parent = ctx.parent
    holder = ctx.ancestors[-3] if len(ctx.ancestors) >= 3 else None
    if not (isinstance(parent, cst.Element) and isinstance(holder, (cst.List, cst.Tuple))):
        return False
    rows = [el.value for el in holder.elements if isinstance(el.value, cst.Dict)]
    return len(rows) >= 2 and len({_keys(row) for row in rows}) == 1


def _keys(node: cst.Dict) -> frozenset[str | None]:
    return frozenset(_key_name(el.key) for el in node.elements if isinstance(el, cst.DictElement))


def _fixtures_only(ctx: FileContext) -> bool:
    """Test files and example or demo code: only real-looking credentials are flagged."""
    return ctx.kind.is_test or not EXAMPLE_FOLDERS.isdisjoint(
        PurePosixPath(ctx.kind.path).parts[:-1])


def _builds_url(call: cst.Call) -> bool:
    """`reverse(...)`, `reverse_lazy(...)`, `url_for(...)`, `request.url_for(...)` and
    project wrappers named like them (`eventreverse_absolute`): their arguments are parts
    of a URL, which travels in the clear, not a credential the code holds."""
    func = call.func
    name = func.value if isinstance(func, cst.Name) else (
        func.attr.value if isinstance(func, cst.Attribute) else "")
    return "reverse" in name or name in _URL_BUILDERS


_URL_BUILDERS = frozenset({"url_for", "url_path_for", "build_absolute_uri"})


# Keyword arguments and dict keys whose values document an example (Pydantic's
# `Field(examples=...)`, FastAPI's `Body(openapi_examples=...)`, an OpenAPI response's
# `"example": {...}`): what they hold is shown to readers of the API docs, not used.
_EXAMPLE_KEYS = frozenset({"example", "examples", "openapi_examples"})


def _in_documented_example(ctx: FileContext) -> bool:
    for node in reversed(ctx.ancestors[:-1]):
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            return False
        if (isinstance(node, cst.Arg) and node.keyword is not None
                and node.keyword.value in _EXAMPLE_KEYS):
            return True
        if (isinstance(node, cst.DictElement) and isinstance(node.key, cst.SimpleString)
                and node.key.raw_value in _EXAMPLE_KEYS):
            return True
    return False


def _is_message_catalog(node: cst.Dict) -> bool:
    """A dict whose string keys are phrases (`"No results found"`) for a quarter or more:
    a table of UI messages and their translations, where `"Password"` is a label, not a
    field (piccolo-admin's catalogs: 35 phrases of 74 keys)."""
    keys = [e.key.raw_value for e in node.elements
            if isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)]
    phrases = sum(1 for k in keys if " " in k.strip())
    return phrases >= 3 and 4 * phrases >= len(keys)


def _statement_class(ctx: FileContext) -> cst.ClassDef | None:
    """The class whose body holds the node being visited (not through a function)."""
    for node in reversed(ctx.ancestors):
        if isinstance(node, (cst.FunctionDef, cst.Lambda)):
            return None
        if isinstance(node, cst.ClassDef):
            return node
    return None


def _is_enum(node: cst.ClassDef) -> bool:
    for base in node.bases:
        name = dotted_name(base.value)
        if name is not None and name.endswith(_ENUM_BASE_SUFFIXES):
            return True
    return False


def _key_name(node: cst.BaseExpression) -> str | None:
    """A string key that can name a field (`"password"`, `"X-API-Key"`), read from the
    source without evaluating it: dict keys are many, secret-looking ones few."""
    if not isinstance(node, cst.SimpleString) or "b" in node.prefix.lower():
        return None
    key = node.raw_value
    return key if _KEY_NAME.fullmatch(key) else None


def _env_name(name: str) -> str:
    """The environment variable for a Python name: `apiKey` -> `API_KEY`."""
    return split_camel_case(name).upper()


def _is_bytes(node: cst.BaseExpression) -> bool:
    """`os.environ` holds `str`; a bytes literal gets no fix."""
    if isinstance(node, cst.ConcatenatedString):
        return _is_bytes(node.left)
    return isinstance(node, cst.SimpleString) and "b" in node.prefix.lower()


def _shorten(name: str, limit: int = 40) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
