"""When a PYS102 finding has the evidence to be reported by default (docs/rules.md "Policy").

A literal under a secret-looking name is often no credential at all: a test's invalid
token, a factory's dummy password, a throwaway container's URL in a maintainer script, a
documented default the operator overrides, a sentinel the app refuses to start with. A
blind judging of the default selection over eight applications found 0 useful of 12 such
findings. So the default selection reports a value only with evidence it is real:

(a) a known provider credential format (`AKIA…`, `ghp_…`, `sk_live_…`, a PEM private
    key), wherever it is: a live key in a test is still a leak;
(b) in application code, a value that looks generated: long and random, not a sentence,
    a `key=value` condition, a placeholder or lower-case words;
(c) a URL with inline credentials for a host that is not local and a password that is
    not a stand-in.

Everything else is still reported where PYS102 is chosen by code, category or `ALL`.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import libcst as cst

from pystd.rules.context import FileContext, dotted_name
from pystd.rules.general.secrets.places import words_only
from pystd.rules.general.secrets.values import (
    NON_SECRET_VALUES,
    entropy,
    is_placeholder,
    looks_real,
)
from pystd.rules.general.strings import identifier_words

# (a) Formats their providers document; the body must be long and carry a digit (a real
# key is random; `sk-FAKE-OPENAI-API-KEY` is typed).
_PROVIDER = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"(?:AKIA|ASIA)(?P<aws>[A-Z0-9]{16})"
    r"|gh[pousr]_(?P<github>[A-Za-z0-9]{30,})"
    r"|github_pat_(?P<github_pat>[A-Za-z0-9_]{22,})"
    r"|glpat-(?P<gitlab>[A-Za-z0-9_\-]{20,})"
    r"|xox[abposr]-(?P<slack>[A-Za-z0-9\-]{10,})"
    r"|[sr]k_live_(?P<stripe>[A-Za-z0-9]{16,})"
    r"|AIza(?P<google>[0-9A-Za-z_\-]{35})"
    r"|SG\.(?P<sendgrid>[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,})"
    r"|sk-(?:proj-|ant-(?:api\d+-)?|svcacct-)?(?P<openai>[A-Za-z0-9_\-]{32,})"
    r")"
)
_PEM_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----\s*[A-Za-z0-9+/=]{4,}")
# Words a person types into a stand-in, never found in a generated credential's body.
_STAND_IN_MARKERS = ("test", "fake", "dummy", "mock", "sample", "fixture", "example",
                     "invalid", "wrong", "secret", "passw", "token", "changeme", "placeholder",
                     "qwerty", "foo", "bar", "xxxx", "your", "insecure", "default")


def is_provider_credential(value: str) -> bool:
    """(a) A credential in a format its provider documents, with a random body."""
    if _PEM_PRIVATE_KEY.search(value):
        return True
    for match in _PROVIDER.finditer(value):
        body = next(group for group in match.groups() if group is not None)
        lowered = body.lower()
        if (any(ch.isdigit() for ch in body) and any(ch.isalpha() for ch in body)
                and not any(marker in lowered for marker in _STAND_IN_MARKERS)):
            return True
    return False


# `sms_provider=ovh`, `role == admin and plan != free`: a condition or a setting, under a
# key whose name happens to end in `token` or `password`.
_CONDITION = re.compile(
    r"[A-Za-z_][\w.]*\s*(?:==|!=|<=|>=|=|<|>)\s*[\w.\-]+"
    r"(?:\s*(?:,|;|&&?|\|\|?|\band\b|\bor\b)\s*[A-Za-z_][\w.]*\s*(?:==|!=|<=|>=|=|<|>)\s*[\w.\-]+)*"
)
# `key<script>alert(1)</script>`: markup, a test's hostile input.
_MARKUP = re.compile(r"</?[A-Za-z][\w-]*[\s/>]")
_DJANGO_GENERATED = "django-insecure-"  # startproject's prefix on a generated key
MIN_GENERATED_LENGTH = 16


def looks_generated(value: str) -> bool:
    """(b) Does the value look like a generated secret: 16+ characters, no spaces, random
    (two or more character classes and Shannon entropy of 3.5 bits or more, or 4.0 bits
    alone), not a condition string, a placeholder, a typed stand-in or lower-case words?
    Django's `django-insecure-` prefix marks a key startproject generated: its random
    part is judged."""
    text = value.strip()
    if text.startswith(_DJANGO_GENERATED):
        text = text[len(_DJANGO_GENERATED):]
    if len(text) < MIN_GENERATED_LENGTH or any(ch.isspace() for ch in text):
        return False
    if (is_placeholder(text) or words_only(text) or _CONDITION.fullmatch(text)
            or _MARKUP.search(text)):
        return False
    lowered = text.lower()
    if any(marker in lowered for marker in _STAND_IN_MARKERS):
        return False
    classes = (any(c.islower() for c in text) + any(c.isupper() for c in text)
               + any(c.isdigit() for c in text) + any(not c.isalnum() for c in text))
    bits = entropy(text)
    return (classes >= 2 and bits >= 3.5) or bits >= 4.0


# -- (c) URLs ------------------------------------------------------------------------------

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]", "host.docker.internal",
                          "0.0.0.0"})  # noqa: S104 (a host in a URL, not a bind)
# Suffixes of hosts that never reach a real service: mDNS, and the names RFC 2606/6761
# reserve for documentation and tests.
_LOCAL_SUFFIXES = (".local", ".localhost", ".test", ".example", ".invalid",
                   "example.com", "example.org", "example.net")
# Passwords a person types for a throwaway database: `guest:guest`, `postgres:postgres`.
_STAND_IN_PASSWORDS = frozenset({"pass", "password", "passwd", "secret", "guest", "admin",
                                 "root", "test", "postgres", "mysql", "mongo", "redis",
                                 "user", "changeme", "example", "dummy", "fake", "toor",
                                 "1234", "12345", "123456"})


def url_host(text: str, end: int) -> str:
    """The host of a URL whose credentials end at `end` (the index after the `@`)."""
    rest = text[end:]
    if rest.startswith("["):
        return rest[: rest.find("]") + 1].lower() if "]" in rest else rest.lower()
    return re.split(r"[:/?#\s'\"]", rest, maxsplit=1)[0].lower()


def is_local_host(host: str) -> bool:
    """localhost and loopback, `*.local`, documentation hosts, and a name without a dot: a
    docker-compose service (`db`, `mongo`, `redis`, `postgres`) on the project's own
    network. An interpolated host (`{host}`) is unknown and counts as remote."""
    if "{" in host or "%" in host or host.startswith("$"):
        return False
    return (not host or host in _LOCAL_HOSTS or host.startswith("127.")
            or host.endswith(_LOCAL_SUFFIXES) or "." not in host.strip("[]"))


def url_has_evidence(user: str, password: str, host: str, app_code: bool) -> bool:
    """(c) A password that is not a stand-in, for a host that is not local; outside
    application code the password must also look real."""
    lowered = password.lower()
    if (is_local_host(host) or is_placeholder(password) or lowered in NON_SECRET_VALUES
            or lowered in _STAND_IN_PASSWORDS or lowered == user.lower()):
        return False
    return app_code or looks_real(password)


# -- where: application code ---------------------------------------------------------------

# Folders of code that is not the application: maintainer scripts, examples and docs,
# test data. Their credentials are throwaways (a local container's, a demo's).
NOT_APP_FOLDERS = frozenset({
    "scripts", "script", "extras", "tools", "bin", "dev", "devtools", "hack",
    "example", "examples", "demo", "demos", "sample", "samples", "docs", "doc",
    "documentation", "tutorial", "tutorials", "fixtures", "factories", "seeds",
    "testdata", "test_data", "mocks", "migrations", "alembic",
})
# Modules of test data: factory_boy factories, fixtures, seeders.
TEST_DATA_MODULES = frozenset({"factories", "factory", "fixtures", "fixture", "seed", "seeds",
                               "seed_data", "sample_data", "fake_data", "test_data",
                               "testdata", "mocks", "populate", "setup", "noxfile",
                               "fabfile", "conftest"})
# Words of a function that fills a database with sample rows (`populate_database`,
# `create_test_data`, `seed_users`, `load_fixtures`).
_TEST_DATA_WORDS = frozenset({"populate", "seed", "fixture", "fixtures", "fake", "sample",
                              "demo", "dummy", "mock", "test", "tests", "factory"})


def in_application_code(ctx: FileContext) -> bool:
    """Is the literal in the application proper: not a test, test-data module, factory
    class, test-data helper, script or example folder, migration or `__main__` block?"""
    kind = ctx.kind
    path = PurePosixPath(kind.path)
    if kind.is_test or kind.is_migration or ctx.in_main_block():
        return False
    stem_words = set(identifier_words(path.stem))
    if path.stem in TEST_DATA_MODULES or stem_words & {"factories", "fixtures", "test"}:
        return False
    if not NOT_APP_FOLDERS.isdisjoint(path.parts[:-1]):
        return False
    for node in ctx.ancestors:
        if isinstance(node, cst.ClassDef) and _is_test_data_class(node):
            return False
        if isinstance(node, cst.FunctionDef) and _TEST_DATA_WORDS & set(
                identifier_words(node.name.value)):
            return False
    return True


def _is_test_data_class(node: cst.ClassDef) -> bool:
    """A factory_boy factory (`class UserFactory(DjangoModelFactory)`) or a test case
    (`class UserTestCase(TestCase)`) outside a test folder."""
    name = node.name.value
    if name.startswith("Test") or name.endswith(("TestCase", "Tests", "Factory")):
        return True
    for base in node.bases:
        dotted = dotted_name(base.value)
        if dotted is not None and dotted.endswith(("Factory", "TestCase")):
            return True
    return False


# -- named or documented as a default ------------------------------------------------------

_DEFAULT_NAME_FIRST = frozenset({"default", "dummy", "fake", "example", "test", "sample",
                                 "placeholder", "demo"})
_DEFAULT_NAME_LAST = frozenset({"placeholder", "default", "sentinel", "example"})


def named_as_default(name: str) -> bool:
    """`DEFAULT_PASSWORD`, `DUMMY_TOKEN`, `TEST_API_KEY`, `SECRET_KEY_PLACEHOLDER`: a
    constant whose name says it holds a stand-in or a default to override."""
    words = identifier_words(name)
    return bool(words) and (words[0] in _DEFAULT_NAME_FIRST or words[-1] in _DEFAULT_NAME_LAST)


_DEFAULT_COMMENT = re.compile(
    r"\b(?:defaults?|public(?:ly)?|shared|overrid(?:e|es|den|ing)|placeholder|dummy|demo"
    r"|fake|sample|example|not\s+(?:a\s+)?secret|replace[ds]?|change\s+(?:it|this|me))\b",
    re.I,
)


def documented_as_default(ctx: FileContext) -> bool:
    """The comment on the statement's line, or the comment block right above it, says the
    value is a default, a shared or public key, or a stand-in to replace
    (`# shared default key; set api_key in config to use your own`)."""
    statement = next((node for node in reversed(ctx.ancestors)
                      if isinstance(node, cst.SimpleStatementLine)), None)
    if statement is None:
        return False
    comments: list[str] = []
    if statement.trailing_whitespace.comment is not None:
        comments.append(statement.trailing_whitespace.comment.value)
    lines = list(statement.leading_lines)
    module = ctx.module
    if module is not None and module.body and module.body[0] is statement:
        lines = [*module.header, *lines]  # libcst keeps the first statement's comments there
    for line in reversed(lines):
        if line.comment is None:
            break  # only the block touching the statement, not a section header above
        comments.append(line.comment.value)
    return any(_DEFAULT_COMMENT.search(comment) for comment in comments)



# Calls that read a setting and fall back to their second argument or `default=`:
# `config.get("api_key", API_KEY)`, `os.getenv("TOKEN", TOKEN)`, `getattr(s, "K", KEY)`.
_READS_WITH_DEFAULT = frozenset({"get", "getenv", "getattr", "setdefault", "pop", "get_value",
                                 "getstr", "get_setting", "get_config", "config", "env"})
_DEFAULT_KEYWORDS = frozenset({"default", "fallback"})


def overridden_names(module: cst.Module) -> frozenset[str]:
    """Names the module passes as the fallback of a configuration read: the constant is a
    default the application replaces from its configuration (`self.api_key =
    config.get("api_key", DEFAULT_KEY)`), not the credential it runs with."""
    names: set[str] = set()
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if not isinstance(node, cst.Call):
            continue
        func = node.func
        called = func.value if isinstance(func, cst.Name) else (
            func.attr.value if isinstance(func, cst.Attribute) else "")
        positional = [arg for arg in node.args if arg.keyword is None and not arg.star]
        fallbacks = [arg.value for arg in node.args
                     if arg.keyword is not None and arg.keyword.value in _DEFAULT_KEYWORDS]
        if called in _READS_WITH_DEFAULT and len(positional) >= 2:
            fallbacks.append(positional[-1].value)
        for value in fallbacks:
            if isinstance(value, cst.Name):
                names.add(value.value)
            elif isinstance(value, cst.Attribute):
                names.add(value.attr.value)
    return frozenset(names)
