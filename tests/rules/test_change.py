"""Change-level rules: PYS901 (handlers changed without tests) and PYS902 (secret files)."""

from __future__ import annotations

import pytest

from rules.change import Change, ChangedPath, check_change
from rules.engine import select_rules

VIEW = (
    "from django.shortcuts import render\n\n\n"
    "def index(request):\n    return render(request, 'index.html')\n\n\n"
    "def helper(x):\n    return x\n"
)
FLASK = (
    "from flask import Blueprint\n\nbp = Blueprint('a', __name__)\n\n\n"
    "@bp.route('/')\ndef home():\n    return 'hi'\n"
)


def run(*files: ChangedPath, select: str = "PYS9") -> list[tuple[str, str, int]]:
    return [(f.code, f.path, f.line) for f in check_change(Change(files), select_rules([select]))]


@pytest.mark.parametrize("name", [".env", ".env.production", "deploy/key.pem", "id_rsa",
                                  "home/.ssh/id_ed25519"])
def test_added_secret_files_are_flagged(name):
    assert run(ChangedPath(name, "added")) == [("PYS902", name, 1)]


@pytest.mark.parametrize("name", [".env.example", ".env.sample", ".env.template",
                                  "id_rsa.pub", "settings.env.py", "environment.md"])
def test_templates_and_public_keys_are_not_flagged(name):
    assert run(ChangedPath(name, "added")) == []


def test_only_added_secret_files_count():
    assert run(ChangedPath(".env", "modified"), ChangedPath(".env", "removed")) == []


def test_handler_change_without_tests_is_flagged_once_on_the_first_handler():
    findings = run(ChangedPath("shop/views.py", "modified", VIEW, frozenset({5})),
                   ChangedPath("web/routes.py", "added", FLASK, None))
    assert findings == [("PYS901", "shop/views.py", 4)]
    (finding,) = check_change(Change((
        ChangedPath("shop/views.py", "modified", VIEW, frozenset({5})),
        ChangedPath("web/routes.py", "added", FLASK, None))), select_rules(["PYS901"]))
    assert "`index`" in finding.message and "`home`" in finding.message


def test_handler_change_with_a_test_file_is_fine():
    assert run(ChangedPath("shop/views.py", "modified", VIEW, frozenset({5})),
               ChangedPath("shop/tests/test_views.py", "modified", "x = 1\n", None)) == []


def test_change_outside_handlers_is_fine():
    assert run(ChangedPath("shop/views.py", "modified", VIEW, frozenset({9}))) == []


def test_non_handler_files_are_fine():
    assert run(ChangedPath("shop/models.py", "modified", "def index(request):\n    pass\n",
                           None)) == []


def test_noqa_on_the_handler_line_suppresses():
    text = VIEW.replace("def index(request):", "def index(request):  # noqa: PYS901")
    assert run(ChangedPath("shop/views.py", "modified", text, frozenset({5}))) == []
