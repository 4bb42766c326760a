"""PYS105 sql-string-building: SQL text assembled from values."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import libcst as cst

from rules.context import FileContext, bound_names, dotted_name
from rules.engine import Category, Rule, Severity, register
from rules.general.strings import (
    added_operands,
    concatenated_text,
    formatted_text,
    identifier_words,
    string_pieces,
    string_value,
)
from rules.walker import find_nodes

# == PYS105 sql-string-building =======================================================

# Importing one of these makes `<anything>.execute(...)` a database call when its
# argument reads as SQL.
DB_MODULES = frozenset({"sqlite3", "psycopg2", "psycopg", "pymysql", "MySQLdb", "mysql",
                        "asyncpg", "aiosqlite", "aiomysql", "aiopg", "sqlalchemy", "sqlmodel",
                        "databases", "cx_Oracle", "oracledb", "pyodbc", "pymssql", "duckdb",
                        "peewee", "records", "clickhouse_driver", "snowflake", "trino"})
# Receivers named with one of these words are database handles whatever the imports.
DB_RECEIVER_WORDS = frozenset({"cursor", "cur", "curs", "cr", "conn", "connection", "con",
                               "cnx", "db", "database", "session", "sess", "engine",
                               "connect", "tx", "txn", "transaction", "sqlite", "pg",
                               "mysql", "postgres", "psql"})
_CURSOR_WORDS = frozenset({"cursor", "cur", "curs", "cr", "c"})
_ORM_RECEIVER_WORDS = frozenset({"session", "sess", "engine"})
# Paramstyle of the suggestion: `?` for qmark drivers, `%s` (format) otherwise; none for
# drivers with their own (`$1`) or libraries whose `execute` is not DB-API.
_QMARK_MODULES = ("sqlite3", "aiosqlite", "pyodbc")
_FORMAT_MODULES = ("psycopg2", "psycopg", "pymysql", "MySQLdb", "mysql", "aiomysql", "aiopg",
                   "django")
_NOT_DBAPI_MODULES = ("sqlalchemy", "sqlmodel", "databases", "asyncpg")
TEXT_FUNCTIONS = frozenset({"sqlalchemy.text", "sqlalchemy.sql.text",
                            "sqlalchemy.sql.expression.text", "sqlmodel.text"})
RAW_SQL = frozenset({"django.db.models.RawSQL", "django.db.models.expressions.RawSQL"})
_MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
_SQL_KEYWORDS = re.compile(
    r"\b(?:select|insert|update|delete|create|drop|alter|truncate|replace|merge|with|where|"
    r"from|into|values|set|join|union|pragma|exec|call|show|describe|explain|vacuum|grant|"
    r"revoke)\b",
    re.I,
)
_CONSTANT_NAME = re.compile(r"_*[A-Z][A-Z0-9_]+")
# Calls whose result cannot carry SQL: numbers, and identifier quoting.
_SAFE_CALLS = frozenset({"builtins.int", "builtins.float", "builtins.len", "builtins.bool"})
_QUOTING_METHODS = frozenset({"quote_name", "quote_ident", "Identifier", "Literal"})
_MAX_DEPTH = 50  # nesting the value analysis follows; beyond it, assume a constant
# Where a bare placeholder is a value the suggestion may bind: `= {x}`, `LIKE {x}`, `LIMIT {x}`.
_VALUE_POSITION = re.compile(r"(?:[=<>]|\b(?:like|ilike|limit|offset))\s*$", re.I)


@dataclass(frozen=True, slots=True)
class _Built:
    """An expression that builds SQL text from values: how, and where its literal parts are."""

    how: str
    parts: tuple[cst.BaseExpression, ...]


@dataclass(frozen=True, slots=True)
class _Constant:
    """A local name bound to a literal or constant expression."""

    node: cst.BaseExpression


@dataclass(frozen=True, slots=True)
class _Fragment:
    """A local name bound to a SQL fragment of a database object: `tsph =
    db.timestamp_placeholder("created_at")` (`root` is `db`)."""

    node: cst.BaseExpression
    root: str


@register
class SqlStringBuilding(Rule):
    code = "PYS105"
    name = "sql-string-building"
    severity = Severity.WARNING
    category = Category.SECURITY
    default = True
    rationale = (
        "Most SQL built with f-strings interpolates identifiers or constants while the values "
        "are bound (pretix's lock queries, indico's and prefect's migrations: most of 16 "
        "findings on the tuning projects); only untrusted data in a value position is a hole, "
        "and only such a finding may be reported as an error."
    )
    message = "SQL built with {how} is passed to {sink}; pass the values as query parameters"
    requires = ("execute", "raw(", "RawSQL", "extra(", "sqlalchemy", "sqlmodel")
    docs = """
