"""What a request handler returns, as far as its own module shows: nothing, or a response
object that no response model or schema could describe.

Shared by PYS401 (FastAPI's response model) and PYS601 (Ninja's `response=` schema). Both
leave alone an operation that returns nothing (`return`, `return None`, no `return`: there
is no output to describe) and one that hands back a response object, which the framework
sends as it is. Beside the response classes each rule knows, a value is a response when
the code itself shows it:

- a call of a function of the module that is annotated to return a response class or
  that only returns responses (`return _csv_download(rows)`);
- a class named `...Response`, of any origin, built with a keyword only response classes
  take (`MsgPackResponse(data, media_type=...)`, `CSVResponse(rows, headers=...)`);
- a local name bound to a call and then treated as a response: a cookie set on it
  (`response.set_cookie(...)`), a header set on it (`response.headers["X-Total"] = ...`,
  Django's `response["Content-Disposition"] = ...`).

Anything else an unknown call returns stays data: `generate_response(prompt)` is as likely
an LLM's reply as a response.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import libcst as cst

from pystd.rules.context import bound_names
from pystd.rules.walker import find_nodes

# Methods only response objects have (Starlette, Django, Flask/Werkzeug).
RESPONSE_METHODS = frozenset({"set_cookie", "delete_cookie", "set_signed_cookie",
                              "init_headers"})
# Methods of a response's `headers` that write a header.
_HEADER_WRITERS = frozenset({"update", "append", "setdefault", "add", "extend",
                             "mutablecopy"})
# `response["Content-Disposition"] = ...` (Django sets headers by item): a hyphenated
# header name, which data keys rarely are.
_HEADER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)+$")
# Keywords only a response class takes (Starlette's `media_type=`/`headers=`/`background=`,
# Django's `content_type=`): `MsgPackResponse(data, media_type=...)` of any origin is a
# response. `content=` and `status_code=` are not enough: a Pydantic `ChatResponse(content=
# ...)` or `ErrorResponse(status_code=...)` is data.
_RESPONSE_KEYWORDS = frozenset({"media_type", "headers", "background", "content_type"})
# How deep `return helper()` is followed through the module's own functions.
_DEPTH = 3

# Is this expression (a class, an annotation) a response class, seen from this function?
IsResponseClass = Callable[[cst.BaseExpression, cst.FunctionDef], bool]
# Does this value, returned by this function, build a response by the rule's own knowledge
# (known classes, shortcuts)?
BuildsResponse = Callable[[cst.BaseExpression, cst.FunctionDef], bool]


def is_none_literal(node: cst.BaseExpression | None) -> bool:
    return node is None or (isinstance(node, cst.Name) and node.value == "None")


def own_returns(func: cst.FunctionDef) -> list[cst.Return]:
    """The `return` statements of `func`'s own body (not of nested functions)."""
    return [r for r in find_nodes(func.body, (cst.Return,)) if isinstance(r, cst.Return)]


def returned_values(func: cst.FunctionDef) -> list[cst.BaseExpression]:
    """What `func`'s own `return` statements hand back, leaving out bare `return` and
    `return None`: an empty list means the function returns nothing."""
    return [r.value for r in own_returns(func)
            if r.value is not None and not is_none_literal(r.value)]


def _unawaited(value: cst.BaseExpression) -> cst.BaseExpression:
    return value.expression if isinstance(value, cst.Await) else value


def _function_defs(body: object) -> Iterator[cst.FunctionDef]:
    """The `def`s directly in a block (module or function body)."""
    for stmt in getattr(body, "body", ()):
        if isinstance(stmt, cst.FunctionDef):
            yield stmt


class ResponseEvidence:
    """Answers "does this handler hand back a response?" from the module's own code, for
    one file. `is_class` and `builds` are the rule's knowledge of response classes and of
    the calls that make one; this adds the module's helpers and local objects used as
    responses."""

    def __init__(self, module: cst.Module | None, is_class: IsResponseClass,
                 builds: BuildsResponse) -> None:
        self._module = module
        self._is_class = is_class
        self._builds = builds
        self._helpers: dict[str, cst.FunctionDef] | None = None
        self._helper_verdicts: dict[int, bool] = {}  # id of a helper -> returns a response

    # -- the module's own helper functions ------------------------------------------------

    def _helper(self, name: str, scopes: tuple[cst.FunctionDef, ...]) -> cst.FunctionDef | None:
        for scope in reversed(scopes):  # the nearest enclosing function first
            for func in _function_defs(scope.body):
                if func.name.value == name:
                    return func
        if self._helpers is None:
            self._helpers = {f.name.value: f for f in _function_defs(self._module)}
        return self._helpers.get(name)

    def _helper_returns_response(self, func: cst.FunctionDef, depth: int) -> bool:
        known = self._helper_verdicts.get(id(func))
        if known is not None:
            return known
        self._helper_verdicts[id(func)] = False  # a recursive helper proves nothing
        if func.returns is not None:
            verdict = self._is_class(func.returns.annotation, func)
        else:
            returns = own_returns(func)
            verdict = bool(returns) and not find_nodes(func.body, (cst.Yield,)) and all(
                r.value is not None and self.is_response(r.value, func, (), depth + 1)
                for r in returns)
        self._helper_verdicts[id(func)] = verdict
        return verdict

    # -- the question -----------------------------------------------------------------------

    def only_responses_or_nothing(self, func: cst.FunctionDef,
                                  scopes: tuple[cst.FunctionDef, ...] = ()) -> bool:
        """Does every `return <value>` of `func` hand back a response (or is there none)?"""
        if find_nodes(func.body, (cst.Yield,)):
            return False
        return all(self.is_response(v, func, scopes) for v in returned_values(func))

    def is_response(self, value: cst.BaseExpression, func: cst.FunctionDef,
                    scopes: tuple[cst.FunctionDef, ...] = (), depth: int = 0) -> bool:
        """Is `value`, returned by `func` (nested in `scopes`), a response object?"""
        if self._builds(value, func):
            return True
        if depth >= _DEPTH:
            return False
        value = _unawaited(value)
        if isinstance(value, cst.Name):
            return self._local_response(value.value, func, scopes, depth)
        if _built_like_a_response(value):
            return True
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Name):
            helper = self._helper(value.func.value, (*scopes, func))
            if helper is not None and helper is not func:
                return self._helper_returns_response(helper, depth)
        return False

    def _local_response(self, name: str, func: cst.FunctionDef,
                        scopes: tuple[cst.FunctionDef, ...], depth: int) -> bool:
        """A parameter or local annotated as a response class (FastAPI's `response:
        Response`); a local name every binding of which is a response; or one bound only
        to calls whose result the function then uses as a response (a cookie or a header
        set on it). Bindings that hand the name to a call and take it back
        (`response = add_cookie(response)`) keep it what it was."""
        params = func.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.name.value == name:
                return param.annotation is not None and self._is_class(
                    param.annotation.annotation, func)
        for node in find_nodes(func.body, (cst.AnnAssign,)):
            assert isinstance(node, cst.AnnAssign)
            if _is_name(node.target, name) and self._is_class(node.annotation.annotation, func):
                return True  # `response: Response`, bound below to whatever gives one
        values = _bindings(func, name)
        if None in values:
            return False
        made = [v for v in values if v is not None and not _passes_through(v, name)]
        if not made:
            return False
        if all(self.is_response(v, func, scopes, depth + 1) for v in made):
            return True
        return (all(isinstance(_unawaited(v), cst.Call) for v in made)
                and used_as_response(func, name))


