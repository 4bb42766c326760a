"""PYS102 hardcoded-secret: credentials written into the source.

The package splits the rule by concern: `values` (which names look secret, and which
values are real credentials), `places` (where a string sits: sample rows, documented
examples, message catalogs, fixtures), and the rule itself here. Every name importable
from the single module this package once was is re-exported here.
"""

from __future__ import annotations

from collections import Counter
from functools import cached_property

import libcst as cst

from pystd.rules.context import FileContext, bound_names
from pystd.rules.engine import Category, Example, Rule, Severity, register
from pystd.rules.general.secrets.doc import DOCS
from pystd.rules.general.secrets.evidence import (
    documented_as_default,
    in_application_code,
    is_provider_credential,
    looks_generated,
    named_as_default,
    overridden_names,
    url_has_evidence,
    url_host,
)
from pystd.rules.general.secrets.places import (
    builds_url,
    enclosing_class,
    env_name,
    fixtures_only,
    in_documented_example,
    is_bytes,
    is_enum,
    is_message_catalog,
    is_sample_row,
    key_name,
    shorten,
)
from pystd.rules.general.secrets.values import (
    CREDENTIAL_PREFIXES,
    EXAMPLE_FOLDERS,
    MIN_SECRET_LENGTH,
    NON_SECRET_VALUES,
    PREFILTER_WORDS,
    PUBLIC_KEY_PREFIXES,
    SECRET_PAIRS,
    SECRET_WORDS,
    URL_CREDENTIALS,
    is_non_secret_value,
    is_placeholder,
    is_secret_name,
    looks_real,
)
from pystd.rules.general.strings import (
    concatenated_text,
    formatted_text,
    string_pieces,
    string_value,
)

__all__ = [
    "CREDENTIAL_PREFIXES",
    "EXAMPLE_FOLDERS",
    "NON_SECRET_VALUES",
    "PREFILTER_WORDS",
    "PUBLIC_KEY_PREFIXES",
    "SECRET_PAIRS",
    "SECRET_WORDS",
    "HardcodedSecret",
    "is_non_secret_value",
    "is_placeholder",
    "is_secret_name",
    "looks_real",
]



@register
class HardcodedSecret(Rule):
    code = "PYS102"
    name = "hardcoded-secret"
    severity = Severity.WARNING
    category = Category.SECURITY
    default = True
    rationale = (
        "A committed credential is costly, so the rule stays on; but most literals under a "
        "secret-like name are stand-ins in tests, factories, scripts or documented defaults "
        "(0 useful of 12 in a blind judging over 8 applications), so by default it reports "
        "only a value shown to be real, and never fails the gate."
    )
    message = "Hardcoded secret in `{name}`; read it from the environment or a secret store"
    url_message = "Credentials inline in a URL literal; read them from the environment"
    run_on_tests = True
    docs = DOCS
    bad = (
        Example(
            """
            SECRET_KEY = "django-insecure-9x!k2m@4q7zrw3e8t5y1u6i0o2p4a7s9d3f6g8h1j4k7l0z"  # flagged
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
        self._default_targets = any(named_as_default(name) for target in node.targets
                                    for name in bound_names(target.target))
        self._required = fixable and len(self.ctx.ancestors) == 3 and not any(
            self._module_bindings.get(name, 0) > 1 for name in bound_names(node.targets[0].target))
        for target in node.targets:
            self._check_target(target.target, node.value, fixable=fixable)

    def leave_Assign(self, original_node: cst.Assign) -> None:
        self._default_targets = False  # `DEFAULTS = {"password": ...}` kept it for the value

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

    @cached_property
    def _overridden(self) -> frozenset[str]:
        module = self.ctx.module
        return overridden_names(module) if module is not None else frozenset()

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._check_target(node.target, node.value, fixable=False)

    def visit_Dict(self, node: cst.Dict) -> None:
        ancestors = self.ctx.ancestors
        if (len(ancestors) >= 3 and isinstance(ancestors[-2], cst.Arg)
                and ancestors[-2].keyword is not None and ancestors[-2].keyword.value == "kwargs"
                and isinstance(ancestors[-3], cst.Call) and builds_url(ancestors[-3])):
            return  # reverse("order", kwargs={"secret": "6zzj..."}): parts of a URL
        if is_message_catalog(node):
            return  # {"Password": "Cyfrinair", "No results found": "..."}: translations
        if is_sample_row(node, self.ctx):
            return  # [{"code": "F8VVL", "secret": "6zzj..."}, {...}]: rows of sample data
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                key = key_name(element.key)
                if key is not None:
                    self._check(key, element.value)

    def visit_Call(self, node: cst.Call) -> None:
        if builds_url(node):  # url_for("reset", token="set-password")
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
                key = key_name(target.slice[0].slice.value)
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
        if self._stand_in(text.strip()):
            return
        statement_class = enclosing_class(ctx)
        if statement_class is not None and is_enum(statement_class):
            return  # `class Auth(Enum): TOKEN = "tok"` names a choice
        if in_documented_example(ctx):
            return  # Field(examples=[{"password": "s3cr3t"}]), OpenAPI "example": {...}
        message = self.message.format(name=shorten(name))
        evidence = self._evidence(name, text)
        if fix_name and not ctx.scopes and not ctx.kind.is_test and not is_bytes(value):
            # Only the one unconditional module-level value may become a required read;
            # a class attribute (a config class next to others in its module), a branch or
            # a value assigned again elsewhere is a default, and `os.environ[...]` would
            # raise at import where it used to work: it becomes `os.environ.get(...)`.
            read = (f'os.environ["{env_name(name)}"]' if self._required
                    else f'os.environ.get("{env_name(name)}")')
            env = cst.parse_expression(read)
            self.report(value, message, replace=(value, env), imports=("import os",),
                        evidence=evidence)
        else:
            self.report(value, message, evidence=evidence)

    _default_targets = False  # the Assign being checked also binds a name like DEFAULT_*

    def _stand_in(self, value: str) -> bool:
        """In tests and fixtures, a value that looks neither real nor like a provider's
        key: a stand-in, never reported."""
        return fixtures_only(self.ctx) and not (looks_real(value)
                                                 or is_provider_credential(value))

    def _evidence(self, name: str, text: str) -> bool:
        """Is the value shown to be a real credential (evidence.py)? A provider's format
        anywhere; else a generated-looking value in application code, unless its name or
        comment says it is a default or a stand-in."""
        value = text.strip()
        if is_provider_credential(value):
            return True
        if named_as_default(name) or self._default_targets:
            return False  # DEFAULT_PASSWORD = "1234", DEFAULT_SECRET_KEY = "..."
        if name in self._overridden:
            return False  # API_KEY = "..." ... config.get("api_key", API_KEY)
        return (in_application_code(self.ctx) and looks_generated(value)
                and not documented_as_default(self.ctx))

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
        for match in URL_CREDENTIALS.finditer(text):
            password = match.group("password")
            if (is_placeholder(password) or password.lower() in NON_SECRET_VALUES
                    or len(password) < MIN_SECRET_LENGTH):
                continue
            if self._stand_in(password):
                continue
            host = url_host(text, match.end())
            evidence = url_has_evidence(match.group("user"), password, host,
                                        in_application_code(self.ctx))
            self.report(node, self.url_message, evidence=evidence)
            return
