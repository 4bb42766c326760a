"""PYS411: routes piled onto the application object of one module."""

from __future__ import annotations

import libcst as cst

from rules.change.base import Change, ChangeRule, Parsed, on_added_line, parse_new, source_files
from rules.engine import Severity, register

MAX_APP_ROUTES = 15
APP_CLASSES = frozenset({"fastapi.FastAPI", "fastapi.applications.FastAPI", "flask.Flask",
                         "flask.app.Flask", "starlette.applications.Starlette"})
# `app.add_url_rule(...)` (Flask), `app.add_api_route(...)` (FastAPI), `app.add_route(...)`
# (Starlette/FastAPI) declare a route without a decorator.
ADD_ROUTE_METHODS = frozenset({"add_url_rule", "add_api_route", "add_route",
                               "add_websocket_route", "add_api_websocket_route"})
ROUTE_WORDS = ("@", *ADD_ROUTE_METHODS)


def _application_names(parsed: Parsed) -> frozenset[str]:
    """Names bound in the module to `FastAPI(...)`/`Flask(...)`/`Starlette(...)`, plus
    `app` itself unless the module binds it to something else (`app = APIRouter()`)."""
    import libcst.matchers as m

    apps: set[str] = set()
    others: set[str] = set()
    for node in m.findall(parsed.module, m.Assign() | m.AnnAssign()):
        if isinstance(node, cst.Assign):
            targets = [t.target for t in node.targets]
            value = node.value
        else:
            assert isinstance(node, cst.AnnAssign)
            targets, value = [node.target], node.value
        for target in targets:
            if not isinstance(target, cst.Name):
                continue
            if isinstance(value, cst.Call) and parsed.ctx.qualified_name(value.func) in APP_CLASSES:
                apps.add(target.value)
            else:
                others.add(target.value)
    if "app" not in others:
        apps.add("app")
    return frozenset(apps)


def app_route_lines(parsed: Parsed) -> list[int]:
    """First lines of the routes the module declares on its application object, in order."""
    from rules.context import ROUTE_METHODS

    apps = _application_names(parsed)

    def on_app(func: cst.BaseExpression, methods: frozenset[str]) -> bool:
        return (isinstance(func, cst.Attribute) and func.attr.value in methods
                and isinstance(func.value, cst.Name) and func.value.value in apps)

    lines: list[int] = []

    class Collect(cst.CSTVisitor):
        def visit_Decorator(self, node: cst.Decorator) -> bool:
            dec = node.decorator
            if isinstance(dec, cst.Call) and on_app(dec.func, ROUTE_METHODS):
                lines.append(parsed.start(node))
            return True

        def visit_Call(self, node: cst.Call) -> bool:
            if on_app(node.func, ADD_ROUTE_METHODS):
                lines.append(parsed.start(node))
            return True

    parsed.module.visit(Collect())
    return sorted(lines)


@register
class RoutesOnAppInLargeModule(ChangeRule):
    code = "PYS411"
    name = "routes-on-app-in-large-module"
    severity = Severity.INFO
    message = ("This change adds a route to a module that declares {count} routes on the "
               "application object; split them with `APIRouter`/Blueprints/Django apps")
    docs = """
## What it does
Flags a change that adds a route to a module which then declares more than 15 routes on
the application object itself: `@app.get(...)`/`@app.route(...)` (any HTTP-method
decorator) and `app.add_url_rule(...)`/`app.add_api_route(...)`/`app.add_route(...)`,
where `app` is the name `app` or any name the module binds to `FastAPI(...)`, `Flask(...)`
or `Starlette(...)`. Routes on an `APIRouter`, a `Blueprint` or a `Router` are not counted.
It is reported once per module, on the first route the change adds.

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
    bad = ("# the change adds a 16th @app.get(...) route to main.py  # flagged\n",)
    good = ("# the change adds a route to an APIRouter in routers/orders.py\n",)

    def check_change(self, change: Change) -> None:
        for f in source_files(change, *ROUTE_WORDS):
            parsed = parse_new(f)
            if parsed is None:
                continue
            lines = app_route_lines(parsed)
            if len(lines) <= MAX_APP_ROUTES:
                continue
            added = [n for n in lines if on_added_line(f, n)]
            if added:
                self.report_line(f.path, added[0], self.message.format(count=len(lines)))
