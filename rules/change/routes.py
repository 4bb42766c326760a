"""PYS411: routes piled onto the application object of one module."""

from __future__ import annotations

import re

import libcst as cst

from pystd.rules.change.base import (
    Change,
    ChangedPath,
    ChangeRule,
    Parsed,
    on_added_line,
    source_files,
)
from pystd.rules.context import ROUTE_METHODS
from pystd.rules.engine import Category, Severity, register

MAX_APP_ROUTES = 15
APP_CLASSES = frozenset({"fastapi.FastAPI", "fastapi.applications.FastAPI", "flask.Flask",
                         "flask.app.Flask", "starlette.applications.Starlette"})
# `app.add_url_rule(...)` (Flask), `app.add_api_route(...)` (FastAPI), `app.add_route(...)`
# (Starlette/FastAPI) declare a route without a decorator.
ADD_ROUTE_METHODS = frozenset({"add_url_rule", "add_api_route", "add_route",
                               "add_websocket_route", "add_api_websocket_route"})
ROUTE_WORDS = ("@", *ADD_ROUTE_METHODS)


# A cheap upper bound on the routes a module declares on any object: decorators and
# add-route calls by method name. Below the limit there is nothing to parse.
_ROUTE_HINT = re.compile(
    r"^[ \t]*@[\w.]+\.(?:{})\(|\.(?:{})\(".format(
        "|".join(sorted(ROUTE_METHODS)), "|".join(sorted(ADD_ROUTE_METHODS))),
    re.MULTILINE)


def _application_names(parsed: Parsed) -> frozenset[str]:
    """Names bound in the module to `FastAPI(...)`/`Flask(...)`/`Starlette(...)`, plus
    `app` itself unless the module binds it to something else (`app = APIRouter()`)."""
    apps: set[str] = set()
    others: set[str] = set()

    class Bindings(cst.CSTVisitor):
        def visit_Assign(self, node: cst.Assign) -> None:
            for t in node.targets:
                bind(t.target, node.value)

        def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
            bind(node.target, node.value)

    def bind(target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if not isinstance(target, cst.Name):
            return
        if isinstance(value, cst.Call) and parsed.ctx.qualified_name(value.func) in APP_CLASSES:
            apps.add(target.value)
        else:
            others.add(target.value)

    parsed.module.visit(Bindings())
    if "app" not in others:
        apps.add("app")
    return frozenset(apps)


def app_routes(parsed: Parsed) -> list[tuple[cst.CSTNode, cst.BaseStatement]]:
    """The routes the module declares on its application object, in order, each as
    (decorator or call, the top-level statement holding it)."""
    apps = _application_names(parsed)

    def on_app(func: cst.BaseExpression, methods: frozenset[str]) -> bool:
        return (isinstance(func, cst.Attribute) and func.attr.value in methods
                and isinstance(func.value, cst.Name) and func.value.value in apps)

    found: list[tuple[cst.CSTNode, cst.BaseStatement]] = []

    class Collect(cst.CSTVisitor):
        def __init__(self, top: cst.BaseStatement) -> None:
            self.top = top

        def visit_Decorator(self, node: cst.Decorator) -> None:
            dec = node.decorator
            if isinstance(dec, cst.Call) and on_app(dec.func, ROUTE_METHODS):
                found.append((node, self.top))

        def visit_Call(self, node: cst.Call) -> None:
            if on_app(node.func, ADD_ROUTE_METHODS):
                found.append((node, self.top))

    for top in parsed.module.body:
        top.visit(Collect(top))
    return found


@register
class RoutesOnAppInLargeModule(ChangeRule):
    code = "PYS411"
    name = "routes-on-app-in-large-module"
    severity = Severity.INFO
    category = Category.STRUCTURE
    default = False
    rationale = "How many routes a module may hold is a team's taste. Opt-in."
    message = ("This change adds a route to a module that declares {count} routes on the "
               "application object; split them with `APIRouter`/Blueprints/Django apps")
    docs = """
## What it does
Flags a change that adds a route to a module which then declares more than 15 routes on
the application object itself: `@app.get(...)`/`@app.route(...)` (any HTTP-method
decorator) and `app.add_url_rule(...)`/`app.add_api_route(...)`/`app.add_route(...)`,
where `app` is the name `app` or any name the module binds to `FastAPI(...)`, `Flask(...)`
or `Starlette(...)`. Routes on an `APIRouter`, a `Blueprint` or a `Router` are not counted.
It is reported once per module, on the first route the change adds; a change that only
edits or moves routes adds none.

## Why is this bad?
A single module holding every endpoint grows into a file nobody can review, with every
feature's imports and helpers tangled together. FastAPI's "Bigger Applications" guide
splits path operations into `APIRouter`s, Flask's documentation organises larger
applications with Blueprints, and Django groups views into apps — each keeps a feature's
routes, dependencies and tests together.

## Example
A pull request that adds a sixteenth `@app.get(...)` to `main.py`:
```python
app = FastAPI()


@app.get("/orders/{order_id}")
async def read_order(order_id: int) -> Order: ...
```

## Use instead
```python
router = APIRouter(prefix="/orders", tags=["orders"])


@router.get("/{order_id}")
async def read_order(order_id: int) -> Order: ...

# main.py
app.include_router(orders.router)
```

## Suppress
`# noqa: PYS411` on the first added route's line, or `ignore = ["PYS411"]` in
`[tool.pystd]`.
"""
    bad = (
        """
        # the change adds a 16th @app.get(...) route to main.py  # flagged
        """,
    )
    good = (
        """
        # the change adds a route to an APIRouter in routers/orders.py
        """,
    )

    def check_change(self, change: Change) -> None:
        for f in source_files(change, *ROUTE_WORDS):
            found = self.facts(f)  # what `file_facts` returns, handed over untyped
            if isinstance(found, tuple):
                line, count = found
                self.report_line(f.path, line, self.message.format(count=count))

    def file_facts(self, f: ChangedPath) -> tuple[int, int] | None:
        """(the first route the change adds, the routes on the application object) when
        there are too many."""
        assert f.text is not None
        if len(_ROUTE_HINT.findall(f.text)) <= MAX_APP_ROUTES:
            return None
        parsed = self.cctx.parsed(f)
        if parsed is None:
            return None
        routes = app_routes(parsed)
        if len(routes) <= MAX_APP_ROUTES:
            return None
        before = self.cctx.parsed_before(f)
        if before is not None and len(app_routes(before)) >= len(routes):
            return None  # routes edited or moved, none added
        added = [line for node, top in routes if on_added_line(f, line := parsed.start(node, top))]
        return (min(added), len(routes)) if added else None
