"""PYS302 flask-global-app: every flags / never-flags item of its RULES.md row."""

from __future__ import annotations

import pytest

from pystd.rules.engine import Finding
from tests.rules import lint as shared

ROUTE = "\n\n@app.route('/')\ndef index():\n    return 'hi'\n"


def findings(code: str, path: str = "app.py") -> list[Finding]:
    return shared.only(code, "PYS302", path)


def lines(code: str, path: str = "app.py") -> list[int]:
    return shared.lines_of(code, "PYS302", path)


# == flags ==============================================================================


def test_flags_the_assignment_of_a_global_app_with_a_route() -> None:
    found = findings("from flask import Flask\n\napp = Flask(__name__)\n" + ROUTE)
    assert [(f.line, f.column) for f in found] == [(3, 1)]
    assert found[0].message == (
        "Module-level Flask app `app` has routes registered on it: build it in an "
        "application factory `create_app()` and register Blueprints"
    )
    assert found[0].severity == "info"
    assert found[0].fix is None


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "route"])
def test_flags_routes_by_every_decorator(method: str) -> None:
    code = f"from flask import Flask\n\napp = Flask(__name__)\n\n\n" \
           f"@app.{method}('/x')\ndef view():\n    return ''\n"
    assert lines(code) == [3]


def test_flags_add_url_rule() -> None:
    code = "from flask import Flask\n\napp = Flask(__name__)\n\n\ndef view():\n    return ''\n\n\n" \
           "app.add_url_rule('/x', view_func=view)\n"
    assert lines(code) == [3]


@pytest.mark.parametrize("register", ["app.route('/x')(view)", "app.get('/x')(view)"])
def test_flags_a_decorator_applied_by_hand(register: str) -> None:
    code = "from flask import Flask\n\napp = Flask(__name__)\n\n\ndef view():\n    return ''\n\n\n" \
           f"{register}\n"
    assert lines(code) == [3]


@pytest.mark.parametrize(
    ("head", "binding"),
    [
        ("import flask", "web = flask.Flask(__name__)"),
        ("from flask import Flask as F", "web = F(__name__)"),
        ("import flask as fl", "web = fl.Flask(__name__, static_folder=None)"),
        ("from flask import Flask", "web: Flask = Flask(__name__)"),
    ],
)
def test_flags_any_name_bound_to_flask_through_aliases(head: str, binding: str) -> None:
    code = f"{head}\n\n{binding}\n\n\n@web.get('/')\ndef index():\n    return ''\n"
    assert lines(code) == [3]
    assert "`web`" in findings(code)[0].message


def test_flags_routes_declared_inside_a_function_on_the_global_app() -> None:
    code = """\
        from flask import Flask

        app = Flask(__name__)


        def register_routes():
            @app.route('/')
            def index():
                return ''
        """
    assert lines(code) == [3]


def test_flags_a_chained_assignment_once() -> None:
    code = "from flask import Flask\n\napp = application = Flask(__name__)\n" + ROUTE
    assert lines(code) == [3]


def test_flags_a_global_app_built_under_module_level_control_flow() -> None:
    code = "from flask import Flask\n\ntry:\n    app = Flask(__name__)\nexcept ImportError:\n" \
           "    raise\n" + ROUTE
    assert lines(code) == [4]


# == never flags ========================================================================


def test_ignores_flask_created_in_an_application_factory() -> None:
    code = """\
        from flask import Flask


        def create_app():
            app = Flask(__name__)

            @app.route('/')
            def index():
                return ''

            return app
        """
    assert findings(code) == []


def test_ignores_a_global_app_without_routes() -> None:
    code = "from flask import Flask\n\nfrom web.views import bp\n\napp = Flask(__name__)\n" \
           "app.register_blueprint(bp)\napp.config.get('DEBUG')\n\n\n" \
           "@app.errorhandler(404)\ndef missing(e):\n    return '', 404\n"
    assert findings(code) == []


def test_ignores_routes_on_a_blueprint() -> None:
    code = "from flask import Blueprint, Flask\n\napp = Flask(__name__)\n" \
           "bp = Blueprint('x', __name__)\n\n\n@bp.route('/')\ndef index():\n    return ''\n"
    assert findings(code) == []


def test_ignores_routes_on_a_parameter_that_shadows_the_global() -> None:
    code = """\
        from flask import Flask

        app = Flask(__name__)


        def register(app):
            @app.route('/')
            def index():
                return ''
        """
    assert findings(code) == []


def test_ignores_a_global_app_from_a_factory() -> None:
    code = "from flask import Flask\n\nfrom web import create_app\n\napp = create_app()\n" + ROUTE
    assert findings(code) == []


def test_ignores_http_shortcuts_that_are_not_route_registrations() -> None:
    code = "from flask import Flask\n\napp = Flask(__name__)\nhandler = app.get('/x')\n"
    assert findings(code) == []


def test_ignores_an_app_created_in_a_class_body() -> None:
    code = "from flask import Flask\n\n\nclass Server:\n    app = Flask(__name__)\n" + ROUTE
    assert findings(code) == []


def test_ignores_modules_that_do_not_import_flask() -> None:
    code = "from web.compat import Flask\n\napp = Flask(__name__)\n" + ROUTE
    assert findings(code) == []


def test_ignores_test_files() -> None:
    code = "from flask import Flask\n\napp = Flask(__name__)\n" + ROUTE
    assert findings(code, path="tests/test_app.py") == []


def test_ignores_routes_on_a_local_app_that_shadows_the_global() -> None:
    code = """\
        from flask import Flask

        app = Flask(__name__)


        def create_app():
            app = Flask(__name__)

            @app.route('/')
            def index():
                return ''

            return app
        """
    assert findings(code) == []


def test_flags_routes_on_the_global_declared_in_a_function() -> None:
    code = """\
        from flask import Flask

        app = Flask(__name__)


        def setup():
            global app
            app = Flask(__name__)
            app.add_url_rule('/', view_func=str)
        """
    assert lines(code) == [3]
