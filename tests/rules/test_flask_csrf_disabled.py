"""PYS305 flask-csrf-disabled: every flags / never-flags item of its RULES.md row.

"Test configs" (never flagged) are, beyond test files which the engine skips: classes,
functions and modules named with the word test/testing, `if testing:` branches, dicts
under a testing key or `test_config=` argument, and config that sets `TESTING = True`
alongside.
"""

from __future__ import annotations

import textwrap

import pytest

from pystd.rules.engine import Finding
from tests.rules import lint as shared
from tests.rules.lint import lint

APP = "from flask import Flask\n\napp = Flask(__name__)\n"
WTF = "from flask import Blueprint\nfrom flask_wtf.csrf import CSRFProtect\n\n" \
      "csrf = CSRFProtect()\nbp = Blueprint('x', __name__)\n"


def findings(code: str, path: str = "app.py") -> list[Finding]:
    return shared.only(code, "PYS305", path)


def lines(code: str, path: str = "app.py") -> list[int]:
    return shared.lines_of(code, "PYS305", path)


def messages(code: str, path: str = "app.py") -> list[str]:
    return [f.message for f in findings(code, path)]


# == flags: WTF_CSRF_ENABLED = False ===================================================


def test_flags_a_module_level_setting_in_a_config_module_without_flask() -> None:
    found = findings("SECRET_KEY_FILE = '/run/key'\nWTF_CSRF_ENABLED = False\n", "config.py")
    assert [(f.line, f.column) for f in found] == [(2, 1)]
    assert found[0].message == "`WTF_CSRF_ENABLED = False` disables Flask-WTF CSRF protection"
    assert found[0].severity == "warning"
    assert found[0].fix is None


def test_flags_a_class_level_setting() -> None:
    code = """\
        class Config:
            SECRET_KEY_ENV = 'SECRET_KEY'


        class ProductionConfig(Config):
            WTF_CSRF_ENABLED = False
        """
    assert lines(code, "settings.py") == [6]


def test_flags_an_annotated_setting() -> None:
    code = "class Settings:\n    WTF_CSRF_ENABLED: bool = False\n"
    assert lines(code, "web/config.py") == [2]


def test_flags_an_attribute() -> None:
    assert messages(APP + "settings.WTF_CSRF_ENABLED = False\n") == [
        "`settings.WTF_CSRF_ENABLED = False` disables Flask-WTF CSRF protection"
    ]


@pytest.mark.parametrize(
    "statement",
    ["app.config['WTF_CSRF_ENABLED'] = False", 'app.config["WTF_CSRF_ENABLED"] = False'],
)
def test_flags_the_config_key(statement: str) -> None:
    assert messages(APP + statement + "\n") == [
        '`app.config["WTF_CSRF_ENABLED"] = False` disables Flask-WTF CSRF protection'
    ]


def test_flags_the_config_key_inside_an_application_factory() -> None:
    code = """\
        from flask import Flask


        def create_app():
            app = Flask(__name__)
            app.config['WTF_CSRF_ENABLED'] = False
            return app
        """
    assert lines(code) == [6]


@pytest.mark.parametrize(
    "statement",
    [
        "app.config.update(WTF_CSRF_ENABLED=False)",
        "app.config.update(SESSION_COOKIE_SECURE=True, WTF_CSRF_ENABLED=False)",
        "app.config.from_mapping(WTF_CSRF_ENABLED=False)",
    ],
)
def test_flags_config_keyword_arguments(statement: str) -> None:
    found = findings(APP + statement + "\n")
    assert [f.message for f in found] == [
        "`WTF_CSRF_ENABLED=False` disables Flask-WTF CSRF protection"
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "app.config.update({'WTF_CSRF_ENABLED': False})",
        "app.config.from_mapping({'SECRET_KEY_FILE': path, 'WTF_CSRF_ENABLED': False})",
        "PRODUCTION = {'WTF_CSRF_ENABLED': False}",
    ],
)
def test_flags_a_config_dict(statement: str) -> None:
    assert messages(APP + statement + "\n") == [
        '`{"WTF_CSRF_ENABLED": False}` disables Flask-WTF CSRF protection'
    ]


def test_flags_the_key_on_its_own_line_of_a_dict() -> None:
    code = APP + "app.config.update({\n    'SESSION_COOKIE_SECURE': True,\n" \
                 "    'WTF_CSRF_ENABLED': False,\n})\n"
    assert lines(code) == [6]


def test_flags_a_class_whose_name_only_contains_the_letters_test() -> None:
    assert lines("class LatestConfig:\n    WTF_CSRF_ENABLED = False\n", "config.py") == [2]


@pytest.mark.parametrize(
    "test",
    ["not testing", "not app.testing and not app.debug", "config_name != 'testing'",
     "os.environ.get('TESTING') is not None and legacy"],
)
def test_flags_the_non_test_branch(test: str) -> None:
    code = f"""\
        import os

        from flask import Flask


        def create_app(config_name, legacy, testing=False):
            app = Flask(__name__)
            if {test}:
                app.config['WTF_CSRF_ENABLED'] = False
            return app
        """
    assert lines(code) == [9]


