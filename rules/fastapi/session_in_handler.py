"""PYS403 fastapi-session-in-handler."""

from __future__ import annotations

import libcst as cst

from pystd.rules.context import FileContext, dotted_name
from pystd.rules.engine import Category, Severity, register
from pystd.rules.fastapi.path_operations import (
    PathOperation,
    PathOperationRule,
    all_params,
    argument,
    param_function,
)
from pystd.rules.walker import find_nodes

SESSION_CLASSES = frozenset({
    "sqlalchemy.orm.Session", "sqlalchemy.orm.session.Session",
    "sqlalchemy.ext.asyncio.AsyncSession", "sqlalchemy.ext.asyncio.session.AsyncSession",
    "sqlmodel.Session", "sqlmodel.orm.session.Session",
    "sqlmodel.ext.asyncio.session.AsyncSession",
})
SESSION_FACTORIES = frozenset({
    "sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker",
    "sqlalchemy.ext.asyncio.async_sessionmaker",
    "sqlalchemy.ext.asyncio.session.async_sessionmaker",
    "sqlalchemy.orm.scoped_session", "sqlalchemy.orm.scoping.scoped_session",
    "sqlalchemy.ext.asyncio.async_scoped_session",
    "sqlalchemy.ext.asyncio.scoping.async_scoped_session",
})
# The session factory names of FastAPI's SQL tutorial and the common async templates: a
# call of one of them opens a session even when the factory is imported from `db.py`.
CONVENTIONAL_FACTORIES = frozenset({"SessionLocal", "AsyncSessionLocal", "async_session",
                                    "async_session_maker"})
_DEPENDENCY_MARKERS = frozenset({"Depends", "Security"})


