"""PYS104 print-in-server-code: `print` where a server should log."""

from __future__ import annotations

from functools import cached_property
from pathlib import PurePosixPath

import libcst as cst

from pystd.rules.context import FileContext, dotted_name, is_main_guard
from pystd.rules.engine import Category, Example, Rule, Severity, register
from pystd.rules.general.loggers import module_loggers
from pystd.rules.general.secrets import EXAMPLE_FOLDERS
from pystd.rules.walker import find_nodes

WEB_FRAMEWORKS = frozenset({"django", "flask", "fastapi", "starlette", "ninja"})
# Folders that hold scripts run by hand, not code the server imports.
SCRIPT_FOLDERS = frozenset({"scripts", "script", "bin", "tools"})
# Decorators of command-line commands (`@app.cli.command()`, `@click.command()`,
# `@typer_app.command()`): their output is for a terminal.
_COMMAND_DECORATORS = ("command", "group")
# The command-line part of a package, like Django's `management/commands/`: a `cli/` or
# `commands/` folder, or a `cli.py`/`commands.py`/`__main__.py` module.
COMMAND_FOLDERS = frozenset({"cli", "commands"})
COMMAND_MODULES = frozenset({"cli.py", "commands.py", "__main__.py"})
# A function that writes to the terminal with one of these is command-line output.
TERMINAL_WRITERS = frozenset({"click.echo", "click.secho", "typer.echo", "typer.secho"})
# A function that asks the person at the terminal something talks to them with `print`.
PROMPTS = frozenset({"builtins.input", "getpass.getpass"})
# Folders of database migrations, run from a terminal by `migrate`/`alembic upgrade`:
# Django's `migrations/`, Alembic's `alembic/` (and its `versions/` under Flask-Migrate's
# `migrations/`).
MIGRATION_FOLDERS = frozenset({"migrations", "alembic"})


@register
class PrintInServerCode(Rule):
    code = "PYS104"
    name = "print-in-server-code"
    severity = Severity.INFO
    category = Category.STYLE
    default = False
    rationale = (
        "Whether `print` belongs in a module is house style: migrations, prompts and CLI "
        "helpers print on purpose (19 of 23 findings wrong before narrowing; issue #9), so it "
        "is opt-in."
    )
    message = "`print()` in server code; log through the module logger instead"
    requires = ("print(",)
    docs = """
## What it does
Flags `print(...)` in a module that imports a web framework (Django, Flask, FastAPI,
Starlette, Django Ninja).

Not flagged: code under `if __name__ == "__main__":`, Django management commands
(`management/commands/`) and their click counterparts (modules in a `cli/` or `commands/`
folder, `cli.py`, `commands.py`, `__main__.py`), and scripts outside the package — files in
a `scripts/`, `bin/` or `tools/` folder, files starting with a `#!` line, and top-level
files (no folder) with a `__main__` guard — nor example and demo code (an `example/`,
`examples/`, `demo/` or `demos/` folder), nor functions decorated as command-line
commands (`@app.cli.command()`, `@click.command()`) or that also write to the terminal with
`click.echo`/`click.secho`.

Nor database migrations (files in a `migrations/` or `alembic/` folder, or that import
`alembic`: they run from a terminal), functions that talk with the person at the terminal
(they prompt with `input()`/`getpass()` or check `isatty()`), prints under an
`if ....isatty():` check, and the methods of a `logging.Handler` subclass (an `emit` that
prints is how that handler writes its records).

## Why is this bad?
`print` writes to stdout with no level, timestamp, logger name or request context, can't
be filtered or routed, and is lost or interleaved under a process manager. The Twelve-Factor
App ("XI. Logs") treats logs as event streams produced through one channel; Python's
Logging HOWTO recommends `logging` over `print` for anything but a command-line program's
normal output. Stray debugging prints may also leak data into logs.

## Example
```python
def checkout(request):
    print("checkout", request.user.id)
```

## Use instead
```python
logger = logging.getLogger(__name__)

def checkout(request):
    logger.info("checkout user=%s", request.user.id)
```

## Fix
`print(x)` (one positional argument, no keywords) becomes `logger.info(x)` when the module
defines a logger at top level (`logger`/`log = logging.getLogger(...)`).

## Suppress
`# noqa: PYS104` on the line.
"""
    bad = (
        """
        from django.http import HttpResponse


        def view(request):
            print(request.user)  # flagged
            return HttpResponse()
        """,
        Example(
            """
            import logging

            from flask import Flask

            logger = logging.getLogger(__name__)
            app = Flask(__name__)


            @app.get('/')
            def index():
                print('index')  # flagged
                return 'ok'
            """,
            fixed="""
            import logging

            from flask import Flask

            logger = logging.getLogger(__name__)
            app = Flask(__name__)


            @app.get('/')
            def index():
                logger.info('index')  # flagged
                return 'ok'
            """,
        ),
    )
    good = (
        """
        from fastapi import FastAPI

        app = FastAPI()

        if __name__ == '__main__':
            print('starting')
        """,
        Example(
            """
            from django.core.management.base import BaseCommand


            class Command(BaseCommand):
                def handle(self, *args, **options):
                    print('done')
            """,
            "shop/management/commands/sync.py",
        ),
        Example(
            """
            from myapp import create_app
            from flask import Flask

            print(Flask)
            """,
            "scripts/seed.py",
        ),
        """
        import sys

        print('hello', file=sys.stderr)
        """,
    )

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return bool(ctx.frameworks & WEB_FRAMEWORKS) and not (
            ctx.kind.is_management_command or _is_script(ctx)
        )

    @cached_property
    def _logger(self) -> str | None:
        loggers = module_loggers(self.ctx)
        return next((name for name in ("logger", "log") if name in loggers), None)

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._terminal: dict[int, bool] = {}
        self._handlers: frozenset[str] | None = None

    def _writes_to_terminal(self, func: cst.FunctionDef | None) -> bool:
        """Does the function also print with `click.echo`/`click.secho`, or talk with the
        person at the terminal: prompt with `input()`/`getpass()`, or check
        `sys.stdin.isatty()` first?"""
        if func is None:
            return False
        known = self._terminal.get(id(func))
        if known is None:
            known = any(isinstance(call, cst.Call) and self._is_terminal_call(call)
                        for call in find_nodes(func.body, (cst.Call,)))
            self._terminal[id(func)] = known
        return known

    def _is_terminal_call(self, call: cst.Call) -> bool:
        qualified = self.ctx.qualified_name(call.func)
        if qualified in TERMINAL_WRITERS or qualified in PROMPTS:
            return True
        return isinstance(call.func, cst.Attribute) and call.func.attr.value == "isatty"

    def _under_isatty_check(self) -> bool:
        """Inside `if sys.stdin.isatty():` (at any level, also at module level)."""
        for node in self.ctx.ancestors:
            if isinstance(node, (cst.If, cst.While)) and any(
                    isinstance(call, cst.Call) and self._is_terminal_call(call)
                    for call in [node.test, *find_nodes(node.test, (cst.Call,))]):
                return True
        return False

    def _in_logging_handler(self) -> bool:
        """In a method of a `logging.Handler` subclass (`emit` writing the record out is
        the handler's job, whatever it writes with)."""
        if self._handlers is None:
            self._handlers = _logging_handler_classes(self.ctx)
        if not self._handlers:
            return False
        ancestors = self.ctx.ancestors
        return any(isinstance(node, cst.ClassDef) and node.name.value in self._handlers
                   for node in ancestors)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Name) or func.value != "print":
            return
        ctx = self.ctx
        if ctx.qualified_name(func) != "builtins.print" or ctx.in_main_block():
            return
        if _in_command(ctx) or self._writes_to_terminal(ctx.enclosing_function()):
            return
        if self._under_isatty_check() or self._in_logging_handler():
            return
        logger = self._logger
        args = node.args
        if logger is None or len(args) != 1 or args[0].keyword is not None or args[0].star:
            self.report(node)
            return
        new = node.with_changes(func=cst.Attribute(cst.Name(logger), cst.Name("info")))
        self.report(node, replace=(node, new))


