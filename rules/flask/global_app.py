"""PYS302 flask-global-app."""

from __future__ import annotations

import libcst as cst

from pystd.rules.context import FileContext
from pystd.rules.engine import Category, Rule, Severity, register
from pystd.rules.flask.application import Shadowing, creates_flask

# `Flask.route` and its HTTP-method shortcuts (Flask 2.0+), and `add_url_rule`.
ROUTE_DECORATORS = frozenset({"route", "get", "post", "put", "patch", "delete"})
_HTTP_SHORTCUTS = ROUTE_DECORATORS - {"route"}


@register
class FlaskGlobalApp(Rule):
    code = "PYS302"
    name = "flask-global-app"
    severity = Severity.INFO
    category = Category.STRUCTURE
    default = False
    rationale = "An application factory is a design preference; a module-level app works. Opt-in."
    message = (
        "Module-level Flask app `{name}` has routes registered on it: build it in an "
        "application factory `create_app()` and register Blueprints"
    )
    requires = ("Flask",)
    docs = """
## What it does
Flags a module-level assignment of a Flask application — `app = Flask(__name__)`, under
any name, `flask.Flask` resolved through import aliases — in a module that also registers
routes on that same name: `@app.route(...)`, `@app.get/post/put/patch/delete(...)` or
`app.add_url_rule(...)`. The finding is on the assignment. An application created inside a
function (the `create_app()` factory) is never flagged, and neither is a module-level
application whose routes all live on Blueprints (`app.register_blueprint(bp)`).

## Why is this bad?
A global application is built once, at import time, with one configuration. Tests cannot
create a fresh instance per test with their own config, two instances cannot run in one
process, and every module that adds routes must import the application module, which is
how Flask projects end up with circular imports. Flask's documentation recommends the
opposite shape: "Application Factories"
(flask.palletsprojects.com/en/stable/patterns/appfactories/) creates the application in a
function, and "Modular Applications with Blueprints"
(flask.palletsprojects.com/en/stable/blueprints/) declares routes on Blueprints that the
factory registers.

## Example
```python
from flask import Flask

app = Flask(__name__)


@app.route("/users")
def list_users(): ...
```

## Use instead
```python
# users.py
from flask import Blueprint

bp = Blueprint("users", __name__)


@bp.route("/users")
def list_users(): ...


# __init__.py
from flask import Flask


def create_app(config=None):
    app = Flask(__name__)
    app.config.from_mapping(config or {})
    app.register_blueprint(users.bp)
    return app
```

## Suppress
`# noqa: PYS302` on the assignment, for a deliberate single-file application.
"""
    bad = (
        """
        from flask import Flask

        app = Flask(__name__)  # flagged


        @app.route('/')
        def index():
            return 'hi'
        """,
        """
        import flask

        web = flask.Flask(__name__)  # flagged


        @web.get('/health')
        def health():
            return 'ok'
        """,
        """
        from flask import Flask as F

        server = F(__name__)  # flagged


        def ping():
            return 'pong'


        server.add_url_rule('/ping', view_func=ping)
        """,
    )
    good = (
        """
        from flask import Flask

        from web import views


        def create_app():
            app = Flask(__name__)
            app.register_blueprint(views.bp)
            return app
        """,
        """
        from flask import Flask

        from web.views import bp

        app = Flask(__name__)
        app.register_blueprint(bp)
        """,
        """
        from flask import Blueprint

        bp = Blueprint('users', __name__)


        @bp.route('/users')
        def users():
            return 'users'
        """,
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._apps: dict[str, cst.CSTNode] = {}  # name -> the module-level assignment
        self._routed: set[str] = set()
        self._shadowed = Shadowing()

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return ctx.imports_module("flask")

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self.ctx.scopes and creates_flask(self.ctx, node.value) \
                and self.ctx.at_module_level():
            for target in node.targets:
                self._bind(target.target, node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if not self.ctx.scopes and creates_flask(self.ctx, node.value) \
                and self.ctx.at_module_level():
            self._bind(node.target, node)

    def _bind(self, target: cst.BaseExpression, node: cst.CSTNode) -> None:
        if isinstance(target, cst.Name):
            self._apps.setdefault(target.value, node)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or not isinstance(func.value, cst.Name):
            return
        method = func.attr.value
        if method != "add_url_rule" and method not in ROUTE_DECORATORS:
            return
        if method in _HTTP_SHORTCUTS and not self._registers(node):
            return  # `app.get(...)` alone is not a route; as a decorator it is
        name = func.value.value
        if not self._shadowed(self.ctx, name):
            self._routed.add(name)

    def _registers(self, node: cst.Call) -> bool:
        """Is the call a decorator (`@app.get("/")`) or applied (`app.get("/")(view)`)?"""
        parent = self.ctx.parent
        return isinstance(parent, cst.Decorator) or (
            isinstance(parent, cst.Call) and parent.func is node
        )

    def leave_Module(self, original_node: cst.Module) -> None:
        for name, assignment in self._apps.items():
            if name in self._routed:
                self.report(assignment, self.message.format(name=name))
