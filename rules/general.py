"""PYS1xx: rules for every framework (async safety, secrets, SQL)."""

from __future__ import annotations

import math
import re
import warnings
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import libcst as cst

from rules.context import FileContext, dotted_name
from rules.engine import Example, Rule, Severity, register
from rules.walker import is_async_body

# Qualified names (through import aliases) of calls that block the event loop.
BLOCKING_CALLS = frozenset(
    {
        "time.sleep",
        "urllib.request.urlopen",
        "os.system",
        "socket.create_connection",
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.Popen",
        "httpx.get",
        "httpx.post",
        "httpx.put",
        "httpx.patch",
        "httpx.delete",
        "httpx.head",
        "httpx.options",
        "httpx.request",
        "httpx.stream",
        "httpx.Client",
    }
)
# Arguments of these calls run in a thread, not on the event loop.
OFFLOADING_CALLS = frozenset({"asyncio.to_thread", "run_in_executor", "sync_to_async",
                              "asgiref.sync.sync_to_async", "anyio.to_thread.run_sync",
                              "starlette.concurrency.run_in_threadpool",
                              "fastapi.concurrency.run_in_threadpool"})


# `requests.*` names that never touch the network: exceptions, auth and adapter objects,
# helpers. Raising `requests.HTTPError(...)` in a coroutine blocks nothing.
_REQUESTS_OFFLINE = ("requests.exceptions.", "requests.utils.", "requests.structures.",
                     "requests.auth.", "requests.adapters.", "requests.compat.",
                     "requests.status_codes.", "requests.codes.", "requests.models.")
_REQUESTS_OFFLINE_NAMES = frozenset({"requests.Request", "requests.PreparedRequest"})
_EXCEPTION_SUFFIXES = ("Error", "Exception", "Timeout", "Warning")


def _is_blocking(qualified: str) -> bool:
    if qualified in BLOCKING_CALLS:
        return True
    if not qualified.startswith("requests.") or qualified in _REQUESTS_OFFLINE_NAMES:
        return False
    return not (qualified.startswith(_REQUESTS_OFFLINE)
                or qualified.endswith(_EXCEPTION_SUFFIXES))


@register
class BlockingCallInAsync(Rule):
    code = "PYS101"
    name = "blocking-call-in-async"
    severity = Severity.ERROR
    message = "Blocking call `{call}` in async code stalls the event loop"
    requires = ("async",)
    docs = """
## What it does
Flags calls that block the thread — `time.sleep`, `requests.*`, `urllib.request.urlopen`,
`httpx.get/post/…` and `httpx.Client()`, `subprocess.run/call/check_call/check_output/Popen`,
`os.system`, `socket.create_connection` — made directly in async code (lexically inside an
`async def`, not in a nested plain `def` or `lambda`). Import aliases are resolved:
`from time import sleep as nap; nap(1)` is `time.sleep(1)`.

## Why is this bad?
An event loop runs one thing at a time. A blocking call inside a coroutine freezes every
other request the worker is serving until it returns: one slow upstream turns into a
whole-service outage. The asyncio documentation says so plainly ("Running Blocking Code",
docs.python.org/3/library/asyncio-dev.html), and FastAPI's "Concurrency and async / await"
page tells you to use a plain `def` path operation when you call blocking libraries.

## Example
```python
async def refresh(request):
    time.sleep(1)
    return requests.get(URL).json()
```

## Use instead
```python
async def refresh(request):
    await asyncio.sleep(1)
    async with httpx.AsyncClient() as client:
        return (await client.get(URL)).json()
```
or offload: `await asyncio.to_thread(requests.get, URL)`. In FastAPI, a path operation
that awaits nothing can simply be a plain `def`: FastAPI runs it in a thread pool.

## Fix
`time.sleep(x)` becomes `await asyncio.sleep(x)` (adding `import asyncio`). In a FastAPI
path operation whose body awaits nothing, `async def` becomes `def`.

## Suppress
`# noqa: PYS101` on the line, for a call you know returns at once.
"""
    bad = (
        "import time\n\nasync def handler():\n    time.sleep(1)  # flagged\n",
        "from time import sleep as nap\n\nasync def handler():\n    nap(0.5)  # flagged\n",
        "import requests\n\nasync def fetch(url):\n    return requests.get(url).json()  # flagged\n",
        "import subprocess as sp\n\nasync def run():\n    sp.run(['ls'])  # flagged\n",
        "import httpx\n\nasync def run():\n    with httpx.Client() as c:  # flagged\n        pass\n",
        "from urllib.request import urlopen\n\nasync def run(u):\n    return urlopen(u)  # flagged\n",
        "import os\n\nasync def run():\n    os.system('ls')  # flagged\n",
        "import socket\n\nasync def run():\n    socket.create_connection(('h', 1))  # flagged\n",
        Example(
            "import requests\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
            "@app.get('/')\nasync def index():\n    return requests.get('http://x').json()  # flagged\n",
            "api.py",
        ),
    )
    good = (
        "import time\n\ndef handler():\n    time.sleep(1)\n",
        "import asyncio\n\nasync def handler():\n    await asyncio.sleep(1)\n",
        "import asyncio, requests\n\nasync def f(u):\n    return await asyncio.to_thread(requests.get, u)\n",
        "import asyncio, requests\n\nasync def f(loop, u):\n"
        "    return await loop.run_in_executor(None, lambda: requests.get(u))\n",
        "import time\n\nasync def outer():\n    def inner():\n        time.sleep(1)\n    return inner\n",
        "import httpx\n\nasync def f(u):\n    async with httpx.AsyncClient() as c:\n        return await c.get(u)\n",
        "from asgiref.sync import sync_to_async\nimport requests\n\nasync def f(u):\n"
        "    return await sync_to_async(requests.get)(u)\n",
        "async def f(session, u):\n    return await session.get(u)\n",
        "import time\n\nasync def f():\n    t = time.time()\n    return t\n",
    )

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if not ctx.in_async():
            return
        qualified = ctx.qualified_name(node.func)
        if qualified is None or not _is_blocking(qualified):
            return
        if isinstance(ctx.parent, cst.Await) or _offloaded(ctx):
            return
        message = self.message.format(call=qualified)
        func = ctx.enclosing_function()
        if (
            func is not None
            and ctx.handler_framework(func) == "fastapi"
            and not is_async_body(func)
        ):
            self.report(node, message, replace=(func, func.with_changes(asynchronous=None)))
            return
        if qualified == "time.sleep":
            new = cst.Await(
                expression=node.with_changes(
                    func=cst.Attribute(value=cst.Name("asyncio"), attr=cst.Name("sleep"))
                )
            )
            self.report(node, message, replace=(node, new), imports=("import asyncio",))
            return
        self.report(node, message)


