"""The suggestion of PYS105: an f-string `execute` rewritten with bound parameters."""

from __future__ import annotations

import re

import libcst as cst

from pystd.rules.context import FileContext
from pystd.rules.general.sql.calls import (
    ORM_RECEIVER_WORDS,
    is_cursor,
    is_db_receiver,
    receiver_name,
)
from pystd.rules.general.strings import identifier_words

# Paramstyle of the suggestion: `?` for qmark drivers, `%s` (format) otherwise; none for
# drivers with their own (`$1`) or libraries whose `execute` is not DB-API.
_QMARK_MODULES = ("sqlite3", "aiosqlite", "pyodbc")
_FORMAT_MODULES = ("psycopg2", "psycopg", "pymysql", "MySQLdb", "mysql", "aiomysql", "aiopg",
                   "django")
_NOT_DBAPI_MODULES = ("sqlalchemy", "sqlmodel", "databases", "asyncpg")
# Where a bare placeholder is a value the suggestion may bind: `= {x}`, `LIKE {x}`, `LIMIT {x}`.
_VALUE_POSITION = re.compile(r"(?:[=<>]|\b(?:like|ilike|limit|offset))\s*$", re.I)


def parameterized(ctx: FileContext, node: cst.Call, func: cst.Attribute) -> cst.Call | None:
    """`execute(f"... = {x}")` -> `execute("... = %s", (x,))`, or None if unsafe."""
    if len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
        return None
    sql = node.args[0].value
    if not isinstance(sql, cst.FormattedString) or sql.prefix.lower() != "f":
        return None
    if ctx.imports_module("asyncpg"):
        return None
    qmark = ctx.imports_module(*_QMARK_MODULES)
    known = qmark or ctx.imports_module(*_FORMAT_MODULES)
    if qmark and ctx.imports_module(*_FORMAT_MODULES):
        return None  # two paramstyles in one module: which one is this cursor?
    receiver = func.value
    # A cursor is DB-API (`%s` unless the module says qmark). Another handle only
    # when the module names its driver and it is not an ORM session or engine.
    if not is_cursor(receiver) and (
        not known or ctx.imports_module(*_NOT_DBAPI_MODULES)
        or not is_db_receiver(receiver)
        or not ORM_RECEIVER_WORDS.isdisjoint(identifier_words(receiver_name(receiver) or ""))
    ):
        return None
    rewritten = rewrite_placeholders(sql, "?" if qmark else "%s")
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



def rewrite_placeholders(sql: cst.FormattedString, mark: str
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

