"""PYS105 sql-string-building: every flags / never-flags item and the fix of its RULES.md
row, plus the precision calls the rule makes."""

from __future__ import annotations

import pytest

from pystd.rules.general import (
    SqlStringBuilding,
)
from pystd.rules.general.sql.text import binds_values, is_value_position
from tests.rules.lint import fix_of, lines_of, lint, no_fix, one, only

TEST_PATH = "tests/test_api.py"



# == PYS105 sql-string-building: flags ==================================================


@pytest.mark.parametrize(
    ("sql", "how"),
    [
        ('f"SELECT * FROM users WHERE id = {uid}"', "an f-string"),
        ('"SELECT * FROM users WHERE id = {}".format(uid)', "`.format()`"),
        ('"SELECT * FROM users WHERE id = {id}".format(id=uid)', "`.format()`"),
        ('"SELECT * FROM users WHERE id = %s" % uid', "`%` formatting"),
        ('"SELECT * FROM users WHERE id = %s" % (uid,)', "`%` formatting"),
        ('"SELECT * FROM users WHERE id = %(id)s" % {"id": uid}', "`%` formatting"),
        ('"SELECT * FROM users WHERE id = " + str(uid)', "`+` concatenation"),
        ('"SELECT * FROM users WHERE id = " + uid + " LIMIT 1"', "`+` concatenation"),
        ('"SELECT * FROM users " f"WHERE id = {uid}"', "an f-string"),
    ],
)
def test_pys105_flags_each_way_of_building_sql(sql: str, how: str) -> None:
    code = f"def find(cursor, uid):\n    cursor.execute({sql})\n"
    finding = one(code, "PYS105")
    assert finding.line == 2
    assert how in finding.message and "`cursor.execute`" in finding.message


@pytest.mark.parametrize(
    "call",
    [
        'cursor.execute(f"DELETE FROM t WHERE id = {x}")',
        'cursor.executemany(f"INSERT INTO t (a, b) VALUES ({x}, %s)", rows)',
        'cursor.execute(sql=f"DELETE FROM t WHERE id = {x}")',
        'self.cursor.execute(f"DELETE FROM t WHERE id = {x}")',
        'connection.cursor().execute(f"DELETE FROM t WHERE id = {x}")',
        'conn.execute(f"DELETE FROM t WHERE id = {x}")',
        'connection.execute(f"DELETE FROM t WHERE id = {x}")',
        'session.execute(f"DELETE FROM t WHERE id = {x}")',
        'db.session.execute(f"DELETE FROM t WHERE id = {x}")',
        'get_db().execute(f"DELETE FROM t WHERE id = {x}")',
        'await conn.execute(f"DELETE FROM t WHERE id = {x}")',
    ],
)
def test_pys105_flags_database_execute_calls(call: str) -> None:
    code = f"async def run(cursor, conn, connection, session, db, self, x, rows):\n    {call}\n"
    assert lines_of(code, "PYS105") == [2]


def test_pys105_flags_any_execute_in_a_module_using_a_database_library() -> None:
    code = """\
        import sqlite3


        def find(c, name):
            c.execute(f"select * from users where name = '{name}'")
        """
    assert lines_of(code, "PYS105") == [5]


def test_pys105_flags_django_cursor_from_django_db() -> None:
    code = """\
        from django.db import connection


        def find(name):
            with connection.cursor() as cursor:
                cursor.execute("SELECT * FROM auth_user WHERE username = '%s'" % name)
                return cursor.fetchall()
        """
    assert lines_of(code, "PYS105") == [6]


def test_pys105_flags_model_objects_raw() -> None:
    code = """\
        from app.models import User


        def find(name):
            a = User.objects.raw(f"SELECT * FROM app_user WHERE name = '{name}'")
            b = User.objects.using("replica").raw("SELECT * FROM app_user WHERE id = " + name)
            c = User._default_manager.raw(raw_query="SELECT %s" % name)
            return a, b, c
        """
    assert lines_of(code, "PYS105") == [5, 6, 7]


def test_pys105_flags_rawsql() -> None:
    code = """\
        from django.db.models import expressions
        from django.db.models.expressions import RawSQL


        def annotate(qs, col):
            qs = qs.annotate(v=RawSQL(f"SELECT {col} FROM t", ()))
            return qs.annotate(w=expressions.RawSQL(sql="SELECT %s" % col, params=()))
        """
    assert lines_of(code, "PYS105") == [6, 7]


def test_pys105_flags_extra_where_and_select() -> None:
    code = """\
        from app.models import Entry


        def search(term, col):
            return Entry.objects.filter(live=True).extra(
                where=[f"headline LIKE '%{term}%'", "live = 1"],
                select={"n": "SELECT count(*) FROM t WHERE c = " + col, "one": "1"},
            )
        """
    assert lines_of(code, "PYS105") == [6, 7]


def test_pys105_flags_extra_on_a_queryset_variable_in_a_django_module() -> None:
    code = """\
        from django.db import models


        def search(qs, term):
            return qs.extra(where=["headline = '%s'" % term])
        """
    assert lines_of(code, "PYS105") == [5]


