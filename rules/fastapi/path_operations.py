"""What the FastAPI rules share: which names hold a FastAPI application or router, and
which functions are path operations.

A path operation is a function decorated `@<obj>.get/post/put/patch/delete/options/head/
trace/api_route(...)` where `<obj>` is a name that

- the module binds to `FastAPI(...)` or `APIRouter(...)`, in any scope, through import
  aliases (`from fastapi import APIRouter as R`, `fastapi.FastAPI()`) and plain aliases
  (`api = app`), or annotates as one (`def register(app: FastAPI)`, `app: FastAPI = ...`); or
- the module imports from the project itself (a relative import, or an absolute one whose
  top package is a folder on the file's path: `from app.api.deps import router` in
  `app/api/users.py`), when the module imports fastapi and neither flask nor ninja: the
  router is then defined in a sibling module and decorated here.

Flask's `@app.get` and Ninja's `@api.get` never match: their objects are bound to other
classes, and a module importing flask or ninja gets no benefit of the doubt for imported
names. This is deliberately stricter than `FileContext.handler_framework` (any `@x.get` in
a module importing fastapi), which the PYS1xx rules use for "handler": every path operation
here is also a FastAPI handler there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import ClassVar
from weakref import WeakKeyDictionary

import libcst as cst

from pystd.rules.context import FileContext, bound_names, dotted_name
from pystd.rules.engine import Rule
from pystd.rules.nodes import keyword, literal_string

FASTAPI_APPS = frozenset({"fastapi.FastAPI", "fastapi.applications.FastAPI"})
FASTAPI_ROUTERS = frozenset({"fastapi.APIRouter", "fastapi.routing.APIRouter"})
STARLETTE_APPS = frozenset({"starlette.applications.Starlette"})

APP, ROUTER, STARLETTE, IMPORTED = "app", "router", "starlette", "imported"

# Path operation decorators -> the HTTP methods they serve (`api_route` takes `methods=`).
OPERATION_METHODS: dict[str, frozenset[str] | None] = {
    **{m: frozenset({m.upper()}) for m in (
        "get", "post", "put", "patch", "delete", "options", "head", "trace")},
    "api_route": None,
}
# fastapi.param_functions (re-exported by `fastapi`) and the classes of fastapi.params.
PARAM_FUNCTIONS = frozenset({"Body", "Cookie", "Depends", "File", "Form", "Header", "Path",
                             "Query", "Security"})
_PARAM_MODULES = frozenset({"fastapi", "fastapi.param_functions", "fastapi.params"})
# Frameworks whose objects also have `.get(...)`/`.post(...)` route decorators.
_OTHER_ROUTE_FRAMEWORKS = ("flask", "ninja")
_PATH_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


# -- small helpers over calls and literals ----------------------------------------------


def argument(call: cst.Call, index: int, name: str) -> cst.Arg | None:
    """The argument passed at position `index` or as `name=`."""
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if index < len(positional):
        return positional[index]
    return keyword(call, name)


def has_star_args(call: cst.Call) -> bool:
    """`f(*args)` or `f(**kwargs)`: any keyword may be hidden in there."""
    return any(arg.star for arg in call.args)


def is_none(node: cst.BaseExpression) -> bool:
    return (isinstance(node, cst.Name) and node.value == "None") or literal_string(node) == "None"


def dotted_tail(node: cst.BaseExpression) -> str:
    """The last part of a dotted name (`status.HTTP_204_NO_CONTENT` -> `HTTP_204_NO_CONTENT`)."""
    return (dotted_name(node) or "").rpartition(".")[2]


def param_function(ctx: FileContext, node: cst.BaseExpression | None) -> str | None:
    """`"Depends"` for a `Depends(...)` call (likewise Query, Body, ...), through aliases."""
    if not isinstance(node, cst.Call):
        return None
    qualified = ctx.qualified_name(node.func)
    if qualified is None:
        return None
    module, _, name = qualified.rpartition(".")
    return name if module in _PARAM_MODULES and name in PARAM_FUNCTIONS else None


def all_params(params: cst.Parameters) -> list[cst.Param]:
    """Every named parameter, star parameters included."""
    out = [*params.posonly_params, *params.params, *params.kwonly_params]
    out.extend(p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param))
    return out


# -- what the module binds ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Binding:
    """One binding of a name: `name = value`, `name: annotation = value`, a parameter
    `name: annotation`, or (both None) a `def`/`class` or an unpacking target."""

    value: cst.BaseExpression | None
    annotation: cst.BaseExpression | None


def module_bindings(module: cst.Module) -> dict[str, list[Binding]]:
    """Every name the module binds in any scope, by statement (expressions are not
    entered, so this costs a fraction of a full traversal)."""
    out: dict[str, list[Binding]] = {}

    def add(name: str, value: cst.BaseExpression | None = None,
            annotation: cst.BaseExpression | None = None) -> None:
        out.setdefault(name, []).append(Binding(value, annotation))

    for stmt in _statements(module.body):
        if isinstance(stmt, cst.Assign):
            for target in stmt.targets:
                if isinstance(target.target, cst.Name):
                    add(target.target.value, stmt.value)
                else:
                    for name in bound_names(target.target):
                        add(name)
        elif isinstance(stmt, cst.AnnAssign) and isinstance(stmt.target, cst.Name):
            add(stmt.target.value, stmt.value, stmt.annotation.annotation)
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            add(stmt.name.value)
            if isinstance(stmt, cst.FunctionDef):
                for param in all_params(stmt.params):
                    if param.annotation is not None:
                        add(param.name.value, None, param.annotation.annotation)
    return out


def _statements(body: object) -> Iterator[cst.CSTNode]:
    """Small statements and compound statements, at every depth, in no particular order."""
    stack: list[cst.CSTNode] = list(body)  # type: ignore[call-overload]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.SimpleStatementLine):
            stack.extend(node.body)
            continue
        yield node
        if isinstance(node, (cst.BaseSmallStatement, cst.BaseExpression)):
            continue
        for attr in ("body", "orelse", "handlers", "finalbody", "cases"):
            child = getattr(node, attr, None)
            if isinstance(child, (cst.IndentedBlock, cst.SimpleStatementSuite)):
                stack.extend(child.body)
            elif isinstance(child, (list, tuple)):
                stack.extend(child)
            elif isinstance(child, cst.CSTNode):
                stack.append(child)




# -- path operations ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    """One path operation decorator: `@router.post("/items", status_code=201)`."""

    call: cst.Call
    owner: str  # the application or router name
    methods: frozenset[str] | None  # None: `api_route(methods=...)` not a literal

    def keyword(self, name: str) -> cst.Arg | None:
        return keyword(self.call, name)

    @property
    def path_params(self) -> frozenset[str]:
        """Names of the `{placeholders}` in the route's path."""
        arg = argument(self.call, 0, "path")
        path = literal_string(arg.value) if arg is not None else None
        return frozenset(_PATH_PARAM.findall(path or ""))