@register
class SessionInHandler(PathOperationRule):
    code = "PYS403"
    name = "fastapi-session-in-handler"
    severity = Severity.INFO
    category = Category.STRUCTURE
    default = False
    rationale = (
        "Injecting sessions with `Depends` is a design preference; a session opened in the "
        "handler works. Opt-in."
    )
    message = ("`{call}` opens a database session in path operation `{name}`: inject it with "
               "`Depends(get_db)`")
    requires = ("SessionLocal", "Session(", "sessionmaker", "async_session")
    docs = """
## What it does
Flags a database session created in the body of a FastAPI path operation:
`SessionLocal()`, `AsyncSessionLocal()`, `async_session()` and `async_session_maker()`
(the conventional factory names, also when imported from the project's `db` module), a call
of any name the module binds to `sessionmaker(...)`/`async_sessionmaker(...)`/
`scoped_session(...)`, `sessionmaker(...)()`, and SQLAlchemy's (or SQLModel's)
`Session(engine)`/`AsyncSession(engine)`. Functions used as dependencies
(`Depends(get_db)` anywhere in the module) and generator functions (`get_db()` with
`yield`) are never flagged — that is where a session belongs — and neither are nested
functions, such as a background task that opens its own session.

## Why is this bad?
A session opened in the handler has to be closed by the handler on every path: an
exception between `SessionLocal()` and `db.close()` leaks the connection, and a few leaks
exhaust the pool ("QueuePool limit … reached") and stall the service. It also cannot be
replaced in tests (`app.dependency_overrides`) and is not shared with the dependencies of
the same request, so one request may run in several transactions. FastAPI's "SQL
(Relational) Databases" tutorial (fastapi.tiangolo.com/tutorial/sql-databases/) creates the
session in a dependency with `yield`, and "Dependencies with yield"
(fastapi.tiangolo.com/tutorial/dependencies/dependencies-with-yield/) explains how FastAPI
then closes it after the response, also when the handler raises.

## Example
```python
@router.get("/users")
def list_users() -> list[UserOut]:
    db = SessionLocal()
    users = db.scalars(select(User)).all()
    db.close()
    return users
```

## Use instead
```python
def get_db():
    with SessionLocal() as db:
        yield db


@router.get("/users")
def list_users(db: Annotated[Session, Depends(get_db)]) -> list[UserOut]:
    return db.scalars(select(User)).all()
```

## Suppress
`# noqa: PYS403` on the line, e.g. for a streaming endpoint that must keep its own session
open after the dependency has been closed.
"""
    bad = (
        """
        from fastapi import APIRouter
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite://")
        SessionLocal = sessionmaker(bind=engine)
        router = APIRouter(tags=["users"])


        @router.get("/count")
        def count() -> int:
            with SessionLocal() as db:  # flagged
                return db.scalar(text("SELECT count(*) FROM users"))


        @router.get("/names")
        def names() -> list[str]:
            with Session(engine) as db:  # flagged
                return list(db.scalars(text("SELECT name FROM users")))
        """,
        """
        from fastapi import APIRouter

        from app.db import async_session

        router = APIRouter(tags=["users"])


        @router.get("/ping")
        async def ping() -> bool:
            async with async_session() as session:  # flagged
                return session.is_active
        """,
    )
    good = (
        """
        from collections.abc import Iterator
        from typing import Annotated

        from fastapi import APIRouter, Depends
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        engine = create_engine("sqlite://")
        SessionLocal = sessionmaker(bind=engine)
        router = APIRouter(tags=["users"])


        def get_db() -> Iterator[Session]:
            with SessionLocal() as db:
                yield db


        @router.get("/count")
        def count(db: Annotated[Session, Depends(get_db)]) -> int:
            return db.scalar(text("SELECT count(*) FROM users"))
        """,
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        imports = ctx.imports
        self._class_names = frozenset(n for n, t in imports.items() if t in SESSION_CLASSES)
        self._maker_names = frozenset(n for n, t in imports.items() if t in SESSION_FACTORIES)
        self._factories = self._factory_names(ctx)
        self._dependencies: set[str] = set()
        self._pending: list[tuple[PathOperation, cst.Call, str]] = []

    def _factory_names(self, ctx: FileContext) -> frozenset[str]:
        """Names of session factories: bound to `sessionmaker(...)` and the like in the
        module, or a conventional name the module imports or binds to some call."""
        names = set()
        for name, bindings in self.apps.bindings.items():
            calls = [b.value for b in bindings if isinstance(b.value, cst.Call)]
            if len(calls) != len(bindings):
                continue  # also a `def`, a class, a parameter or a non-call value
            if name in CONVENTIONAL_FACTORIES or all(
                    ctx.qualified_name(c.func) in SESSION_FACTORIES for c in calls):
                names.add(name)
        names.update(n for n in CONVENTIONAL_FACTORIES if n not in self.apps.bindings)
        return frozenset(names)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name):
            name = func.value
        elif isinstance(func, cst.Attribute):
            name = func.attr.value
        else:
            name = ""
        if name in _DEPENDENCY_MARKERS:
            self._note_dependency(node)
            return
        shown = self._session_call(node, name)
        if shown is None:
            return
        op = self.operation_around()
        if op is None or name in {p.name.value for p in all_params(op.func.params)}:
            return
        self._pending.append((op, node, shown))

    def _note_dependency(self, node: cst.Call) -> None:
        if param_function(self.ctx, node) in _DEPENDENCY_MARKERS:
            arg = argument(node, 0, "dependency")
            if arg is not None and isinstance(arg.value, cst.Name):
                self._dependencies.add(arg.value.value)

    def _session_call(self, node: cst.Call, name: str) -> str | None:
        """How the call is shown in the message, if it creates a session."""
        func = node.func
        if isinstance(func, cst.Call):  # `sessionmaker(bind=engine)()`
            inner = func.func
            inner_name = inner.value if isinstance(inner, cst.Name) else (
                inner.attr.value if isinstance(inner, cst.Attribute) else "")
            if (inner_name in self._maker_names or inner_name in ("sessionmaker",
                                                                 "async_sessionmaker")) and (
                    self.ctx.qualified_name(inner) in SESSION_FACTORIES):
                return f"{dotted_name(inner)}(...)()"
            return None
        if isinstance(func, cst.Name):
            if name in self._factories:
                return f"{name}()"
            if name in self._class_names:
                return f"{name}(...)"
            return None
        if name in ("Session", "AsyncSession") and self.ctx.qualified_name(func) in (
                SESSION_CLASSES):
            return f"{dotted_name(func)}(...)"
        return None

    def leave_Module(self, original_node: cst.Module) -> None:
        generators: dict[cst.FunctionDef, bool] = {}
        for op, node, shown in self._pending:
            if op.name in self._dependencies:
                continue
            if op.func not in generators:
                generators[op.func] = bool(find_nodes(op.func.body, (cst.Yield,)))
            if generators[op.func]:
                continue
            self.report(node, self.message.format(call=shown, name=op.name))
