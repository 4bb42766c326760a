"""PYS104 print-in-server-code: every flags / never-flags item and the fix of its RULES.md
row."""

from __future__ import annotations

import pytest

from pystd.rules.engine import Finding
from tests.rules import lint as shared

LOGGER = "import logging\n\nfrom django.http import HttpResponse\n\nlogger = logging.getLogger(__name__)\n"


def only(code: str, path: str = "app.py") -> list[Finding]:
    return shared.only(code, "PYS104", path)


def lines_of(code: str, path: str = "app/views.py") -> list[int]:
    return shared.lines_of(code, "PYS104", path)


def fix_of(code: str, path: str = "app/views.py") -> str:
    return shared.fix_of(code, "PYS104", path)


# == flags ===============================================================================


@pytest.mark.parametrize("imports", [
    "import django", "from django.http import HttpResponse", "from flask import Flask",
    "import fastapi", "from fastapi import APIRouter", "from starlette.routing import Route",
    "from ninja import Router",
])
def test_flags_print_in_modules_importing_a_web_framework(imports: str) -> None:
    code = f"{imports}\n\n\ndef f(x):\n    print(x)\n"
    assert lines_of(code) == [5]


def test_flags_every_print_of_a_module_at_any_level() -> None:
    code = "from flask import Flask\n\nprint('loading')\n\n\nclass C:\n    def f(self):\n" \
           "        print('a', 'b', sep='-')\n"
    assert lines_of(code) == [3, 8]


def test_flags_nested_packages_and_top_level_files_without_a_main_guard() -> None:
    code = "from fastapi import FastAPI\n\nprint('x')\n"
    assert lines_of(code, "src/shop/api/routes.py") == [3]
    assert lines_of(code, "main.py") == [3]


# == never flags =========================================================================


def test_never_flags_modules_without_a_web_framework() -> None:
    assert lines_of("import requests\n\nprint(requests.get('x'))\n") == []
    assert lines_of("def f():\n    from django.http import HttpResponse\n    print(1)\n") == []


def test_never_flags_main_blocks() -> None:
    code = "from fastapi import FastAPI\n\napp = FastAPI()\n\nif __name__ == '__main__':\n" \
           "    import uvicorn\n    print('serving')\n    uvicorn.run(app)\n"
    assert lines_of(code) == []


@pytest.mark.parametrize("path", ["shop/management/commands/sync.py",
                                  "management/commands/import_users.py"])
def test_never_flags_django_management_commands(path: str) -> None:
    code = "from django.core.management.base import BaseCommand\n\n\n" \
           "class Command(BaseCommand):\n    def handle(self, *a, **kw):\n        print('ok')\n"
    assert lines_of(code, path) == []


@pytest.mark.parametrize("path", ["scripts/seed.py", "bin/export.py", "tools/dump_urls.py",
                                  "deploy/scripts/migrate.py"])
def test_never_flags_scripts_outside_the_package(path: str) -> None:
    assert lines_of("from django.conf import settings\n\nprint(settings.DEBUG)\n", path) == []


EXAMPLE_FORM = (
    "import smtplib\n\nfrom starlette.requests import Request\n\n\n"
    "def booking_endpoint(request: Request, data) -> str:\n"
    "    try:\n"
    "        smtplib.SMTP('localhost:1025').sendmail('a@x.test', [data.email], 'hi')\n"
    "        print('Successfully sent email')\n"
    "    except smtplib.SMTPException:\n"
    "        print('Error: unable to send email')\n"
    "    return 'Booking complete'\n"
)


@pytest.mark.parametrize("path", ["piccolo_admin/example/forms/email.py", "examples/app.py",
                                  "demo/main.py", "docs/demos/shop/views.py"])
def test_never_flags_example_and_demo_code(path: str) -> None:
    """Survey (piccolo-admin 1.14.0, `example/forms/email.py:35, 37`): the demo app's form
    handler reports to the terminal of whoever runs the example."""
    assert lines_of(EXAMPLE_FORM, path) == []


