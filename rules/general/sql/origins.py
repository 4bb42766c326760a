"""Where the values written into SQL come from and where they land (PYS105)."""

from __future__ import annotations

import builtins
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import libcst as cst

from pystd.rules.context import bound_names, local_bindings
from pystd.rules.general.sql.text import (
    Piece,
    Segment,
    binds_values,
    format_segments,
    is_value_position,
    numeric_spec,
    percent_segments,
)
from pystd.rules.general.sql.values import (
    CONSTANT_NAME,
    MAX_DEPTH,
    UNTRACED,
    Built,
    Constant,
    Fragment,
    SqlValues,
)
from pystd.rules.general.strings import added_operands, string_pieces, string_value
from pystd.rules.walker import find_nodes

# Names that hold the request being served: whatever they carry came from the client.
_REQUEST_NAMES = frozenset({"request", "req"})
_REQUEST = "request data"
_INPUT = "command-line input"
_USER_INPUT = frozenset({"sys.argv", "sys.stdin", "builtins.input"})
_AS_VALUE = "`{code}` ({origin}) goes into the SQL as a value; pass it as a query parameter"
_AS_TEXT = ("`{code}` ({origin}) goes into the SQL text; check it against the names you "
            "allow, or quote it as an identifier")
_BUILTIN_NAMES = frozenset(dir(builtins))
_HANDLER_PREFIX = "from the request: the parameter"
_NUMERIC_TYPES = frozenset({"int", "float", "bool", "UUID", "Decimal"})


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why SQL is worth a finding, and whether the code shows the value is untrusted."""

    why: str
    evidence: bool
    # Request data written into a value position: an injection hole, near-certain.
    certain: bool = False


class SqlOrigins(SqlValues):
    """Segments, positions and origins of the values in SQL text (a base, not a rule)."""

    def _segments(self, expr: cst.BaseExpression, depth: int = 0
                  ) -> tuple[Segment, ...] | None:
        """The SQL text `expr` builds, as literal text and the values between it, through
        local names; None where the text cannot be known (`QUERY % params`)."""
        if depth > MAX_DEPTH:
            return None
        deeper = depth + 1
        if isinstance(expr, cst.SimpleString):
            return (string_value(expr) or "",)
        if isinstance(expr, cst.ConcatenatedString):
            return self._joined(string_pieces(expr), deeper)
        if isinstance(expr, cst.FormattedString):
            out: list[Segment] = []
            for part in expr.parts:
                if isinstance(part, cst.FormattedStringText):
                    out.append(part.value.replace("{{", "{").replace("}}", "}"))
                else:
                    assert isinstance(part, cst.FormattedStringExpression)
                    spec = "".join(p.value for p in part.format_spec or ()
                                   if isinstance(p, cst.FormattedStringText))
                    out.append(Piece(part.expression, numeric=numeric_spec(spec)))
            return tuple(out)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            return self._joined(added_operands(expr), deeper)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Modulo):
            template = self._literal_text(expr.left)
            if template is None:
                return None
            found = percent_segments(template, expr.right)
            return None if found is None else tuple(found)
        if (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute)
                and expr.func.attr.value == "format"):
            template = self._literal_text(expr.func.value)
            if template is None:
                return None
            found = format_segments(template, expr)
            return None if found is None else tuple(found)
        if isinstance(expr, cst.Name):
            state = self._names.get(self._key(expr.value))
            if isinstance(state, Built):
                return state.segments
            if isinstance(state, Constant) and isinstance(
                    state.node, (cst.SimpleString, cst.ConcatenatedString)):
                return self._segments(state.node, deeper)
        return (Piece(expr),)

    def _joined(self, parts: Sequence[cst.BaseExpression], depth: int
                ) -> tuple[Segment, ...] | None:
        out: list[Segment] = []
        for part in parts:
            segments = self._segments(part, depth)
            if segments is None:
                return None
            out.extend(segments)
        return tuple(out)

    def _verdict(self, sql: cst.BaseExpression, call_binds: bool) -> Verdict | None:
        """Why this SQL is worth a finding ("" when its text cannot be read), or None;
        with evidence when the value comes from the client (request data, a handler's
        parameter) or the command line, not only from somewhere unknown.
        A value from outside the function (a parameter, request data, anything not
        traced to constants) is flagged where the driver could bind it: inside quotes,
        after `=`, `LIKE`, `IN`, `VALUES`, `LIMIT`... In other places (a table, a column, a clause) it is an identifier,
        which no placeholder can carry: flagged only when the SQL binds none of its values
        (outside migration code), or when it is request data."""
        segments = self._segments(sql)
        if segments is None:
            return Verdict("", evidence=False)
        text = "".join(s for s in segments if isinstance(s, str))
        bound = call_binds or binds_values(text)
        before = ""
        found: list[Verdict] = []
        for segment in segments:
            if isinstance(segment, str):
                before += segment
                continue
            before += "0"
            if segment.numeric or self._constant(segment.expr):
                continue
            if self._allow_listed(segment.expr):
                continue  # `elif sort in ["title", "author"]:` — the remedy we would ask for
            origin = self._origin(segment.expr)
            if origin is None:
                continue
            code = _code(segment.expr)
            evidence = origin in (_REQUEST, _INPUT) or origin.startswith(_HANDLER_PREFIX)
            if is_value_position(before[:-1]):
                found.append(Verdict(_AS_VALUE.format(code=code, origin=origin), evidence,
                                     certain=origin == _REQUEST))
            elif evidence or (not bound and not self._migration):
                found.append(Verdict(_AS_TEXT.format(code=code, origin=origin), evidence))
        # The surest value speaks for the finding: request data in a value position, then
        # any value with evidence, else the first value.
        return next((v for v in found if v.certain),
                    next((v for v in found if v.evidence), found[0] if found else None))

    def _allow_listed(self, expr: cst.BaseExpression) -> bool:
        """Is the name checked against literals where the SQL is made: inside `if name in
        ("asc", "desc"):` (or `== "asc"`, one `and` part of the test), or after `if name not
        in [...]:` that returns, raises or sets it to a literal (calibre-web's sorting)?"""
        if not isinstance(expr, cst.Name):
            return False
        name = expr.value
        ancestors = self.ctx.ancestors
        for node, child in itertools.pairwise(ancestors):
            if isinstance(node, cst.If) and child is node.body and any(
                    _member_of_literals(part, name, negated=False)
                    for part in _parts(node.test, cst.And)):
                return True
            if isinstance(node, (cst.IndentedBlock, cst.Module)):
                for stmt in node.body:
                    if stmt is child:
                        break
                    if isinstance(stmt, cst.If) and _guards(stmt, name):
                        return True
        return False

    @cached_property
    def _migration(self) -> bool:
        """Migration code (Django `migrations/`, Alembic's `env.py` and `versions/`): the
        schemas and tables it names are the project's own."""
        parts = self.ctx.kind.path.split("/")[:-1]
        return self.ctx.kind.is_migration or any(
            part in ("alembic", "migration", "migrations") for part in parts)

    def _origin(self, expr: cst.BaseExpression) -> str | None:
        """Where a value comes from, said for the message; None when it is built only from
        constants, the module's imports and definitions, and locals built from those."""
        if self._constant(expr):
            return None
        for node in [expr, *find_nodes(expr, (cst.Name, cst.Attribute))]:
            if (isinstance(node, (cst.Name, cst.Attribute))
                    and self.ctx.qualified_name(node) in _USER_INPUT):
                return _INPUT
        for name in _root_names(expr):
            origin = self._name_origin(name)
            if origin is not None:
                return origin
        return None

    def _name_origin(self, name: str) -> str | None:
        if name in ("None", "True", "False"):
            return None
        if name in _REQUEST_NAMES:
            return _REQUEST
        key = self._key(name)
        sources = self._sources.get(key)
        if sources is not None:
            if key in self._resolving:  # `q = q.strip()`: what q held before is listed too
                return self._parameter_origin(name)
            self._resolving.add(key)
            try:
                for source in sources:
                    origin = source if isinstance(source, str) else self._origin(source)
                    if origin is not None:
                        return origin
            finally:
                self._resolving.discard(key)
            return None
        if isinstance(self._names.get(key), (Constant, Fragment)):
            return None
        parameter = self._parameter_origin(name)
        if parameter is not None:
            return parameter
        for scope in self.ctx.scopes:
            bound = self._bindings.get(id(scope))
            if bound is None:
                bound = self._bindings[id(scope)] = local_bindings(scope)
            if name in bound:
                return UNTRACED
        if (name in self.ctx.imports or name in _BUILTIN_NAMES
                or CONSTANT_NAME.fullmatch(name) or name in self._module_constants
                or name in self._module_definitions):
            return None
        return UNTRACED

    def _parameter_origin(self, name: str) -> str | None:
        for scope in reversed(self.ctx.scopes):
            if isinstance(scope, cst.FunctionDef) and name in _parameters(scope):
                if self._client_parameter(scope, name):
                    return f"{_HANDLER_PREFIX} `{name}` of the handler `{scope.name.value}`"
                return f"from the parameter `{name}` of `{scope.name.value}`"
        return None

    def _client_parameter(self, func: cst.FunctionDef, name: str) -> bool:
        """Is `name` a parameter the client fills in: a request handler's path or query
        parameter (not `self`, not a dependency, not one typed as a number)?"""
        if name in ("self", "cls") or self.ctx.handler_framework(func) is None:
            return False
        params = func.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.name.value != name:
                continue
            default = param.default
            if isinstance(default, cst.Call) and (_code(default.func).split(".")[-1]
                                                  in ("Depends", "Security")):
                return False  # `db: Session = Depends(get_db)` is the server's own
            annotation = param.annotation.annotation if param.annotation else None
            return not (isinstance(annotation, cst.Name)
                        and annotation.value in _NUMERIC_TYPES)
        return False

    @cached_property
    def _resolving(self) -> set[tuple[int, str]]:
        """The locals whose origin is being worked out (a guard against `x = x + y`)."""
        return set()

    @cached_property
    def _module_definitions(self) -> frozenset[str]:
        """Functions and classes defined at the top of the module."""
        module = self.ctx.module
        return frozenset(stmt.name.value for stmt in (module.body if module else ())
                         if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)))