@pytest.mark.parametrize(
    ("imports", "call"),
    [
        ("from sqlalchemy import text", 'text(f"SELECT * FROM t WHERE id = {x}")'),
        ("import sqlalchemy as sa", 'sa.text("SELECT * FROM t WHERE id = " + x)'),
        ("from sqlalchemy.sql import text as sql_text", 'sql_text("SELECT %s" % x)'),
        ("import sqlalchemy", 'sqlalchemy.sql.expression.text("SELECT {}".format(x))'),
        ("from sqlmodel import text", 'text(f"SELECT {x}")'),
    ],
)
def test_pys105_flags_sqlalchemy_text(imports: str, call: str) -> None:
    code = f"{imports}\n\n\ndef run(session, x):\n    return session.execute({call})\n"
    finding = one(code, "PYS105")
    assert finding.line == 5 and "`text()`" in finding.message


def test_pys105_flags_a_name_built_earlier_in_the_function() -> None:
    code = """\
        def find(cursor, uid):
            sql = f"SELECT * FROM users WHERE id = {uid}"
            cursor.execute(sql)
        """
    finding = one(code, "PYS105")
    assert finding.line == 3
    assert "an f-string (in `sql`)" in finding.message


def test_pys105_flags_names_built_by_augmented_concatenation() -> None:
    code = """\
        def find(cursor, uid, name):
            sql = "SELECT * FROM users WHERE 1 = 1"
            if uid:
                sql += f" AND id = {uid}"
            cursor.execute(sql)

        def search(cursor, name):
            query = "SELECT * FROM users WHERE name = "
            query += name
            cursor.execute(query)
        """
    assert lines_of(code, "PYS105") == [5, 10]


def test_pys105_flags_names_through_copies_and_keyword_sql() -> None:
    code = """\
        def find(cursor, uid):
            base = "SELECT * FROM users WHERE id = %s" % uid
            sql = base
            cursor.execute(sql=sql)
        """
    assert lines_of(code, "PYS105") == [4]


# == PYS105: never flags ================================================================


@pytest.mark.parametrize(
    "call",
    [
        'cursor.execute("SELECT * FROM users")',
        'cursor.execute("SELECT * FROM users "\n                   "WHERE active")',
        'cursor.execute(f"SELECT * FROM users")',
        'cursor.execute("SELECT * FROM users WHERE id = %s", (uid,))',
        'cursor.execute("SELECT * FROM users WHERE id = %(id)s", {"id": uid})',
        'cursor.executemany("INSERT INTO t VALUES (%s, %s)", rows)',
        'cursor.execute(sql="SELECT 1")',
        'cursor.execute("SELECT * FROM users LIMIT %d" % 10)',
        'cursor.execute("SELECT %s, %s" % ("a", 1))',
        'cursor.execute("SELECT %(n)s" % {"n": 1})',
        'cursor.execute("SELECT {} FROM t".format("id"))',
        'cursor.execute("SELECT * FROM users " + "WHERE active")',
        'User.objects.raw("SELECT * FROM app_user WHERE id = %s", [uid])',
        'User.objects.raw(f"SELECT * FROM app_user")',
    ],
)
def test_pys105_never_flags_literal_or_parameterized_sql(call: str) -> None:
    code = f"def find(cursor, uid, rows, User):\n    {call}\n"
    assert only(code, "PYS105") == []


@pytest.mark.parametrize(
    "body",
    [
        # UPPER_CASE constants, numbers and quoted identifiers cannot carry SQL
        'cursor.execute(f"SELECT * FROM {TABLE} WHERE id = %s", (uid,))',
        'cursor.execute("SELECT * FROM " + TABLE + " WHERE id = %s", (uid,))',
        'cursor.execute(f"SELECT * FROM {settings.USERS_TABLE}")',
        'cursor.execute(f"SELECT * FROM {User._meta.db_table} WHERE id = %s", [uid])',
        'cursor.execute(f"SELECT * FROM users LIMIT {int(limit)}")',
        'cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")',
        # placeholder lists for IN (...)
        'cursor.execute(f"SELECT * FROM t WHERE id IN ({\', \'.join([\'%s\'] * len(ids))})", ids)',
        'cursor.execute("SELECT * FROM t WHERE id IN (" + ",".join("%s" for _ in ids) + ")", ids)',
        # psycopg's safe composition
        'cursor.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))',
    ],
)
def test_pys105_never_flags_values_that_cannot_carry_sql(body: str) -> None:
    code = f"TABLE = 'users'\n\n\ndef find(cursor, uid, limit, ids, table, connection):\n    {body}\n"
    assert only(code, "PYS105") == []


def test_pys105_never_flags_a_local_bound_to_a_constant_attribute() -> None:
    """Survey (wagtail 8.0.1 migrations): DDL on a table name read from the model."""
    code = """\
        from django.db import migrations


        def set_collation(apps, schema_editor):
            Page = apps.get_model("wagtailcore", "Page")
            table_name = Page._meta.db_table
            schema_editor.execute(
                f"ALTER TABLE {table_name} ALTER COLUMN path TYPE VARCHAR(255) COLLATE \\"C\\""
            )
            limit = settings.MAX_ROWS
            schema_editor.execute(f"DELETE FROM {table_name} WHERE id > {limit}")
        """
    assert only(code, "PYS105", "app/migrations/0001_initial.py") == []
    unknown = code.replace("Page._meta.db_table", "Page._meta.label")
    # In a migration the tables it names are the project's own (issue #9) ...
    assert only(unknown, "PYS105", "app/migrations/0001_initial.py") == []
    # ... elsewhere a table name read from a parameter, in SQL that binds nothing, is not.
    assert lines_of(unknown, "PYS105", "app/maintenance.py") == [8, 11]


