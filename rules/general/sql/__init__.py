"""PYS105 sql-string-building: SQL text assembled from values.

The package splits the rule by concern: `calls` (which calls run SQL), `values` (what
local names hold), `text` and `origins` (where each value lands in the SQL and where it
comes from), `fix` (the parameterized suggestion).
"""

from __future__ import annotations

import libcst as cst

from pystd.rules.context import FileContext, dotted_name
from pystd.rules.engine import Category, Example, Severity, register
from pystd.rules.general.sql.calls import (
    DB_MODULES,
    DB_RECEIVER_WORDS,
    RAW_SQL,
    SQL_KEYWORDS,
    TEXT_FUNCTIONS,
    is_db_receiver,
    on_manager,
    passes_parameters,
    sql_argument,
)
from pystd.rules.general.sql.fix import parameterized
from pystd.rules.general.sql.origins import SqlOrigins, Verdict
from pystd.rules.general.sql.values import Built, Constant, Fragment
from pystd.rules.general.strings import added_operands, string_pieces

__all__ = ["DB_MODULES", "DB_RECEIVER_WORDS", "RAW_SQL", "TEXT_FUNCTIONS", "SqlStringBuilding"]

# The finding says which value and why: a value is bound, an identifier is checked.
_WHY = "SQL built with {how} is passed to {sink}: {why}"


def _severity(verdict: Verdict) -> Severity | None:
    """`error` (fails the merge gate) only for request data in a value position."""
    return Severity.ERROR if verdict.certain else None


@register
class SqlStringBuilding(SqlOrigins):
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