def _parts(test: cst.BaseExpression, operator: type) -> list[cst.BaseExpression]:
    """The operands of a chain of `and` (or `or`): `a and b and c` -> [a, b, c]."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, operator):
        return [*_parts(test.left, operator), *_parts(test.right, operator)]
    return [test]


def _literals(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, (cst.SimpleString, cst.Integer)):
        return True
    return isinstance(expr, (cst.List, cst.Tuple, cst.Set)) and bool(expr.elements) and all(
        isinstance(el, cst.Element) and isinstance(el.value, (cst.SimpleString, cst.Integer))
        for el in expr.elements)


def _member_of_literals(test: cst.BaseExpression, name: str, negated: bool) -> bool:
    """`name in ("a", "b")` / `name == "a"` (negated: `name not in ...`, `name != "a"`,
    `not name in ...`)."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _member_of_literals(test.expression, name, not negated)
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1
            and isinstance(test.left, cst.Name) and test.left.value == name):
        return False
    target = test.comparisons[0]
    positive, negative = (cst.In, cst.Equal), (cst.NotIn, cst.NotEqual)
    wanted = negative if negated else positive
    return isinstance(target.operator, wanted) and _literals(target.comparator)


def _guards(stmt: cst.If, name: str) -> bool:
    """`if name not in ALLOWED: return/raise/abort()/name = "asc"` (one `or` part of the
    test is enough, the rest only adds reasons to leave)."""
    if stmt.orelse is not None or not any(_member_of_literals(part, name, negated=True)
                                          for part in _parts(stmt.test, cst.Or)):
        return False
    for line in stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else ():
        for small in line.body if isinstance(line, cst.SimpleStatementLine) else ():
            if isinstance(small, (cst.Return, cst.Raise)):
                return True
            if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and \
                    (_code(small.value.func).split(".")[-1] in ("abort", "exit")):
                return True
            if (isinstance(small, cst.Assign) and len(small.targets) == 1
                    and isinstance(small.targets[0].target, cst.Name)
                    and small.targets[0].target.value == name and _literals(small.value)):
                return True
    return False