def test_pys105_never_flags_loops_over_literal_identifiers() -> None:
    """Survey (indico 3.2.9 migrations): schema and table names unpacked from a module-level
    tuple of literals."""
    code = """\
        import sqlalchemy as sa
        from alembic import op

        tables = (("event_abstracts", "abstract_review_ratings"),
                  ("event_paper_reviewing", "review_ratings"))


        def upgrade():
            for schema, ratings_table in tables:
                op.execute(f"DELETE FROM {schema}.{ratings_table} WHERE x = 1")
            for name in ("a", "b"):
                op.execute("DROP TABLE {}".format(name))
        """
    assert only(code, "PYS105", "migrations/versions/0001_review.py") == []


def test_pys105_never_flags_fragments_of_the_database_object_the_sql_runs_on() -> None:
    """lnbits 1.6.2 (reported in bench/precision/async.md): the dialect's column types,
    defaults and placeholders, read from the same `db` that executes the SQL."""
    code = """\
        import sqlite3


        async def m001(db):
            await db.execute(f"CREATE TABLE t (amount {db.big_int} NOT NULL, "
                             f"at TIMESTAMP NOT NULL DEFAULT {db.timestamp_now})")
            await db.execute(
                "ALTER TABLE accounts "
                f"ADD COLUMN created_at TIMESTAMP DEFAULT {db.timestamp_column_default}"
            )
            tsph = db.timestamp_placeholder("created_at")
            await db.execute(f"UPDATE t SET created_at = {tsph} WHERE id = :id", {"id": 1})
            sql = f"UPDATE t SET at = {db.timestamp_placeholder('now')}"
            sql += f" WHERE kind = {KIND}"
            await db.execute(sql, {"now": 1})


        async def purge(conn, cutoff):
            database = conn
            await database.execute(
                f"DELETE FROM t WHERE at < {database.timestamp_placeholder('cutoff')}",
                {"cutoff": cutoff},
            )
        """
    assert only(code, "PYS105") == []


@pytest.mark.parametrize("sql", [
    "f\"SELECT * FROM t WHERE name = '{name}' AND at < {db.timestamp_now}\"",  # a value too
    "f\"SELECT * FROM t WHERE at < {other_db.timestamp_now}\"",  # another object's
    "f\"SELECT * FROM t WHERE name = {db.lookup(name)}\"",  # a call with a value
    "f\"SELECT * FROM t WHERE at < {tsph}\"",  # a local from another object
    "\"SELECT * FROM t WHERE at < {}\".format(db.timestamp_now) + name",
])
def test_pys105_flags_values_beside_or_instead_of_fragments(sql: str) -> None:
    code = ("import sqlite3\n\n\nasync def find(db, other_db, name):\n"
            "    tsph = other_db.timestamp_placeholder('x')\n"
            f"    await db.execute({sql})\n")
    assert lines_of(code, "PYS105") == [6]


def test_pys105_flags_attributes_of_self_in_its_own_execute() -> None:
    code = ("import sqlite3\n\n\nclass Repo:\n    def find(self):\n"
            "        self.execute(f\"SELECT * FROM t WHERE owner = {self.user_id}\")\n")
    assert lines_of(code, "PYS105") == [6]


def test_pys105_never_flags_loops_over_a_local_list_of_identifiers() -> None:
    """lnbits 1.6.2 core/migrations.py (reported in bench/precision/async.md): index names
    from a local list; indico 3.2.9: plugin names from a local set."""
    code = """\
        import sqlite3


        async def m040_index_wallets(db):
            indexes = ["id", "user", "created_at"]
            for index in indexes:
                await db.execute(f"CREATE INDEX IF NOT EXISTS idx_{index} ON wallets ({index})")


        def reset_alembic(db, plugins):
            no_revision_plugins = {"audiovisual", "payment_cern"}  # indico 3.2.9 cli/database.py
            for plugin in no_revision_plugins:
                if plugin in plugins:
                    db.session.execute(f"DROP TABLE alembic_version_plugin_{plugin}")
        """
    assert only(code, "PYS105") == []


@pytest.mark.parametrize("change", [
    "indexes.append(name)",
    "indexes += [name]",
    "indexes[0] = name",
    "extend_with_user_columns(indexes)",
    "indexes = load(name)",
])
def test_pys105_flags_loops_over_a_local_list_that_changes(change: str) -> None:
    code = ("import sqlite3\n\n\nasync def migrate(db, name):\n"
            "    indexes = [\"id\", \"user\"]\n"
            f"    {change}\n"
            "    for index in indexes:\n"
            "        await db.execute(f\"CREATE INDEX idx_{index} ON wallets ({index})\")\n")
    assert lines_of(code, "PYS105") == [8]


