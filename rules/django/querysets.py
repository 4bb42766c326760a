"""Recognising Django queryset chains rooted at `<Model>.objects`, shared by the PYS2xx rules.

Everything here is syntactic: a chain is "rooted at a manager" when it starts at `.objects`
on a CapWords name (or `module.CapWords` through an imported module). Nothing is resolved
across files, so a rule that needs the model's fields collects them itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from pystd.rules.context import FileContext, dotted_name

# Packages whose import marks a module as Django code (Ninja, DRF and Channels run on it).
DJANGO_PACKAGES = ("django", "rest_framework", "ninja", "channels", "adrf", "asgiref")
# QuerySet/Manager methods that run a query; each has an `a`-prefixed async twin
# (Django 4.1+, "Asynchronous queries" in docs.djangoproject.com/en/stable/topics/async/).
EVALUATING = frozenset(
    {
        "get", "create", "get_or_create", "update_or_create", "count", "exists", "first",
        "last", "latest", "earliest", "update", "delete", "aggregate", "in_bulk",
        "bulk_create", "bulk_update", "iterator",
    }
)
# Methods that end a lazy chain: they do not return a QuerySet.
NOT_LAZY = (
    EVALUATING
    | {"a" + m for m in EVALUATING}
    | {"contains", "acontains", "explain", "aexplain", "aiterator", "raw"}
)
# QuerySet methods whose result is a QuerySet of dicts/tuples rather than model instances.
VALUES_METHODS = frozenset({"values", "values_list"})
# Django's "Methods that return new QuerySets" (ref/models/querysets): every manager has
# them, so a chain may gain a call before one of them without changing what it means.
QUERYSET_METHODS = VALUES_METHODS | {
    "filter", "exclude", "annotate", "alias", "order_by", "reverse", "distinct", "dates",
    "datetimes", "none", "all", "union", "intersection", "difference", "select_related",
    "prefetch_related", "extra", "defer", "only", "using", "select_for_update",
}
MANAGER = "objects"


def is_model_ref(expr: cst.BaseExpression, ctx: FileContext) -> bool:
    """`Book`, or `models.Book` through an imported module: a CapWords class name."""
    if isinstance(expr, cst.Name):
        return expr.value[:1].isupper()
    if isinstance(expr, cst.Attribute) and expr.attr.value[:1].isupper():
        dotted = dotted_name(expr.value)
        return dotted is not None and dotted.split(".", 1)[0] in ctx.imports
    return False


def chain_links(expr: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The calls, subscripts and attributes of a chain, outermost first, down to its root."""
    while True:
        yield expr
        if isinstance(expr, cst.Call):
            expr = expr.func
        elif isinstance(expr, (cst.Subscript, cst.Attribute)):
            expr = expr.value
        else:
            return


def chain_methods(expr: cst.BaseExpression) -> Iterator[str]:
    """Names of the methods called along a chain, outermost first."""
    for link in chain_links(expr):
        if isinstance(link, cst.Call) and isinstance(link.func, cst.Attribute):
            yield link.func.attr.value


def queryset_chain(expr: cst.BaseExpression, ctx: FileContext) -> bool:
    """Is `expr` a not-yet-evaluated chain on `<Model>.objects` (the manager included)?"""
    return manager_of(expr, ctx) is not None


def manager_of(
    expr: cst.BaseExpression, ctx: FileContext, *, any_receiver: bool = False
) -> cst.Attribute | None:
    """The `<Model>.objects` node a lazy queryset chain starts from, or None.

    With `any_receiver`, `.objects` on anything counts (`self.model.objects`,
    `get_user_model().objects`), not only on a model class name.
    """
    while True:
        if isinstance(expr, cst.Call):
            func = expr.func
            if not isinstance(func, cst.Attribute) or func.attr.value in NOT_LAZY:
                return None
            expr = func.value
        elif isinstance(expr, cst.Subscript):  # slicing stays lazy, indexing does not
            if not (len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Slice)):
                return None
            expr = expr.value
        elif isinstance(expr, cst.Attribute):
            if expr.attr.value == MANAGER and (any_receiver or is_model_ref(expr.value, ctx)):
                return expr
            return None
        else:
            return None


def iterable_queryset(expr: cst.BaseExpression, ctx: FileContext) -> bool:
    """A queryset chain that can be iterated: a call or slice, not the bare manager."""
    return isinstance(expr, (cst.Call, cst.Subscript)) and queryset_chain(expr, ctx)


def evaluation(expr: cst.BaseExpression, ctx: FileContext, methods: frozenset[str]) -> bool:
    """`X.objects….m(...)` for a method `m` in `methods`."""
    return (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value in methods
        and queryset_chain(expr.func.value, ctx)
    )


def is_values_chain(expr: cst.BaseExpression) -> bool:
    """`qs.values(...)`, `X.objects.values_list("id").order_by("id")[:10]`…"""
    while True:
        if isinstance(expr, cst.Subscript):
            expr = expr.value
        elif isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            if expr.func.attr.value in VALUES_METHODS:
                return True
            expr = expr.func.value
        else:
            return False


def chain_label(node: cst.BaseExpression) -> str:
    """`Book.objects.filter(…).count()`: the call with its arguments elided."""
    parts: list[str] = []
    expr: cst.BaseExpression = node
    while True:
        if isinstance(expr, cst.Call):
            parts.append("(…)" if expr.args else "()")
            expr = expr.func
        elif isinstance(expr, cst.Subscript):
            parts.append("[…]")
            expr = expr.value
        elif isinstance(expr, cst.Attribute):
            parts.append("." + expr.attr.value)
            expr = expr.value
        else:
            parts.append(expr.value if isinstance(expr, cst.Name) else "…")
            return "".join(reversed(parts))


