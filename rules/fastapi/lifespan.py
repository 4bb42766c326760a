"""PYS410 startup-event-deprecated."""

from __future__ import annotations

import libcst as cst

from pystd.rules.context import FileContext
from pystd.rules.engine import Category, Rule, Severity, register
from pystd.rules.fastapi.path_operations import (
    APP,
    FASTAPI_APPS,
    IMPORTED,
    ROUTER,
    STARLETTE,
    STARLETTE_APPS,
    app_objects,
    argument,
)
from pystd.rules.nodes import literal_string

EVENTS = frozenset({"startup", "shutdown"})
EVENT_ARGUMENTS = frozenset({"on_startup", "on_shutdown"})
_APPLICATIONS = FASTAPI_APPS | STARLETTE_APPS
_OWNERS = frozenset({APP, ROUTER, STARLETTE, IMPORTED})
# The releases that added `lifespan=` and deprecated the events (their release notes).
LIFESPAN_SINCE = {"fastapi": "0.93", "starlette": "0.26"}


@register
class StartupEventDeprecated(Rule):
    code = "PYS410"
    name = "startup-event-deprecated"
    severity = Severity.WARNING
    category = Category.UPGRADE
    default = False
    rationale = (
        "`on_event` still works in FastAPI; `lifespan` is the way forward and Starlette 1.0 "
        "removed `on_startup`. Opt-in for teams upgrading."
    )
    message = "`{what}` is deprecated: use a `lifespan` async context manager"
    requires = ("on_event", "on_startup", "on_shutdown")
    docs = """
## What it does
Flags startup and shutdown handlers registered the old way: `@app.on_event("startup")`
and `@app.on_event("shutdown")` on a FastAPI application or router or a Starlette
application (a name the module binds to one, or imports from the project), and the
`on_startup=`/`on_shutdown=` arguments of `FastAPI(...)` and `Starlette(...)`. An
application created with `lifespan=` is never flagged.

## Why is this bad?
Starlette deprecated `on_startup`/`on_shutdown` and `on_event` in 0.26 in favour of the
lifespan protocol, and Starlette 1.0 removed them: an application still using them fails
on upgrade. FastAPI keeps `on_event` only for compatibility, and ignores these handlers
altogether once a `lifespan` is given, so mixing the two styles silently drops a startup
step. A lifespan context manager also keeps the startup and the matching cleanup in one
place, with the resource in a local variable instead of a global. See FastAPI's "Lifespan
Events" (fastapi.tiangolo.com/advanced/events/, including "Alternative Events
(deprecated)") and Starlette's "Lifespan" (www.starlette.io/lifespan/).

## Example
```python
app = FastAPI()


@app.on_event("startup")
async def connect() -> None:
    await database.connect()


@app.on_event("shutdown")
async def disconnect() -> None:
    await database.disconnect()
```

## Use instead
```python
@asynccontextmanager
async def lifespan(app: FastAPI):
    await database.connect()
    yield
    await database.disconnect()


app = FastAPI(lifespan=lifespan)
```

## Versions
FastAPI took `lifespan=` in 0.93 and Starlette deprecated the events in 0.26: a project
whose dependency files pin FastAPI below 0.93 or Starlette below 0.26 gets no finding. An
unknown version counts as current.

## Suppress
`# noqa: PYS410` on the line, while a library you depend on still needs the old events.
"""
    bad = (
        """
        from fastapi import FastAPI

        app = FastAPI()


        @app.on_event("startup")  # flagged
        async def connect() -> None:
            return None
        """,
        """
        from starlette.applications import Starlette


        async def connect() -> None:
            return None


        app = Starlette(on_startup=[connect])  # flagged
        """,
    )
    good = (
        """
        from collections.abc import AsyncIterator
        from contextlib import asynccontextmanager

        from fastapi import FastAPI


        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            yield


        app = FastAPI(lifespan=lifespan)
        """,
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self.apps = app_objects(ctx)
        self._app_names = frozenset(n for n, t in ctx.imports.items() if t in _APPLICATIONS)

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        # Before FastAPI 0.93 / Starlette 0.26 there was no `lifespan=` to move to, and
        # `on_event` was not deprecated.
        versions = ctx.versions
        return ctx.imports_module("fastapi", "starlette") and not (
            versions.below("fastapi", LIFESPAN_SINCE["fastapi"])
            or versions.below("starlette", LIFESPAN_SINCE["starlette"]))

    def visit_Decorator(self, node: cst.Decorator) -> None:
        call = node.decorator
        if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
            return
        owner = call.func.value
        if (call.func.attr.value != "on_event" or not isinstance(owner, cst.Name)
                or self.apps.kind(owner.value) not in _OWNERS):
            return
        event = argument(call, 0, "event_type")
        name = literal_string(event.value) if event is not None else None
        if name in EVENTS:
            self.report(node, self.message.format(what=f'@{owner.value}.on_event("{name}")'))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name):
            if func.value not in self._app_names:
                return
        elif not (isinstance(func, cst.Attribute) and func.attr.value in ("FastAPI", "Starlette")
                  and self.ctx.qualified_name(func) in _APPLICATIONS):
            return
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in EVENT_ARGUMENTS:
                what = f"{self.ctx.qualified_name(func) or ''}".rpartition(".")[2]
                self.report(arg, self.message.format(what=f"{what}({arg.keyword.value}=...)"))