@pytest.mark.parametrize("change", [
    "tables = [(\"events\", \"ratings\")]",  # a list: appended to elsewhere
    "tables = ((\"events\", \"ratings\"),)\ntables = load()",  # bound twice
    "tables = ((\"events\", \"ratings\"),)\n\n\ndef setup(tables):\n    pass",  # a parameter
    "tables = ((\"events\", get_table()),)",  # not only literals
])
def test_pys105_flags_loops_over_names_that_may_hold_values(change: str) -> None:
    code = (f"import sqlalchemy as sa\nfrom alembic import op\n\n{change}\n\n\ndef upgrade():\n"
            "    for schema, table in tables:\n"
            "        op.execute(f\"DELETE FROM {schema}.{table} WHERE x = 1\")\n")
    assert len(only(code, "PYS105", "app/cleanup.py")) == 1


def test_pys105_flags_a_local_bound_to_any_other_attribute() -> None:
    code = """\
        def find(cursor, request):
            name = request.user.name
            cursor.execute(f"SELECT * FROM users WHERE name = '{name}'")
        """
    assert lines_of(code, "PYS105") == [3]


def test_pys105_never_flags_local_literals_and_placeholder_lists() -> None:
    code = """\
        def find(cursor, ids, active):
            base = "SELECT * FROM users"
            marks = ", ".join(["%s"] * len(ids))
            sql = f"{base} WHERE id IN ({marks})"
            if active:
                sql += " AND active"
            cursor.execute(sql, ids)
        """
    assert only(code, "PYS105") == []


@pytest.mark.parametrize(
    "code",
    [
        # not a database: no DB-looking receiver and no database import
        'def run(executor, job):\n    executor.execute(f"job-{job}")\n',
        'def run(self, x):\n    self.execute(f"SELECT {x}")\n',
        # a database import, but the text is not SQL (GraphQL)
        'import sqlite3\n\ndef run(schema, uid):\n    schema.execute(f"query {{ user(id: {uid}) {{ name }} }}")\n',
        # not sqlalchemy's text(), not a manager's raw()
        'from app.i18n import text\n\ndef f(x):\n    return text(f"SELECT {x}")\n',
        'def f(image, x):\n    return image.raw(f"SELECT {x}")\n',
        'def f(df, x):\n    return df.extra(where=[f"a = {x}"])\n',
        # two unknown names: nothing says either holds values
        'def run(cursor, query, where):\n    cursor.execute(query + where)\n',
        'def run(cursor, query, params):\n    cursor.execute(query % params)\n',
    ],
)
def test_pys105_never_flags_other_executes_and_unknown_strings(code: str) -> None:
    assert only(code, "PYS105") == []


def test_pys105_name_tracking_follows_rebinding_and_scopes() -> None:
    code = """\
        def build(uid):
            sql = f"SELECT * FROM users WHERE id = {uid}"
            return sql

        def run(cursor, queries):
            cursor.execute(sql)

        def rebound(cursor, uid):
            sql = f"SELECT * FROM users WHERE id = {uid}"
            sql = "SELECT * FROM users"
            cursor.execute(sql)

        def looped(cursor, uid, queries):
            sql = f"SELECT * FROM users WHERE id = {uid}"
            for sql in queries:
                cursor.execute(sql)

        def unpacked(cursor, uid):
            sql = f"SELECT * FROM users WHERE id = {uid}"
            sql, params = build_query(uid)
            cursor.execute(sql, params)

        def walrus(cursor, uid):
            sql = f"SELECT * FROM users WHERE id = {uid}"
            if (sql := load_query("by_id")):
                cursor.execute(sql, (uid,))
        """
    assert only(code, "PYS105") == []


def test_pys105_flags_a_name_bound_by_walrus() -> None:
    code = """\
        def find(cursor, uid):
            if (sql := f"SELECT * FROM users WHERE id = {uid}"):
                cursor.execute(sql)
        """
    assert lines_of(code, "PYS105") == [3]


def test_pys105_skips_test_files() -> None:
    code = 'def test_it(cursor, x):\n    cursor.execute(f"SELECT {x}")\n'
    assert only(code, "PYS105", TEST_PATH) == []


def test_pys105_prefilter() -> None:
    assert "execute" in SqlStringBuilding.requires
    assert only('def f(x):\n    return f"SELECT * FROM t WHERE id = {x}"\n', "PYS105") == []


# == PYS105: fix ========================================================================


def test_pys105_fix_simple_f_string_becomes_parameters() -> None:
    code = """\
        def find(cursor, uid):
            cursor.execute(f"SELECT * FROM users WHERE id = {uid}")
        """
    assert fix_of(code, "PYS105") == (
        "def find(cursor, uid):\n"
        '    cursor.execute("SELECT * FROM users WHERE id = %s", (uid,))\n'
    )


