"""PYS301 flask-debug-mode."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from pystd.rules.context import FileContext
from pystd.rules.engine import Category, Example, Rule, Severity, register
from pystd.rules.flask.application import FACTORIES, Apps
from pystd.rules.nodes import is_true, literal_string

# `Flask.run(host=None, port=None, debug=None, load_dotenv=True, **options)`
_DEBUG_POSITION = 2
# Frameworks whose application objects have a `run(debug=...)` of their own (Sanic, Quart,
# Dash, Bottle ...) or that serve an application another way (uvicorn, hypercorn): a module
# that imports one is not starting a Flask app it got from a factory.
_OTHER_SERVERS = ("sanic", "quart", "fastapi", "starlette", "uvicorn", "hypercorn",
                  "aiohttp", "tornado", "litestar", "falcon", "bottle", "dash", "django",
                  "gradio", "streamlit", "cherrypy", "pyramid", "twisted")


def imports_flask(ctx: FileContext) -> bool:
    """The module imports Flask or a Flask extension (`flask_sqlalchemy`, `flask_script`)."""
    return any(target.split(".", 1)[0] == "flask" or target.startswith("flask_")
               for target in ctx.imports.values())


def runs_a_factory_app(ctx: FileContext) -> bool:
    """A start script without a Flask import: `from myapp import create_app`,
    `app = create_app()`, `app.run(...)`. The application factory is Flask's pattern
    (flask.palletsprojects.com/en/stable/patterns/appfactories/), and no other server
    framework is imported."""
    source = ctx.source
    return (".run(" in source and any(f"{name}(" in source for name in FACTORIES)
            and not ctx.imports_module(*_OTHER_SERVERS))


def _name(node: cst.BaseExpression) -> str:
    return node.value if isinstance(node, cst.Name) else "Flask(…)"


def without_arg(call: cst.Call, index: int) -> cst.Call:
    """`call` without its argument at `index`, keeping the layout of the others."""
    args = list(call.args)
    removed = args.pop(index)
    if not args:
        return call.with_changes(args=(), whitespace_before_args=cst.SimpleWhitespace(""))
    if index == len(args):  # it was the last: its predecessor takes its comma and spacing
        args[-1] = args[-1].with_changes(
            comma=removed.comma, whitespace_after_arg=removed.whitespace_after_arg
        )
    return call.with_changes(args=args)


def _without_statement(block: cst.Module | cst.IndentedBlock,
                       line: cst.SimpleStatementLine) -> cst.Module | cst.IndentedBlock | None:
    """`block` without the statement `line`; its leading comments stay. None if the block
    would be left empty."""
    body: list[cst.BaseStatement] = list(block.body)
    index = next((i for i, stmt in enumerate(body) if stmt is line), None)
    if index is None or len(body) < 2:
        return None
    body.pop(index)
    if line.leading_lines:  # comment and blank lines above the statement stay in place
        if index < len(body):
            nxt = body[index]
            assert isinstance(nxt, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
            body[index] = nxt.with_changes(leading_lines=[*line.leading_lines, *nxt.leading_lines])
        else:
            return block.with_changes(body=body, footer=[*line.leading_lines, *block.footer])
    return block.with_changes(body=body)


@register
class FlaskDebugMode(Rule):
    code = "PYS301"
    name = "flask-debug-mode"
    severity = Severity.WARNING
    category = Category.SECURITY
    default = True
    rationale = (
        "Flask's debugger runs Python from the browser, but `app.run(debug=True)` is most "
        "often the development server under `if __name__ == \"__main__\"`, which gunicorn or "
        "uwsgi never run: worth a comment, not a failed check."
    )
    message = "{what} enables Flask debug mode: the Werkzeug debugger runs Python from the browser"
    # `.run(` for `app.run(host, port, True)`, which never spells "debug".
    requires = ("debug", "DEBUG", ".run(")
    docs = """
## What it does
In a module that imports Flask, flags debug mode switched on in code:
`app.run(..., debug=True)`, `app.debug = True`, `app.config["DEBUG"] = True` and
`app.config.update(DEBUG=True)`/`from_mapping(DEBUG=True)`. The application is any name
bound to `Flask(...)` or to `create_app(...)` in the module, or a name `app`/`application`.
A Flask extension import (`flask_sqlalchemy`, `flask_migrate`) counts as importing Flask.

A start script that imports no Flask at all is flagged too when it runs an application
made by a factory in debug mode: `from myapp import create_app`, `app = create_app()`,
`app.run(debug=True)` (also `make_app()`, and `create_app().run(debug=True)`). There only
`run(debug=True)` counts, and not when the script imports another server framework
(uvicorn, Sanic, Quart, Dash, FastAPI, Django …), whose objects have their own `run`.
Values read from the environment or from settings (`debug=os.environ...`) are not flagged.
Under `if __name__ == "__main__":` it is still flagged: that block ships too, and is how
the app ends up started on a server with `python app.py`.

## Why is this bad?
Debug mode turns on the Werkzeug interactive debugger. Any request that raises shows a
traceback page with a console that executes arbitrary Python on the server, protected only
by a PIN. Flask's documentation ("Debugging Application Errors",
flask.palletsprojects.com/en/stable/debugging/) says: do not run the development server or
enable the debugger in production; it "allows executing arbitrary Python code from the
browser". The Werkzeug docs ("Debugging Applications") carry the same warning.

## Example
```python
app = Flask(__name__)

if __name__ == "__main__":
    app.run(host="0.0.0.0", debug=True)
```

## Use instead
```python
app = Flask(__name__)

if __name__ == "__main__":
    app.run(host="0.0.0.0")
```
and start the development server locally with `flask --app app run --debug`, or take the
value from the environment: `app.run(debug=os.environ.get("FLASK_DEBUG") == "1")`.