@pytest.mark.parametrize("path", ["app/views.py", "example.py", "app/examples_api.py"])
def test_flags_the_same_code_outside_example_folders(path: str) -> None:
    assert lines_of(EXAMPLE_FORM, path) == [9, 11]


def test_never_flags_executable_files_and_top_level_scripts_with_a_main_guard() -> None:
    assert lines_of("#!/usr/bin/env python\nimport flask\n\nprint(flask)\n") == []
    code = "import flask\n\n\ndef main():\n    print(flask)\n\n\nif __name__ == '__main__':\n" \
           "    main()\n"
    assert lines_of(code, "seed_db.py") == []
    assert lines_of(code, "app/seed_db.py") == [5]  # inside the package: server code


@pytest.mark.parametrize("decorator", ["@app.cli.command()", "@app.cli.command('seed')",
                                       "@click.command()", "@cli.command()", "@command()"])
def test_never_flags_command_line_commands(decorator: str) -> None:
    code = f"import click\nfrom click import command\nfrom flask import Flask\n\napp = Flask(__name__)\n" \
           f"\n\n{decorator}\ndef seed():\n    print('seeded')\n"
    assert lines_of(code) == []


@pytest.mark.parametrize("path", ["indico/cli/database.py", "indico/cli/watchman.py",
                                  "app/commands/seed.py", "app/cli.py", "app/commands.py",
                                  "app/__main__.py"])
def test_never_flags_the_command_line_part_of_a_package(path: str) -> None:
    """Survey (indico 3.2.9, `indico/cli/`): click command modules and their helpers are
    what `management/commands/` is to Django."""
    code = "import click\nfrom flask import current_app\n\n\ndef _helper(x):\n    print(x)\n"
    assert lines_of(code, path) == []


def test_never_flags_a_function_that_writes_to_the_terminal_with_click() -> None:
    """Survey (indico 3.2.9, `core/db/sqlalchemy/migration.py`): `prepare_db` reports with
    `click.secho` and `print` alike."""
    code = """\
        import click
        from click import echo
        from flask import current_app


        def prepare_db(empty=False):
            if not empty:
                click.secho("Your database is not empty!", fg="red")
                print()
                for table in current_app.tables:
                    print(table)


        def seed():
            echo("seeding")
            print("done")


        def index():
            print("index")
            return click.style("x")
        """
    assert lines_of(code, "app/core/migration.py") == [20]


@pytest.mark.parametrize("path", ["app/views.py", "app/clients/api.py", "app/command.py"])
def test_flags_modules_that_only_look_like_commands(path: str) -> None:
    code = "import click\nfrom flask import current_app\n\n\ndef _helper(x):\n    print(x)\n"
    assert lines_of(code, path) == [6]


def test_never_flags_a_print_that_is_not_the_builtin() -> None:
    code = "from django.http import HttpResponse\nfrom rich import print\n\nprint('[b]x[/b]')\n"
    assert lines_of(code) == []
    code = "from django.http import HttpResponse\n\nlogger.print('x')\n"
    assert lines_of(code) == []


def test_skips_test_files() -> None:
    assert only("from flask import Flask\n\nprint(1)\n", "tests/test_app.py") == []


# == fix =================================================================================


def test_fix_print_becomes_logger_info() -> None:
    code = LOGGER + "\n\ndef view(request):\n    print(request.user)\n"
    assert fix_of(code).endswith("def view(request):\n    logger.info(request.user)\n")


def test_fix_uses_log_when_the_module_names_its_logger_log() -> None:
    code = "import logging\nimport flask\n\nlog = logging.getLogger(__name__)\n\nprint(f'x={flask}')\n"
    assert fix_of(code).endswith("log.info(f'x={flask}')\n")


@pytest.mark.parametrize("call", ["print(a, b)", "print(x, file=sys.stderr)", "print(*xs)",
                                  "print()", "print(x, end='')"])