def test_pys105_fix_drops_quotes_around_placeholders() -> None:
    code = """\
        def rename(cursor, user, name):
            cursor.execute(f"UPDATE users SET name = '{name}' WHERE id = {user.id}")
        """
    assert '"UPDATE users SET name = %s WHERE id = %s", (name, user.id)' in fix_of(
        code, "PYS105"
    )


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ('f"SELECT * FROM t WHERE a = {row[\'a\']} AND b <= {b}"',
         '"SELECT * FROM t WHERE a = %s AND b <= %s", (row[\'a\'], b)'),
        ('f"SELECT * FROM t WHERE name LIKE {pattern} LIMIT {n} OFFSET {m}"',
         '"SELECT * FROM t WHERE name LIKE %s LIMIT %s OFFSET %s", (pattern, n, m)'),
        ('f"SELECT \'{{}}\'::json FROM t WHERE id={uid}"',
         '"SELECT \'{}\'::json FROM t WHERE id=%s", (uid,)'),
        ("f'SELECT * FROM t WHERE id = {uid}'", "'SELECT * FROM t WHERE id = %s', (uid,)"),
        ('F"""SELECT *\n        FROM t\n        WHERE id = {uid}"""',
         '"""SELECT *\n        FROM t\n        WHERE id = %s""", (uid,)'),
    ],
)
def test_pys105_fix_variants(sql: str, expected: str) -> None:
    code = f"def find(cursor, uid, row, b, pattern, n, m):\n    cursor.execute({sql})\n"
    assert f"cursor.execute({expected})" in fix_of(code, "PYS105")


def test_pys105_fix_keeps_a_multi_line_call_layout() -> None:
    code = """\
        def find(cursor, uid):
            cursor.execute(
                f"SELECT * FROM users WHERE id = {uid}",
            )
        """
    assert '        "SELECT * FROM users WHERE id = %s", (uid,),\n    )\n' in fix_of(code, "PYS105")


@pytest.mark.parametrize(
    ("imports", "receiver", "mark"),
    [
        ("import sqlite3", "conn", "?"),
        ("import sqlite3", "db", "?"),
        ("import aiosqlite", "cursor", "?"),
        ("import psycopg2", "conn", "%s"),
        ("from django.db import connection", "cursor", "%s"),
        ("import pymysql", "connection", "%s"),
    ],
)
def test_pys105_fix_uses_the_driver_paramstyle(imports: str, receiver: str, mark: str) -> None:
    code = (f"{imports}\n\n\ndef find({receiver}, uid):\n"
            f'    {receiver}.execute(f"SELECT * FROM t WHERE id = {{uid}}")\n')
    assert f'{receiver}.execute("SELECT * FROM t WHERE id = {mark}", (uid,))' in fix_of(
        code, "PYS105"
    )


@pytest.mark.parametrize(
    "call",
    [
        # format spec, conversion, debug `=`, a call in the placeholder
        'cursor.execute(f"SELECT * FROM t WHERE id = {uid!r}")',
        'cursor.execute(f"SELECT * FROM t WHERE id = {uid=}")',
        'cursor.execute(f"SELECT * FROM t WHERE id = {uid.strip()}")',
        # an identifier position, not a value
        'cursor.execute(f"SELECT * FROM {table}")',
        'cursor.execute(f"SELECT * FROM t ORDER BY {column}")',
        'cursor.execute(f"SELECT * FROM t WHERE id = {schema}.id")',
        'cursor.execute(f"SELECT * FROM t WHERE id IN ({ids})")',
        # inside a longer SQL string, or partly quoted
        "cursor.execute(f\"SELECT * FROM t WHERE name = 'Mr {name}'\")",
        "cursor.execute(f\"SELECT * FROM t WHERE name = '{first} {name}'\")",
        'cursor.execute(f"SELECT * FROM t WHERE name = \\"{name}\\"")',
        # a literal % in the SQL
        "cursor.execute(f\"SELECT * FROM t WHERE name LIKE '%{name}%'\")",
        "cursor.execute(f\"SELECT * FROM t WHERE a LIKE 'x%' AND id = {uid}\")",
        # not a plain single-argument f-string execute
        'cursor.execute(f"SELECT * FROM t WHERE id = {uid}", ())',
        'cursor.executemany(f"INSERT INTO t VALUES ({uid})", rows)',
        'cursor.execute(rf"SELECT * FROM t WHERE id = {uid}")',
        'cursor.execute("SELECT * FROM t WHERE id = " + uid)',
        'cursor.execute("SELECT * FROM t WHERE id = {}".format(uid))',
    ],
)
def test_pys105_no_fix_when_the_rewrite_is_not_safe(call: str) -> None:
    code = f"def find(cursor, uid, table, column, schema, ids, name, first, rows):\n    {call}\n"
    no_fix(code, "PYS105")