def _offloaded(ctx: FileContext) -> bool:
    """Is the node being visited inside the arguments of a call that offloads to a thread?"""
    ancestors = ctx.ancestors
    for i in range(len(ancestors) - 2, -1, -1):
        node = ancestors[i]
        if isinstance(node, (cst.FunctionDef, cst.Lambda)):
            return False
        if isinstance(node, cst.Call) and isinstance(ancestors[i + 1], cst.Arg):
            func = node.func
            qualified = ctx.qualified_name(func) or ""
            attr = func.attr.value if isinstance(func, cst.Attribute) else ""
            if qualified in OFFLOADING_CALLS or attr in OFFLOADING_CALLS:
                return True
    return False


# == shared: identifiers as words ======================================================

_CAMEL_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")


@lru_cache(maxsize=4096)
def identifier_words(name: str) -> tuple[str, ...]:
    """Lower-case words of an identifier or key: `dbPassword2` -> ("db", "password"),
    `X-API-Key` -> ("x", "api", "key"), `SECRET_KEY` -> ("secret", "key")."""
    spaced = _CAMEL_ACRONYM.sub(r"\1_\2", _CAMEL_LOWER_UPPER.sub(r"\1_\2", name))
    words = (word.lower().rstrip("0123456789") for word in _NOT_ALNUM.split(spaced))
    return tuple(word for word in words if word)


