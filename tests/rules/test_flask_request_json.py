"""PYS303 flask-request-json: every flags / never-flags item and the fix of its RULES.md row."""

from __future__ import annotations

import pytest

from pystd.rules.engine import Finding
from tests.rules import lint as shared
from tests.rules.lint import fixed

HEAD = "from flask import request\n\n\ndef view():\n"


def findings(code: str, path: str = "app.py") -> list[Finding]:
    return shared.only(code, "PYS303", path)


def one(code: str) -> Finding:
    return shared.one(code, "PYS303")


def fix_of(code: str) -> str:
    """The source after the single finding's fix, checked to parse and be clean."""
    return shared.fix_of(code, "PYS303")


# == flags ==============================================================================


def test_flags_a_read_of_request_json() -> None:
    finding = one(HEAD + "    data = request.json\n    return data\n")
    assert (finding.line, finding.column, finding.end_column) == (5, 12, 23)
    assert finding.message == (
        "Read the JSON body with `request.get_json()` rather than the `request.json` property"
    )
    assert finding.severity == "info"


@pytest.mark.parametrize(
    "expression",
    [
        "request.json['name']",
        "request.json.get('name')",
        "dict(request.json)",
        "request.json or {}",
        "(request.json)",
    ],
)
def test_flags_reads_in_any_expression(expression: str) -> None:
    assert [f.line for f in findings(HEAD + f"    return {expression}\n")] == [5]


def test_flags_every_read() -> None:
    code = HEAD + "    if request.json:\n        return request.json['a']\n    return None\n"
    assert [f.line for f in findings(code)] == [5, 6]


@pytest.mark.parametrize(
    ("head", "expression", "name"),
    [
        ("from flask import request as req", "req.json", "req"),
        ("import flask", "flask.request.json", "flask.request"),
        ("import flask as fl", "fl.request.json", "fl.request"),
        ("from flask.globals import request", "request.json", "request"),
    ],
)
def test_flags_request_resolved_through_aliases(head: str, expression: str, name: str) -> None:
    finding = one(f"{head}\n\n\ndef view():\n    return {expression}\n")
    assert f"`{name}.get_json()`" in finding.message


def test_flags_at_module_level_and_in_lambdas() -> None:
    code = "from flask import request\n\npayload = lambda: request.json\n"
    assert [f.line for f in findings(code)] == [3]


# == never flags ========================================================================


@pytest.mark.parametrize(
    "expression",
    [
        "request.get_json()",
        "request.get_json(silent=True)",
        "request.get_json(force=True, cache=False)",
    ],
)
def test_ignores_get_json(expression: str) -> None:
    assert findings(HEAD + f"    return {expression}\n") == []


@pytest.mark.parametrize(
    "expression",
    [
        "response.json",
        "response.json()",
        "self.request.json",
        "requests.post(url).json()",
        "client.request.json",
        "request.json_module",
        "request.is_json",
    ],
)
def test_ignores_json_on_other_objects(expression: str) -> None:
    code = "import requests\nfrom flask import request\n\n\ndef view(response, client, url):\n" \
           f"    return {expression}\n"
    assert findings(code) == []


def test_ignores_a_call_of_request_json() -> None:
    assert findings(HEAD + "    return request.json()\n") == []


@pytest.mark.parametrize(
    "statement",
    [
        "request.json = {}",
        "request.json: dict = {}",
        "request.json += 1",
        "del request.json",
        "request.json, other = 1, 2",
        "for request.json in []: pass",
    ],
)
def test_ignores_assignment_targets(statement: str) -> None:
    assert findings(HEAD + f"    {statement}\n") == []


def test_ignores_a_parameter_that_shadows_flask_request() -> None:
    code = "from flask import request\n\n\ndef handle(request):\n    return request.json\n"
    assert findings(code) == []


@pytest.mark.parametrize(
    "binding",
    ["request = build()", "request: Req = build()", "for request in batch: pass",
     "with open_request() as request: pass", "request, other = build()"],
)
def test_ignores_a_local_variable_that_shadows_flask_request(binding: str) -> None:
    code = HEAD + f"    {binding}\n    return request.json\n"
    assert findings(code) == []


def test_ignores_other_frameworks_requests() -> None:
    code = "from flask import Flask\nfrom starlette.requests import request\n\n\n" \
           "def view():\n    return request.json\n"
    assert findings(code) == []


def test_ignores_modules_that_do_not_import_flask() -> None:
    code = "from bottle import request\n\n\ndef view():\n    return request.json\n"
    assert findings(code) == []


def test_ignores_test_files() -> None:
    assert findings(HEAD + "    return request.json\n", path="tests/test_views.py") == []


# == fix ================================================================================


def test_fix_calls_get_json() -> None:
    new = fix_of(HEAD + "    data = request.json\n    return data\n")
    assert new.splitlines()[4] == "    data = request.get_json()"


@pytest.mark.parametrize(
    ("head", "before", "after"),
    [
        ("from flask import request as req", "req.json['a']", "req.get_json()['a']"),
        ("import flask", "flask.request.json.get('a')", "flask.request.get_json().get('a')"),
        ("from flask import request", "(request.json)", "(request.get_json())"),
    ],
)
def test_fix_keeps_the_receiver_as_written(head: str, before: str, after: str) -> None:
    new = fix_of(f"{head}\n\n\ndef view():\n    return {before}\n")
    assert new.splitlines()[4] == f"    return {after}"


def test_fix_of_one_read_leaves_the_others() -> None:
    code = HEAD + "    return request.json['a'], request.json['b']\n"
    first = findings(code)[0]
    new = fixed(code, first)
    assert new.splitlines()[4] == "    return request.get_json()['a'], request.json['b']"