@pytest.mark.parametrize(
    "code",
    [
        # a name built earlier: the suggestion only rewrites the call line
        'def f(cursor, uid):\n    sql = f"SELECT {uid}"\n    cursor.execute(sql)\n',
        # ORM sessions and engines are not DB-API
        'from sqlalchemy.orm import Session\n\ndef f(session, uid):\n'
        '    session.execute(f"SELECT * FROM t WHERE id = {uid}")\n',
        'import psycopg2\n\ndef f(engine, uid):\n'
        '    engine.execute(f"SELECT * FROM t WHERE id = {uid}")\n',
        # asyncpg numbers its parameters ($1)
        'import asyncpg\n\nasync def f(conn, uid):\n'
        '    await conn.execute(f"SELECT * FROM t WHERE id = {uid}")\n',
        # the paramstyle is unknown: a connection of an unnamed driver
        'def f(db, uid):\n    db.execute(f"SELECT * FROM t WHERE id = {uid}")\n',
        # two paramstyles in one module
        'import sqlite3\nimport psycopg2\n\ndef f(cursor, uid):\n'
        '    cursor.execute(f"SELECT * FROM t WHERE id = {uid}")\n',
        # a literal ? under the qmark paramstyle
        "import sqlite3\n\ndef f(cursor, uid):\n"
        "    cursor.execute(f\"SELECT '?' FROM t WHERE id = {uid}\")\n",
    ],
)
def test_pys105_no_fix_for_other_receivers_or_paramstyles(code: str) -> None:
    no_fix(code, "PYS105")


# == PYS105: identifiers and constants while the values are bound (issue #9) ============


@pytest.mark.parametrize(
    ("code", "path"),
    [
        # a table name from the model, values bound by name
        ("from sqlalchemy import text\n\n\ndef rename(session, post, slug):\n"
         "    session.execute(text(f\"UPDATE {type(post).__tablename__} SET slug=:slug\"),\n"
         "                    {\"slug\": slug})\n"
         "    session.execute(text(f\"UPDATE {Post.__table__.name} SET slug = :slug\"),\n"
         "                    {\"slug\": slug})\n", "app/posts.py"),
        # class constants, read through self, cls or the class
        ("import sqlite3\n\n\nclass Events:\n    table = \"events\"\n    kind: str = \"audit\"\n\n"
         "    def purge(self, cursor, day):\n"
         "        cursor.execute(f\"DELETE FROM {self.table} WHERE day = ?\", (day,))\n"
         "        cursor.execute(f\"DELETE FROM {Events.table} WHERE k = '{self.kind}'\")\n",
         "app/events.py"),
        # numbers: %d, a numeric format spec, int()
        ("def page(cursor, limit, offset):\n"
         "    cursor.execute(\"SELECT * FROM t LIMIT %d OFFSET %d\" % (limit, offset))\n"
         "    cursor.execute(f\"SELECT * FROM t LIMIT {limit:d}\")\n"
         "    cursor.execute(\"SELECT * FROM t LIMIT {:d}\".format(int(limit)))\n", "app/pages.py"),
        # a schema named in a migration environment
        ("from alembic import context\nfrom sqlalchemy import text\n\n\n"
         "def run_migrations_online(connection, schema):\n"
         "    connection.execute(text(f'set search_path to \"{schema}\"'))\n"
         "    connection.execute(text(f\"SET search_path TO {schema}, public\"))\n",
         "alembic/env.py"),
        ("from sqlalchemy import text\n\n\ndef upgrade(op, schema):\n"
         "    op.execute(text(f'set search_path to \"{schema}\"'))\n",
         "app/migrations/versions/0002_schema.py"),
        # values the driver escaped with cursor.mogrify
        ("import psycopg2\n\n\ndef insert(cur, rows):\n"
         "    args = \",\".join(cur.mogrify(\"(%s,%s)\", row).decode(\"utf-8\") for row in rows)\n"
         "    cur.execute(\"INSERT INTO t VALUES \" + args)\n", "app/bulk.py"),
        # a parameter that names a table, in SQL that binds its values
        ("def count(cursor, table, since):\n"
         "    cursor.execute(f\"SELECT count(*) FROM {table} WHERE at > %s\", (since,))\n"
         "    cursor.execute(f\"SELECT * FROM {table} WHERE id = :id\", {\"id\": 1})\n",
         "app/stats.py"),
        # a value escaped for a quoted literal (NOTIFY takes no bound parameters)
        ("import sqlalchemy as sa\n\n\nasync def notify(session, automation):\n"
         "    payload = json.dumps({\"id\": str(automation.id)}).replace(\"'\", \"''\")\n"
         "    await session.execute(sa.text(f\"NOTIFY changes, '{payload}'\"))\n",
         "app/notify.py"),
        # a value the function makes itself from the module's own names
        ("from datetime import datetime\n\n\ndef purge(cursor):\n"
         "    cutoff = datetime.now().isoformat()\n"
         "    cursor.execute(f\"DELETE FROM t WHERE at < '{cutoff}'\")\n", "app/purge.py"),
    ],
)
def test_pys105_never_flags_identifiers_or_constants_beside_bound_values(
        code: str, path: str) -> None:
    assert only(code, "PYS105", path) == []


