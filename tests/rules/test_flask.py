"""PYS301 flask-debug-mode: every flags / never-flags item and the fix of its RULES.md row."""

from __future__ import annotations

import textwrap

import pytest

from pystd.rules.engine import Finding
from tests.rules import lint as shared
from tests.rules.lint import fixed

APP = "from flask import Flask\n\napp = Flask(__name__)\n"


def findings(code: str, path: str = "app.py") -> list[Finding]:
    return shared.only(code, "PYS301", path)


def one(code: str) -> Finding:
    return shared.one(code, "PYS301")


def fix_of(code: str) -> str:
    """The source after the single finding's fix, checked to be clean."""
    return shared.fix_of(code, "PYS301")


# == flags ==============================================================================


def test_flags_app_run_debug_true() -> None:
    finding = one(APP + "app.run(host='0.0.0.0', debug=True)\n")
    assert finding.line == 4
    assert finding.message == (
        "`app.run(debug=True)` enables Flask debug mode: the Werkzeug debugger runs Python "
        "from the browser"
    )


def test_flags_under_the_main_guard() -> None:
    code = APP + "\nif __name__ == '__main__':\n    app.run(debug=True)\n"
    assert [f.line for f in findings(code)] == [6]


def test_flags_debug_passed_positionally() -> None:
    assert [f.line for f in findings(APP + "app.run('0.0.0.0', 5000, True)\n")] == [4]


def test_flags_app_debug_attribute() -> None:
    finding = one(APP + "app.debug = True\n")
    assert finding.line == 4
    assert finding.message.startswith("`app.debug = True` enables Flask debug mode")


def test_flags_config_debug_key() -> None:
    finding = one(APP + "app.config['DEBUG'] = True\n")
    assert finding.message.startswith('`app.config["DEBUG"] = True` enables')


@pytest.mark.parametrize(
    "statement",
    [
        "app.config.update(DEBUG=True)",
        "app.config.update(DEBUG=True, TESTING=False)",
        "app.config.from_mapping(SECRET_KEY=key, DEBUG=True)",
        "app.config.update({'DEBUG': True})",
    ],
)
def test_flags_config_update_with_debug(statement: str) -> None:
    assert [f.line for f in findings(APP + statement + "\n")] == [4]


@pytest.mark.parametrize(
    "binding",
    [
        "server = Flask(__name__)",
        "server: Flask = Flask(__name__)",
        "server = create_app()",
        "server = factory.create_app('prod')",
    ],
)
def test_flags_names_bound_to_the_application(binding: str) -> None:
    code = f"from flask import Flask\n\n{binding}\nserver.run(debug=True)\n"
    assert [f.line for f in findings(code)] == [4]


@pytest.mark.parametrize(
    "head",
    ["import flask\n\nweb = flask.Flask(__name__)\n",
     "from flask import Flask as F\n\nweb = F(__name__)\n"],
)
def test_flags_flask_resolved_through_import_aliases(head: str) -> None:
    assert [f.line for f in findings(head + "web.run(debug=True)\n")] == [4]


def test_flags_the_conventional_names_without_seeing_the_binding() -> None:
    code = "from flask import current_app\nfrom wsgi import app, application\n\n" \
           "app.run(debug=True)\napplication.debug = True\n"
    assert [f.line for f in findings(code)] == [4, 5]


def test_flags_a_call_on_a_fresh_application() -> None:
    assert [f.line for f in findings("import flask\n\nflask.Flask(__name__).run(debug=True)\n")] \
        == [3]


def test_flags_inside_an_application_factory() -> None:
    code = textwrap.dedent("""\
        from flask import Flask


        def create_app():
            web = Flask(__name__)
            web.config["DEBUG"] = True
            return web
        """)
    assert [f.line for f in findings(code)] == [6]


# == never flags ========================================================================


@pytest.mark.parametrize(
    "value",
    [
        "os.environ.get('FLASK_DEBUG') == '1'",
        "os.getenv('DEBUG', False)",
        "settings.DEBUG",
        "args.debug",
        "False",
        "None",
    ],
)
def test_ignores_values_that_are_not_literal_true(value: str) -> None:
    code = "import os\n" + APP + f"app.run(debug={value})\napp.debug = {value}\n" \
        f"app.config['DEBUG'] = {value}\napp.config.update(DEBUG={value})\n"
    assert findings(code) == []


def test_ignores_modules_without_flask() -> None:
    code = "from dash import Dash\n\napp = Dash(__name__)\napp.run(debug=True)\n"
    assert findings(code) == []


@pytest.mark.parametrize(
    "statement",
    [
        "thread.run(debug=True)",
        "parser.debug = True",
        "settings.config['DEBUG'] = True",
        "options.update(DEBUG=True)",
        "DEBUG = True",
        "app.config['TESTING'] = True",
        "app.run(use_reloader=True)",
        "app.run('0.0.0.0', True)",
    ],
)
def test_ignores_other_objects_and_settings(statement: str) -> None:
    assert findings(APP + statement + "\n") == []


def test_ignores_test_files() -> None:
    assert findings(APP + "app.run(debug=True)\n", path="tests/test_app.py") == []


# == start scripts of an application factory, without a Flask import =====================


