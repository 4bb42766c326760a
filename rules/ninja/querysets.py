"""Which expressions of an operation are lazy querysets (for PYS602).

A chain such as `Book.objects.filter(...).order_by(...)` is lazy until a method that runs
the query ends it; a local name holds one when every binding of it does.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from pystd.rules.context import dotted_name
from pystd.rules.django import EVALUATING
from pystd.rules.walker import find_nodes

# Methods that end a lazy queryset chain (they run the query and return something else).
_NOT_LAZY = EVALUATING | {"a" + m for m in EVALUATING} | {"contains", "explain", "raw"}


@dataclass(frozen=True, slots=True)
class _Chain:
    """A lazy queryset-like chain: its root, whether a slice bounds it, and its calls."""

    root: cst.BaseExpression
    bounded: bool
    calls: int


def lazy_chain(expr: cst.BaseExpression) -> _Chain | None:
    """Walk `X.objects.filter(...).order_by(...)[a:b]` down to its root; None when a link
    evaluates the query (`.get()`, `.count()`, `[0]` …)."""
    bounded, calls = False, 0
    while True:
        if isinstance(expr, cst.Call):
            func = expr.func
            if not isinstance(func, cst.Attribute) or func.attr.value in _NOT_LAZY:
                return None
            calls += 1
            expr = func.value
        elif isinstance(expr, cst.Subscript):
            if len(expr.slice) != 1 or not isinstance(expr.slice[0].slice, cst.Slice):
                return None
            bounded |= expr.slice[0].slice.upper is not None
            expr = expr.value
        else:
            return _Chain(expr, bounded, calls)


def is_manager(expr: cst.BaseExpression) -> bool:
    """`Book.objects` or `models.Book.objects`: a CapWords class's default manager."""
    if not (isinstance(expr, cst.Attribute) and expr.attr.value == "objects"):
        return False
    owner = expr.value
    last = owner.attr.value if isinstance(owner, cst.Attribute) else getattr(owner, "value", "")
    return dotted_name(owner) is not None and last[:1].isupper()


class Bindings:
    """How a function's local names are bound: plain `name = value` assignments are kept;
    a name bound any other way (loop target, `with … as`, `+=`, a parameter …) is unknown."""

    def __init__(self, func: cst.FunctionDef) -> None:
        self.values: dict[str, list[cst.BaseExpression]] = {}
        self.unknown: set[str] = {p.name.value for p in find_nodes(func.params, (cst.Param,))
                                  if isinstance(p, cst.Param)}
        kinds = (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.For, cst.WithItem, cst.NamedExpr,
                 cst.ExceptHandler, cst.Global, cst.Nonlocal, cst.Del, cst.FunctionDef,
                 cst.ClassDef, cst.ImportAlias, cst.MatchAs)
        for node in find_nodes(func.body, kinds):
            if isinstance(node, cst.Assign):
                for target in node.targets:
                    if isinstance(target.target, cst.Name):
                        self.values.setdefault(target.target.value, []).append(node.value)
                    else:
                        self._forget(target.target)
            elif isinstance(node, cst.AnnAssign) and isinstance(node.target, cst.Name):
                if node.value is not None:
                    self.values.setdefault(node.target.value, []).append(node.value)
            else:
                self._forget(node)

    def _forget(self, node: cst.CSTNode) -> None:
        targets: list[cst.CSTNode] = []
        if isinstance(node, (cst.AugAssign, cst.For, cst.NamedExpr, cst.Del, cst.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            targets = [node.asname.name]
        elif isinstance(node, (cst.ExceptHandler, cst.MatchAs)) and node.name is not None:
            targets = [node.name]
        elif isinstance(node, (cst.Global, cst.Nonlocal)):
            targets = [n.name for n in node.names]
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            targets = [node.name]
        elif isinstance(node, cst.ImportAlias):
            targets = [node.asname.name if node.asname is not None else node.name]
        else:
            targets = [node]
        for target in targets:
            if isinstance(target, cst.Name):
                self.unknown.add(target.value)
            for name in find_nodes(target, (cst.Name,)):
                assert isinstance(name, cst.Name)
                self.unknown.add(name.value)


def returns_queryset(expr: cst.BaseExpression, bindings: Bindings,
                     seen: frozenset[str] = frozenset()) -> bool:
    """Is `expr` an unsliced queryset: a `<Model>.objects…` chain with at least one call,
    or a local name every assignment of which is one (or refines it: `qs = qs.filter()`)?"""
    chain = lazy_chain(expr)
    if chain is None or chain.bounded:
        return False
    root = chain.root
    if is_manager(root):
        return chain.calls > 0
    if not isinstance(root, cst.Name) or root.value in seen or root.value in bindings.unknown:
        return False
    values = bindings.values.get(root.value, [])
    sourced = False
    for value in values:
        link = lazy_chain(value)
        if link is None or link.bounded:
            return False
        if isinstance(link.root, cst.Name) and link.root.value == root.value:
            continue  # `qs = qs.filter(...)` refines itself
        if not returns_queryset(value, bindings, seen | {root.value}):
            return False
        sourced = True
    return sourced
