"""PYS305 flask-csrf-disabled."""

from __future__ import annotations

import re
from functools import cached_property

import libcst as cst

from pystd.rules.context import ROUTE_METHODS, FileContext, dotted_name
from pystd.rules.django.csrf import authenticates_by_header, server_to_server_name
from pystd.rules.engine import Category, Example, Rule, Severity, register
from pystd.rules.flask.application import Shadowing
from pystd.rules.nodes import is_false, is_true, literal_string
from pystd.rules.walker import find_nodes

KEY = "WTF_CSRF_ENABLED"
CSRF_CLASSES = frozenset({"flask_wtf.CSRFProtect", "flask_wtf.csrf.CSRFProtect",
                          "flask_wtf.CsrfProtect", "flask_wtf.csrf.CsrfProtect"})
# The name Flask-WTF's docs give the extension; it is usually imported from an
# `extensions` module, where we cannot see what it is bound to.
CSRF_NAME = "csrf"
TEST_WORDS = frozenset({"test", "tests", "testing"})
_CONFIG_METHODS = frozenset({"update", "from_mapping"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
# A URL variable that carries a credential: `/kobo/<auth_token>/v1/...`, `/<api_key>/feed`.
_URL_CREDENTIAL = re.compile(r"<[^>]*(?:token|key|secret|signature)[^>]*>", re.IGNORECASE)


def words(name: str) -> frozenset[str]:
    """Lower-case words of an identifier or key: `TestingConfig` -> {"testing", "config"},
    `config_test` -> {"config", "test"}; `LatestConfig` holds no "test"."""
    return frozenset(w.lower() for w in _WORD.findall(name))


def _is_testing(name: str) -> bool:
    return not TEST_WORDS.isdisjoint(words(name))


@register
class FlaskCsrfDisabled(Rule):
    code = "PYS305"
    name = "flask-csrf-disabled"
    severity = Severity.WARNING
    category = Category.SECURITY
    default = True
    rationale = (
        "CSRF protection switched off outside test configuration is a hole for forms that "
        "authenticate by cookie, but API-only apps and signed webhooks (`csrf.exempt`) switch "
        "it off on purpose, as Django's exempted views showed (PYS207); a warning."
    )
    message = "{what} disables Flask-WTF CSRF protection"
    requires = (KEY, ".exempt")
    docs = """
## What it does
Flags Flask-WTF's CSRF protection switched off outside test configuration:
- `WTF_CSRF_ENABLED = False` as a module-level or class-level assignment (a config module
  or config class) or an attribute (`settings.WTF_CSRF_ENABLED = False`);
- the config key: `app.config["WTF_CSRF_ENABLED"] = False`;
- the config mapping: `app.config.update(WTF_CSRF_ENABLED=False)`, `from_mapping(...)`, and
  a dict literal `{"WTF_CSRF_ENABLED": False}`;
- `@csrf.exempt` on a view and `csrf.exempt(view_or_blueprint)`, where `csrf` is a
  `flask_wtf.csrf.CSRFProtect` bound at module level, or a name `csrf` in a module that
  imports Flask or Flask-WTF.

A `@csrf.exempt` view that authenticates its caller by something no other site can make a
browser send is not flagged: it reads a credential header (`Authorization`, `X-Api-Key`,
a signature), checks a signature or token (`hmac.compare_digest`, `verify_signature(...)`),
carries a decorator that does (`@requires_kobo_auth`, `@token_required`), or takes the
credential in its URL (`/kobo/<auth_token>/...`, on the route or its blueprint's
`url_prefix`, as calibre-web's Kobo sync API does). A webhook or callback another server
calls (by the view's name or its path: `/watch/callback`, `/stripe/webhook`) that reads no
session is reported only where PYS305 is chosen by code.

Test configuration is never flagged: test files are skipped by every rule, and so are
classes, functions and modules named with the word test/testing (`TestingConfig`,
`config/testing.py`), blocks under `if testing:`/`if app.testing:`, dicts under a
`"testing"` key or a `test_config=` argument, and config that sets `TESTING = True`
alongside (same class, module, block, call or dict). The `WTF_CSRF_ENABLED` key is
Flask-WTF's own, so a plain config module is checked even when it does not import Flask.

## Why is this bad?
Without the token check any site a logged-in user visits can submit forms to the
application with the user's cookies: change their e-mail, transfer money, delete data.
Flask-WTF's "CSRF Protection" documentation (flask-wtf.readthedocs.io/en/stable/csrf/)
enables the check for every view with `CSRFProtect` and strongly recommends keeping every
view protected; `WTF_CSRF_ENABLED` exists so test clients can post forms. The OWASP
"Cross-Site Request Forgery Prevention Cheat Sheet"
(cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html)
lists synchronizer tokens as the primary defence. A view that truly cannot carry a token
(a webhook signed by its sender) should verify that signature and say so in a
`# noqa: PYS305` comment.

## Example
```python
class ProductionConfig(Config):
    WTF_CSRF_ENABLED = False


@bp.post("/account/delete")
@csrf.exempt
def delete_account(): ...
```

## Use instead
```python
class TestingConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False


@bp.post("/account/delete")
def delete_account(): ...
```
and send the token from JavaScript in the `X-CSRFToken` header.

## Suppress
`# noqa: PYS305` on the line, with the reason (e.g. a webhook verified by signature).
"""
    bad = (
        Example(
            """
            class Config:
                SECRET_KEY = 'x'


            class ProductionConfig(Config):
                WTF_CSRF_ENABLED = False  # flagged
            """,
            "config.py",
        ),
        """
        from flask import Flask

        app = Flask(__name__)
        app.config['WTF_CSRF_ENABLED'] = False  # flagged
        """,
        """
        from flask import Flask

        app = Flask(__name__)
        app.config.update(WTF_CSRF_ENABLED=False)  # flagged
        """,
        """
        from flask import Flask

        app = Flask(__name__)
        app.config.from_mapping({'WTF_CSRF_ENABLED': False})  # flagged
        """,
        """
        from flask import Blueprint
        from flask_wtf.csrf import CSRFProtect

        csrf = CSRFProtect()
        bp = Blueprint('hooks', __name__)


        @bp.post('/hook')
        @csrf.exempt  # flagged
        def hook():
            return ''
        """,
        """
        from flask import Blueprint

        from web.extensions import csrf

        api = Blueprint('api', __name__)
        csrf.exempt(api)  # flagged
        """,
    )
    good = (
        Example(
            """
            class Config:
                WTF_CSRF_ENABLED = True


            class TestingConfig(Config):
                TESTING = True
                WTF_CSRF_ENABLED = False
            """,
            "config.py",
        ),
        Example(
            """
            WTF_CSRF_ENABLED = False
            """,
            "config/testing.py",
        ),
        """
        from flask import Flask


        def create_app(testing=False):
            app = Flask(__name__)
            if testing:
                app.config['WTF_CSRF_ENABLED'] = False
            return app
        """,
        """
        from flask import Flask

        app = Flask(__name__)
        app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
        """,
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._flask = ctx.imports_module("flask", "flask_wtf")
        self._csrf_names = {CSRF_NAME}
        self._shadowed = Shadowing()
        module = ctx.module
        self._test_module = _is_testing(ctx.kind.stem) or (
            module is not None and _sets_testing(module.body)
        )

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return KEY in ctx.source or ctx.imports_module("flask", "flask_wtf")

    # -- WTF_CSRF_ENABLED = False ----------------------------------------------------

    def visit_Assign(self, node: cst.Assign) -> None:
        if is_false(node.value):
            for target in node.targets:
                self._check_target(node, target.target)
        elif isinstance(node.value, cst.Call):
            for target in node.targets:
                self._bind_csrf(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is None:
            return
        if is_false(node.value):
            self._check_target(node, node.target)
        elif isinstance(node.value, cst.Call):
            self._bind_csrf(node.target, node.value)

    def _check_target(self, node: cst.CSTNode, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            if target.value != KEY or self._in_function():
                return  # a local variable of that name configures nothing
            what = f"`{KEY} = False`"
        elif isinstance(target, cst.Attribute):
            if target.attr.value != KEY:
                return
            what = f"`{dotted_name(target) or KEY} = False`"
        elif isinstance(target, cst.Subscript):
            if _subscript_key(target) != KEY:
                return
            what = f'`{dotted_name(target.value) or "config"}["{KEY}"] = False`'
        else:
            return
        if not self._in_test_config():
            self.report(node, self.message.format(what=what))

    def visit_Arg(self, node: cst.Arg) -> None:
        keyword = node.keyword
        if keyword is None or keyword.value != KEY or not is_false(node.value):
            return
        call = self.ctx.parent
        if isinstance(call, cst.Call) and _call_sets_testing(call):
            return
        if not self._in_test_config():
            self.report(node, self.message.format(what=f"`{KEY}=False`"))

    def visit_DictElement(self, node: cst.DictElement) -> None:
        key = node.key
        if not isinstance(key, cst.SimpleString) or KEY not in key.value:
            return
        if literal_string(key) != KEY or not is_false(node.value):
            return
        mapping = self.ctx.parent
        if isinstance(mapping, cst.Dict) and _dict_sets_testing(mapping):
            return
        if not self._in_test_config():
            self.report(node, self.message.format(what=f'`{{"{KEY}": False}}`'))

    # -- csrf.exempt -------------------------------------------------------------------

    def _bind_csrf(self, target: cst.BaseExpression, value: cst.Call) -> None:
        if (
            isinstance(target, cst.Name)
            and not self.ctx.scopes
            and self.ctx.qualified_name(value.func) in CSRF_CLASSES
        ):
            self._csrf_names.add(target.value)

    def visit_Decorator(self, node: cst.Decorator) -> None:
        decorator = node.decorator
        if isinstance(decorator, cst.Attribute) and self._is_exempt(decorator):
            view = self.ctx.parent
            evidence = True
            if isinstance(view, cst.FunctionDef):
                if self._authenticates(view):
                    return  # a token, key or signature no other site can make a browser send
                # A webhook or callback that another server calls, by its name or path.
                evidence = not (self._server_to_server(view) and not _uses_session(view))
            on = f" on `{view.name.value}`" if isinstance(view, (cst.FunctionDef, cst.ClassDef)) else ""
            what = f"`@{dotted_name(decorator)}`{on}"
            self.report(node, self.message.format(what=what), evidence=evidence)

    def _authenticates(self, view: cst.FunctionDef) -> bool:
        """Does the view check a credential (a header, a signature, `@requires_kobo_auth`),
        or take one in its URL (`/kobo/<auth_token>/...`, on the route or its blueprint)?"""
        module = self.ctx.module
        helpers = {stmt.name.value: stmt for stmt in (module.body if module else ())
                   if isinstance(stmt, cst.FunctionDef)}
        if authenticates_by_header(view, self.ctx, helpers):
            return True
        return any(_URL_CREDENTIAL.search(path) for path in self._route_paths(view))

    def _server_to_server(self, view: cst.FunctionDef) -> bool:
        return server_to_server_name(view.name.value) or any(
            server_to_server_name(part) for path in self._route_paths(view)
            for part in path.split("/"))

    def _route_paths(self, view: cst.FunctionDef) -> list[str]:
        """The URL paths of the view's route decorators, each with its blueprint's
        `url_prefix` in front."""
        paths = []
        for dec in view.decorators:
            call = dec.decorator
            if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
                    and call.func.attr.value in ROUTE_METHODS and call.args):
                continue
            path = literal_string(call.args[0].value) or ""
            owner = call.func.value
            prefix = self._prefixes.get(owner.value, "") if isinstance(owner, cst.Name) else ""
            paths.append(prefix + path)
        return paths

    @cached_property
    def _prefixes(self) -> dict[str, str]:
        """Module-level blueprints' `url_prefix` by name (`kobo = Blueprint(..., url_prefix=
        "/kobo/<auth_token>")`)."""
        out: dict[str, str] = {}
        for stmt in self.ctx.module.body if self.ctx.module is not None else ():
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if not (isinstance(small, cst.Assign) and isinstance(small.value, cst.Call)
                        and len(small.targets) == 1
                        and isinstance(small.targets[0].target, cst.Name)):
                    continue
                for arg in small.value.args:
                    if arg.keyword is not None and arg.keyword.value == "url_prefix":
                        out[small.targets[0].target.value] = literal_string(arg.value) or ""
        return out

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and self._is_exempt(func):
            first = node.args[0].value if node.args else None
            argument = (dotted_name(first) if first is not None else "") or "…"
            what = f"`{dotted_name(func)}({argument})`"
            self.report(node, self.message.format(what=what))

    def _is_exempt(self, func: cst.Attribute) -> bool:
        receiver = func.value
        return (
            self._flask
            and func.attr.value == "exempt"
            and isinstance(receiver, cst.Name)
            and receiver.value in self._csrf_names
            and not self._shadowed(self.ctx, receiver.value)
            and not self._in_test_config()
        )

    # -- where we are ------------------------------------------------------------------

    def _in_function(self) -> bool:
        """Is the statement in a function body rather than a module or class body?"""
        return isinstance(self.ctx.inside(cst.FunctionDef, cst.Lambda, cst.ClassDef),
                          (cst.FunctionDef, cst.Lambda))

    def _in_test_config(self) -> bool:
        """Is the node being visited part of a test configuration?"""
        if self._test_module:
            return True
        ancestors = self.ctx.ancestors
        for index in range(len(ancestors) - 2, -1, -1):
            node, child = ancestors[index], ancestors[index + 1]
            if _marks_testing(node, child):
                return True
        return False


def _marks_testing(node: cst.CSTNode, child: cst.CSTNode) -> bool:
    """Does enclosing `node` (holding `child`) say that what is inside it is for tests?"""
    if isinstance(node, (cst.ClassDef, cst.FunctionDef)):
        return _is_testing(node.name.value)
    if isinstance(node, cst.IndentedBlock):  # a class, function or branch body
        return _sets_testing(node.body)
    if isinstance(node, cst.If):  # the `if testing:` branch, or the else of `if not testing:`
        test = node.test
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            return child is node.orelse and _mentions_testing(test.expression)
        return child is node.body and _mentions_testing(test)
    if isinstance(node, cst.DictElement):
        key = literal_string(node.key)
        return key is not None and _is_testing(key)
    if isinstance(node, cst.Arg):
        return node.keyword is not None and _is_testing(node.keyword.value)
    if isinstance(node, (cst.Assign, cst.AnnAssign)):
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        return any(_is_testing(dotted_name(t) or "") for t in targets)
    return False


_NEGATING = (cst.NotEqual, cst.IsNot, cst.NotIn)
# What only a cookie-session view reads in Flask (Flask-Login's `current_user`).
_SESSION_NAMES = frozenset({"session", "current_user", "login_user"})


def _uses_session(view: cst.FunctionDef) -> bool:
    return any(isinstance(node, cst.Name) and node.value in _SESSION_NAMES
               for node in find_nodes(view.body, (cst.Name,), into_functions=True))


def _mentions_testing(test: cst.BaseExpression) -> bool:
    """Does a condition hold when testing: `testing`, `app.testing`, `os.environ.get(
    "TESTING")`, `config_name == "testing"`? Negated parts (`not testing`,
    `name != "testing"`) do not count."""
    if isinstance(test, cst.Name):
        return _is_testing(test.value)
    if isinstance(test, cst.Attribute):
        return _is_testing(test.attr.value) or _mentions_testing(test.value)
    if isinstance(test, cst.SimpleString):
        return _is_testing(literal_string(test) or "")
    if isinstance(test, cst.BooleanOperation):
        return _mentions_testing(test.left) or _mentions_testing(test.right)
    if isinstance(test, cst.Comparison):
        if any(isinstance(c.operator, _NEGATING) for c in test.comparisons):
            return False
        return _mentions_testing(test.left) or any(
            _mentions_testing(c.comparator) for c in test.comparisons
        )
    if isinstance(test, cst.Call):
        return _mentions_testing(test.func) or any(_mentions_testing(a.value) for a in test.args)
    if isinstance(test, cst.Subscript):
        return _mentions_testing(test.value) or any(
            isinstance(e.slice, cst.Index) and _mentions_testing(e.slice.value)
            for e in test.slice
        )
    return False  # `not ...` and anything else


def _subscript_key(node: cst.Subscript) -> str | None:
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    return literal_string(node.slice[0].slice.value)


def _sets_testing(body: object) -> bool:
    """Does a block's own statements switch `TESTING` on (`TESTING = True`,
    `app.testing = True`, `app.config["TESTING"] = True`, `config.update(TESTING=True)`)?"""
    for stmt in body:  # type: ignore[attr-defined]
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and is_true(small.value):
                targets = [t.target for t in small.targets]
            elif isinstance(small, cst.AnnAssign) and small.value is not None \
                    and is_true(small.value):
                targets = [small.target]
            elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                if _mapping_sets_testing(small.value):
                    return True
                continue
            else:
                continue
            if any(_names_testing(target) for target in targets):
                return True
    return False


def _names_testing(target: cst.BaseExpression) -> bool:
    if isinstance(target, cst.Name):
        return target.value == "TESTING"
    if isinstance(target, cst.Attribute):
        return target.attr.value in ("TESTING", "testing")
    if isinstance(target, cst.Subscript):
        return _subscript_key(target) == "TESTING"
    return False


def _mapping_sets_testing(call: cst.Call) -> bool:
    """`config.update(TESTING=True, ...)`, `from_mapping({"TESTING": True, ...})`."""
    func = call.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in _CONFIG_METHODS:
        return False
    return _call_sets_testing(call)


def _call_sets_testing(call: cst.Call) -> bool:
    """Does any call pass `TESTING=True` or a dict with `"TESTING": True`?"""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "TESTING" and is_true(arg.value):
            return True
        if arg.keyword is None and isinstance(arg.value, cst.Dict) and _dict_sets_testing(arg.value):
            return True
    return False


def _dict_sets_testing(mapping: cst.Dict) -> bool:
    return any(
        isinstance(el, cst.DictElement) and literal_string(el.key) == "TESTING" and is_true(el.value)
        for el in mapping.elements
    )