## What it does
Flags SQL assembled from values — an f-string with placeholders, `.format(...)`,
`%`-formatting or `+` concatenation with a non-literal operand — passed as the query to
`cursor.execute`/`executemany` (and `connection.execute`, `session.execute`),
`Model.objects.raw`, Django's `RawSQL`, `.extra(where=[...], select={...})` or SQLAlchemy's
`text(...)`. A local variable built that way earlier in the same function counts too:
`sql = f"..."; cursor.execute(sql)`.

`<x>.execute(...)` is taken as a database call when `<x>` is named like one (`cursor`,
`conn`, `db`, `session`, `engine`, …) and the module imports a database library (or
`django.db`); when only one of the two holds, the literal text must also read as SQL
(`SELECT`, `INSERT`, `WHERE`, …), so `executor.execute(f"job-{x}")` and GraphQL clients
stay quiet. Fully literal SQL (implicit concatenation included, f-strings without
placeholders), parameterized calls `execute(sql, params)` with a literal `sql`, and values
that cannot carry SQL (`UPPER_CASE` constants, `int(...)`, `Model._meta.db_table`,
`", ".join(["%s"] * n)`, local names bound to these, loop names over a tuple of literals
or over a local list of them that nothing changes) are not flagged, nor are fragments of
the database object the SQL runs on: `db.execute(f"... DEFAULT {db.timestamp_now}")`, a
column type or placeholder that the database layer writes for its dialect.

## Why is this bad?
Interpolating a value into SQL text is SQL injection (OWASP Top 10 A03: Injection; OWASP
SQL Injection Prevention Cheat Sheet, "Option 1: Use of Prepared Statements"). The driver
passes parameters separately from the query, so no value can change its structure. Django's
documentation on raw SQL says: "Do not use string formatting on raw queries or quote
placeholders in your SQL strings!"; SQLAlchemy's `text()` takes `:name` bind parameters.

## Example
```python
cursor.execute(f"SELECT * FROM users WHERE email = '{email}'")
User.objects.raw("SELECT * FROM users WHERE id = %s" % user_id)
```

## Use instead
```python
cursor.execute("SELECT * FROM users WHERE email = %s", (email,))
User.objects.raw("SELECT * FROM users WHERE id = %s", [user_id])
session.execute(text("SELECT * FROM users WHERE id = :id"), {"id": user_id})
```

## Fix
A DB-API `execute(f"...")` with one argument whose placeholders are plain names, attributes
or subscripts in value positions (`= {x}`, `LIKE {x}`, `LIMIT {x}`, or quoted `'{x}'`,
whose quotes are dropped) becomes `execute("... %s ...", (x,))` — `?` in modules that use
sqlite3. No fix when the SQL holds a literal `%`, or a placeholder has a format spec or
conversion or stands where only an identifier can.