@pytest.mark.parametrize(
    ("code", "line"),
    [
        # a parameter in a value position: inside quotes, after =, IN, LIKE, VALUES
        ("def f(cursor, name):\n    cursor.execute(f\"SELECT * FROM t WHERE n = '{name}'\")\n", 2),
        ("def f(cursor, ids):\n    cursor.execute(f\"SELECT * FROM t WHERE id IN ({ids})\")\n", 2),
        ("def f(cursor, ids):\n    cursor.execute(f\"SELECT * FROM t WHERE id IN {tuple(ids)}\")\n",
         2),
        ("def f(cursor, term):\n"
         "    cursor.execute(f\"SELECT * FROM t WHERE n LIKE '%{term}%' AND id = %s\", (1,))\n", 2),
        ("def f(cursor, a):\n    cursor.execute(f\"INSERT INTO t (a, b) VALUES (1, {a})\")\n", 2),
        ("def f(cursor, a):\n    cursor.execute(\"INSERT INTO t VALUES ('%s')\" % a)\n", 2),
        ("def f(cursor, a):\n    cursor.execute(f\"SELECT * FROM t WHERE n = lower('{a}')\")\n", 2),
        # beside bound values and a class constant
        ("from sqlalchemy import text\n\n\ndef f(session, name):\n"
         "    session.execute(text(f\"SELECT * FROM {Post.__tablename__} \"\n"
         "                         f\"WHERE name = '{name}' AND id = :id\"), {\"id\": 1})\n", 5),
        # request data, even where only an identifier can stand
        ("def f(cursor, request):\n"
         "    cursor.execute(f\"SELECT * FROM t WHERE id = %s ORDER BY {request.GET['o']}\", [1])\n",
         2),
        # an identifier from a parameter in SQL that binds nothing, outside migrations
        ("def f(cursor, name):\n    cursor.execute(f\"DROP TABLE {name}\")\n", 2),
        # a value in a migration still goes in as a value
        ("from django.db import migrations\n\n\ndef forwards(apps, schema_editor):\n"
         "    for tag in apps.get_model('blog', 'Tag').objects.all():\n"
         "        schema_editor.execute(f\"UPDATE t SET label = '{tag.name}'\")\n", 6),
        # a join of quoted values is not mogrify
        ("def f(cur, rows):\n"
         "    cur.execute(\"INSERT INTO t VALUES \" + \",\".join(f\"('{r}')\" for r in rows))\n", 2),
        # replacing anything else is not escaping
        ("def f(cursor, name):\n"
         "    cursor.execute(f\"SELECT * FROM t WHERE n = '{name.replace('-', '')}'\")\n", 2),
        # a local built from a parameter
        ("def f(cursor, user):\n    name = user.name.strip()\n"
         "    cursor.execute(f\"SELECT * FROM t WHERE n = '{name}'\")\n", 3),
        # script code at module level
        ("import sys\nimport sqlite3\n\nconn = sqlite3.connect('x')\n"
         "conn.execute(f\"DELETE FROM t WHERE id = {sys.argv[1]}\")\n", 5),
    ],
)
def test_pys105_still_flags_outside_data_in_value_positions(code: str, line: int) -> None:
    path = "app/migrations/0002_tags.py" if "forwards" in code else "app/db.py"
    assert lines_of(code, "PYS105", path) == [line]


def test_pys105_message_names_the_value_and_where_it_comes_from() -> None:
    code = "def find(cursor, name):\n    cursor.execute(f\"SELECT * FROM t WHERE n = '{name}'\")\n"
    assert one(code, "PYS105").message == (
        "SQL built with an f-string is passed to `cursor.execute`: `name` (from the parameter "
        "`name` of `find`) goes into the SQL as a value; pass it as a query parameter")
    code = "def drop(cursor, request):\n    cursor.execute(f\"DROP TABLE {request.POST['t']}\")\n"
    assert one(code, "PYS105").message == (
        "SQL built with an f-string is passed to `cursor.execute`: `request.POST['t']` "
        "(request data) goes into the SQL text; check it against the names you allow, or "
        "quote it as an identifier")


@pytest.mark.parametrize(
    ("before", "value"),
    [
        ("SELECT * FROM t WHERE a = ", True),
        ("SELECT * FROM t WHERE a = '", True),
        ("SELECT * FROM t WHERE a LIKE '%", True),
        ("SELECT * FROM t WHERE a IN (", True),
        ("SELECT * FROM t WHERE a IN (1, ", True),
        ("INSERT INTO t (a, b) VALUES (1, ", True),
        ("SELECT * FROM t WHERE a = lower(", True),
        ("SELECT * FROM t LIMIT ", True),
        ("SELECT * FROM ", False),
        ("SELECT * FROM t ORDER BY ", False),
        ("UPDATE t SET ", False),
        ('set search_path to "', False),
        ("CREATE TABLE t (", False),
        ("SELECT count(", False),
        ("SELECT * FROM t WHERE a = 'x' AND ", False),
    ],
)
def test_sql_text_value_positions(before: str, value: bool) -> None:
    assert is_value_position(before) is value


@pytest.mark.parametrize(
    ("text", "binds"),
    [
        ("UPDATE t SET slug=:slug", True),
        ("SELECT * FROM t WHERE id = %s", True),
        ("SELECT * FROM t WHERE id = %(id)s", True),
        ("SELECT * FROM t WHERE id = ?", True),
        ("SELECT * FROM t WHERE id = $1", True),
        ("SELECT '{}'::json FROM t", False),
        ("SELECT * FROM t WHERE at = '12:30'", False),
        ("SELECT * FROM t WHERE a = 'is it :x?'", False),
        ("DROP TABLE t", False),
    ],
)
def test_sql_text_bound_placeholders(text: str, binds: bool) -> None:
    assert binds_values(text) is binds