@dataclass(frozen=True, slots=True)
class PathOperation:
    func: cst.FunctionDef
    routes: tuple[Route, ...]

    @property
    def name(self) -> str:
        return self.func.name.value

    def keyword(self, name: str) -> cst.Arg | None:
        """The `name=` argument of the first route decorator that passes it."""
        for route in self.routes:
            arg = route.keyword(name)
            if arg is not None:
                return arg
        return None

    def serves(self, methods: frozenset[str]) -> bool:
        return any(route.methods and route.methods & methods for route in self.routes)

    @property
    def path_params(self) -> frozenset[str]:
        return frozenset().union(*(route.path_params for route in self.routes))


class AppObjects:
    """The FastAPI/Starlette application and router names of one module, and its path
    operations. Built once per file (statement-level scan) and shared by the rules."""

    def __init__(self, ctx: FileContext) -> None:
        # No reference to `ctx` is kept: this object is cached in a WeakKeyDictionary
        # keyed by it.
        self.bindings = module_bindings(ctx.module) if ctx.module is not None else {}
        self.kinds: dict[str, str] = {}
        # Names bound to `FastAPI(...)`/`APIRouter(...)`/`Starlette(...)` -> those calls,
        # and the `APIRouter(...)` ones alone.
        self.calls: dict[str, list[cst.Call]] = {}
        self.router_calls: dict[str, list[cst.Call]] = {}
        self._classify(ctx)
        self.imported = self._project_imports(ctx)
        self.fastapi = ctx.imports_module("fastapi")
        self._operations: dict[cst.FunctionDef, PathOperation | None] = {}

    def _classify(self, ctx: FileContext) -> None:
        aliases: dict[str, list[str]] = {}
        for name, bindings in self.bindings.items():
            for binding in bindings:
                value = binding.value
                kind = None
                if isinstance(value, cst.Call):
                    kind = _kind(ctx.qualified_name(value.func))
                    if kind is not None:
                        self.calls.setdefault(name, []).append(value)
                    if kind == ROUTER:
                        self.router_calls.setdefault(name, []).append(value)
                if kind is None and binding.annotation is not None:
                    kind = _kind(ctx.qualified_name(_unquoted(binding.annotation)))
                if kind is not None:
                    self.kinds.setdefault(name, kind)
                elif isinstance(value, cst.Name):
                    aliases.setdefault(name, []).append(value.value)
        changed = True
        while changed:  # `api = app`, `v1 = api`: to a fixed point
            changed = False
            for name, targets in aliases.items():
                if name in self.kinds:
                    continue
                known = next((self.kinds[t] for t in targets if t in self.kinds), None)
                if known is not None:
                    self.kinds[name] = known
                    changed = True

    def _project_imports(self, ctx: FileContext) -> frozenset[str]:
        if not ctx.imports_module("fastapi", "starlette") or ctx.imports_module(
                *_OTHER_ROUTE_FRAMEWORKS):
            return frozenset()
        folders = set(PurePosixPath(ctx.kind.path).parts[:-1])
        return frozenset(
            bound for bound, target in ctx.imports.items()
            if (target.startswith(".") or target.split(".", 1)[0] in folders)
            and bound not in self.bindings
        )

    def kind(self, name: str) -> str | None:
        """APP, ROUTER, STARLETTE, IMPORTED (from the project) or None."""
        return self.kinds.get(name) or (IMPORTED if name in self.imported else None)

    def is_fastapi_object(self, name: str) -> bool:
        """Does `name` hold a FastAPI application or router (as far as the module shows)?"""
        kind = self.kind(name)
        return kind in (APP, ROUTER) or (kind == IMPORTED and self.fastapi)

    def path_operation(self, func: cst.FunctionDef) -> PathOperation | None:
        if func in self._operations:
            return self._operations[func]
        routes: list[Route] = []
        for dec in func.decorators:
            call = dec.decorator
            if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
                continue
            attr = call.func.attr.value
            owner = call.func.value
            if (attr in OPERATION_METHODS and isinstance(owner, cst.Name)
                    and self.is_fastapi_object(owner.value)):
                routes.append(Route(call, owner.value, _methods(call, attr)))
        op = PathOperation(func, tuple(routes)) if routes else None
        self._operations[func] = op
        return op


