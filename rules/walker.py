"""One traversal of a libcst tree for all active rules together.

libcst's own `visit` rebuilds every node it passes (it is built for transformers) and costs
about as much as the parse itself. Rules here only read, so the walker iterates the
child-bearing dataclass fields of each node directly and dispatches to a table of bound
`visit_<Node>`/`leave_<Node>` methods built once per file: a node type no active rule
cares about costs one dict lookup.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import libcst as cst

from rules.context import FileContext
from rules.engine import Rule

# Fields that hold only whitespace, comments or punctuation: no rule looks inside them.
_SKIP_FIELDS = frozenset(
    {
        "whitespace", "whitespace_before", "whitespace_after", "whitespace_after_def",
        "whitespace_before_colon", "whitespace_after_star", "whitespace_after_func",
        "whitespace_before_args", "whitespace_after_at", "whitespace_after_class",
        "whitespace_after_name", "whitespace_before_params", "whitespace_after_arrow",
        "whitespace_before_parameters", "whitespace_after_await", "whitespace_after_async",
        "whitespace_after_for", "whitespace_before_in", "whitespace_after_in",
        "whitespace_after_if", "whitespace_before_else", "whitespace_after_else",
        "whitespace_after_import", "whitespace_after_from", "whitespace_before_import",
        "whitespace_after_as", "whitespace_before_as", "whitespace_after_lambda",
        "whitespace_after_del", "whitespace_after_return", "whitespace_after_yield",
        "whitespace_after_assert", "whitespace_after_raise", "whitespace_after_global",
        "whitespace_after_nonlocal", "whitespace_after_while", "whitespace_after_with",
        "whitespace_after_except", "whitespace_after_case", "whitespace_after_match",
        "whitespace_before_from", "whitespace_after_cls", "whitespace_after_walrus",
        "whitespace_before_walrus", "whitespace_after_type", "whitespace_after_equal",
        "whitespace_before_equal", "whitespace_after_colon", "whitespace_before_indicator",
        "whitespace_after_indicator", "whitespace_after_test", "whitespace_before_test",
        "whitespace_before_value", "whitespace_after_param", "whitespace_after_elif",
        "whitespace_before_expression", "whitespace_after_expression",
        "leading_lines", "lines_after_decorators", "lpar", "rpar", "lbracket", "rbracket",
        "lbrace", "rbrace", "header", "footer", "trailing_whitespace", "newline", "comma",
        "semicolon", "dot", "colon", "equal", "star", "star_tok", "operator",
        "lbrace_tok", "rbrace_tok",
    }
)

_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(node_type: type) -> tuple[str, ...]:
    names = _FIELDS.get(node_type)
    if names is None:
        names = tuple(
            f.name for f in dataclasses.fields(node_type) if f.name not in _SKIP_FIELDS
        )
        _FIELDS[node_type] = names
    return names


_IS_NODE: dict[type, bool] = {}


def _is_node_type(value_type: type) -> bool:
    known = _IS_NODE.get(value_type)
    if known is None:  # libcst nodes are ABC subclasses: cache the slow isinstance check
        known = _IS_NODE[value_type] = issubclass(value_type, cst.CSTNode)
    return known


def _children(node: cst.CSTNode) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        value_type = type(value)
        if value_type is tuple or value_type is list:
            for item in value:
                if _is_node_type(type(item)):
                    out.append(item)
        elif _is_node_type(value_type):
            out.append(value)
    return out


Callback = Callable[[cst.CSTNode], object]


def _dispatch_table(rules: Sequence[Rule], prefix: str) -> dict[str, list[Callback]]:
    table: dict[str, list[Callback]] = {}
    for rule in rules:
        for attr in dir(type(rule)):
            if attr.startswith(prefix):
                table.setdefault(attr[len(prefix):], []).append(getattr(rule, attr))
    return table


_LEAVE = object()
_SCOPES = frozenset({cst.FunctionDef, cst.Lambda})
_IMPORTS = frozenset({cst.Import, cst.ImportFrom})


def walk(module: cst.Module, ctx: FileContext, rules: Sequence[Rule]) -> None:
    """Visit every node of `module` once, calling each rule's visit/leave methods.

    A `visit_*` method returning False skips that node's children for every rule,
    so rules should return None. The context's `ancestors` and `scopes` are kept
    current, and imports inside functions are added to the alias map as they appear.
    """
    visits = _dispatch_table(rules, "visit_")
    leaves = _dispatch_table(rules, "leave_")
    ancestors = ctx.ancestors
    scopes = ctx.scopes
    stack: list[Any] = [module]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if node is _LEAVE:
            node = pop()
            node_type = type(node)
            for cb in leaves.get(node_type.__name__, ()):
                cb(node)
            if node_type in _SCOPES:
                scopes.pop()
            ancestors.pop()
            continue
        node_type = type(node)
        ancestors.append(node)
        if node_type in _SCOPES:
            scopes.append(node)
        elif node_type in _IMPORTS and len(ancestors) > 3:
            ctx.add_import(node)
        descend = True
        for cb in visits.get(node_type.__name__, ()):
            if cb(node) is False:
                descend = False
        push(node)
        push(_LEAVE)
        if descend:
            children = _children(node)
            children.reverse()
            stack.extend(children)


NodeT = TypeVar("NodeT", bound=cst.CSTNode)


def find_nodes(root: cst.CSTNode, types: tuple[type[NodeT], ...], *,
               into_functions: bool = False) -> list[NodeT]:
    """Nodes of `types` under `root` (excluding `root`), in source order.

    Nested function and lambda bodies are not entered unless `into_functions`, so
    "does this function await?" is `bool(find_nodes(func.body, (cst.Await,)))`.
    """
    out: list[NodeT] = []
    stack = _children(root)
    stack.reverse()
    while stack:
        node = stack.pop()
        if isinstance(node, types):
            out.append(node)
        if not into_functions and isinstance(node, (cst.FunctionDef, cst.Lambda)):
            continue
        children = _children(node)
        children.reverse()
        stack.extend(children)
    return out


def is_async_body(func: cst.FunctionDef) -> bool:
    """Does the function's own body use `await`, `async for` or `async with`?"""
    for node in find_nodes(func.body, (cst.Await, cst.For, cst.With, cst.CompFor)):
        if isinstance(node, cst.Await) or getattr(node, "asynchronous", None) is not None:
            return True
    return False
