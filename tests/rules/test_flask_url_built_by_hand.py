"""PYS304 flask-url-built-by-hand: every flags / never-flags item of its RULES.md row."""

from __future__ import annotations

import pytest

from pystd.rules.engine import Finding
from tests.rules import lint as shared

HEAD = "from flask import redirect, url_for\n\n\ndef view(user, host, base, next_url):\n"


def findings(code: str, path: str = "app.py") -> list[Finding]:
    return shared.only(code, "PYS304", path)


def target_lines(target: str) -> list[int]:
    return [f.line for f in findings(HEAD + f"    return redirect({target})\n")]


# == flags ==============================================================================


def test_flags_an_f_string_path() -> None:
    found = findings(HEAD + "    return redirect(f'/users/{user.id}')\n")
    assert [(f.line, f.column) for f in found] == [(5, 21)]
    assert found[0].message == (
        'URL path built by hand for `redirect()`: use `url_for("endpoint", **values)`'
    )
    assert found[0].severity == "info"
    assert found[0].fix is None


@pytest.mark.parametrize(
    "target",
    [
        "'/users/' + str(user.id)",
        "'/users/' + user.slug + '/edit'",
        "'/' + next_url",
        "f'/users/' + str(user.id)",
    ],
)
def test_flags_concatenation(target: str) -> None:
    assert target_lines(target) == [5]


@pytest.mark.parametrize(
    "target",
    [
        "'/users/{}'.format(user.id)",
        "'/users/{id}/edit'.format(id=user.id)",
        "('/users/' '{}').format(user.id)",
    ],
)
def test_flags_format(target: str) -> None:
    assert target_lines(target) == [5]


@pytest.mark.parametrize(
    "target",
    [
        "f'/users/{user.id}/edit?tab={user.tab}'",
        "'/users/' f'{user.id}'",
        "location=f'/users/{user.id}'",
        "f'/users/{user.id}', code=301",
        "f\"/u/{user.id}\"",
    ],
)
def test_flags_f_strings_in_every_shape(target: str) -> None:
    assert target_lines(target) == [5]


@pytest.mark.parametrize(
    ("head", "call"),
    [
        ("from flask import redirect as go", "go(f'/users/{uid}')"),
        ("import flask", "flask.redirect(f'/users/{uid}')"),
        ("import flask as fl", "fl.redirect('/users/' + uid)"),
        ("from flask import Flask\nfrom werkzeug.utils import redirect", "redirect(f'/u/{uid}')"),
    ],
)
def test_flags_redirect_resolved_through_aliases(head: str, call: str) -> None:
    code = f"{head}\n\n\ndef view(uid):\n    return {call}\n"
    assert [f.line for f in findings(code)] == [code.count("\n")]


# == never flags ========================================================================


@pytest.mark.parametrize(
    "target",
    ["'/login'", "'/users/' + 'me'", "f'/login'", "'/users/{}'.format()", "'/a' '/b'"],
)
def test_ignores_literal_urls(target: str) -> None:
    assert target_lines(target) == []


@pytest.mark.parametrize(
    "target",
    [
        "url_for('users.detail', user_id=user.id)",
        "url_for('users.detail', user_id=user.id) + '#comments'",
        "f\"{url_for('users.detail', user_id=user.id)}?tab=posts\"",
        "'/' + url_for('index')",
        "f\"/{url_for('index')}\"",
    ],
)
def test_ignores_url_for(target: str) -> None:
    assert target_lines(target) == []


@pytest.mark.parametrize(
    "target",
    [
        "f'https://{host}/users/{user.id}'",
        "'https://' + host + '/users'",
        "f'//{host}/users'",
        "'//' + host + '/x'",
        "'https://example.com/{}'.format(user.id)",
    ],
)
def test_ignores_external_urls(target: str) -> None:
    assert target_lines(target) == []


@pytest.mark.parametrize(
    "target", ["f'{base}/users/{user.id}'", "base + '/users/' + str(user.id)", "next_url"]
)
def test_ignores_targets_whose_start_is_not_literal(target: str) -> None:
    assert target_lines(target) == []


def test_ignores_redirects_of_other_libraries() -> None:
    code = "from flask import Flask\n\nfrom web.http import redirect\n\n\n" \
           "def view(uid):\n    return redirect(f'/users/{uid}')\n"
    assert findings(code) == []


def test_ignores_built_paths_passed_elsewhere() -> None:
    code = HEAD + "    path = f'/users/{user.id}'\n    return redirect(url_for('x', next=path))\n"
    assert findings(code) == []


def test_ignores_modules_that_do_not_import_flask() -> None:
    code = "from django.shortcuts import redirect\n\n\ndef view(uid):\n" \
           "    return redirect(f'/users/{uid}')\n"
    assert findings(code) == []


def test_ignores_test_files() -> None:
    code = HEAD + "    return redirect(f'/users/{user.id}')\n"
    assert findings(code, path="tests/test_views.py") == []