def _is_script(ctx: FileContext) -> bool:
    """A script run by hand rather than a module the server imports."""
    path = PurePosixPath(ctx.kind.path)
    if SCRIPT_FOLDERS.intersection(path.parts[:-1]) or ctx.source.startswith("#!"):
        return True
    if EXAMPLE_FOLDERS.intersection(path.parts[:-1]):  # a demo app shows, it is not served
        return True
    if COMMAND_FOLDERS.intersection(path.parts[:-1]) or path.name in COMMAND_MODULES:
        return True
    if MIGRATION_FOLDERS.intersection(path.parts[:-1]) or ctx.imports_module("alembic"):
        return True  # a migration prints to the terminal that runs it
    if len(path.parts) == 1 and ctx.module is not None:  # a top-level file with a main guard
        return any(isinstance(stmt, cst.If) and is_main_guard(stmt.test)
                   for stmt in ctx.module.body)
    return False


def _logging_handler_classes(ctx: FileContext) -> frozenset[str]:
    """Classes of the module deriving, maybe through each other, from a `logging` handler
    (`logging.Handler`, `logging.StreamHandler`, `logging.handlers.RotatingFileHandler`)."""
    module = ctx.module
    if module is None or not ctx.imports_module("logging"):
        return frozenset()
    classes = [s for s in module.body if isinstance(s, cst.ClassDef)]
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for cls in classes:
            if cls.name.value in found:
                continue
            for base in cls.bases:
                qualified = ctx.qualified_name(base.value) or ""
                if (isinstance(base.value, cst.Name) and base.value.value in found) or (
                        qualified.startswith("logging.") and qualified.endswith("Handler")):
                    found.add(cls.name.value)
                    changed = True
                    break
    return frozenset(found)


def _in_command(ctx: FileContext) -> bool:
    """Inside a function decorated as a command-line command (`@app.cli.command()`)."""
    for scope in ctx.scopes:
        if not isinstance(scope, cst.FunctionDef):
            continue
        for dec in scope.decorators:
            target = dec.decorator
            name = dotted_name(target.func if isinstance(target, cst.Call) else target) or ""
            if name.rsplit(".", 1)[-1] in _COMMAND_DECORATORS and (
                "cli" in name or "click" in name or "typer" in name or name.count(".") == 0
            ):
                return True
    return False