def string_pieces(node: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The strings of an implicit concatenation, left to right (iteratively: generated
    code concatenates thousands of literals); any other node alone."""
    pieces: list[cst.BaseExpression] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, cst.ConcatenatedString):
            stack.append(item.right)
            stack.append(item.left)
        else:
            pieces.append(item)
    return pieces


def _string_value(node: cst.BaseExpression) -> str | None:
    """The value of a plain string (or bytes) literal, implicit concatenation included;
    None for anything else, f-strings included."""
    out: list[str] = []
    for piece in string_pieces(node):
        if not isinstance(piece, cst.SimpleString):
            return None
        try:
            with warnings.catch_warnings():  # `"\d"`: the checked code's problem, not ours
                warnings.simplefilter("ignore")
                value = piece.evaluated_value
        except Exception:  # a literal the evaluator rejects is not worth a crash
            return None
        out.append(value.decode("latin-1") if isinstance(value, bytes) else value)
    return "".join(out)


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
})
_PLACEHOLDER_MARKERS = ("changeme", "change_me", "change-me", "changethis", "change-this",
                        "change_this", "replaceme", "replace_me", "replace-me", "placeholder",
                        "redacted", "example", "your", "xxxx", "****")
_PLACEHOLDER_SHAPE = re.compile(
    r"<.*>|\[.*\]|\$\{.*\}|\{\{.*\}\}|\{[^{}]*\}|\$[A-Za-z_]\w*|%[sdr]|%\(\w+\)[sdr]"
    r"|[xX*.#?_\-\s]+",
    re.S,
)
# `OPENAI_API_KEY`, `IDENT`: the name of a variable or token kind, not its value.
_CONSTANT_VALUE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z][A-Z_]*")
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


def is_non_secret_value(value: str, name: str) -> bool:
    """A value that cannot be the secret itself, whatever the name says (see RULES.md)."""
    if is_placeholder(value):
        return True
    text = value.strip()
    lowered = text.lower()
    if lowered in NON_SECRET_VALUES or "://" in text or _is_message(text):
        return True
    if len(text) <= 64 and identifier_words(text) == identifier_words(name):  # `TOKEN = "token"`
        return True
    if len(text) < _MIN_SECRET_LENGTH:
        return True
    if _CONSTANT_VALUE.fullmatch(text) or _HEADER_NAME.fullmatch(text):
        return True
    if _FIELD_NAME.fullmatch(text) and len(identifier_words(text)) >= 2:
        return True
    if not any(ch.isalnum() for ch in text) or any(m in text for m in _REGEX_MARKERS):
        return True  # punctuation (a lexer token), or a regular expression
    if lowered.startswith(_HASH_PREFIXES):  # a password hash is meant to be stored
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
    severity = Severity.ERROR
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
`"basic"`, `"password"`), messages, file paths and password hashes. In test files only
values that look like real credentials are flagged (`ghp_…`, `sk_live_…`, long random
strings), never fixtures like `"secret"` or `"test-token"`.

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
`NAME = "..."` at module or class level becomes `NAME = os.environ["NAME"]` (adding
`import os`; the environment variable is named in upper case). The finding message never
repeats the value.

## Suppress
`# noqa: PYS102` on the line, for a value you know is public (a publishable key).
"""
    bad = (
        'SECRET_KEY = "django-insecure-9x!k2m@4q7zr"  # flagged\n',
        'class Config:\n    api_key = "a8f5f167f44f4964e6c998dee827110c"  # flagged\n',
        'import requests\n\nrequests.post("https://x.test", data={"password": "hunter2"})  # flagged\n',
        'import psycopg2\n\nconn = psycopg2.connect(host="db", password="hunter2")  # flagged\n',
        'from flask import Flask\n\napp = Flask(__name__)\napp.config["SECRET_KEY"] = "s3cr3t-k3y"  # flagged\n',
        'DATABASE_URL = "postgres://app:hunter2@db.internal/app"  # flagged\n',
        Example('GITHUB_TOKEN = "ghp_4Yb7Qm2Lx9Tz6Wc1Vn8Rk3Ps5Hd0Jf7Ga2Ue"  # flagged\n',
                "tests/test_client.py"),
    )
    good = (
        'import os\n\nSECRET_KEY = os.environ["SECRET_KEY"]\n',
        'PASSWORD_RESET_TIMEOUT = 3600\nTOKEN_URL = "https://auth.example.com/token"\n',
        'token_type = "bearer"\nAPI_KEY = ""\nDB_PASSWORD = "${DB_PASSWORD}"\n',
        'AUTH_PASSWORD_VALIDATORS = [\n'
        '    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},\n]\n',
        Example('def test_login(client):\n    client.login(username="u", password="secret")\n',
                "tests/test_auth.py"),
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
        for target in node.targets:
            self._check_target(target.target, node.value, fixable=fixable)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._check_target(node.target, node.value, fixable=False)

    def visit_Dict(self, node: cst.Dict) -> None:
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                key = _key_name(element.key)
                if key is not None:
                    self._check(key, element.value)

    def visit_Call(self, node: cst.Call) -> None:
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
        text = _string_value(value)
        if text is None or is_non_secret_value(text, name):
            return
        ctx = self.ctx
        if ctx.kind.is_test and not looks_real(text.strip()):
            return
        statement_class = _statement_class(ctx)
        if statement_class is not None and _is_enum(statement_class):
            return  # `class Auth(Enum): TOKEN = "tok"` names a choice
        message = self.message.format(name=_shorten(name))
        if fix_name and not ctx.scopes and not ctx.kind.is_test and not _is_bytes(value):
            env = cst.parse_expression(f'os.environ["{_env_name(name)}"]')
            self.report(value, message, replace=(value, env), imports=("import os",))
        else:
            self.report(value, message)

    # -- URLs -------------------------------------------------------------------------

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if "://" in node.value and "@" in node.value and not self._nested_or_docstring():
            text = _string_value(node)
            if text is not None:
                self._check_url(node, text)

    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> None:
        if self._nested_or_docstring():
            return
        pieces = string_pieces(node)
        raw = "".join(p.value if isinstance(p, cst.SimpleString) else _formatted_text(p)
                      for p in pieces if isinstance(p, (cst.SimpleString, cst.FormattedString)))
        if "://" in raw and "@" in raw:  # cheap test on the source before evaluating
            self._check_url(node, _concatenated_text(node))

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        if not self._nested_or_docstring():
            text = _formatted_text(node)
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
            if self.ctx.kind.is_test and not looks_real(password):
                continue
            self.report(node, self.url_message)
            return


def _concatenated_text(node: cst.ConcatenatedString) -> str:
    """The literal text of an implicit concatenation; interpolations become NUL."""
    return "".join(
        _formatted_text(piece) if isinstance(piece, cst.FormattedString)
        else _string_value(piece) or ""
        for piece in string_pieces(node)
    )


def _formatted_text(node: cst.FormattedString) -> str:
    return "".join(
        part.value if isinstance(part, cst.FormattedStringText) else "\x00"
        for part in node.parts
    )


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
    return _CAMEL_ACRONYM.sub(r"\1_\2", _CAMEL_LOWER_UPPER.sub(r"\1_\2", name)).upper()


def _is_bytes(node: cst.BaseExpression) -> bool:
    """`os.environ` holds `str`; a bytes literal gets no fix."""
    if isinstance(node, cst.ConcatenatedString):
        return _is_bytes(node.left)
    return isinstance(node, cst.SimpleString) and "b" in node.prefix.lower()


def _shorten(name: str, limit: int = 40) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


# == PYS105 sql-string-building =======================================================

# Importing one of these makes `<anything>.execute(...)` a database call when its
# argument reads as SQL.
DB_MODULES = frozenset({"sqlite3", "psycopg2", "psycopg", "pymysql", "MySQLdb", "mysql",
                        "asyncpg", "aiosqlite", "aiomysql", "aiopg", "sqlalchemy", "sqlmodel",
                        "databases", "cx_Oracle", "oracledb", "pyodbc", "pymssql", "duckdb",
                        "peewee", "records", "clickhouse_driver", "snowflake", "trino"})
# Receivers named with one of these words are database handles whatever the imports.
DB_RECEIVER_WORDS = frozenset({"cursor", "cur", "curs", "cr", "conn", "connection", "con",
                               "cnx", "db", "database", "session", "sess", "engine",
                               "connect", "tx", "txn", "transaction", "sqlite", "pg",
                               "mysql", "postgres", "psql"})
_CURSOR_WORDS = frozenset({"cursor", "cur", "curs", "cr", "c"})
_ORM_RECEIVER_WORDS = frozenset({"session", "sess", "engine"})
# Paramstyle of the suggestion: `?` for qmark drivers, `%s` (format) otherwise; none for
# drivers with their own (`$1`) or libraries whose `execute` is not DB-API.
_QMARK_MODULES = ("sqlite3", "aiosqlite", "pyodbc")
_FORMAT_MODULES = ("psycopg2", "psycopg", "pymysql", "MySQLdb", "mysql", "aiomysql", "aiopg",
                   "django")
_NOT_DBAPI_MODULES = ("sqlalchemy", "sqlmodel", "databases", "asyncpg")
TEXT_FUNCTIONS = frozenset({"sqlalchemy.text", "sqlalchemy.sql.text",
                            "sqlalchemy.sql.expression.text", "sqlmodel.text"})
RAW_SQL = frozenset({"django.db.models.RawSQL", "django.db.models.expressions.RawSQL"})
_MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
_SQL_KEYWORDS = re.compile(
    r"\b(?:select|insert|update|delete|create|drop|alter|truncate|replace|merge|with|where|"
    r"from|into|values|set|join|union|pragma|exec|call|show|describe|explain|vacuum|grant|"
    r"revoke)\b",
    re.I,
)
_CONSTANT_NAME = re.compile(r"_*[A-Z][A-Z0-9_]+")
# Calls whose result cannot carry SQL: numbers, and identifier quoting.
_SAFE_CALLS = frozenset({"builtins.int", "builtins.float", "builtins.len", "builtins.bool"})
_QUOTING_METHODS = frozenset({"quote_name", "quote_ident", "Identifier", "Literal"})
_MAX_DEPTH = 50  # nesting the value analysis follows; beyond it, assume a constant
# Where a bare placeholder is a value the suggestion may bind: `= {x}`, `LIKE {x}`, `LIMIT {x}`.
_VALUE_POSITION = re.compile(r"(?:[=<>]|\b(?:like|ilike|limit|offset))\s*$", re.I)


@dataclass(frozen=True, slots=True)
class _Built:
    """An expression that builds SQL text from values: how, and where its literal parts are."""

    how: str
    parts: tuple[cst.BaseExpression, ...]


@dataclass(frozen=True, slots=True)
class _Constant:
    """A local name bound to a literal or constant expression."""

    node: cst.BaseExpression


@register
class SqlStringBuilding(Rule):
    code = "PYS105"
    name = "sql-string-building"
    severity = Severity.ERROR
    message = "SQL built with {how} is passed to {sink}; pass the values as query parameters"
    requires = ("execute", "raw(", "RawSQL", "extra(", "sqlalchemy", "sqlmodel")
    docs = """
## What it does
Flags SQL assembled from values — an f-string with placeholders, `.format(...)`,
`%`-formatting or `+` concatenation with a non-literal operand — passed as the query to
`cursor.execute`/`executemany` (and `connection.execute`, `session.execute`),
`Model.objects.raw`, Django's `RawSQL`, `.extra(where=[...], select={...})` or SQLAlchemy's
`text(...)`. A local variable built that way earlier in the same function counts too:
`sql = f"..."; cursor.execute(sql)`.

`<x>.execute(...)` is taken as a database call when `<x>` is named like one (`cursor`,
`conn`, `db`, `session`, `engine`, …) and the module imports a database library (or
`django.db`); when only one of the two holds, the literal text must also read as SQL
(`SELECT`, `INSERT`, `WHERE`, …), so `executor.execute(f"job-{x}")` and GraphQL clients
stay quiet. Fully literal SQL (implicit concatenation included, f-strings without
placeholders), parameterized calls `execute(sql, params)` with a literal `sql`, and values
that cannot carry SQL (`UPPER_CASE` constants, `int(...)`, `Model._meta.db_table`,
`", ".join(["%s"] * n)`) are not flagged.

## Why is this bad?
Interpolating a value into SQL text is SQL injection (OWASP Top 10 A03: Injection; OWASP
SQL Injection Prevention Cheat Sheet, "Option 1: Use of Prepared Statements"). The driver
passes parameters separately from the query, so no value can change its structure. Django's
documentation on raw SQL says: "Do not use string formatting on raw queries or quote
placeholders in your SQL strings!"; SQLAlchemy's `text()` takes `:name` bind parameters.

## Example
```python
cursor.execute(f"SELECT * FROM users WHERE email = '{email}'")
User.objects.raw("SELECT * FROM users WHERE id = %s" % user_id)
```

## Use instead
```python
cursor.execute("SELECT * FROM users WHERE email = %s", (email,))
User.objects.raw("SELECT * FROM users WHERE id = %s", [user_id])
session.execute(text("SELECT * FROM users WHERE id = :id"), {"id": user_id})
```

## Fix
A DB-API `execute(f"...")` with one argument whose placeholders are plain names, attributes
or subscripts in value positions (`= {x}`, `LIKE {x}`, `LIMIT {x}`, or quoted `'{x}'`,
whose quotes are dropped) becomes `execute("... %s ...", (x,))` — `?` in modules that use
sqlite3. No fix when the SQL holds a literal `%`, or a placeholder has a format spec or
conversion or stands where only an identifier can.

## Suppress
`# noqa: PYS105` on the line, when every interpolated piece is a trusted identifier.
"""
    bad = (
        "def find(cursor, email):\n"
        "    cursor.execute(f\"SELECT * FROM users WHERE email = '{email}'\")  # flagged\n",
        "def find(cursor, uid):\n"
        "    cursor.execute(\"SELECT * FROM users WHERE id = %s\" % uid)  # flagged\n",
        "def find(conn, uid):\n"
        "    sql = \"SELECT * FROM users WHERE id = \" + str(uid)\n"
        "    return conn.execute(sql)  # flagged\n",
        "from django.db import models\n\n\nclass User(models.Model):\n    pass\n\n\n"
        "def find(name):\n"
        "    return User.objects.raw(\"SELECT * FROM app_user WHERE name = '{}'\".format(name))  # flagged\n",
        "from sqlalchemy import text\n\n\ndef find(session, uid):\n"
        "    return session.execute(text(f\"SELECT * FROM users WHERE id = {uid}\"))  # flagged\n",
    )
    good = (
        "def find(cursor, email):\n"
        "    cursor.execute(\"SELECT * FROM users WHERE email = %s\", (email,))\n",
        "def count(cursor):\n    cursor.execute(\"SELECT count(*) \" \"FROM users\")\n",
        "TABLE = \"users\"\n\n\ndef find(cursor, uid):\n"
        "    cursor.execute(f\"SELECT * FROM {TABLE} WHERE id = %s\", (uid,))\n",
        "def find(cursor, ids):\n"
        "    marks = \", \".join([\"%s\"] * len(ids))\n"
        "    cursor.execute(f\"SELECT * FROM users WHERE id IN ({marks})\", ids)\n",
        "def run(executor, job):\n    executor.execute(f\"job-{job}\")\n",
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        # (enclosing function id, name) -> what the name holds, as of the visit position.
        self._names: dict[tuple[int, str], _Built | _Constant] = {}
        self._db_module: bool | None = None

    # -- local names --------------------------------------------------------------------

    def _key(self, name: str) -> tuple[int, str]:
        return (id(self.ctx.enclosing_function()), name)

    def leave_Assign(self, original_node: cst.Assign) -> None:
        value = original_node.value
        for target in original_node.targets:
            if isinstance(target.target, cst.Name):
                self._bind(target.target.value, self._classify(value))
            else:
                self._forget(target.target)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        if isinstance(original_node.target, cst.Name) and original_node.value is not None:
            self._bind(original_node.target.value, self._classify(original_node.value))

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        target = original_node.target
        if not isinstance(target, cst.Name) or not isinstance(original_node.operator,
                                                              cst.AddAssign):
            self._forget(target)
            return
        key = self._key(target.value)
        before = self._names.get(key)
        if before is None:  # `total += 1`, or a string we know nothing about
            return
        value = original_node.value
        added = self._built(value)
        if added is not None:
            self._names[key] = _Built(added.how, (*self._parts(before), *added.parts))
        elif not self._constant(value):
            self._names[key] = _Built("`+` concatenation", self._expand([target, value]))
        elif isinstance(before, _Built):
            self._names[key] = _Built(before.how, self._expand([target, value]))

    def leave_NamedExpr(self, original_node: cst.NamedExpr) -> None:
        if isinstance(original_node.target, cst.Name):
            self._bind(original_node.target.value, self._classify(original_node.value))

    def visit_For(self, node: cst.For) -> None:
        self._forget(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._forget(node.asname.name)

    def _classify(self, value: cst.BaseExpression) -> _Built | _Constant | None:
        if not isinstance(value, (cst.SimpleString, cst.ConcatenatedString,
                                  cst.FormattedString, cst.BinaryOperation, cst.Call,
                                  cst.Name)):
            return None
        built = self._built(value)
        if built is not None:
            return built
        return _Constant(value) if self._constant(value) else None

    def _bind(self, name: str, state: _Built | _Constant | None) -> None:
        key = self._key(name)
        if state is None:
            self._names.pop(key, None)
        else:
            self._names[key] = state

    def _forget(self, target: cst.BaseExpression) -> None:
        if not self._names:
            return
        if isinstance(target, cst.Name):
            self._names.pop(self._key(target.value), None)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._forget(element.value)
        elif isinstance(target, cst.StarredElement):
            self._forget(target.value)

    @staticmethod
    def _parts(state: _Built | _Constant) -> tuple[cst.BaseExpression, ...]:
        return state.parts if isinstance(state, _Built) else (state.node,)

    # -- what builds SQL ------------------------------------------------------------------

    def _constant(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """Can this value not carry attacker-controlled SQL? Literals, UPPER_CASE
        constants, numbers from `int()`/`len()`, identifier quoting, placeholder joins.
        Past `_MAX_DEPTH` nested expressions the answer is yes: no finding beats a guess."""
        if depth > _MAX_DEPTH:
            return True
        deeper = depth + 1
        if isinstance(expr, (cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary)):
            return True
        if isinstance(expr, cst.ConcatenatedString):
            return all(self._constant(piece, deeper) for piece in string_pieces(expr))
        if isinstance(expr, cst.FormattedString):
            return all(self._constant(part.expression, deeper) for part in expr.parts
                       if isinstance(part, cst.FormattedStringExpression))
        if isinstance(expr, cst.Name):
            if expr.value in ("None", "True", "False") or _CONSTANT_NAME.fullmatch(expr.value):
                return True
            return isinstance(self._names.get(self._key(expr.value)), _Constant)
        if isinstance(expr, cst.Attribute):
            attr = expr.attr.value
            return bool(_CONSTANT_NAME.fullmatch(attr)) or (
                attr == "db_table" and isinstance(expr.value, cst.Attribute)
                and expr.value.attr.value == "_meta"
            )
        if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
            return all(isinstance(el, cst.Element) and self._constant(el.value, deeper)
                       for el in expr.elements)
        if isinstance(expr, cst.Dict):
            return all(isinstance(el, cst.DictElement) and self._constant(el.value, deeper)
                       for el in expr.elements)
        if isinstance(expr, cst.UnaryOperation):
            return self._constant(expr.expression, deeper)
        if isinstance(expr, cst.BinaryOperation):
            if isinstance(expr.operator, cst.Add):
                return all(self._constant(op, deeper) for op in _added(expr))
            if isinstance(expr.operator, cst.Multiply):  # "%s, " * n, ["?"] * len(ids)
                return self._constant(expr.left, deeper) or self._constant(expr.right, deeper)
            return self._constant(expr.left, deeper) and self._constant(expr.right, deeper)
        if isinstance(expr, cst.Call):
            return self._constant_call(expr, deeper)
        return False

    def _constant_call(self, call: cst.Call, depth: int) -> bool:
        func = call.func
        if isinstance(func, cst.Attribute):
            if func.attr.value in _QUOTING_METHODS:
                return True
            if func.attr.value == "join" and isinstance(func.value, cst.SimpleString):
                if len(call.args) != 1:
                    return False
                items = call.args[0].value
                if isinstance(items, (cst.GeneratorExp, cst.ListComp, cst.SetComp)):
                    return self._constant(items.elt, depth)
                return self._constant(items, depth)
            return False
        return self.ctx.qualified_name(func) in _SAFE_CALLS

    def _template(self, expr: cst.BaseExpression) -> bool:
        """A string that `%` or `.format` fills in: a literal or a constant name."""
        if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
            return True
        return isinstance(expr, cst.Name) and self._constant(expr)

    def _built(self, expr: cst.BaseExpression) -> _Built | None:
        """How `expr` builds SQL text from a non-constant value, or None."""
        if isinstance(expr, cst.FormattedString):
            return None if self._constant(expr) else _Built("an f-string", (expr,))
        if isinstance(expr, cst.ConcatenatedString):
            return None if self._constant(expr) else _Built("an f-string", (expr,))
        if isinstance(expr, cst.Name):
            state = self._names.get(self._key(expr.value))
            return state if isinstance(state, _Built) else None
        if isinstance(expr, cst.Call):
            func = expr.func
            if (isinstance(func, cst.Attribute) and func.attr.value == "format"
                    and self._template(func.value)
                    and any(arg.star or not self._constant(arg.value) for arg in expr.args)):
                return _Built("`.format()`", (func.value,))
            return None
        if not isinstance(expr, cst.BinaryOperation):
            return None
        if isinstance(expr.operator, cst.Modulo):
            if self._template(expr.left) and not self._constant(expr.right):
                return _Built("`%` formatting", (expr.left,))
            return None
        if isinstance(expr.operator, cst.Add):
            operands = _added(expr)
            for operand in operands:
                inner = self._built(operand)
                if inner is not None:
                    return _Built(inner.how, self._expand(operands))
            has_text = any(self._template(op) or isinstance(op, cst.FormattedString)
                           for op in operands)
            if has_text and not all(self._constant(op) for op in operands):
                return _Built("`+` concatenation", self._expand(operands))
        return None

    def _expand(self, operands: list[cst.BaseExpression]) -> tuple[cst.BaseExpression, ...]:
        """Operands with local names replaced by what they held: `sql = sql + x` must not
        make `sql` refer to itself."""
        out: list[cst.BaseExpression] = []
        for operand in operands:
            state = (self._names.get(self._key(operand.value))
                     if isinstance(operand, cst.Name) else None)
            out.extend(self._parts(state) if state is not None else (operand,))
        return tuple(out)

    def _sql_text(self, parts: tuple[cst.BaseExpression, ...]) -> str:
        """The literal text of the SQL's parts, through local names (each read once)."""
        out: list[str] = []
        seen: set[str] = set()
        stack = list(reversed(parts))
        while stack:
            part = stack.pop()
            if isinstance(part, cst.FormattedString):
                out.append(_formatted_text(part))
            elif isinstance(part, cst.ConcatenatedString):
                out.append(_concatenated_text(part))
            elif isinstance(part, cst.SimpleString):
                out.append(_string_value(part) or "")
            elif isinstance(part, cst.Name) and part.value not in seen:
                seen.add(part.value)
                state = self._names.get(self._key(part.value))
                if state is not None:
                    stack.extend(reversed(self._parts(state)))
        return " ".join(out)

    # -- sinks ------------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            attr = func.attr.value
            if attr in ("execute", "executemany"):
                self._check_execute(node, func)
            elif attr == "raw" and _on_manager(func.value):
                self._check_sink(_sql_argument(node, ("raw_query",)), "`objects.raw`")
            elif attr == "extra":
                self._check_extra(node, func)
            elif attr in ("text", "RawSQL"):
                self._check_qualified(node, func)
        elif isinstance(func, cst.Name):  # also `from sqlalchemy import text as sql_text`
            self._check_qualified(node, func)

    def _check_qualified(self, node: cst.Call, func: cst.BaseExpression) -> None:
        qualified = self.ctx.qualified_name(func)
        if qualified in TEXT_FUNCTIONS:
            self._check_sink(_sql_argument(node, ("text",)), "`text()`")
        elif qualified in RAW_SQL:
            self._check_sink(_sql_argument(node, ("sql",)), "`RawSQL`")

    def _check_sink(self, sql: cst.BaseExpression | None, sink: str) -> None:
        if sql is None:
            return
        built = self._built(sql)
        if built is not None:
            self.report(sql, self._message(sql, built, sink))

    def _message(self, sql: cst.BaseExpression, built: _Built, sink: str) -> str:
        how = f"{built.how} (in `{sql.value}`)" if isinstance(sql, cst.Name) else built.how
        return self.message.format(how=how, sink=sink)

    def _check_extra(self, node: cst.Call, func: cst.Attribute) -> None:
        if not (_on_manager(func.value) or "django" in self.ctx.frameworks):
            return
        for arg in node.args:
            keyword = arg.keyword.value if arg.keyword is not None else None
            value = arg.value
            if keyword == "where" and isinstance(value, (cst.List, cst.Tuple)):
                items = [el.value for el in value.elements]
            elif keyword == "select" and isinstance(value, cst.Dict):
                items = [el.value for el in value.elements if isinstance(el, cst.DictElement)]
            else:
                continue
            for item in items:
                self._check_sink(item, f"`.extra({keyword}=...)`")

    def _check_execute(self, node: cst.Call, func: cst.Attribute) -> None:
        sql = _sql_argument(node, ("sql", "query", "statement", "operation"))
        if sql is None:
            return
        built = self._built(sql)
        if built is None:
            return
        db_receiver = _is_db_receiver(func.value)
        db_module = self._imports_db()
        if not (db_receiver or db_module):
            return
        if not (db_receiver and db_module) and not _SQL_KEYWORDS.search(
            self._sql_text(built.parts)
        ):
            return
        receiver = dotted_name(func.value)
        sink = f"`{receiver}.{func.attr.value}`" if receiver else f"`.{func.attr.value}`"
        message = self._message(sql, built, sink)
        new = self._parameterized(node, func) if func.attr.value == "execute" else None
        if new is None:
            self.report(sql, message)
        else:
            self.report(sql, message, replace=(node, new))

    def _imports_db(self) -> bool:
        if self._db_module is None:
            imports = self.ctx.imports.values()
            self._db_module = self.ctx.imports_module(*DB_MODULES) or any(
                target.startswith("django.db") for target in imports
            )
        return self._db_module

    # -- the fix ----------------------------------------------------------------------

    def _parameterized(self, node: cst.Call, func: cst.Attribute) -> cst.Call | None:
        """`execute(f"... = {x}")` -> `execute("... = %s", (x,))`, or None if unsafe."""
        if len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
            return None
        sql = node.args[0].value
        if not isinstance(sql, cst.FormattedString) or sql.prefix.lower() != "f":
            return None
        ctx = self.ctx
        if ctx.imports_module("asyncpg"):
            return None
        qmark = ctx.imports_module(*_QMARK_MODULES)
        known = qmark or ctx.imports_module(*_FORMAT_MODULES)
        if qmark and ctx.imports_module(*_FORMAT_MODULES):
            return None  # two paramstyles in one module: which one is this cursor?
        receiver = func.value
        # A cursor is DB-API (`%s` unless the module says qmark). Another handle only
        # when the module names its driver and it is not an ORM session or engine.
        if not _is_cursor(receiver) and (
            not known or ctx.imports_module(*_NOT_DBAPI_MODULES)
            or not _is_db_receiver(receiver)
            or not _ORM_RECEIVER_WORDS.isdisjoint(identifier_words(_receiver_name(receiver) or ""))
        ):
            return None
        rewritten = _rewrite_placeholders(sql, "?" if qmark else "%s")
        if rewritten is None:
            return None
        text, values = rewritten
        arg = node.args[0]
        params = cst.Tuple([cst.Element(value) for value in values])
        return node.with_changes(args=[
            arg.with_changes(value=cst.SimpleString(f"{sql.quote}{text}{sql.quote}"),
                             comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            cst.Arg(params, comma=arg.comma),
        ])


def _rewrite_placeholders(sql: cst.FormattedString, mark: str
                          ) -> tuple[str, list[cst.BaseExpression]] | None:
    """The f-string's text with each placeholder replaced by `mark`, and the values.

    None when a placeholder is not a plain value (format spec, conversion, `=`, a complex
    expression, an identifier position, inside a longer SQL string) or the SQL holds `%`.
    """
    parts = list(sql.parts)
    texts = [p.value for p in parts if isinstance(p, cst.FormattedStringText)]
    if any("%" in t or "\\'" in t or (mark == "?" and "?" in t) for t in texts):
        return None
    out = ""
    values: list[cst.BaseExpression] = []
    for i, part in enumerate(parts):
        if isinstance(part, cst.FormattedStringText):
            out += part.value.replace("{{", "{").replace("}}", "}")
            continue
        assert isinstance(part, cst.FormattedStringExpression)
        if part.conversion or part.format_spec or part.equal or not _simple(part.expression):
            return None
        after = parts[i + 1] if i + 1 < len(parts) else None
        after_text = after.value if isinstance(after, cst.FormattedStringText) else ""
        if out.endswith("'") and after_text.startswith("'"):
            out = out[:-1]
            if i + 1 < len(parts):  # drop the closing quote from the next text part
                parts[i + 1] = cst.FormattedStringText(after_text[1:])
        elif (out.endswith(("'", '"', "`")) or after_text.startswith(("'", '"', "`"))
              or not _VALUE_POSITION.search(out) or re.match(r"[\w.]", after_text)):
            return None
        if out.count("'") % 2:  # inside a longer SQL string literal
            return None
        out += mark
        values.append(part.expression)
    return out, values


def _simple(expr: cst.BaseExpression) -> bool:
    """A name, attribute chain or subscript by a literal or name: safe to move into a tuple."""
    if isinstance(expr, cst.Name):
        return True
    if isinstance(expr, cst.Attribute):
        return _simple(expr.value)
    if isinstance(expr, cst.Subscript) and len(expr.slice) == 1:
        index = expr.slice[0].slice
        return (_simple(expr.value) and isinstance(index, cst.Index)
                and isinstance(index.value, (cst.SimpleString, cst.Integer, cst.Name)))
    return False


def _added(expr: cst.BinaryOperation) -> list[cst.BaseExpression]:
    """The operands of an `a + b + c` chain, left to right (iteratively: chains get long)."""
    operands: list[cst.BaseExpression] = []
    stack: list[cst.BaseExpression] = [expr.right, expr.left]
    while stack:
        item = stack.pop()
        if (isinstance(item, cst.BinaryOperation) and isinstance(item.operator, cst.Add)
                and not item.lpar):
            stack.append(item.right)
            stack.append(item.left)
        else:
            operands.append(item)
    return operands


def _sql_argument(call: cst.Call, keywords: tuple[str, ...]) -> cst.BaseExpression | None:
    """The query argument: the first positional one, or one of `keywords`."""
    for arg in call.args:
        if arg.keyword is None:
            return None if arg.star else arg.value
        if arg.keyword.value in keywords:
            return arg.value
    return None


def _receiver_name(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.Call):  # connection.cursor().execute(...)
        expr = expr.func
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    if isinstance(expr, cst.Name):
        return expr.value
    return None


def _is_db_receiver(expr: cst.BaseExpression) -> bool:
    name = _receiver_name(expr)
    return name is not None and not DB_RECEIVER_WORDS.isdisjoint(identifier_words(name))


def _is_cursor(expr: cst.BaseExpression) -> bool:
    name = _receiver_name(expr)
    return name is not None and not _CURSOR_WORDS.isdisjoint(identifier_words(name))


def _on_manager(expr: cst.BaseExpression) -> bool:
    """Is `expr` a Django manager or queryset chain (`User.objects`, `X.objects.using(db)`)?"""
    while isinstance(expr, (cst.Attribute, cst.Call)):
        if isinstance(expr, cst.Call):
            expr = expr.func
            continue
        if expr.attr.value in _MANAGERS:
            return True
        expr = expr.value
    return False