# == flags: csrf.exempt =================================================================


def test_flags_the_exempt_decorator() -> None:
    code = WTF + "\n\n@bp.post('/hook')\n@csrf.exempt\ndef hook():\n    return ''\n"
    found = findings(code)
    assert [(f.line, f.column) for f in found] == [(9, 1)]
    assert found[0].message == "`@csrf.exempt` on `hook` disables Flask-WTF CSRF protection"


def test_flags_exempt_called_on_a_view_or_blueprint() -> None:
    code = WTF + "\n\ndef hook():\n    return ''\n\n\ncsrf.exempt(hook)\ncsrf.exempt(bp)\n"
    assert messages(code) == [
        "`csrf.exempt(hook)` disables Flask-WTF CSRF protection",
        "`csrf.exempt(bp)` disables Flask-WTF CSRF protection",
    ]


@pytest.mark.parametrize(
    "head",
    [
        "from flask_wtf import CSRFProtect\n\nprotect = CSRFProtect(app)\n",
        "from flask_wtf.csrf import CSRFProtect as Protect\n\nprotect = Protect()\n",
        "import flask_wtf\n\nprotect = flask_wtf.csrf.CSRFProtect()\n",
        "from flask_wtf.csrf import CSRFProtect\n\nprotect: CSRFProtect = CSRFProtect()\n",
    ],
)
def test_flags_exempt_on_any_name_bound_to_csrfprotect(head: str) -> None:
    code = head + "\n\n@protect.exempt\ndef hook():\n    return ''\n"
    assert lines(code) == [code.count("\n") - 2]


def test_flags_a_csrf_imported_from_the_extensions_module() -> None:
    code = "from flask import Blueprint\n\nfrom web.extensions import csrf\n\n" \
           "bp = Blueprint('x', __name__)\n\n\n@bp.route('/hook', methods=['POST'])\n" \
           "@csrf.exempt\ndef hook():\n    return ''\n"
    assert lines(code) == [9]


# == never flags ========================================================================


@pytest.mark.parametrize(
    "value", ["True", "'False'", "os.environ.get('CSRF') != '0'", "settings.csrf", "None"]
)
def test_ignores_values_other_than_false(value: str) -> None:
    code = "import os\n" + APP + f"WTF_CSRF_ENABLED = {value}\n" \
        f"app.config['WTF_CSRF_ENABLED'] = {value}\napp.config.update(WTF_CSRF_ENABLED={value})\n" \
        f"app.config.update({{'WTF_CSRF_ENABLED': {value}}})\n"
    assert findings(code) == []


def test_ignores_a_local_variable_of_that_name() -> None:
    code = "def configure(app):\n    WTF_CSRF_ENABLED = False\n    return WTF_CSRF_ENABLED\n"
    assert findings(code, "config.py") == []


@pytest.mark.parametrize(
    "name", ["TestingConfig", "TestConfig", "Testing", "ConfigTest", "Config_testing", "Tests"]
)
def test_ignores_test_config_classes(name: str) -> None:
    code = f"class Config:\n    WTF_CSRF_ENABLED = True\n\n\nclass {name}(Config):\n" \
           "    WTF_CSRF_ENABLED = False\n"
    assert findings(code, "config.py") == []


@pytest.mark.parametrize(
    "path",
    ["config/testing.py", "settings/test.py", "testing_config.py", "config_testing.py",
     "web/testing.py"],
)
def test_ignores_test_config_modules(path: str) -> None:
    code = APP + "WTF_CSRF_ENABLED = False\napp.config['WTF_CSRF_ENABLED'] = False\n"
    assert findings(code, path) == []


@pytest.mark.parametrize("path", ["tests/config.py", "test_config.py", "config_test.py",
                                  "conftest.py"])
def test_ignores_test_files(path: str) -> None:
    assert findings(APP + "app.config['WTF_CSRF_ENABLED'] = False\n", path) == []


def test_ignores_a_class_that_switches_testing_on() -> None:
    code = "class CIConfig:\n    TESTING = True\n    WTF_CSRF_ENABLED = False\n"
    assert findings(code, "config.py") == []


def test_ignores_a_module_that_switches_testing_on() -> None:
    assert findings("TESTING = True\nWTF_CSRF_ENABLED = False\n", "ci_settings.py") == []


@pytest.mark.parametrize(
    "statement",
    [
        "app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)",
        "app.config.from_mapping({'TESTING': True, 'WTF_CSRF_ENABLED': False})",
        "CI = {'TESTING': True, 'WTF_CSRF_ENABLED': False}",
        "TEST_SETTINGS = {'WTF_CSRF_ENABLED': False}",
        "CONFIGS = {'testing': {'WTF_CSRF_ENABLED': False}}",
        "client = create_app(test_config={'WTF_CSRF_ENABLED': False})",
        "client = create_app(TESTING=True, WTF_CSRF_ENABLED=False)",
    ],
)
def test_ignores_config_mappings_for_tests(statement: str) -> None:
    assert findings(APP + statement + "\n") == []