def _built_like_a_response(value: cst.BaseExpression) -> bool:
    """`XResponse(..., media_type=...)`: a class named `...Response`, whatever it is
    imported from, given a keyword only response classes take."""
    if not isinstance(value, cst.Call):
        return False
    func = value.func
    name = func.attr.value if isinstance(func, cst.Attribute) else (
        func.value if isinstance(func, cst.Name) else "")
    return name[:1].isupper() and name.endswith("Response") and any(
        arg.keyword is not None and arg.keyword.value in _RESPONSE_KEYWORDS
        for arg in value.args)


def _bindings(func: cst.FunctionDef, name: str) -> list[cst.BaseExpression | None]:
    """The values `func`'s own body binds `name` to (None: a bare annotation, an augmented
    assignment, a `for`/`with` target or an unpacking)."""
    out: list[cst.BaseExpression | None] = []
    kinds = (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.For, cst.WithItem, cst.NamedExpr)
    for node in find_nodes(func.body, kinds):
        if isinstance(node, cst.Assign):
            for target in node.targets:
                if isinstance(target.target, cst.Name) and target.target.value == name:
                    out.append(node.value)
                elif _mentions(target.target, name):
                    out.append(None)
        elif isinstance(node, cst.AnnAssign):
            if _is_name(node.target, name) and node.value is not None:
                out.append(node.value)
        elif isinstance(node, cst.AugAssign):
            if isinstance(node.target, cst.Name) and node.target.value == name:
                out.append(None)
        elif isinstance(node, cst.For):
            if _mentions(node.target, name):
                out.append(None)
        elif isinstance(node, cst.WithItem):
            if node.asname is not None and _mentions(node.asname.name, name):
                out.append(None)
        elif isinstance(node, cst.NamedExpr) and isinstance(node.target, cst.Name) \
                and node.target.value == name:
            out.append(node.value)
    return out


def _mentions(target: cst.BaseExpression, name: str) -> bool:
    """Does the assignment or loop target bind `name` (`name`, `a, name`), not merely
    write into it (`name["X"] = ...`, `name.attr = ...`)?"""
    return name in bound_names(target)


def _passes_through(value: cst.BaseExpression | None, name: str) -> bool:
    """`response = await set_cookie(response, ...)`: a call handed the name and bound back
    to it gives the response back."""
    if value is None:
        return False
    value = _unawaited(value)
    return isinstance(value, cst.Call) and any(
        isinstance(arg.value, cst.Name) and arg.value.value == name for arg in value.args)


def used_as_response(func: cst.FunctionDef, name: str) -> bool:
    """Does `func` treat the local `name` as a response: set a cookie on it, or a header
    (`name.headers[...] = ...`, `name.headers.update(...)`, `name["Content-Type"] = ...`)?"""
    for node in find_nodes(func.body, (cst.Call, cst.AssignTarget)):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            receiver, method = node.func.value, node.func.attr.value
            if _is_name(receiver, name) and method in RESPONSE_METHODS:
                return True
            if (method in _HEADER_WRITERS and isinstance(receiver, cst.Attribute)
                    and receiver.attr.value == "headers" and _is_name(receiver.value, name)):
                return True
        elif isinstance(node, cst.AssignTarget) and isinstance(node.target, cst.Subscript):
            target = node.target
            holder = target.value
            if (isinstance(holder, cst.Attribute) and holder.attr.value == "headers"
                    and _is_name(holder.value, name)):
                return True
            if _is_name(holder, name) and _header_key(target):
                return True
    return False


def _is_name(node: cst.BaseExpression, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _header_key(target: cst.Subscript) -> bool:
    if len(target.slice) != 1 or not isinstance(target.slice[0].slice, cst.Index):
        return False
    key = target.slice[0].slice.value
    if not isinstance(key, cst.SimpleString):
        return False
    text = key.evaluated_value
    return isinstance(text, str) and bool(_HEADER_NAME.match(text))