## Fix
Removes `debug=True` from `app.run(...)`/`app.config.update(...)`, and removes a
`app.debug = True`/`app.config["DEBUG"] = True` statement.

## Suppress
`# noqa: PYS301` on the line.
"""
    bad = (
        Example(
            """
            from flask import Flask

            app = Flask(__name__)

            if __name__ == '__main__':
                app.run(host='0.0.0.0', debug=True)  # flagged
            """,
            fixed="""
            from flask import Flask

            app = Flask(__name__)

            if __name__ == '__main__':
                app.run(host='0.0.0.0')  # flagged
            """,
        ),
        Example(
            """
            import flask

            server = flask.Flask(__name__)
            server.debug = True  # flagged
            """,
            fixed="""
            import flask

            server = flask.Flask(__name__)
            """,
        ),
        Example(
            """
            from flask import Flask

            app = Flask(__name__)
            app.config['DEBUG'] = True  # flagged
            app.config['TESTING'] = False
            """,
            fixed="""
            from flask import Flask

            app = Flask(__name__)
            app.config['TESTING'] = False
            """,
        ),
        Example(
            """
            from flask import Flask

            app = Flask(__name__)
            app.config.update(DEBUG=True, JSON_SORT_KEYS=False)  # flagged
            """,
            fixed="""
            from flask import Flask

            app = Flask(__name__)
            app.config.update(JSON_SORT_KEYS=False)  # flagged
            """,
        ),
    )
    good = (
        """
        import os

        from flask import Flask

        app = Flask(__name__)

        if __name__ == '__main__':
            app.run(debug=os.environ.get('FLASK_DEBUG') == '1')
        """,
        """
        from flask import Flask

        app = Flask(__name__)
        app.run(debug=False)
        """,
        """
        from flask import Flask

        app = Flask(__name__)
        app.config.from_prefixed_env()
        """,
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        # Without a Flask import, only `.run(debug=True)` on a name bound to the result of
        # an application factory (`app = create_app()`) counts.
        self._flask = imports_flask(ctx)
        self._apps = Apps(ctx, conventional_names=self._flask)

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return imports_flask(ctx) or runs_a_factory_app(ctx)

    def visit_Assign(self, node: cst.Assign) -> None:
        for assign_target in node.targets:
            self._apps.bind(assign_target.target, node.value)
        if len(node.targets) != 1 or not is_true(node.value) or not self._flask:
            return
        target = node.targets[0].target
        if isinstance(target, cst.Attribute) and target.attr.value == "debug":
            if self._apps.is_app(target.value):
                self._flag_statement(node, f"`{_name(target.value)}.debug = True`")
        elif (isinstance(target, cst.Subscript) and isinstance(target.value, cst.Attribute)
              and self._is_config(target.value)):
            element = target.slice[0].slice if len(target.slice) == 1 else None
            if isinstance(element, cst.Index) and literal_string(element.value) == "DEBUG":
                app = target.value.value
                self._flag_statement(node, f'`{_name(app)}.config["DEBUG"] = True`')

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._apps.bind(node.target, node.value)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        if method == "run" and self._apps.is_app(func.value):
            what = f"`{_name(func.value)}.run(debug=True)`"
            self._check_args(node, "debug", what, positional=_DEBUG_POSITION)
        elif (method in ("update", "from_mapping") and self._flask
              and self._is_config(func.value)):
            assert isinstance(func.value, cst.Attribute)
            what = f"`{_name(func.value.value)}.config.{method}(DEBUG=True)`"
            self._check_args(node, "DEBUG", what, positional=None)

    def _is_config(self, node: cst.BaseExpression) -> bool:
        return (
            isinstance(node, cst.Attribute)
            and node.attr.value == "config"
            and self._apps.is_app(node.value)
        )

    def _check_args(self, node: cst.Call, keyword: str, what: str, positional: int | None) -> None:
        args: Sequence[cst.Arg] = node.args
        message = self.message.format(what=what)
        for index, arg in enumerate(args):
            name = arg.keyword.value if arg.keyword is not None else None
            if name == keyword and is_true(arg.value):
                self._flag_arg(node, index, message)
                return
            if name is None and not arg.star and index == positional and is_true(arg.value):
                self._flag_arg(node, index, message)
                return
        # `app.config.update({"DEBUG": True})`
        if positional is None and args and args[0].keyword is None and not args[0].star:
            mapping = args[0].value
            if isinstance(mapping, cst.Dict) and any(
                isinstance(el, cst.DictElement) and literal_string(el.key) == "DEBUG"
                and is_true(el.value)
                for el in mapping.elements
            ):
                self.report(node, message.replace("(DEBUG=True)", '({"DEBUG": True})'))

    def _flag_arg(self, node: cst.Call, index: int, message: str) -> None:
        args = node.args
        fixable = args[index].keyword is not None or index == len(args) - 1
        if fixable and (len(args) > 1 or node.func.attr.value == "run"):  # type: ignore[attr-defined]
            self.report(node, message, replace=(node, without_arg(node, index)))
        else:  # `config.update()` with nothing left to update is not worth suggesting
            self.report(node, message)

    def _flag_statement(self, node: cst.Assign, what: str) -> None:
        message = self.message.format(what=what)
        ancestors = self.ctx.ancestors
        line = ancestors[-2] if len(ancestors) >= 2 else None
        block = ancestors[-3] if len(ancestors) >= 3 else None
        if (
            isinstance(line, cst.SimpleStatementLine)
            and len(line.body) == 1
            and isinstance(block, (cst.Module, cst.IndentedBlock))
        ):
            new = _without_statement(block, line)
            if new is not None:
                self.report(node, message, replace=(block, new))
                return
        self.report(node, message)
