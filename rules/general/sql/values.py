"""What the local names of a function hold, for PYS105: SQL built from values, constants
(literals, `UPPER_CASE` names, numbers, quoted identifiers), or fragments of the database
object that runs the SQL. The rule's visitor methods keep this up to date as the walk goes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import libcst as cst

from pystd.rules.context import FileContext, bound_names, dotted_name
from pystd.rules.engine import Rule
from pystd.rules.general.sql.calls import is_db_receiver
from pystd.rules.general.sql.text import Segment
from pystd.rules.general.strings import (
    added_operands,
    concatenated_text,
    formatted_text,
    string_pieces,
    string_value,
)
from pystd.rules.walker import find_nodes

CONSTANT_NAME = re.compile(r"_*[A-Z][A-Z0-9_]+")
# Calls whose result cannot carry SQL: numbers, and identifier quoting.
_SAFE_CALLS = frozenset({"builtins.int", "builtins.float", "builtins.len", "builtins.bool"})
# `cursor.mogrify(sql, params)` returns the SQL with the values escaped by the driver.
_QUOTING_METHODS = frozenset({"quote_name", "quote_ident", "Identifier", "Literal",
                              "mogrify"})
# A function the project named for quoting or escaping says what it does: ckan's
# `identifier(name)` and `literal_string(value)`, `quote_table(t)`, `escape_like(q)`.
_QUOTING_NAME = re.compile(
    r"(?i)(?:^|_)(?:identifiers?|ident|quoted?|quotes|escaped?|escapes|literal|sanitized?)"
    r"(?:_|$)")
# ... except SQLAlchemy's, which put their argument into the SQL text as it is.
_RAW_TEXT_CALLS = frozenset({"sqlalchemy.literal_column", "sqlalchemy.sql.literal_column",
                             "sqlalchemy.sql.expression.literal_column", "sqlalchemy.text",
                             "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text"})
# SQLAlchemy column and table objects render as quoted identifiers.
_IDENTIFIER_CALLS = frozenset({"sqlalchemy.column", "sqlalchemy.sql.column",
                               "sqlalchemy.table", "sqlalchemy.sql.table",
                               "sqlalchemy.sql.expression.column",
                               "sqlalchemy.sql.quoted_name"})
_DUNDER = re.compile(r"__\w+__")
MAX_DEPTH = 50  # nesting the value analysis follows; beyond it, assume a constant
CHANGED = "a list that a call may have changed"
UNTRACED = "not a constant"


@dataclass(frozen=True, slots=True)
class Built:
    """An expression that builds SQL text from values: how, and where its literal parts are;
    for a local name, also its text and values in order (None: not known)."""

    how: str
    parts: tuple[cst.BaseExpression, ...]
    segments: tuple[Segment, ...] | None = None


@dataclass(frozen=True, slots=True)
class Constant:
    """A local name bound to a literal or constant expression."""

    node: cst.BaseExpression


@dataclass(frozen=True, slots=True)
class Fragment:
    """A local name bound to a SQL fragment of a database object: `tsph =
    db.timestamp_placeholder("created_at")` (`root` is `db`)."""

    node: cst.BaseExpression
    root: str



class SqlValues(Rule):
    """The local-name tracking and constant analysis of PYS105 (a base, not a rule)."""

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        # (enclosing function id, name) -> what the name holds, as of the visit position.
        self._names: dict[tuple[int, str], Built | Constant | Fragment] = {}
        # (enclosing function id, name) -> where a local's value comes from (None: it is
        # built from constants and the module's own names only).
        # (enclosing function id, name) -> what a local was bound to, in order: expressions,
        # or a description of what it holds. Where that comes from is worked out only when
        # SQL uses the name (rules/general/sql/origins.py).
        self._sources: dict[tuple[int, str], list[cst.BaseExpression | str]] = {}
        self._bindings: dict[int, frozenset[str]] = {}

    def _segments(self, expr: cst.BaseExpression, depth: int = 0
                  ) -> tuple[Segment, ...] | None:
        """The SQL text `expr` builds: worked out by the origins analysis, which
        overrides this (rules/general/sql/origins.py); unknown (None) here."""
        return None

    # -- local names --------------------------------------------------------------------

    def _key(self, name: str) -> tuple[int, str]:
        return (id(self.ctx.enclosing_function()), name)

    def leave_Assign(self, original_node: cst.Assign) -> None:
        value = original_node.value
        for target in original_node.targets:
            if isinstance(target.target, cst.Name):
                self._bind(target.target.value, self._classify(value), value)
                self._source(target.target.value, value)
            elif (isinstance(target.target, cst.Subscript)
                  and isinstance(target.target.value, cst.Name)):
                self._forget(target.target.value)  # names[0] = value
                self._taint(target.target.value.value, value)
            else:
                self._forget(target.target)
                for name in bound_names(target.target):  # a, b = parse(x)
                    self._source(name, value)

    def _source(self, name: str, value: cst.BaseExpression) -> None:
        """`name` is bound to `value`; a value that reads the name itself (`q = q.strip()`)
        keeps what the name held before."""
        key = self._key(name)
        if key in self._sources and any(
                isinstance(n, cst.Name) and n.value == name
                for n in find_nodes(value, (cst.Name,))):
            self._sources[key].append(value)
        else:
            self._sources[key] = [value]

    def _taint(self, name: str, value: cst.BaseExpression | str) -> None:
        """`name` now also holds `value` (`names.append(x)`, `names[0] = x`)."""
        self._sources.setdefault(self._key(name), []).append(value)

    def _forget_changed_displays(self, call: cst.Call) -> None:
        """A list or set name changed by a method (`names.append(x)`) or passed to a call
        may hold anything."""
        func = call.func
        candidates = [arg.value for arg in call.args]
        if isinstance(func, cst.Attribute):
            candidates.append(func.value)
        for candidate in candidates:
            if isinstance(candidate, cst.Name):
                state = self._names.get(self._key(candidate.value))
                if isinstance(state, Constant) and isinstance(state.node, (cst.List, cst.Set)):
                    self._forget(candidate)
                    self._taint(candidate.value, CHANGED)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        if isinstance(original_node.target, cst.Name) and original_node.value is not None:
            value = original_node.value
            self._bind(original_node.target.value, self._classify(value), value)
            self._source(original_node.target.value, value)

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        target = original_node.target
        if not isinstance(target, cst.Name) or not isinstance(original_node.operator,
                                                              cst.AddAssign):
            self._forget(target)
            return
        key = self._key(target.value)
        before = self._names.get(key)
        value = original_node.value
        self._taint(target.value, value)
        if before is None:  # `total += 1`, or a string we know nothing about
            return
        segments = self._segments(target)
        more = self._segments(value)
        joined = None if segments is None or more is None else (*segments, *more)
        added = self._built(value)
        if added is not None:
            self._names[key] = Built(added.how, (*self._parts(before), *added.parts), joined)
        elif not self._constant(value):
            self._names[key] = Built("`+` concatenation", self._expand([target, value]),
                                      joined)
        elif isinstance(before, Built):
            self._names[key] = Built(before.how, self._expand([target, value]), joined)

    def leave_NamedExpr(self, original_node: cst.NamedExpr) -> None:
        if isinstance(original_node.target, cst.Name):
            value = original_node.value
            self._bind(original_node.target.value, self._classify(value), value)
            self._source(original_node.target.value, value)

    def visit_For(self, node: cst.For) -> None:
        """`for schema, table in TABLES:` over literals binds constants; else forget."""
        self._forget(node.target)
        for name in bound_names(node.target):
            self._source(name, node.iter)
        if self._constant(node.iter):
            for name in bound_names(node.target):
                self._names[self._key(name)] = Constant(cst.Name("None"))

    @cached_property
    def _module_constants(self) -> frozenset[str]:
        """Lower-case names bound once in the whole module, at top level, to a constant:
        `tables = (("events", "ratings"), ...)`. (Bound anywhere else, they may hold
        anything.)"""
        module = self.ctx.module
        if module is None:
            return frozenset()
        bound: Counter[str] = Counter()
        for node in find_nodes(module, _BINDERS, into_functions=True):
            for name in _bound_names(node):
                bound[name] += 1
        out: set[str] = set()
        for stmt in module.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if (isinstance(small, cst.Assign) and len(small.targets) == 1
                        and isinstance(small.targets[0].target, cst.Name)):
                    name = small.targets[0].target.value
                    if bound[name] == 1 and self._literal(small.value):
                        out.add(name)
        return frozenset(out)

    def _literal_text(self, expr: cst.BaseExpression) -> str | None:
        """The text of a string literal, or of a module constant bound once to one
        (`QUERY = "SELECT ... WHERE id = %s"`; `QUERY % x`)."""
        if isinstance(expr, cst.Name) and expr.value in self._module_constants:
            expr = self._module_strings.get(expr.value, expr)
        if isinstance(expr, cst.SimpleString):
            return string_value(expr)
        if isinstance(expr, cst.ConcatenatedString) and all(
                isinstance(p, cst.SimpleString) for p in string_pieces(expr)):
            return concatenated_text(expr)
        return None

    @cached_property
    def _module_strings(self) -> dict[str, cst.BaseExpression]:
        """Top-level names assigned a string literal (their one binding, when they are
        module constants)."""
        out: dict[str, cst.BaseExpression] = {}
        for stmt in self.ctx.module.body if self.ctx.module is not None else ():
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if (isinstance(small, cst.Assign) and len(small.targets) == 1
                        and isinstance(small.targets[0].target, cst.Name)
                        and isinstance(small.value, (cst.SimpleString,
                                                     cst.ConcatenatedString))):
                    out[small.targets[0].target.value] = small.value
        return out

    @cached_property
    def _class_constants(self) -> dict[str, frozenset[str]]:
        """Per class of the module: attributes its body binds once to a literal
        (`table_name = "events"`), read as `self.table_name`, `cls.x`, `Events.x`."""
        out: dict[str, frozenset[str]] = {}
        module = self.ctx.module
        for stmt in module.body if module else ():
            if not isinstance(stmt, cst.ClassDef):
                continue
            seen: Counter[str] = Counter()
            literal: set[str] = set()
            for line in stmt.body.body:
                if not isinstance(line, cst.SimpleStatementLine):
                    continue
                for small in line.body:
                    if isinstance(small, (cst.Assign, cst.AnnAssign)):
                        targets = ([t.target for t in small.targets]
                                   if isinstance(small, cst.Assign) else [small.target])
                        for target in targets:
                            for name in bound_names(target):
                                seen[name] += 1
                                if small.value is not None and self._literal(small.value):
                                    literal.add(name)
            out[stmt.name.value] = frozenset(n for n in literal if seen[n] == 1)
        return out

    def _class_constant(self, expr: cst.Attribute) -> bool:
        owner = expr.value
        if not isinstance(owner, cst.Name):
            return False
        if owner.value in ("self", "cls"):
            cls = self.ctx.inside(cst.ClassDef)
            name = cls.name.value if isinstance(cls, cst.ClassDef) else None
        else:
            name = owner.value
        return name is not None and expr.attr.value in self._class_constants.get(name, ())


    def _literal(self, expr: cst.BaseExpression) -> bool:
        """Literals and tuples of literals only: no names, nothing a call can change."""
        if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.Integer,
                             cst.Float)):
            return not isinstance(expr, cst.ConcatenatedString) or all(
                isinstance(piece, cst.SimpleString) for piece in string_pieces(expr))
        if isinstance(expr, cst.Tuple):
            return all(isinstance(el, cst.Element) and self._literal(el.value)
                       for el in expr.elements)
        return False

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._forget(node.asname.name)
            for name in bound_names(node.asname.name):
                self._source(name, node.item)

    def _classify(self, value: cst.BaseExpression) -> Built | Constant | Fragment | None:
        # Attributes too: `table = Page._meta.db_table` names a constant identifier; and
        # displays: `indexes = ["user", "created_at"]` names identifiers to loop over.
        if not isinstance(value, (cst.SimpleString, cst.ConcatenatedString,
                                  cst.FormattedString, cst.BinaryOperation, cst.Call,
                                  cst.Name, cst.Attribute, cst.Tuple, cst.List, cst.Set)):
            return None
        built = self._built(value)
        if built is not None:
            return built
        if self._constant(value):
            return Constant(value)
        root = self._fragment_root(value)
        return Fragment(value, root) if root is not None else None

    def _fragment_root(self, expr: cst.BaseExpression) -> str | None:
        """`db` for `db.big_int` or `db.timestamp_placeholder("x")` (literal arguments
        only) when `db` is named like a database handle; else None."""
        call_args: Sequence[cst.Arg] = ()
        if isinstance(expr, cst.Call):
            call_args, expr = expr.args, expr.func
        if not isinstance(expr, cst.Attribute) or not is_db_receiver(expr.value):
            return None
        if any(arg.star or not self._constant(arg.value) for arg in call_args):
            return None
        return dotted_name(expr.value)

    def _bind(self, name: str, state: Built | Constant | Fragment | None,
              value: cst.BaseExpression) -> None:
        key = self._key(name)
        if state is None:
            self._names.pop(key, None)
        elif isinstance(state, Built):
            self._names[key] = replace(state, segments=self._segments(value))
        else:
            self._names[key] = state

    def _forget(self, target: cst.BaseExpression) -> None:
        if not self._names:
            return
        if isinstance(target, cst.Name):
            self._names.pop(self._key(target.value), None)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._forget(element.value)
        elif isinstance(target, cst.StarredElement):
            self._forget(target.value)

    @staticmethod
    def _parts(state: Built | Constant | Fragment) -> tuple[cst.BaseExpression, ...]:
        return state.parts if isinstance(state, Built) else (state.node,)

    # -- what builds SQL ------------------------------------------------------------------

    def _constant(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """Can this value not carry attacker-controlled SQL? Literals, UPPER_CASE
        constants, numbers from `int()`/`len()`, identifier quoting, placeholder joins.
        Past `MAX_DEPTH` nested expressions the answer is yes: no finding beats a guess."""
        if depth > MAX_DEPTH:
            return True
        deeper = depth + 1
        if isinstance(expr, (cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary)):
            return True
        if isinstance(expr, cst.ConcatenatedString):
            return all(self._constant(piece, deeper) for piece in string_pieces(expr))
        if isinstance(expr, cst.FormattedString):
            return all(self._constant(part.expression, deeper) for part in expr.parts
                       if isinstance(part, cst.FormattedStringExpression))
        if isinstance(expr, cst.Name):
            if expr.value in ("None", "True", "False") or CONSTANT_NAME.fullmatch(expr.value):
                return True
            return (isinstance(self._names.get(self._key(expr.value)), Constant)
                    or expr.value in self._module_constants)
        if isinstance(expr, cst.Attribute):
            attr = expr.attr.value
            owner = expr.value.attr.value if isinstance(expr.value, cst.Attribute) else ""
            return bool(CONSTANT_NAME.fullmatch(attr)) or (
                attr == "db_table" and owner == "_meta"
            ) or _DUNDER.fullmatch(attr) is not None or (  # Model.__tablename__
                attr in ("name", "fullname") and owner == "__table__"
            ) or self._class_constant(expr)
        if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
            return all(isinstance(el, cst.Element) and self._constant(el.value, deeper)
                       for el in expr.elements)
        if isinstance(expr, cst.Dict):
            return all(isinstance(el, cst.DictElement) and self._constant(el.value, deeper)
                       for el in expr.elements)
        if isinstance(expr, cst.UnaryOperation):
            return self._constant(expr.expression, deeper)
        if isinstance(expr, cst.BinaryOperation):
            if isinstance(expr.operator, cst.Add):
                return all(self._constant(op, deeper) for op in added_operands(expr))
            if isinstance(expr.operator, cst.Multiply):  # "%s, " * n, ["?"] * len(ids)
                return self._constant(expr.left, deeper) or self._constant(expr.right, deeper)
            return self._constant(expr.left, deeper) and self._constant(expr.right, deeper)
        if isinstance(expr, cst.Call):
            return self._constant_call(expr, deeper)
        return False

    def _constant_call(self, call: cst.Call, depth: int) -> bool:
        func = call.func
        if isinstance(func, cst.Attribute):
            if func.attr.value in _QUOTING_METHODS:
                return True
            if func.attr.value in ("decode", "encode"):  # cursor.mogrify(...).decode()
                return self._constant(func.value, depth)
            if func.attr.value == "replace" and _doubles_quotes(call):
                return True  # json.dumps(x).replace("'", "''"): a quoted SQL literal
            if func.attr.value == "join" and isinstance(func.value, cst.SimpleString):
                if len(call.args) != 1:
                    return False
                items = call.args[0].value
                if isinstance(items, (cst.GeneratorExp, cst.ListComp, cst.SetComp)):
                    return self._constant(items.elt, depth)
                return self._constant(items, depth)
            return _quoting_helper(func.attr.value, self.ctx.qualified_name(func))
        qualified = self.ctx.qualified_name(func)
        if qualified in _SAFE_CALLS:
            return True
        if qualified == "builtins.str" and len(call.args) == 1:  # str(sa.column(name))
            return self._constant(call.args[0].value, depth)
        return isinstance(func, cst.Name) and _quoting_helper(func.value, qualified)

    def _template(self, expr: cst.BaseExpression) -> bool:
        """A string that `%` or `.format` fills in: a literal or a constant name."""
        if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
            return True
        return isinstance(expr, cst.Name) and self._constant(expr)

    def _built(self, expr: cst.BaseExpression) -> Built | None:
        """How `expr` builds SQL text from a non-constant value, or None."""
        if isinstance(expr, cst.FormattedString):
            return None if self._constant(expr) else Built("an f-string", (expr,))
        if isinstance(expr, cst.ConcatenatedString):
            return None if self._constant(expr) else Built("an f-string", (expr,))
        if isinstance(expr, cst.Name):
            state = self._names.get(self._key(expr.value))
            return state if isinstance(state, Built) else None
        if isinstance(expr, cst.Call):
            func = expr.func
            if (isinstance(func, cst.Attribute) and func.attr.value == "format"
                    and self._template(func.value)
                    and any(arg.star or not self._constant(arg.value) for arg in expr.args)):
                return Built("`.format()`", (func.value,))
            return None
        if not isinstance(expr, cst.BinaryOperation):
            return None
        if isinstance(expr.operator, cst.Modulo):
            if self._template(expr.left) and not self._constant(expr.right):
                return Built("`%` formatting", (expr.left,))
            return None
        if isinstance(expr.operator, cst.Add):
            operands = added_operands(expr)
            for operand in operands:
                inner = self._built(operand)
                if inner is not None:
                    return Built(inner.how, self._expand(operands))
            has_text = any(self._template(op) or isinstance(op, cst.FormattedString)
                           for op in operands)
            if has_text and not all(self._constant(op) for op in operands):
                return Built("`+` concatenation", self._expand(operands))
        return None

    def _expand(self, operands: list[cst.BaseExpression]) -> tuple[cst.BaseExpression, ...]:
        """Operands with local names replaced by what they held: `sql = sql + x` must not
        make `sql` refer to itself."""
        out: list[cst.BaseExpression] = []
        for operand in operands:
            state = (self._names.get(self._key(operand.value))
                     if isinstance(operand, cst.Name) else None)
            out.extend(self._parts(state) if state is not None else (operand,))
        return tuple(out)

    def _sql_text(self, parts: tuple[cst.BaseExpression, ...]) -> str:
        """The literal text of the SQL's parts, through local names (each read once)."""
        out: list[str] = []
        seen: set[str] = set()
        stack = list(reversed(parts))
        while stack:
            part = stack.pop()
            if isinstance(part, cst.FormattedString):
                out.append(formatted_text(part))
            elif isinstance(part, cst.ConcatenatedString):
                out.append(concatenated_text(part))
            elif isinstance(part, cst.SimpleString):
                out.append(string_value(part) or "")
            elif isinstance(part, cst.Name) and part.value not in seen:
                seen.add(part.value)
                state = self._names.get(self._key(part.value))
                if state is not None:
                    stack.extend(reversed(self._parts(state)))
                else:
                    out.append(self._literal_text(part) or "")
        return " ".join(out)