def test_pys105_reads_the_text_of_a_module_constant_template() -> None:
    code = """\
        QUERY = "SELECT * FROM {table} WHERE id = %s"
        DELETE = "DELETE FROM t WHERE name = '{}'"


        def find(cursor, table, uid, name):
            cursor.execute(QUERY.format(table=table), (uid,))
            cursor.execute(DELETE.format(name))
        """
    [finding] = only(code, "PYS105")
    assert finding.line == 7 and "goes into the SQL as a value" in finding.message


# -- what the default selection reports: only values the code shows are untrusted ----------

def default_lines(code: str, path: str = "app.py") -> list[int]:
    """PYS105's lines when the repository sets nothing (`select = ["DEFAULT"]`)."""
    return [f.line for f in lint(code, path, select="DEFAULT") if f.code == "PYS105"]


def test_pys105_by_default_stays_quiet_on_a_helpers_parameter() -> None:
    # ckan's datastore backend: `timeout` comes from the caller, which the file cannot show.
    code = """\
        def run(connection, timeout):
            connection.execute(f"SET LOCAL statement_timeout TO {timeout}")
            connection.execute(f"SELECT * FROM t WHERE owner = '{timeout}'")
        """
    assert default_lines(code) == []
    assert lines_of(code, "PYS105") == [2, 3]  # chosen by code, the rule says all it sees


def test_pys105_by_default_flags_request_data_and_handler_parameters() -> None:
    code = """\
        from django.db import connection
        from flask import Flask, request

        app = Flask(__name__)


        @app.route("/users/<name>")
        def user(name):
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT * FROM users WHERE name = '{name}'")
                cursor.execute("SELECT * FROM t WHERE q = '%s'" % request.args["q"])
        """
    assert default_lines(code) == [10, 11]
    by_line = {f.line: f for f in lint(code, select="DEFAULT") if f.code == "PYS105"}
    assert "from the request" in by_line[10].message and "`user`" in by_line[10].message
    # Only request data in a value position fails the merge gate; a path parameter may be
    # an id the URL pattern checked.
    assert (by_line[10].severity, by_line[11].severity) == ("warning", "error")


def test_pys105_by_default_skips_dependencies_and_numbers_of_handlers() -> None:
    code = """\
        from fastapi import Depends, FastAPI
        from sqlalchemy import text

        app = FastAPI()


        @app.get("/items/{item_id}")
        def item(item_id: int, table=Depends(current_table)):
            return db.execute(text(f"SELECT * FROM {table} WHERE id = {item_id}"))
        """
    assert default_lines(code) == []


@pytest.mark.parametrize("value", [
    "identifier(name)",  # ckan's own quoting helpers
    "literal_string(name)",
    "quote_table(name)",
    "escape_like(name)",
    "sa.column(name)",
    "str(sa.column(name))",
])
def test_pys105_trusts_what_a_quoting_helper_returns(value: str) -> None:
    code = f"""\
        import sqlalchemy as sa


        def drop(connection, name):
            connection.execute(sa.text(f"DROP INDEX {{{value}}}; SELECT '{{{value}}}'"))
        """
    assert lines_of(code, "PYS105") == []


def test_pys105_literal_column_is_not_quoting() -> None:
    code = """\
        import sqlalchemy as sa


        def drop(connection, name):
            connection.execute(sa.text(f"SELECT * FROM t WHERE a = {sa.literal_column(name)}"))
        """
    assert lines_of(code, "PYS105") == [5]


def test_pys105_names_in_a_migration_folder_are_the_projects_own() -> None:
    # ckan keeps its Alembic scripts in `ckan/migration/versions/`.
    code = """\
        from alembic import op
        from sqlalchemy import text


        def upgrade():
            for table in tables():
                op.get_bind().execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pk"))
        """
    assert lines_of(code, "PYS105", "ckan/migration/versions/021_upgrade.py") == []
    assert lines_of(code, "PYS105", "ckan/lib/maintenance.py") == [7]


def test_pys105_trusts_values_checked_against_literals() -> None:
    # calibre-web's book list: both values are checked against allowed words first.
    code = """\
        from flask import request
        from sqlalchemy import text


        def list_books(session):
            sort = request.args.get("sort", "id")
            order = request.args.get("order", "").lower()
            if not order in ["asc", "desc", ""]:
                order = "asc"
            if sort == "state":
                pass
            elif order and sort in ["sort", "title", "authors_sort"]:
                return session.execute(text("SELECT * FROM books ORDER BY " + sort + " " + order))
            return session.execute(text("SELECT * FROM books ORDER BY " + sort))
        """
    assert lines_of(code, "PYS105") == [14]


def test_pys105_a_check_that_does_not_stop_is_not_a_guard() -> None:
    code = """\
        from flask import request
        from sqlalchemy import text


        def search(session):
            order = request.args["order"]
            if order not in ("asc", "desc"):
                log.warning("odd order %s", order)
            if order != "asc" or sort:
                pass
            return session.execute(text("SELECT * FROM books ORDER BY id " + order))
        """
    assert lines_of(code, "PYS105") == [11]