def test_no_fix_unless_one_positional_argument(call: str) -> None:
    findings = only(LOGGER + f"\n\ndef f(a, b, x, xs):\n    {call}\n", "app/views.py")
    assert findings and all(f.fix is None for f in findings)


def test_no_fix_without_a_module_logger() -> None:
    code = "from django.http import HttpResponse\n\n\ndef f(request):\n" \
           "    logger = make()\n    print(request)\n"
    findings = only(code, "app/views.py")
    assert findings and all(f.fix is None for f in findings)


# == migrations, terminal prompts and logging handlers ===================================

MIGRATION = ("from django.db import migrations\n\n\ndef forwards(apps, schema_editor):\n"
             "    print('backfilled', 3)\n\n\n"
             "class Migration(migrations.Migration):\n    operations = []\n")
ALEMBIC = ("import sqlalchemy as sa\nfrom alembic import op\nfrom flask import current_app\n\n\n"
           "def upgrade():\n    print('upgrading')\n")


@pytest.mark.parametrize(("code", "path"), [
    (MIGRATION, "shop/migrations/0004_backfill.py"),
    (ALEMBIC, "alembic/versions/1a2b_add_column.py"),
    (ALEMBIC, "migrations/versions/1a2b_add_column.py"),
    (ALEMBIC, "db/revisions/1a2b_add_column.py"),
    ("from flask import current_app\nfrom alembic import context\n\nprint('env')\n",
     "migrations/env.py"),
])
def test_never_flags_migrations(code: str, path: str) -> None:
    assert lines_of(code, path) == []


@pytest.mark.parametrize("body", [
    "    answer = input('Delete every order? [y/N] ')\n    print('deleting')\n",
    "    if not sys.stdin.isatty():\n        return\n    print('Type the new password:')\n",
    "    password = getpass.getpass()\n    print('saved')\n",
])
def test_never_flags_functions_that_talk_with_the_terminal(body: str) -> None:
    code = ("import getpass\nimport sys\n\nfrom django.conf import settings\n\n\n"
            f"def confirm_reset():\n{body}")
    assert lines_of(code) == []


def test_never_flags_a_print_under_an_isatty_check() -> None:
    code = ("import sys\n\nfrom flask import Flask\n\napp = Flask(__name__)\n"
            "if sys.stdout.isatty():\n    print('serving on :5000')\n")
    assert lines_of(code) == []


@pytest.mark.parametrize("base", ["logging.Handler", "logging.StreamHandler",
                                  "logging.handlers.RotatingFileHandler", "BaseHandler"])
def test_never_flags_a_logging_handler_writing_records(base: str) -> None:
    code = ("import logging\nimport logging.handlers\n\nfrom django.conf import settings\n\n\n"
            "class BaseHandler(logging.Handler):\n    pass\n\n\n"
            f"class ConsoleHandler({base}):\n    def emit(self, record):\n"
            "        print(self.format(record))\n")
    assert lines_of(code) == []


@pytest.mark.parametrize(("code", "path", "line"), [
    # A view beside a migrations folder, a view that prints before reading a form.
    (MIGRATION.replace("migrations.Migration", "object"), "shop/views/migrations.py", 5),
    ("from django.http import HttpResponse\n\n\ndef view(request):\n"
     "    print(request.POST.get('input'))\n    return HttpResponse()\n", "shop/views.py", 5),
    # `isatty` checked in another function; a class that is not a logging handler.
    ("import sys\n\nfrom flask import Flask\n\n\ndef tty():\n    return sys.stdin.isatty()\n\n\n"
     "def index():\n    print('index')\n", "app/views.py", 11),
    ("import logging\n\nfrom flask import Flask\n\n\nclass Exporter(logging.Filter):\n"
     "    def filter(self, record):\n        print(record)\n        return True\n",
     "app/logs.py", 8),
])
def test_still_flags_server_code_that_only_looks_interactive(code: str, path: str,
                                                             line: int) -> None:
    assert lines_of(code, path) == [line]
