"""PYS109 env-read-in-handler: every flags / never-flags item of its RULES.md row."""

from __future__ import annotations

import pytest

from pystd.rules.engine import Finding, Severity
from tests.rules import lint as shared

FLASK = "import os\nfrom os import environ, getenv\n\nfrom flask import Flask\n\napp = Flask(__name__)\n\n\n"


def only(code: str, path: str = "app.py") -> list[Finding]:
    return shared.only(code, "PYS109", path)


def lines_of(code: str, path: str = "app.py") -> list[int]:
    return shared.lines_of(code, "PYS109", path)


def flask_handler(statement: str) -> str:
    """A Flask route whose body (line 11) is `statement`."""
    return FLASK + f"@app.route('/')\ndef index():\n    {statement}\n"


# == flags ===============================================================================


@pytest.mark.parametrize("read", ["os.environ['KEY']", "os.environ.get('KEY')",
                                  "os.environ.get('KEY', 'x')", "os.getenv('KEY')",
                                  "environ['KEY']", "environ.get('KEY')", "getenv('KEY', '')"])
def test_flags_environment_reads_in_a_handler(read: str) -> None:
    findings = only(flask_handler(f"return {read}"))
    assert [f.line for f in findings] == [11]
    assert findings[0].severity is Severity.INFO and findings[0].fix is None


@pytest.mark.parametrize(("head", "decorator", "path"), [
    ("from fastapi import FastAPI\n\napp = FastAPI()\n", "@app.get('/')", "api.py"),
    ("from fastapi import APIRouter\n\nrouter = APIRouter()\n", "@router.post('/x')", "api.py"),
    ("from flask import Blueprint\n\nbp = Blueprint('b', __name__)\n", "@bp.get('/')", "b.py"),
    ("from ninja import Router\n\nrouter = Router()\n", "@router.put('/')", "api.py"),
    ("from rest_framework.decorators import api_view\n\n\n", "@api_view(['GET'])", "x.py"),
])
def test_flags_handlers_of_every_framework(head: str, decorator: str, path: str) -> None:
    code = f"import os\n{head}\n\n{decorator}\nasync def handler(request=None):\n" \
           "    return os.environ['KEY']\n"
    assert len(only(code, path)) == 1


def test_flags_django_views_and_starlette_endpoints() -> None:
    code = "import os\nfrom django.http import HttpResponse\n\n\ndef index(request):\n" \
           "    return HttpResponse(os.getenv('X'))\n"
    assert lines_of(code, "shop/views.py") == [6]
    code = "import os\nfrom starlette.routing import Route\n\n\nasync def home(request):\n" \
           "    return os.environ['X']\n\n\nroutes = [Route('/', home)]\n"
    assert lines_of(code) == [6]


def test_flags_reads_in_functions_nested_in_a_handler() -> None:
    assert lines_of(flask_handler("return (lambda: os.environ['K'])()")) == [11]


# == never flags =========================================================================


def test_never_flags_module_level_reads() -> None:
    code = FLASK + "KEY = os.environ['KEY']\nDEBUG = os.getenv('DEBUG')\n" \
                   "URL = environ.get('URL')\n\n\n@app.route('/')\ndef index():\n    return KEY\n"
    assert lines_of(code) == []


def test_never_flags_functions_that_are_not_handlers() -> None:
    code = FLASK + "def load_settings():\n    return os.environ['KEY']\n\n\n" \
                   "class Config:\n    KEY = os.getenv('KEY')\n"
    assert lines_of(code) == []


@pytest.mark.parametrize("path", ["config.py", "app/settings.py", "app/conf.py",
                                  "proj/settings/prod.py"])
def test_never_flags_settings_and_config_modules(path: str) -> None:
    assert lines_of(flask_handler("return os.environ['KEY']"), path) == []


def test_never_flags_environment_writes_or_other_get_calls() -> None:
    assert lines_of(flask_handler("os.environ['KEY'] = 'x'")) == []
    assert lines_of(flask_handler("del os.environ['KEY']")) == []
    assert lines_of(flask_handler("return request.args.get('KEY')")) == []
    assert lines_of(flask_handler("return settings.environ['KEY']")) == []


def test_skips_test_files() -> None:
    assert only(flask_handler("return os.environ['KEY']"), "tests/test_app.py") == []
