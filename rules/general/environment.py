"""PYS109 env-read-in-handler: configuration read from the environment per request."""

from __future__ import annotations

from pathlib import PurePosixPath

import libcst as cst

from pystd.rules.context import FileContext
from pystd.rules.engine import Category, Example, Rule, Severity, register

ENVIRON = "os.environ"
ENV_READ_CALLS = frozenset({"os.environ.get", "os.getenv"})
CONFIG_FILE_NAMES = frozenset({"config.py", "settings.py", "conf.py"})


@register
class EnvReadInHandler(Rule):
    code = "PYS109"
    name = "env-read-in-handler"
    severity = Severity.INFO
    category = Category.STRUCTURE
    default = False
    rationale = (
        "Reading the environment in a handler works; loading settings once is a design "
        "preference, so opt-in."
    )
    message = ("Environment read in a request handler; load it once into a settings object "
               "(Django settings, `app.config`, pydantic-settings `BaseSettings`)")
    requires = ("environ", "getenv")
    docs = """
## What it does
Flags `os.environ[...]`, `os.environ.get(...)` and `os.getenv(...)` (through aliases such as
`from os import environ, getenv`) inside a request handler of any framework.

Reads at module level, in functions that are not handlers, and anywhere in a settings or
configuration module (Django settings, `config.py`, `settings.py`, `conf.py`) are not
flagged; nor are writes such as `os.environ["X"] = ...`.

## Why is this bad?
The Twelve-Factor App ("III. Config") keeps configuration in the environment — read once,
at start-up, into one place. Reading it in a handler scatters configuration across the code,
defers a missing-variable error from boot to the first request that needs it, and makes the
handler hard to test. Django settings, Flask's `app.config` and pydantic-settings'
`BaseSettings` load and validate it once.

## Example
```python
@app.get("/pay")
def pay():
    stripe.api_key = os.environ["STRIPE_KEY"]
```

## Use instead
```python
class Settings(BaseSettings):
    stripe_key: str

settings = Settings()

@app.get("/pay")
def pay():
    stripe.api_key = settings.stripe_key
```

## Suppress
`# noqa: PYS109` on the line.
"""
    bad = (
        Example(
            """
            import os

            from django.http import HttpResponse


            def index(request):
                return HttpResponse(os.environ['GREETING'])  # flagged
            """,
            "shop/views.py",
        ),
        """
        from os import getenv

        from flask import Flask

        app = Flask(__name__)


        @app.route('/')
        def index():
            return getenv('GREETING', 'hi')  # flagged
        """,
    )
    good = (
        """
        import os

        from fastapi import FastAPI

        app = FastAPI()
        GREETING = os.environ.get('GREETING')


        @app.get('/')
        def index() -> str:
            return GREETING
        """,
        Example(
            """
            import os


            def database_url():
                return os.environ['DATABASE_URL']
            """,
            "shop/config.py",
        ),
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._handlers: dict[int, bool] = {}

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return not (ctx.kind.is_settings
                    or PurePosixPath(ctx.kind.path).name in CONFIG_FILE_NAMES)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        value = node.value
        name = value.attr.value if isinstance(value, cst.Attribute) else (
            value.value if isinstance(value, cst.Name) else None)
        if name != "environ" or not self.ctx.scopes:
            return
        if isinstance(self.ctx.parent, (cst.AssignTarget, cst.Del)):
            return  # a write, not a read
        if self.ctx.qualified_name(node.value) == ENVIRON and self._in_handler():
            self.report(node)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not self.ctx.scopes or not isinstance(func, (cst.Name, cst.Attribute)):
            return
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value
        if name not in ("get", "getenv"):
            return
        if self.ctx.qualified_name(func) in ENV_READ_CALLS and self._in_handler():
            self.report(node)

    def _in_handler(self) -> bool:
        """Is the node being visited inside a handler (in it or a function nested in it)?"""
        for scope in self.ctx.scopes:
            if not isinstance(scope, cst.FunctionDef):
                continue
            known = self._handlers.get(id(scope))
            if known is None:
                known = self._handlers[id(scope)] = (
                    self.ctx.handler_framework(scope) is not None)
            if known:
                return True
        return False