@pytest.mark.parametrize(
    ("code", "line"),
    [
        ("from myapp import create_app\n\napp = create_app()\n\n"
         "if __name__ == '__main__':\n    app.run(host='0.0.0.0', debug=True)\n", 6),
        ("import myapp\n\napplication = myapp.create_app('production')\n"
         "application.run('0.0.0.0', 5000, True)\n", 4),
        ("from .factory import make_app\n\nmake_app().run(debug=True)\n", 3),
        ("from app import create_app\nfrom flask_migrate import Migrate\n\napp = create_app()\n"
         "app.config['DEBUG'] = True\n", 5),
    ],
    ids=["run-py", "positional-debug", "fresh-app", "flask-extension-import"],
)
def test_flags_a_factory_app_run_in_debug_without_a_flask_import(code: str, line: int) -> None:
    assert [f.line for f in findings(code, "run.py")] == [line]


def test_fix_of_a_factory_app_run_removes_debug() -> None:
    code = "from myapp import create_app\n\napp = create_app()\napp.run(debug=True)\n"
    new = fixed(code, findings(code, "run.py")[0])
    assert new.endswith("app = create_app()\napp.run()\n")
    assert findings(new, "run.py") == []


@pytest.mark.parametrize(
    "code",
    [
        # Another server starts the factory's app: uvicorn, Sanic, Quart have their own
        # debug modes, without Werkzeug's console.
        "import uvicorn\n\nfrom myapp import create_app\n\napp = create_app()\n"
        "uvicorn.run(app, debug=True)\n",
        "from sanic import Sanic\n\nfrom myapp import create_app\n\napp = create_app()\n"
        "app.run(debug=True)\n",
        "import quart\n\nfrom myapp import create_app\n\napp = create_app()\napp.run(debug=True)\n",
        # Not a factory's result, or not debug.
        "from myapp import app\n\napp.run(debug=True)\n",
        "from myapp import build\n\napp = build()\napp.run(debug=True)\n",
        "from myapp import create_app\n\napp = create_app()\napp.run(port=8000)\n",
        "from myapp import create_app\n\napp = create_app()\nworker.run(debug=True)\n",
        # Without a Flask import only `run(debug=True)` is Flask's for sure.
        "from myapp import create_app\n\napp = create_app()\napp.debug = True\n"
        "app.config['DEBUG'] = True\n",
    ],
    ids=["uvicorn", "sanic", "quart", "imported-app", "other-builder", "no-debug",
         "other-object", "attributes-without-flask"],
)
def test_ignores_factory_scripts_that_may_not_be_flask(code: str) -> None:
    assert findings(code, "run.py") == []


# == fix ================================================================================


def test_fix_removes_the_debug_keyword() -> None:
    new = fix_of(APP + "app.run(host='0.0.0.0', debug=True, port=5000)\n")
    assert new.splitlines()[3] == "app.run(host='0.0.0.0', port=5000)"


def test_fix_removes_the_last_keyword() -> None:
    new = fix_of(APP + "app.run(host='0.0.0.0', debug=True)\n")
    assert new.splitlines()[3] == "app.run(host='0.0.0.0')"


def test_fix_removes_the_only_argument() -> None:
    new = fix_of(APP + "\nif __name__ == '__main__':\n    app.run(debug=True)\n")
    assert new.endswith("if __name__ == '__main__':\n    app.run()\n")


def test_fix_keeps_one_argument_per_line() -> None:
    code = APP + "app.run(\n    host='0.0.0.0',\n    debug=True,\n)\n"
    finding = one(code)
    assert finding.fix is not None
    assert (finding.fix.line, finding.fix.end_line, finding.fix.replacement) == (6, 6, "")
    assert fix_of(code).endswith("app.run(\n    host='0.0.0.0',\n)\n")


def test_fix_collapses_a_call_left_without_arguments() -> None:
    code = APP + "app.run(\n    debug=True,\n)\n"
    assert fix_of(code).endswith("\napp.run()\n")


def test_fix_removes_a_positional_debug_in_last_place() -> None:
    assert fix_of(APP + "app.run('0.0.0.0', 5000, True)\n").endswith("app.run('0.0.0.0', 5000)\n")


def test_no_fix_for_a_positional_debug_followed_by_more() -> None:
    assert one(APP + "app.run('0.0.0.0', 5000, True, False)\n").fix is None


def test_fix_removes_debug_from_config_update() -> None:
    new = fix_of(APP + "app.config.update(DEBUG=True, TESTING=False)\n")
    assert new.endswith("app.config.update(TESTING=False)\n")


def test_no_fix_when_config_update_would_be_left_empty() -> None:
    assert one(APP + "app.config.update(DEBUG=True)\n").fix is None


@pytest.mark.parametrize("statement", ["app.debug = True", "app.config['DEBUG'] = True"])
def test_fix_removes_the_assignment_and_keeps_comments(statement: str) -> None:
    code = APP + f"# development settings\n{statement}\napp.config['TESTING'] = False\n"
    new = fix_of(code)
    assert new == APP + "# development settings\napp.config['TESTING'] = False\n"


def test_fix_removes_a_last_assignment_of_a_block() -> None:
    code = textwrap.dedent("""\
        from flask import Flask


        def create_app():
            web = Flask(__name__)
            # local only
            web.debug = True


        x = 1
        """)
    new = fix_of(code)
    assert "    web = Flask(__name__)\n    # local only\n\n\nx = 1\n" in new


def test_no_fix_when_the_assignment_is_alone_in_its_block() -> None:
    code = APP + "\nif __name__ == '__main__':\n    app.debug = True\n"
    assert one(code).fix is None