def _kind(qualified: str | None) -> str | None:
    if qualified in FASTAPI_APPS:
        return APP
    if qualified in FASTAPI_ROUTERS:
        return ROUTER
    if qualified in STARLETTE_APPS:
        return STARLETTE
    return None


def _unquoted(annotation: cst.BaseExpression) -> cst.BaseExpression:
    """`"FastAPI"` -> `FastAPI` (a forward reference), else the annotation itself."""
    text = literal_string(annotation)
    if text is not None and all(part.isidentifier() for part in text.split(".")):
        try:
            return cst.parse_expression(text)
        except cst.ParserSyntaxError:
            return annotation
    return annotation


def _methods(call: cst.Call, attr: str) -> frozenset[str] | None:
    fixed = OPERATION_METHODS[attr]
    if fixed is not None:
        return fixed
    arg = keyword(call, "methods")
    if arg is None:
        return frozenset({"GET"})  # FastAPI's default for `api_route`
    value = arg.value
    if not isinstance(value, (cst.List, cst.Tuple, cst.Set)):
        return None
    names = [literal_string(el.value) for el in value.elements]
    if any(n is None for n in names):
        return None
    return frozenset(n.upper() for n in names if n is not None)


_OBJECTS: WeakKeyDictionary[FileContext, AppObjects] = WeakKeyDictionary()


def app_objects(ctx: FileContext) -> AppObjects:
    """The module's `AppObjects`, built on first use and shared by every rule of the file."""
    found = _OBJECTS.get(ctx)
    if found is None:
        found = _OBJECTS[ctx] = AppObjects(ctx)
    return found


class PathOperationRule(Rule):
    """Base of the rules about path operations: active in modules importing fastapi."""

    requires: ClassVar[tuple[str, ...]] = ("fastapi",)

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        # Built before the walk, from the top-level imports only: the same for every rule.
        self.apps = app_objects(ctx)

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return ctx.imports_module("fastapi")

    def operation_around(self) -> PathOperation | None:
        """The path operation whose own body holds the node being visited (not its
        decorators or parameters, and not a nested `def` or `lambda`)."""
        ctx = self.ctx
        scope = ctx.scopes[-1] if ctx.scopes else None
        if not isinstance(scope, cst.FunctionDef):
            return None
        op = self.apps.path_operation(scope)
        if op is None:
            return None
        ancestors = ctx.ancestors
        for i in range(len(ancestors) - 1, 0, -1):
            if ancestors[i - 1] is scope:
                return op if ancestors[i] is scope.body else None
        return None

    def code_of(self, node: cst.CSTNode) -> str:
        module = self.ctx.module
        return module.code_for_node(node) if module is not None else ""
