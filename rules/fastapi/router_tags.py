"""PYS408 fastapi-router-without-tags."""

from __future__ import annotations

import libcst as cst

from rules.context import FileContext
from rules.engine import Category, Severity, register
from rules.fastapi.path_operations import (
    PathOperationRule,
    argument,
    has_star_args,
    keyword,
)
from rules.walker import find_nodes


def _sets_tags(call: cst.Call) -> bool:
    """`tags=` given, or possibly given through `**kwargs`."""
    return keyword(call, "tags") is not None or has_star_args(call)


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
Flags `APIRouter(...)` without `tags=` when the module declares path operations on it and
none of them sets `tags=`. A router included with tags in the same module
(`app.include_router(router, tags=["users"])`, or into a router created with `tags=`) is
never flagged, and neither is a router without path operations of its own in the module
(one that only gathers other routers with `include_router`, or that other modules
decorate), nor a router that a function creates and returns (`def get_users_router(): ...
return router`): whoever calls the factory includes the router and gives it its tags.
Nor is a router without `prefix=` that the module does not include: whoever includes it
gives it its prefix, and with it, as a rule, its tags
(`app.include_router(users.router, prefix="/users", tags=["users"])`; in a survey of
FastAPI projects on PyPI, 27 of 30 such routers got their tags, or had no API docs at
all, where they were included). Tags given where another module includes a router that
has its own prefix are not visible here: suppress the finding, or better, move the tags
onto the router.

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
router = APIRouter(prefix="/users")


@router.get("/")
def list_users() -> list[UserOut]: ...
```

## Use instead
```python
router = APIRouter(prefix="/users", tags=["users"])
```

## Suppress
`# noqa: PYS408` on the `APIRouter(...)` line, when the including module sets the tags.
"""
    bad = (
        "from fastapi import APIRouter\n\nrouter = APIRouter(prefix=\"/users\")  # flagged\n\n\n"
        "@router.get(\"/\")\ndef list_users() -> list[str]:\n    return []\n",
    )
    good = (
        "from fastapi import APIRouter\n\nrouter = APIRouter(prefix=\"/users\", tags=[\"users\"])\n\n\n"
        "@router.get(\"/\")\ndef list_users() -> list[str]:\n    return []\n",
        "from fastapi import APIRouter, FastAPI\n\napp = FastAPI()\n"
        "router = APIRouter(prefix=\"/users\")\n\n\n@router.get(\"/\")\n"
        "def list_users() -> list[str]:\n    return []\n\n\n"
        "app.include_router(router, tags=[\"users\"])\n",
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._operations: dict[str, int] = {}
        self._tagged: set[str] = set()
        self._returned_calls: set[int] = set()  # `APIRouter(...)` calls a factory returns
        self._included: set[str] = set()  # routers this module includes somewhere
        # Routers whose own `APIRouter(...)` call sets tags: what they include gets them.
        self._tagging = {name for name, calls in self.apps.router_calls.items()
                         if any(map(_sets_tags, calls))}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._note_factory(node)
        op = self.apps.path_operation(node)
        if op is None:
            return
        for route in op.routes:
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
            value = assign.value  # type: ignore[union-attr]
            targets = ([t.target for t in assign.targets] if isinstance(assign, cst.Assign)
                       else [assign.target])  # type: ignore[union-attr]
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
        self._included.add(included.value.value)
        receiver = func.value
        if _sets_tags(node) or (isinstance(receiver, cst.Name)
                                and receiver.value in self._tagging):
            self._tagged.add(included.value.value)

    def leave_Module(self, original_node: cst.Module) -> None:
        for name, calls in self.apps.router_calls.items():
            if name in self._tagged or name in self._tagging or not self._operations.get(name):
                continue
            for call in calls:
                if id(call) in self._returned_calls or (
                        keyword(call, "prefix") is None and name not in self._included):
                    continue
                self.report(call, self.message.format(name=name))
