"""PYS406 cors-wildcard-with-credentials."""

from __future__ import annotations

import libcst as cst

from pystd.rules.context import FileContext
from pystd.rules.engine import Category, Rule, Severity, register
from pystd.rules.fastapi.path_operations import app_objects, argument
from pystd.rules.nodes import is_true, keyword, literal_string

CORS_MIDDLEWARE = frozenset({"fastapi.middleware.cors.CORSMiddleware",
                             "starlette.middleware.cors.CORSMiddleware"})
MIDDLEWARE = frozenset({"starlette.middleware.Middleware", "fastapi.middleware.Middleware"})


@register
class CorsWildcardWithCredentials(Rule):
    code = "PYS406"
    name = "cors-wildcard-with-credentials"
    severity = Severity.ERROR
    category = Category.SECURITY
    default = True
    rationale = (
        "Every origin allowed with credentials lets any site make authenticated requests with "
        "the user's cookies; explicit origin lists are never flagged."
    )
    message = ("CORS allows every origin with credentials: list the trusted origins in "
               "`allow_origins`")
    requires = ("CORSMiddleware",)
    docs = """
## What it does
Flags Starlette's `CORSMiddleware` (imported from `fastapi.middleware.cors` or
`starlette.middleware.cors`, through aliases) configured with `allow_origins=["*"]` (or
`"*"`, or a module constant holding such a list) together with `allow_credentials=True`,
whether added with `app.add_middleware(CORSMiddleware, ...)` or declared as
`Middleware(CORSMiddleware, ...)`. An explicit list of origins is never flagged, and
neither is a wildcard without credentials.

## Why is this bad?
Browsers refuse `Access-Control-Allow-Origin: *` on credentialed requests, so to make the
combination "work" Starlette answers a request that carries cookies with that request's own
`Origin` instead. Every website a logged-in user visits can then call the API with the
user's cookies and read the answers: the same-origin policy is switched off. FastAPI's CORS
tutorial (fastapi.tiangolo.com/tutorial/cors/) says `allow_origins` cannot be `['*']` when
credentials are allowed and that origins must then be listed explicitly.

## Example
```python
app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_credentials=True,
)
```

## Use instead
```python
app.add_middleware(
    CORSMiddleware,
    allow_origins=settings.cors_origins,  # ["https://app.example.com"]
    allow_credentials=True,
)
```

## Suppress
`# noqa: PYS406` on the `allow_origins` line — only for an API no browser ever calls with
cookies.
"""
    bad = (
        """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["*"],  # flagged
            allow_credentials=True,
        )
        """,
        """
        from starlette.applications import Starlette
        from starlette.middleware import Middleware
        from starlette.middleware.cors import CORSMiddleware

        middleware = [
            Middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True),  # flagged
        ]
        app = Starlette(middleware=middleware)
        """,
    )
    good = (
        """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["https://app.example.com"],
            allow_credentials=True,
        )
        """,
        """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI()
        app.add_middleware(CORSMiddleware, allow_origins=["*"])
        """,
    )

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return ctx.imports_module("fastapi", "starlette")

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._middleware_names = frozenset(
            name for name, target in ctx.imports.items() if target in MIDDLEWARE)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "add_middleware":
            middleware = argument(node, 0, "middleware_class")
        elif (isinstance(func, cst.Name) and func.value in self._middleware_names) or (
                isinstance(func, cst.Attribute) and func.attr.value == "Middleware"
                and self.ctx.qualified_name(func) in MIDDLEWARE):
            middleware = argument(node, 0, "cls")
        else:
            return
        if middleware is None or self.ctx.qualified_name(middleware.value) not in CORS_MIDDLEWARE:
            return
        origins = keyword(node, "allow_origins")
        credentials = keyword(node, "allow_credentials")
        if origins is None or credentials is None or not is_true(credentials.value):
            return
        if self._is_wildcard(origins.value):
            self.report(origins)

    def _is_wildcard(self, value: cst.BaseExpression) -> bool:
        """`"*"`, or a list/tuple/set display holding `"*"`, or a name bound (once, in the
        module) to one."""
        if isinstance(value, cst.Name):
            bindings = app_objects(self.ctx).bindings.get(value.value, [])
            if len(bindings) != 1 or bindings[0].value is None:
                return False
            value = bindings[0].value
        if literal_string(value) == "*":
            return True
        if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
            return any(isinstance(el, cst.Element) and literal_string(el.value) == "*"
                       for el in value.elements)
        return False