@pytest.mark.parametrize(
    "test",
    ["testing", "app.testing", "config_name == 'testing'", "os.environ.get('TESTING')",
     "app.config['TESTING']", "app.testing or config_name in ('test', 'ci')"],
)
def test_ignores_the_testing_branch(test: str) -> None:
    code = f"""\
        import os

        from flask import Flask


        def create_app(config_name, testing=False):
            app = Flask(__name__)
            if {test}:
                app.config['WTF_CSRF_ENABLED'] = False
            return app
        """
    assert findings(code) == []


def test_ignores_the_else_of_a_negated_testing_branch() -> None:
    code = """\
        from flask import Flask


        def create_app(testing=False):
            app = Flask(__name__)
            if not testing:
                app.config['SESSION_COOKIE_SECURE'] = True
            else:
                app.config['WTF_CSRF_ENABLED'] = False
            return app
        """
    assert findings(code) == []


def test_ignores_a_block_that_switches_testing_on() -> None:
    code = "from flask import Flask\n\n\ndef make_client():\n    app = Flask(__name__)\n" \
           "    app.config['TESTING'] = True\n    app.config['WTF_CSRF_ENABLED'] = False\n" \
           "    return app.test_client()\n"
    assert findings(code) == []


def test_ignores_functions_named_for_tests() -> None:
    code = "def configure_for_testing(app):\n    app.config['WTF_CSRF_ENABLED'] = False\n"
    assert findings(code, "web/setup.py") == []


@pytest.mark.parametrize(
    "decorator",
    ["limiter.exempt", "cors.exempt", "auth.exempt", "csrf.protect", "csrf_exempt"],
)
def test_ignores_other_exemptions(decorator: str) -> None:
    code = WTF + f"\n\n@{decorator}\ndef hook():\n    return ''\n"
    assert findings(code) == []


def test_ignores_csrf_exempt_in_modules_without_flask() -> None:
    code = "from web.extensions import csrf\n\n\n@csrf.exempt\ndef hook():\n    return ''\n"
    assert findings(code) == []


def test_ignores_a_parameter_named_csrf() -> None:
    code = WTF + "\n\ndef setup(csrf, view):\n    csrf.exempt(view)\n"
    assert findings(code) == []


def test_ignores_a_local_variable_named_csrf() -> None:
    code = WTF + "\n\ndef setup(views, make):\n    csrf = make()\n    csrf.exempt(views)\n"
    assert findings(code) == []


def test_ignores_exempt_in_a_test_config_module() -> None:
    code = WTF + "\n\n@csrf.exempt\ndef hook():\n    return ''\n"
    assert findings(code, "web/testing.py") == []


# -- exempt views that authenticate their caller another way ---------------------------------

KOBO = """\
    from flask import Blueprint, request
    from flask_wtf.csrf import CSRFProtect

    csrf = CSRFProtect()
    kobo = Blueprint("kobo", __name__, url_prefix="/kobo/<auth_token>")
    shelf = Blueprint("shelf", __name__, url_prefix="/shelf")

"""


@pytest.mark.parametrize("view", [
    # a decorator that checks a credential
    '@csrf.exempt\n@shelf.route("/tags", methods=["POST"])\n@requires_kobo_auth\n'
    'def create():\n    return ""\n',
    # the credential in the blueprint's URL prefix
    '@csrf.exempt\n@kobo.route("/v1/user/profile", methods=["GET", "POST"])\n'
    'def profile():\n    return ""\n',
    # the credential in the route's own URL
    '@csrf.exempt\n@shelf.route("/feed/<api_key>", methods=["POST"])\n'
    'def feed(api_key):\n    return ""\n',
    # a credential header
    '@csrf.exempt\n@shelf.route("/sync", methods=["POST"])\n'
    'def sync():\n    token = request.headers["Authorization"]\n    return token\n',
])
def test_never_flags_exempt_views_that_authenticate_their_caller(view: str) -> None:
    assert lines(textwrap.dedent(KOBO) + view) == []


def test_a_webhook_by_path_is_reported_only_when_the_rule_is_chosen() -> None:
    code = textwrap.dedent(KOBO) + (
        '@csrf.exempt\n@shelf.route("/watch/callback", methods=["POST"])\n'
        'def on_change():\n    return ""\n')
    assert lines(code) == [8]  # chosen by code
    assert [f for f in lint(code, select="DEFAULT") if f.code == "PYS305"] == []


def test_still_flags_an_exempt_view_that_reads_the_session() -> None:
    code = textwrap.dedent(KOBO) + (
        "from flask import session\n\n\n"
        '@csrf.exempt\n@shelf.route("/webhook", methods=["POST"])\n'
        'def hook():\n    return session["user"]\n')
    assert [f.line for f in lint(code, select="DEFAULT") if f.code == "PYS305"] == [11]
