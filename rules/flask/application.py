"""What the Flask rules share: which expressions are the application, and whether a
module-level name is shadowed where it is used (literals are read with rules/nodes.py)."""

from __future__ import annotations

import libcst as cst

from pystd.rules.context import FileContext, bound_names
from pystd.rules.walker import find_nodes

FLASK_CLASSES = frozenset({"flask.Flask", "flask.app.Flask"})
# Names that hold the application by convention, and the application factory's names
# (flask.palletsprojects.com/en/stable/patterns/appfactories/).
APP_NAMES = frozenset({"app", "application"})
FACTORIES = frozenset({"create_app", "make_app"})


def creates_flask(ctx: FileContext, value: cst.BaseExpression | None) -> bool:
    """Is `value` a `Flask(...)` call (through import aliases)?"""
    return isinstance(value, cst.Call) and ctx.qualified_name(value.func) in FLASK_CLASSES


class Shadowing:
    """Is a module-level name rebound by a function enclosing the node being visited, as
    a parameter (`def register(app): @app.route`) or a local assignment (`request =
    build()`, `for app in apps`)? Then the name there is not the module's object.

    One instance per rule and file: each function's local names are computed once, and
    only when a rule asks about a node inside it.
    """

    def __init__(self) -> None:
        self._locals: dict[int, frozenset[str]] = {}

    def __call__(self, ctx: FileContext, name: str) -> bool:
        for scope in ctx.scopes:
            params = scope.params
            every = (*params.posonly_params, *params.params, *params.kwonly_params)
            if any(param.name.value == name for param in every):
                return True
            for star in (params.star_arg, params.star_kwarg):
                if isinstance(star, cst.Param) and star.name.value == name:
                    return True
            if isinstance(scope, cst.FunctionDef) and name in self._local_names(scope):
                return True
        return False

    def _local_names(self, func: cst.FunctionDef) -> frozenset[str]:
        known = self._locals.get(id(func))
        if known is None:
            known = self._locals[id(func)] = _bound_locally(func)
        return known


def _bound_locally(func: cst.FunctionDef) -> frozenset[str]:
    """Names a function body binds (not counting nested functions), minus `global` ones."""
    bound: set[str] = set()
    declared: set[str] = set()
    kinds = (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.AsName,
             cst.NamedExpr, cst.Global, cst.Nonlocal)
    for node in find_nodes(func.body, kinds):
        if isinstance(node, (cst.Global, cst.Nonlocal)):
            declared.update(item.name.value for item in node.names)
            continue
        target = node.name if isinstance(node, cst.AsName) else node.target  # type: ignore[attr-defined]
        bound.update(bound_names(target))
    return frozenset(bound - declared)




class Apps:
    """Which expressions are the Flask application of this module: names bound to
    `Flask(...)` or to an application factory's result, and `app`/`application`."""

    def __init__(self, ctx: FileContext, *, conventional_names: bool = True) -> None:
        """`conventional_names`: take `app`/`application` for the application without
        seeing them bound (in a module that imports Flask)."""
        self.ctx = ctx
        self.names: set[str] = set(APP_NAMES) if conventional_names else set()

    def bind(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name) and value is not None and self.creates_app(value):
            self.names.add(target.value)

    def creates_app(self, value: cst.BaseExpression) -> bool:
        if not isinstance(value, cst.Call):
            return False
        if creates_flask(self.ctx, value):
            return True
        func = value.func
        name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
        return name in FACTORIES

    def is_app(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Name):
            return node.value in self.names
        return self.creates_app(node)
