"""Which names of a module are Django Ninja objects, and their operation decorators.

`analyse` reads the module's top level once (never into functions); `NinjaRule` is the base
of the operation rules, which need that before any function is visited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from pystd.rules.context import FileContext
from pystd.rules.engine import Rule

RESPONSE_DOCS = "https://django-ninja.dev/guides/response/"
PAGINATION_DOCS = "https://django-ninja.dev/guides/response/pagination/"
TUTORIAL_DOCS = "https://django-ninja.dev/tutorial/"

NINJA_APIS = frozenset({"ninja.NinjaAPI", "ninja.main.NinjaAPI"})
NINJA_ROUTERS = frozenset({"ninja.Router", "ninja.router.Router"})
OPERATIONS = frozenset({"get", "post", "put", "patch", "delete", "api_operation"})
PAGINATE = "ninja.pagination.paginate"
PAGINATE_IMPORT = "from ninja.pagination import paginate"


# Django's response classes live here; `HttpResponse*`, `JsonResponse`, `FileResponse`,
# `StreamingHttpResponse`, `TemplateResponse` are all named `...Response...`.
_RESPONSE_MODULES = ("django.http.", "django.template.response.")


def is_django_response(qualified: str | None) -> bool:
    """`django.http.HttpResponse`, `django.http.JsonResponse`, `django.http.response.
    FileResponse`, `django.template.response.TemplateResponse` …"""
    if qualified is None or not qualified.startswith(_RESPONSE_MODULES):
        return False
    return "Response" in qualified.rpartition(".")[2]


@dataclass
class NinjaModule:
    """What the module's top level binds: Ninja objects, response classes, `paginate`."""

    apis: set[str] = field(default_factory=set)
    routers: set[str] = field(default_factory=set)
    responses: set[str] = field(default_factory=set)  # local HttpResponse subclasses
    paginate_taken: bool = False  # `paginate` bound to something other than Ninja's

    @property
    def operation_owners(self) -> set[str]:
        return self.apis | self.routers


def analyse(ctx: FileContext, module: cst.Module) -> NinjaModule:
    """One pass over the module's top-level statements (never into functions)."""
    out = NinjaModule()
    api_classes, router_classes = set(NINJA_APIS), set(NINJA_ROUTERS)

    def kind_of(expr: cst.BaseExpression) -> str | None:
        qualified = ctx.qualified_name(expr)
        name = expr.value if isinstance(expr, cst.Name) else None
        if qualified in api_classes or (qualified is None and name in api_classes):
            return "api"
        if qualified in router_classes or (qualified is None and name in router_classes):
            return "router"
        return None

    for stmt in module.body:
        if isinstance(stmt, cst.ClassDef):
            name = stmt.name.value
            for base in stmt.bases:
                kind = kind_of(base.value)
                if kind == "api":
                    api_classes.add(name)
                elif kind == "router":
                    router_classes.add(name)
                elif is_django_response(ctx.qualified_name(base.value)) or (
                        isinstance(base.value, cst.Name) and base.value.value in out.responses):
                    out.responses.add(name)
            out.paginate_taken |= name == "paginate"
        elif isinstance(stmt, cst.FunctionDef):
            out.paginate_taken |= stmt.name.value == "paginate"
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                _bind(small, kind_of, out)
    if ctx.imports.get("paginate", PAGINATE) != PAGINATE:
        out.paginate_taken = True
    return out


def _bind(small: cst.BaseSmallStatement, kind_of: Callable[[cst.BaseExpression], str | None],
          out: NinjaModule) -> None:
    targets: list[cst.BaseExpression] = []
    value: cst.BaseExpression | None = None
    if isinstance(small, cst.Assign):
        targets, value = [t.target for t in small.targets], small.value
    elif isinstance(small, cst.AnnAssign):
        targets, value = [small.target], small.value
    names = [t.value for t in targets if isinstance(t, cst.Name)]
    if "paginate" in names:
        out.paginate_taken = True
    if isinstance(value, cst.Call):
        kind = kind_of(value.func)
        if kind == "api":
            out.apis.update(names)
        elif kind == "router":
            out.routers.update(names)


def operation_decorators(func: cst.FunctionDef, owners: set[str]
                         ) -> list[tuple[cst.Decorator, cst.Call]]:
    """`@api.get(...)`, `@router.post(...)`, `@api.api_operation(...)` on a Ninja object."""
    out = []
    for dec in func.decorators:
        call = dec.decorator
        if (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
                and call.func.attr.value in OPERATIONS and isinstance(call.func.value, cst.Name)
                and call.func.value.value in owners):
            out.append((dec, call))
    return out


def has_double_star(call: cst.Call) -> bool:
    """`**options` may carry any keyword: the decorator's arguments are unknown."""
    return any(arg.star == "**" for arg in call.args)


class NinjaRule(Rule):
    """Shared setup: the module's Ninja objects, known before any function is visited."""

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self.ninja = NinjaModule()

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return "ninja" in ctx.frameworks

    def visit_Module(self, node: cst.Module) -> None:
        self.ninja = analyse(self.ctx, node)