def _parameters(func: cst.FunctionDef) -> frozenset[str]:
    params = func.params
    names = [p.name.value for p in (*params.posonly_params, *params.params,
                                     *params.kwonly_params)]
    names.extend(star.name.value for star in (params.star_arg, params.star_kwarg)
                 if isinstance(star, cst.Param))
    return frozenset(names)


def _root_names(expr: cst.BaseExpression) -> list[str]:
    """The names an expression reads, in order: `request.GET["q"].strip()` -> request;
    attribute names, keyword names and a comprehension's own variables are not read."""
    out: list[str] = []
    local: set[str] = set()
    stack: list[cst.CSTNode] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            if node.value not in local:
                out.append(node.value)
        elif isinstance(node, (cst.Attribute, cst.Arg)):
            stack.append(node.value)
        elif isinstance(node, cst.CompFor):
            local.update(bound_names(node.target))
            stack.extend(reversed([node.iter, *node.ifs, *([node.inner_for_in]
                                                          if node.inner_for_in else [])]))
        elif isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            stack.extend([node.elt, node.for_in])  # the loop first: it binds the names
        elif isinstance(node, cst.DictComp):
            stack.extend([node.key, node.value, node.for_in])
        elif isinstance(node, cst.Lambda):
            continue
        else:
            stack.extend(reversed(node.children))
    return out


def _code(expr: cst.BaseExpression, limit: int = 40) -> str:
    text = cst.Module([]).code_for_node(expr)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
