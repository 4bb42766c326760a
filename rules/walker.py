"""One traversal of a libcst tree for all active rules together.

libcst's own `visit` rebuilds every node it passes (it is built for transformers) and costs
about as much as the parse itself. Rules here only read, so the walker iterates the
child-bearing dataclass fields of each node directly and dispatches to a table of bound
`visit_<Node>`/`leave_<Node>` methods built once per file: a node type no active rule
cares about costs one dict lookup.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

import libcst as cst

from pystd.rules.engine import Rule

if TYPE_CHECKING:  # the context's helpers use the walker's `find_nodes`
    from pystd.rules.context import FileContext

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
        rule_type: type = type(rule)  # a class is hashable (mypy reads Rule's __hash__)
        for attr in _hooks(rule_type, prefix):
            table.setdefault(attr[len(prefix):], []).append(getattr(rule, attr))
    return table


@cache
def _hooks(rule_type: type, prefix: str) -> tuple[str, ...]:
    """The `visit_*`/`leave_*` method names of a rule class (`dir` once per class)."""
    return tuple(attr for attr in dir(rule_type) if attr.startswith(prefix))


# -- which subtrees can hold a node anyone asked for ------------------------------------
#
# libcst's dataclass annotations say which node types each field can hold. From them, for
# a set of wanted types, `_plan` works out once which node types can contain a wanted one
# (the "live" types) and which fields of each type can: the walk then never enters a
# name, a number, an operator or any subtree that cannot hold what the rules visit (about
# half of all nodes are such leaves), and looks only at the fields that can.


@cache
def _subclasses(base: type) -> frozenset[type]:
    """`base` and every class derived from it (`__subclasses__`, unlike `issubclass` on
    libcst's abstract classes, costs next to nothing)."""
    out: set[type] = set()
    stack: list[type] = [base]
    while stack:
        node_type = stack.pop()
        if node_type not in out:
            out.add(node_type)
            stack.extend(node_type.__subclasses__())
    return frozenset(out)


def _node_types() -> frozenset[type]:
    return _subclasses(cst.CSTNode)


_ANY = object()  # a field whose annotation is not understood: it may hold anything


def _annotated(annotation: object, out: set[object]) -> None:
    """Add the node types `annotation` admits (with their subclasses) to `out`."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return
    if origin is not None:
        for arg in typing.get_args(annotation):
            _annotated(arg, out)
    elif isinstance(annotation, type):
        if issubclass(annotation, cst.CSTNode):
            out.update(_subclasses(annotation))
    else:
        out.add(_ANY)


@cache
def _field_types() -> dict[type, tuple[tuple[str, frozenset[object]], ...]]:
    """Node type -> (field, node types it can hold) for every field the walk may enter."""
    universe = _node_types()
    table: dict[type, tuple[tuple[str, frozenset[object]], ...]] = {}
    for node_type in universe:
        if not dataclasses.is_dataclass(node_type):
            continue
        # libcst does not postpone its annotations: `Field.type` is the type itself (a
        # string, were that to change, is not understood and may hold anything).
        hints = {f.name: f.type for f in dataclasses.fields(node_type)}
        entries = []
        for name in _child_fields(node_type):
            held: set[object] = set()
            _annotated(hints[name], held)
            entries.append((name, frozenset(held)))
        table[node_type] = tuple(entries)
    return table


@dataclass(frozen=True, slots=True)
class _Plan:
    live: frozenset[type]  # node types that are wanted or can contain a wanted one
    fields: dict[type, tuple[str, ...]]  # per live type: the fields that can hold one
    backwards: dict[type, tuple[str, ...]]  # the same fields, last first


@cache
def _plan(wanted: frozenset[type]) -> _Plan:
    """The live types and fields for a walk that wants the node types `wanted`."""
    table = _field_types()
    live: set[object] = set(wanted)
    changed = True
    while changed:
        changed = False
        for node_type, entries in table.items():
            if node_type in live:
                continue
            if any(_ANY in held or not held.isdisjoint(live) for _, held in entries):
                live.add(node_type)
                changed = True
    fields = {
        node_type: tuple(name for name, held in entries
                         if _ANY in held or not held.isdisjoint(live))
        for node_type, entries in table.items() if node_type in live
    }
    return _Plan(frozenset(t for t in live if isinstance(t, type)), fields,
                 {node_type: names[::-1] for node_type, names in fields.items()})


def _wanted(names: Iterable[str]) -> frozenset[type]:
    by_name = _types_by_name()
    return frozenset(t for name in names for t in by_name.get(name, ()))


@cache
def _types_by_name() -> dict[str, tuple[type, ...]]:
    out: dict[str, list[type]] = {}
    for node_type in _node_types():
        out.setdefault(node_type.__name__, []).append(node_type)
    return {name: tuple(types) for name, types in out.items()}


_LEAVE = object()
_SCOPES = frozenset({cst.FunctionDef, cst.Lambda})
_IMPORTS = frozenset({cst.Import, cst.ImportFrom})
_ALWAYS = frozenset({"FunctionDef", "Lambda", "Import", "ImportFrom"})


def walk(module: cst.Module, ctx: FileContext, rules: Sequence[Rule]) -> None:
    """Visit every node of `module` once, calling each rule's visit/leave methods.

    A `visit_*` method returning False skips that node's children for every rule,
    so rules should return None. The context's `ancestors` and `scopes` are kept
    current, and imports inside functions are added to the alias map as they appear.
    Subtrees that cannot hold a node any rule visits are not entered (`_plan`): every
    visited node still sees all its ancestors.
    """
    visit_names = _dispatch_table(rules, "visit_")
    leave_names = _dispatch_table(rules, "leave_")
    plan = _plan(_wanted({*visit_names, *leave_names, *_ALWAYS}))
    live, backwards = plan.live, plan.backwards
    visits = {t: cbs for name, cbs in visit_names.items() for t in _types_by_name().get(name, ())}
    leaves = {t: cbs for name, cbs in leave_names.items() for t in _types_by_name().get(name, ())}
    ancestors = ctx.ancestors
    scopes = ctx.scopes
    stack: list[Any] = [module]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if node is _LEAVE:
            node = pop()
            node_type = type(node)
            callbacks = leaves.get(node_type)
            if callbacks is not None:
                for cb in callbacks:
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
        callbacks = visits.get(node_type)
        if callbacks is not None:
            for cb in callbacks:
                if cb(node) is False:
                    descend = False
        push(node)
        push(_LEAVE)
        if descend:  # the children, last first: the stack pops them in source order
            for name in backwards.get(node_type, ()):
                value = getattr(node, name)
                value_type = type(value)
                if value_type is tuple or value_type is list:
                    for item in reversed(value):
                        if type(item) in live:
                            push(item)
                elif value_type in live:
                    push(value)


def _live_children(node: cst.CSTNode, names: tuple[str, ...], live: frozenset[type]
                   ) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name)
        value_type = type(value)
        if value_type is tuple or value_type is list:
            for item in value:
                if type(item) in live:
                    out.append(item)
        elif value_type in live:
            out.append(value)
    return out


@cache
def _finder(types: tuple[type, ...]) -> tuple[_Plan, frozenset[type]]:
    matching = frozenset(t for base in types for t in _subclasses(base))
    return _plan(matching), matching


NodeT = TypeVar("NodeT", bound=cst.CSTNode)


def find_nodes(root: cst.CSTNode, types: tuple[type[NodeT], ...], *,
               into_functions: bool = False) -> list[NodeT]:
    """Nodes of `types` under `root` (excluding `root`), in source order.

    Nested function and lambda bodies are not entered unless `into_functions`, so
    "does this function await?" is `bool(find_nodes(func.body, (cst.Await,)))`.
    """
    plan, matching = _finder(types)
    live, fields = plan.live, plan.fields
    out: list[NodeT] = []
    stack = _live_children(root, fields.get(type(root), ()), live)
    stack.reverse()
    while stack:
        node = stack.pop()
        node_type = type(node)
        if node_type in matching:
            out.append(typing.cast(NodeT, node))  # its type is one of `types`
        if not into_functions and node_type in _SCOPES:
            continue
        children = _live_children(node, fields.get(node_type, ()), live)
        if children:
            children.reverse()
            stack.extend(children)
    return out


def comments_in(root: cst.CSTNode) -> list[cst.Comment]:
    """Every comment under `root`, in any field (whitespace included, unlike the walk)."""
    out: list[cst.Comment] = []
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        if type(node) is cst.Comment:
            out.append(node)
            continue
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            value_type = type(value)
            if value_type is tuple or value_type is list:
                stack.extend(item for item in value if _is_node_type(type(item)))
            elif _is_node_type(value_type):
                stack.append(value)
    return out


def is_async_body(func: cst.FunctionDef) -> bool:
    """Does the function's own body use `await`, `async for` or `async with`?"""
    for node in find_nodes(func.body, (cst.Await, cst.For, cst.With, cst.CompFor)):
        if isinstance(node, cst.Await) or getattr(node, "asynchronous", None) is not None:
            return True
    return False