_BINDERS = (cst.Param, cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.CompFor,
            cst.WithItem, cst.NamedExpr, cst.ExceptHandler, cst.FunctionDef, cst.ClassDef,
            cst.ImportAlias, cst.Global, cst.Nonlocal)




def _bound_names(node: cst.CSTNode) -> list[str]:
    """The names one binding node binds."""
    if isinstance(node, cst.Param):
        return [node.name.value]
    if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For,
                         cst.CompFor)):
        return bound_names(node.target)
    if isinstance(node, cst.WithItem):
        return bound_names(node.asname.name) if node.asname is not None else []
    if isinstance(node, cst.NamedExpr):
        return bound_names(node.target)
    if isinstance(node, cst.ExceptHandler):
        return bound_names(node.name.name) if node.name is not None else []
    if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        return [node.name.value]
    if isinstance(node, cst.ImportAlias):
        if node.asname is not None:
            return bound_names(node.asname.name)
        return [(dotted_name(node.name) or "").split(".")[0]]
    if isinstance(node, (cst.Global, cst.Nonlocal)):
        return [item.name.value for item in node.names]
    return []



def _quoting_helper(name: str, qualified: str | None) -> bool:
    """A call that quotes or escapes what it is given, by its name or its library."""
    if qualified in _IDENTIFIER_CALLS:
        return True
    return qualified not in _RAW_TEXT_CALLS and _QUOTING_NAME.search(name) is not None


def _doubles_quotes(call: cst.Call) -> bool:
    """`.replace("'", "''")`: the SQL standard's escape for a single-quoted literal."""
    values = [string_value(arg.value) if isinstance(arg.value, cst.SimpleString) else None
              for arg in call.args]
    return values == ["'", "''"]