## Suppress
`# noqa: PYS105` on the line, when every interpolated piece is a trusted identifier.
"""
    bad = (
        "def find(cursor, email):\n"
        "    cursor.execute(f\"SELECT * FROM users WHERE email = '{email}'\")  # flagged\n",
        "def find(cursor, uid):\n"
        "    cursor.execute(\"SELECT * FROM users WHERE id = %s\" % uid)  # flagged\n",
        "def find(conn, uid):\n"
        "    sql = \"SELECT * FROM users WHERE id = \" + str(uid)\n"
        "    return conn.execute(sql)  # flagged\n",
        "from django.db import models\n\n\nclass User(models.Model):\n    pass\n\n\n"
        "def find(name):\n"
        "    return User.objects.raw(\"SELECT * FROM app_user WHERE name = '{}'\".format(name))  # flagged\n",
        "from sqlalchemy import text\n\n\ndef find(session, uid):\n"
        "    return session.execute(text(f\"SELECT * FROM users WHERE id = {uid}\"))  # flagged\n",
    )
    good = (
        "def find(cursor, email):\n"
        "    cursor.execute(\"SELECT * FROM users WHERE email = %s\", (email,))\n",
        "def count(cursor):\n    cursor.execute(\"SELECT count(*) \" \"FROM users\")\n",
        "TABLE = \"users\"\n\n\ndef find(cursor, uid):\n"
        "    cursor.execute(f\"SELECT * FROM {TABLE} WHERE id = %s\", (uid,))\n",
        "def find(cursor, ids):\n"
        "    marks = \", \".join([\"%s\"] * len(ids))\n"
        "    cursor.execute(f\"SELECT * FROM users WHERE id IN ({marks})\", ids)\n",
        "def run(executor, job):\n    executor.execute(f\"job-{job}\")\n",
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        # (enclosing function id, name) -> what the name holds, as of the visit position.
        self._names: dict[tuple[int, str], _Built | _Constant | _Fragment] = {}
        self._db_module: bool | None = None

    # -- local names --------------------------------------------------------------------

    def _key(self, name: str) -> tuple[int, str]:
        return (id(self.ctx.enclosing_function()), name)

    def leave_Assign(self, original_node: cst.Assign) -> None:
        value = original_node.value
        for target in original_node.targets:
            if isinstance(target.target, cst.Name):
                self._bind(target.target.value, self._classify(value))
            elif (isinstance(target.target, cst.Subscript)
                  and isinstance(target.target.value, cst.Name)):
                self._forget(target.target.value)  # names[0] = value
            else:
                self._forget(target.target)

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
                if isinstance(state, _Constant) and isinstance(state.node, (cst.List, cst.Set)):
                    self._forget(candidate)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        if isinstance(original_node.target, cst.Name) and original_node.value is not None:
            self._bind(original_node.target.value, self._classify(original_node.value))

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        target = original_node.target
        if not isinstance(target, cst.Name) or not isinstance(original_node.operator,
                                                              cst.AddAssign):
            self._forget(target)
            return
        key = self._key(target.value)
        before = self._names.get(key)
        if before is None:  # `total += 1`, or a string we know nothing about
            return
        value = original_node.value
        added = self._built(value)
        if added is not None:
            self._names[key] = _Built(added.how, (*self._parts(before), *added.parts))
        elif not self._constant(value):
            self._names[key] = _Built("`+` concatenation", self._expand([target, value]))
        elif isinstance(before, _Built):
            self._names[key] = _Built(before.how, self._expand([target, value]))

    def leave_NamedExpr(self, original_node: cst.NamedExpr) -> None:
        if isinstance(original_node.target, cst.Name):
            self._bind(original_node.target.value, self._classify(original_node.value))

    def visit_For(self, node: cst.For) -> None:
        """`for schema, table in TABLES:` over literals binds constants; else forget."""
        self._forget(node.target)
        if self._constant(node.iter):
            for name in bound_names(node.target):
                self._names[self._key(name)] = _Constant(cst.Name("None"))

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

    def _classify(self, value: cst.BaseExpression) -> _Built | _Constant | _Fragment | None:
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
            return _Constant(value)
        root = self._fragment_root(value)
        return _Fragment(value, root) if root is not None else None

    def _fragment_root(self, expr: cst.BaseExpression) -> str | None:
        """`db` for `db.big_int` or `db.timestamp_placeholder("x")` (literal arguments
        only) when `db` is named like a database handle; else None."""
        call_args: Sequence[cst.Arg] = ()
        if isinstance(expr, cst.Call):
            call_args, expr = expr.args, expr.func
        if not isinstance(expr, cst.Attribute) or not _is_db_receiver(expr.value):
            return None
        if any(arg.star or not self._constant(arg.value) for arg in call_args):
            return None
        return dotted_name(expr.value)

    def _bind(self, name: str, state: _Built | _Constant | _Fragment | None) -> None:
        key = self._key(name)
        if state is None:
            self._names.pop(key, None)
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
    def _parts(state: _Built | _Constant | _Fragment) -> tuple[cst.BaseExpression, ...]:
        return state.parts if isinstance(state, _Built) else (state.node,)

    # -- what builds SQL ------------------------------------------------------------------

    def _constant(self, expr: cst.BaseExpression, depth: int = 0) -> bool:
        """Can this value not carry attacker-controlled SQL? Literals, UPPER_CASE
        constants, numbers from `int()`/`len()`, identifier quoting, placeholder joins.
        Past `_MAX_DEPTH` nested expressions the answer is yes: no finding beats a guess."""
        if depth > _MAX_DEPTH:
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
            if expr.value in ("None", "True", "False") or _CONSTANT_NAME.fullmatch(expr.value):
                return True
            return (isinstance(self._names.get(self._key(expr.value)), _Constant)
                    or expr.value in self._module_constants)
        if isinstance(expr, cst.Attribute):
            attr = expr.attr.value
            return bool(_CONSTANT_NAME.fullmatch(attr)) or (
                attr == "db_table" and isinstance(expr.value, cst.Attribute)
                and expr.value.attr.value == "_meta"
            )
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
            if func.attr.value == "join" and isinstance(func.value, cst.SimpleString):
                if len(call.args) != 1:
                    return False
                items = call.args[0].value
                if isinstance(items, (cst.GeneratorExp, cst.ListComp, cst.SetComp)):
                    return self._constant(items.elt, depth)
                return self._constant(items, depth)
            return False
        return self.ctx.qualified_name(func) in _SAFE_CALLS

    def _template(self, expr: cst.BaseExpression) -> bool:
        """A string that `%` or `.format` fills in: a literal or a constant name."""
        if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
            return True
        return isinstance(expr, cst.Name) and self._constant(expr)

    def _built(self, expr: cst.BaseExpression) -> _Built | None:
        """How `expr` builds SQL text from a non-constant value, or None."""
        if isinstance(expr, cst.FormattedString):
            return None if self._constant(expr) else _Built("an f-string", (expr,))
        if isinstance(expr, cst.ConcatenatedString):
            return None if self._constant(expr) else _Built("an f-string", (expr,))
        if isinstance(expr, cst.Name):
            state = self._names.get(self._key(expr.value))
            return state if isinstance(state, _Built) else None
        if isinstance(expr, cst.Call):
            func = expr.func
            if (isinstance(func, cst.Attribute) and func.attr.value == "format"
                    and self._template(func.value)
                    and any(arg.star or not self._constant(arg.value) for arg in expr.args)):
                return _Built("`.format()`", (func.value,))
            return None
        if not isinstance(expr, cst.BinaryOperation):
            return None
        if isinstance(expr.operator, cst.Modulo):
            if self._template(expr.left) and not self._constant(expr.right):
                return _Built("`%` formatting", (expr.left,))
            return None
        if isinstance(expr.operator, cst.Add):
            operands = added_operands(expr)
            for operand in operands:
                inner = self._built(operand)
                if inner is not None:
                    return _Built(inner.how, self._expand(operands))
            has_text = any(self._template(op) or isinstance(op, cst.FormattedString)
                           for op in operands)
            if has_text and not all(self._constant(op) for op in operands):
                return _Built("`+` concatenation", self._expand(operands))
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
        return " ".join(out)

    # -- sinks ------------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if self._names:
            self._forget_changed_displays(node)
        if isinstance(func, cst.Attribute):
            attr = func.attr.value
            if attr in ("execute", "executemany"):
                self._check_execute(node, func)
            elif attr == "raw" and _on_manager(func.value):
                self._check_sink(_sql_argument(node, ("raw_query",)), "`objects.raw`")
            elif attr == "extra":
                self._check_extra(node, func)
            elif attr in ("text", "RawSQL"):
                self._check_qualified(node, func)
        elif isinstance(func, cst.Name):  # also `from sqlalchemy import text as sql_text`
            self._check_qualified(node, func)

    def _check_qualified(self, node: cst.Call, func: cst.BaseExpression) -> None:
        qualified = self.ctx.qualified_name(func)
        if qualified in TEXT_FUNCTIONS:
            self._check_sink(_sql_argument(node, ("text",)), "`text()`")
        elif qualified in RAW_SQL:
            self._check_sink(_sql_argument(node, ("sql",)), "`RawSQL`")

    def _check_sink(self, sql: cst.BaseExpression | None, sink: str) -> None:
        if sql is None:
            return
        built = self._built(sql)
        if built is not None:
            self.report(sql, self._message(sql, built, sink))

    def _message(self, sql: cst.BaseExpression, built: _Built, sink: str) -> str:
        how = f"{built.how} (in `{sql.value}`)" if isinstance(sql, cst.Name) else built.how
        return self.message.format(how=how, sink=sink)

    def _check_extra(self, node: cst.Call, func: cst.Attribute) -> None:
        if not (_on_manager(func.value) or "django" in self.ctx.frameworks):
            return
        for arg in node.args:
            keyword = arg.keyword.value if arg.keyword is not None else None
            value = arg.value
            if keyword == "where" and isinstance(value, (cst.List, cst.Tuple)):
                items = [el.value for el in value.elements]
            elif keyword == "select" and isinstance(value, cst.Dict):
                items = [el.value for el in value.elements if isinstance(el, cst.DictElement)]
            else:
                continue
            for item in items:
                self._check_sink(item, f"`.extra({keyword}=...)`")

    def _check_execute(self, node: cst.Call, func: cst.Attribute) -> None:
        sql = _sql_argument(node, ("sql", "query", "statement", "operation"))
        if sql is None:
            return
        built = self._built(sql)
        if built is None:
            return
        db_receiver = _is_db_receiver(func.value)
        db_module = self._imports_db()
        if not (db_receiver or db_module):
            return
        if not (db_receiver and db_module) and not _SQL_KEYWORDS.search(
            self._sql_text(built.parts)
        ):
            return
        receiver = dotted_name(func.value)
        if db_receiver and receiver and self._fragments_of(receiver, sql):
            return
        sink = f"`{receiver}.{func.attr.value}`" if receiver else f"`.{func.attr.value}`"
        message = self._message(sql, built, sink)
        new = self._parameterized(node, func) if func.attr.value == "execute" else None
        if new is None:
            self.report(sql, message)
        else:
            self.report(sql, message, replace=(node, new))

    def _fragments_of(self, receiver: str, sql: cst.BaseExpression) -> bool:
        """Is every value in the SQL a constant or a fragment of the database object the
        SQL runs on? `db.execute(f"CREATE TABLE t (amount {db.big_int}, at TIMESTAMP
        DEFAULT {db.timestamp_now})")`: the dialect's own text, not anybody's input."""
        values = self._values(sql)
        if not values:
            return False
        for value in values:
            if self._constant(value):
                continue
            if isinstance(value, cst.Name):
                state = self._names.get(self._key(value.value))
                if not (isinstance(state, _Fragment) and state.root == receiver):
                    return False
            elif self._fragment_root(value) != receiver:
                return False
        return True

    def _values(self, sql: cst.BaseExpression) -> list[cst.BaseExpression] | None:
        """The values an f-string or `+` concatenation puts into SQL text, through local
        names; None for `.format`/`%` and anything else."""
        out: list[cst.BaseExpression] = []
        seen: set[str] = set()
        stack: list[cst.BaseExpression] = [sql]
        while stack:
            part = stack.pop()
            if isinstance(part, (cst.SimpleString, cst.ConcatenatedString,
                                 cst.FormattedString)):
                for piece in string_pieces(part):
                    if isinstance(piece, cst.FormattedString):
                        out.extend(p.expression for p in piece.parts
                                   if isinstance(p, cst.FormattedStringExpression))
                    elif not isinstance(piece, cst.SimpleString):
                        return None
            elif isinstance(part, cst.BinaryOperation) and isinstance(part.operator, cst.Add):
                stack.extend(added_operands(part))
            elif isinstance(part, cst.Name) and part.value not in seen:
                seen.add(part.value)
                state = self._names.get(self._key(part.value))
                if isinstance(state, _Built):
                    if state.how not in ("an f-string", "`+` concatenation"):
                        return None
                    stack.extend(state.parts)
                elif not isinstance(state, _Constant):
                    out.append(part)
            elif isinstance(part, cst.Name):
                continue
            else:
                out.append(part)
        return out

    def _imports_db(self) -> bool:
        if self._db_module is None:
            imports = self.ctx.imports.values()
            self._db_module = self.ctx.imports_module(*DB_MODULES) or any(
                target.startswith("django.db") for target in imports
            )
        return self._db_module

    # -- the fix ----------------------------------------------------------------------

    def _parameterized(self, node: cst.Call, func: cst.Attribute) -> cst.Call | None:
        """`execute(f"... = {x}")` -> `execute("... = %s", (x,))`, or None if unsafe."""
        if len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
            return None
        sql = node.args[0].value
        if not isinstance(sql, cst.FormattedString) or sql.prefix.lower() != "f":
            return None
        ctx = self.ctx
        if ctx.imports_module("asyncpg"):
            return None
        qmark = ctx.imports_module(*_QMARK_MODULES)
        known = qmark or ctx.imports_module(*_FORMAT_MODULES)
        if qmark and ctx.imports_module(*_FORMAT_MODULES):
            return None  # two paramstyles in one module: which one is this cursor?
        receiver = func.value
        # A cursor is DB-API (`%s` unless the module says qmark). Another handle only
        # when the module names its driver and it is not an ORM session or engine.
        if not _is_cursor(receiver) and (
            not known or ctx.imports_module(*_NOT_DBAPI_MODULES)
            or not _is_db_receiver(receiver)
            or not _ORM_RECEIVER_WORDS.isdisjoint(identifier_words(_receiver_name(receiver) or ""))
        ):
            return None
        rewritten = _rewrite_placeholders(sql, "?" if qmark else "%s")
        if rewritten is None:
            return None
        text, values = rewritten
        arg = node.args[0]
        params = cst.Tuple([cst.Element(value) for value in values])
        return node.with_changes(args=[
            arg.with_changes(value=cst.SimpleString(f"{sql.quote}{text}{sql.quote}"),
                             comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            cst.Arg(params, comma=arg.comma),
        ])


def _rewrite_placeholders(sql: cst.FormattedString, mark: str
                          ) -> tuple[str, list[cst.BaseExpression]] | None:
    """The f-string's text with each placeholder replaced by `mark`, and the values.

    None when a placeholder is not a plain value (format spec, conversion, `=`, a complex
    expression, an identifier position, inside a longer SQL string) or the SQL holds `%`.
    """
    parts = list(sql.parts)
    texts = [p.value for p in parts if isinstance(p, cst.FormattedStringText)]
    if any("%" in t or "\\'" in t or (mark == "?" and "?" in t) for t in texts):
        return None
    out = ""
    values: list[cst.BaseExpression] = []
    for i, part in enumerate(parts):
        if isinstance(part, cst.FormattedStringText):
            out += part.value.replace("{{", "{").replace("}}", "}")
            continue
        assert isinstance(part, cst.FormattedStringExpression)
        if part.conversion or part.format_spec or part.equal or not _simple(part.expression):
            return None
        after = parts[i + 1] if i + 1 < len(parts) else None
        after_text = after.value if isinstance(after, cst.FormattedStringText) else ""
        if out.endswith("'") and after_text.startswith("'"):
            out = out[:-1]
            if i + 1 < len(parts):  # drop the closing quote from the next text part
                parts[i + 1] = cst.FormattedStringText(after_text[1:])
        elif (out.endswith(("'", '"', "`")) or after_text.startswith(("'", '"', "`"))
              or not _VALUE_POSITION.search(out) or re.match(r"[\w.]", after_text)):
            return None
        if out.count("'") % 2:  # inside a longer SQL string literal
            return None
        out += mark
        values.append(part.expression)
    return out, values


def _simple(expr: cst.BaseExpression) -> bool:
    """A name, attribute chain or subscript by a literal or name: safe to move into a tuple."""
    if isinstance(expr, cst.Name):
        return True
    if isinstance(expr, cst.Attribute):
        return _simple(expr.value)
    if isinstance(expr, cst.Subscript) and len(expr.slice) == 1:
        index = expr.slice[0].slice
        return (_simple(expr.value) and isinstance(index, cst.Index)
                and isinstance(index.value, (cst.SimpleString, cst.Integer, cst.Name)))
    return False


def _sql_argument(call: cst.Call, keywords: tuple[str, ...]) -> cst.BaseExpression | None:
    """The query argument: the first positional one, or one of `keywords`."""
    for arg in call.args:
        if arg.keyword is None:
            return None if arg.star else arg.value
        if arg.keyword.value in keywords:
            return arg.value
    return None


def _receiver_name(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.Call):  # connection.cursor().execute(...)
        expr = expr.func
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    if isinstance(expr, cst.Name):
        return expr.value
    return None


def _is_db_receiver(expr: cst.BaseExpression) -> bool:
    name = _receiver_name(expr)
    return name is not None and not DB_RECEIVER_WORDS.isdisjoint(identifier_words(name))


def _is_cursor(expr: cst.BaseExpression) -> bool:
    name = _receiver_name(expr)
    return name is not None and not _CURSOR_WORDS.isdisjoint(identifier_words(name))


def _on_manager(expr: cst.BaseExpression) -> bool:
    """Is `expr` a Django manager or queryset chain (`User.objects`, `X.objects.using(db)`)?"""
    while isinstance(expr, (cst.Attribute, cst.Call)):
        if isinstance(expr, cst.Call):
            expr = expr.func
            continue
        if expr.attr.value in _MANAGERS:
            return True
        expr = expr.value
    return False


# Nodes that bind names, for `_module_constants`.
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