Where each value lands decides the rest. A value from outside the function — a parameter,
request data, command-line input, or anything not traced to constants — is flagged in a
value position: inside quotes, after `=`/`<`/`>`, `LIKE`, `IN`, `VALUES`, `LIMIT`, where a
placeholder could carry it. Elsewhere (a table, a column, a schema, a clause) it is an
identifier, which no placeholder can carry: it is flagged only when it is request data, or
when the SQL binds none of its values and is not migration code (Django `migrations/`,
Alembic `env.py`/`versions/`). So these are not flagged:
`text(f"UPDATE {Post.__tablename__} SET slug = :slug")` (dunder and class attributes bound
to a literal are constants), `f"SELECT * FROM {table} WHERE at > %s"` with its parameters,
`"... LIMIT %d" % n` and `{n:d}` (numbers only), `set search_path to "{schema}"` in an
Alembic environment, `cursor.mogrify(...)` output, a value escaped for a quoted literal
(`.replace("'", "''")`) or by a function named for quoting (`identifier(name)`,
`literal_string(value)`, `quote_table(t)`, SQLAlchemy's `column(name)`), a value checked
against literals where the SQL is made (inside `if sort in ("title", "author"):`, or after
`if order not in ["asc", "desc"]:` that returns, raises or resets it), and a value the
function makes from the module's own names (`cutoff = datetime.now().isoformat()`). The
message names the value, where it comes from and where it lands.

**By default** (`select = ["DEFAULT"]`) only values the code shows come from the client are
reported: request data (`request.args[...]`, `request.GET`; an `error` when it lands in a
value position, the one case that is an injection hole for certain), command-line input,
and the
parameters of a request handler (a route's path or query values; not a `Depends(...)`
dependency, not one annotated as a number). A helper's parameter may be anything its
callers pass, which the file does not show: on ckan, pulpcore and archivebox, 43 such
findings were all judged noise or wrong by their maintainers' standard (`timeout` from the
server's own configuration, identifiers quoted by the project's helpers). Select PYS105 by
code (`select = ["DEFAULT", "PYS105"]`) to have those reported too.

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
        Example(
            """
            from django.db import connection


            def search(request):
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT * FROM users WHERE email = '{request.GET['q']}'")  # flagged
            """,
            fixed="""
            from django.db import connection


            def search(request):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT * FROM users WHERE email = %s", (request.GET['q'],))  # flagged
            """,
        ),
        Example(
            """
            def find(cursor, email):
                cursor.execute(f"SELECT * FROM users WHERE email = '{email}'")  # flagged
            """,
            fixed="""
            def find(cursor, email):
                cursor.execute("SELECT * FROM users WHERE email = %s", (email,))  # flagged
            """,
        ),
        """
        def find(cursor, uid):
            cursor.execute("SELECT * FROM users WHERE id = %s" % uid)  # flagged
        """,
        """
        def find(conn, uid):
            sql = "SELECT * FROM users WHERE id = " + str(uid)
            return conn.execute(sql)  # flagged
        """,
        """
        from django.db import models


        class User(models.Model):
            pass


        def find(name):
            return User.objects.raw("SELECT * FROM app_user WHERE name = '{}'".format(name))  # flagged
        """,
        """
        from sqlalchemy import text


        def find(session, uid):
            return session.execute(text(f"SELECT * FROM users WHERE id = {uid}"))  # flagged
        """,
    )
    good = (
        """
        def find(cursor, email):
            cursor.execute("SELECT * FROM users WHERE email = %s", (email,))
        """,
        """
        def count(cursor):
            cursor.execute("SELECT count(*) " "FROM users")
        """,
        """
        TABLE = "users"


        def find(cursor, uid):
            cursor.execute(f"SELECT * FROM {TABLE} WHERE id = %s", (uid,))
        """,
        """
        def find(cursor, ids):
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(f"SELECT * FROM users WHERE id IN ({marks})", ids)
        """,
        """
        def run(executor, job):
            executor.execute(f"job-{job}")
        """,
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._db_module: bool | None = None

    # -- sinks ------------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if self._names:
            self._forget_changed_displays(node)
        if isinstance(func, cst.Attribute):
            attr = func.attr.value
            if attr in ("execute", "executemany"):
                self._check_execute(node, func)
            elif attr == "raw" and on_manager(func.value):
                self._check_sink(sql_argument(node, ("raw_query",)), "`objects.raw`")
            elif attr == "extra":
                self._check_extra(node, func)
            elif attr in ("text", "RawSQL"):
                self._check_qualified(node, func)
        elif isinstance(func, cst.Name):  # also `from sqlalchemy import text as sql_text`
            self._check_qualified(node, func)

    def _check_qualified(self, node: cst.Call, func: cst.BaseExpression) -> None:
        qualified = self.ctx.qualified_name(func)
        if qualified in TEXT_FUNCTIONS:
            self._check_sink(sql_argument(node, ("text",)), "`text()`")
        elif qualified in RAW_SQL:
            self._check_sink(sql_argument(node, ("sql",)), "`RawSQL`")

    def _check_sink(self, sql: cst.BaseExpression | None, sink: str) -> None:
        if sql is None:
            return
        built = self._built(sql)
        if built is None:
            return
        verdict = self._verdict(sql, call_binds=False)
        if verdict is not None:
            self.report(sql, self._message(sql, built, sink, verdict.why),
                        evidence=verdict.evidence, severity=_severity(verdict))

    def _message(self, sql: cst.BaseExpression, built: Built, sink: str, why: str) -> str:
        how = f"{built.how} (in `{sql.value}`)" if isinstance(sql, cst.Name) else built.how
        if not why:
            return self.message.format(how=how, sink=sink)
        return _WHY.format(how=how, sink=sink, why=why)

    def _check_extra(self, node: cst.Call, func: cst.Attribute) -> None:
        if not (on_manager(func.value) or "django" in self.ctx.frameworks):
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
        sql = sql_argument(node, ("sql", "query", "statement", "operation"))
        if sql is None:
            return
        built = self._built(sql)
        if built is None:
            return
        db_receiver = is_db_receiver(func.value)
        db_module = self._imports_db()
        if not (db_receiver or db_module):
            return
        if not (db_receiver and db_module) and not SQL_KEYWORDS.search(
            self._sql_text(built.parts)
        ):
            return
        receiver = dotted_name(func.value)
        if db_receiver and receiver and self._fragments_of(receiver, sql):
            return
        verdict = self._verdict(sql, call_binds=passes_parameters(node))
        if verdict is None:
            return
        sink = f"`{receiver}.{func.attr.value}`" if receiver else f"`.{func.attr.value}`"
        message = self._message(sql, built, sink, verdict.why)
        new = parameterized(self.ctx, node, func) if func.attr.value == "execute" else None
        self.report(sql, message, replace=None if new is None else (node, new),
                    evidence=verdict.evidence, severity=_severity(verdict))

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
                if not (isinstance(state, Fragment) and state.root == receiver):
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
                if isinstance(state, Built):
                    if state.how not in ("an f-string", "`+` concatenation"):
                        return None
                    stack.extend(state.parts)
                elif not isinstance(state, Constant):
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
