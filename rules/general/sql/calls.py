"""Which calls run SQL, and their arguments (PYS105)."""

from __future__ import annotations

import re

import libcst as cst

from pystd.rules.general.strings import identifier_words

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
CURSOR_WORDS = frozenset({"cursor", "cur", "curs", "cr", "c"})
ORM_RECEIVER_WORDS = frozenset({"session", "sess", "engine"})
TEXT_FUNCTIONS = frozenset({"sqlalchemy.text", "sqlalchemy.sql.text",
                            "sqlalchemy.sql.expression.text", "sqlmodel.text"})
RAW_SQL = frozenset({"django.db.models.RawSQL", "django.db.models.expressions.RawSQL"})
MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
SQL_KEYWORDS = re.compile(
    r"\b(?:select|insert|update|delete|create|drop|alter|truncate|replace|merge|with|where|"
    r"from|into|values|set|join|union|pragma|exec|call|show|describe|explain|vacuum|grant|"
    r"revoke)\b",
    re.I,
)


def sql_argument(call: cst.Call, keywords: tuple[str, ...]) -> cst.BaseExpression | None:
    """The query argument: the first positional one, or one of `keywords`."""
    for arg in call.args:
        if arg.keyword is None:
            return None if arg.star else arg.value
        if arg.keyword.value in keywords:
            return arg.value
    return None


def receiver_name(expr: cst.BaseExpression) -> str | None:
    if isinstance(expr, cst.Call):  # connection.cursor().execute(...)
        expr = expr.func
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    if isinstance(expr, cst.Name):
        return expr.value
    return None


def is_db_receiver(expr: cst.BaseExpression) -> bool:
    name = receiver_name(expr)
    return name is not None and not DB_RECEIVER_WORDS.isdisjoint(identifier_words(name))


def is_cursor(expr: cst.BaseExpression) -> bool:
    name = receiver_name(expr)
    return name is not None and not CURSOR_WORDS.isdisjoint(identifier_words(name))


def on_manager(expr: cst.BaseExpression) -> bool:
    """Is `expr` a Django manager or queryset chain (`User.objects`, `X.objects.using(db)`)?"""
    while isinstance(expr, (cst.Attribute, cst.Call)):
        if isinstance(expr, cst.Call):
            expr = expr.func
            continue
        if expr.attr.value in MANAGERS:
            return True
        expr = expr.value
    return False




def passes_parameters(call: cst.Call) -> bool:
    """Does an `execute(sql, params)` call pass values to bind (not an empty `()`)?"""
    rest = [arg for arg in call.args[1:] if arg.keyword is None
            or arg.keyword.value in ("params", "parameters", "args", "vars")]
    return any(not (isinstance(arg.value, (cst.Tuple, cst.List, cst.Dict))
                    and not arg.value.elements) for arg in rest)

