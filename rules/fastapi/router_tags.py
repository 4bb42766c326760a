"""PYS408 fastapi-router-without-tags."""

from __future__ import annotations

import libcst as cst

from pystd.rules.context import FileContext
from pystd.rules.engine import Category, Severity, register
from pystd.rules.fastapi.path_operations import APP, PathOperationRule, argument, has_star_args
from pystd.rules.nodes import keyword
from pystd.rules.walker import find_nodes


def _sets_tags(call: cst.Call) -> bool:
    """`tags=` given, or possibly given through `**kwargs`."""
    return keyword(call, "tags") is not None or has_star_args(call)


def _hidden(call: cst.Call) -> bool:
    """`include_in_schema=` given as anything but `True` (an operation, a router or an
    inclusion left out of the API docs: there is no section to name)."""
    arg = keyword(call, "include_in_schema")
    return arg is not None and not (isinstance(arg.value, cst.Name) and arg.value.value == "True")


def _no_schema(call: cst.Call) -> bool:
    """`FastAPI(openapi_url=None)`: no OpenAPI document, so no API docs to group."""
    arg = keyword(call, "openapi_url")
    return arg is not None and isinstance(arg.value, cst.Name) and arg.value.value == "None"


@register
class RouterWithoutTags(PathOperationRule):
    code = "PYS408"
    name = "fastapi-router-without-tags"
    severity = Severity.INFO
    category = Category.STYLE
    default = False
    rationale = (
        "Tags only group the API docs, and are often set where the router is included (41 of "
        "44 wrong before narrowing; issue #9). Opt-in."
    )
    message = ("Router `{name}` sets no `tags=` and neither do its path operations: they are "
               "listed under \"default\" in the API docs")
    requires = ("APIRouter",)
    docs = """
## What it does
Flags `APIRouter(...)` without `tags=` when the module declares path operations on it,
none of them sets `tags=`, and the module shows the router's whole way into the
application untagged: every `include_router(router, ...)` of it lacks `tags=`, and is
made on the `FastAPI(...)` application of the module (or one a function is handed,
`def register(app: FastAPI)`) or on a router of the module that is itself untagged and
shown included the same way.

A router the module does not include is never flagged: the module that includes it
(`app.include_router(users.router, prefix="/users", tags=["users"])`) is the usual place
for its tags, and a check of one file cannot see it. Nor are routers included with
`tags=`, into a tagged router, or into a router or application the module does not create
(`from app.main import api`); routers that a function creates and returns (whoever calls
the factory includes it); routers, inclusions and operations left out of the API docs
(`include_in_schema=False`, `FastAPI(openapi_url=None)`); and routers with no path
operations of their own in the module.

## Why is this bad?
Tags are how the interactive API docs (Swagger UI, ReDoc) group operations, and how
generated clients name their services. Untagged operations all land in one "default"
section, which stops being navigable after a few routers. FastAPI's "Path Operation
Configuration" tutorial (fastapi.tiangolo.com/tutorial/path-operation-configuration/)
introduces tags, and "Bigger Applications - Multiple Files"
(fastapi.tiangolo.com/tutorial/bigger-applications/) sets them once per router with
`APIRouter(prefix=..., tags=[...])`.

## Example
```python
app = FastAPI()
router = APIRouter(prefix="/users")


@router.get("/")
def list_users() -> list[UserOut]: ...


app.include_router(router)
```

## Use instead
```python
router = APIRouter(prefix="/users", tags=["users"])
```
or `app.include_router(router, tags=["users"])`.

## Suppress
`# noqa: PYS408` on the `APIRouter(...)` line.
"""
    bad = (
        """
        from fastapi import APIRouter, FastAPI

        app = FastAPI()
        router = APIRouter(prefix="/users")  # flagged


        @router.get("/")
        def list_users() -> list[str]:
            return []


        app.include_router(router)
        """,
    )
    good = (
        """
        from fastapi import APIRouter

        router = APIRouter(prefix="/users", tags=["users"])


        @router.get("/")
        def list_users() -> list[str]:
            return []
        """,
        """
        from fastapi import APIRouter, FastAPI

        app = FastAPI()
        router = APIRouter(prefix="/users")


        @router.get("/")
        def list_users() -> list[str]:
            return []


        app.include_router(router, tags=["users"])
        """,
        """
        from fastapi import APIRouter

        router = APIRouter(prefix="/users")


        @router.get("/")
        def list_users() -> list[str]:
            return []
        """,
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._operations: dict[str, int] = {}  # router -> its operations in the API docs
        self._tagged: set[str] = set()  # routers some operation of which sets tags
        self._returned_calls: set[int] = set()  # `APIRouter(...)` calls a factory returns
        # Router -> where this module includes it: (receiver name or None, the call).
        self._includes: dict[str, list[tuple[str | None, cst.Call]]] = {}
        # Routers whose own `APIRouter(...)` call sets tags: what they include gets them.
        self._tagging = {name for name, calls in self.apps.router_calls.items()
                         if any(map(_sets_tags, calls))}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._note_factory(node)
        op = self.apps.path_operation(node)
        if op is None:
            return
        for route in op.routes:
            if _hidden(route.call):
                continue
            self._operations[route.owner] = self._operations.get(route.owner, 0) + 1
            if _sets_tags(route.call):
                self._tagged.add(route.owner)

    def _note_factory(self, func: cst.FunctionDef) -> None:
        """A function that creates a router and returns it hands it to its caller, who
        includes it and is the one to give it tags: `def get_auth_router(): router =
        APIRouter(); ...; return router` (fastapi-users, opal-server)."""
        returned = {r.value.value for r in find_nodes(func.body, (cst.Return,))
                    if isinstance(r, cst.Return) and isinstance(r.value, cst.Name)}
        if not returned:
            return
        for assign in find_nodes(func.body, (cst.Assign, cst.AnnAssign)):
            targets: list[cst.BaseExpression]
            value: cst.BaseExpression | None
            if isinstance(assign, cst.Assign):
                value, targets = assign.value, [t.target for t in assign.targets]
            elif isinstance(assign, cst.AnnAssign):
                value, targets = assign.value, [assign.target]
            else:
                continue
            for target in targets:
                if (isinstance(target, cst.Name) and target.value in returned
                        and any(value is call for call in self.apps.router_calls.get(
                            target.value, ()))):
                    self._returned_calls.add(id(value))

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value != "include_router":
            return
        included = argument(node, 0, "router")
        if included is None or not isinstance(included.value, cst.Name):
            return
        receiver = func.value.value if isinstance(func.value, cst.Name) else None
        self._includes.setdefault(included.value.value, []).append((receiver, node))

    def _shown_untagged(self, name: str, seen: frozenset[str] = frozenset()) -> bool:
        """Does this module show every way `name` reaches the application, none of which
        gives it tags or hides it from the docs? Each `include_router(...)` of it must lack
        `tags=` and `include_in_schema=False`, and be made on the application itself, or
        on a router of the module that has no tags and is shown untagged in turn. A router
        the module does not include is included by another module, which may well give
        it its tags: nothing here says otherwise."""
        includes = self._includes.get(name)
        if not includes or name in seen:
            return False
        for receiver, call in includes:
            if _sets_tags(call) or _hidden(call) or receiver is None:
                return False
            if self.apps.kind(receiver) == APP:
                if any(_no_schema(c) for c in self.apps.calls.get(receiver, ())):
                    return False
                continue
            if (receiver in self._tagging or receiver not in self.apps.router_calls
                    or any(map(_hidden, self.apps.router_calls[receiver]))
                    or not self._shown_untagged(receiver, seen | {name})):
                return False
        return True

    def leave_Module(self, original_node: cst.Module) -> None:
        for name, calls in self.apps.router_calls.items():
            if name in self._tagged or name in self._tagging or not self._operations.get(name):
                continue
            if not self._shown_untagged(name):
                continue
            for call in calls:
                if id(call) in self._returned_calls or _hidden(call):
                    continue
                self.report(call, self.message.format(name=name))
