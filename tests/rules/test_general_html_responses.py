"""PYS107 html-built-in-code: every flags / never-flags item of its RULES.md row."""

from __future__ import annotations

import pytest

from pystd.rules.engine import Finding
from tests.rules import lint as shared

DJANGO = "from django.http import HttpResponse\n\n\n"
FLASK = "from flask import Flask, Response, make_response\n\napp = Flask(__name__)\n"


def only(code: str, path: str = "app.py") -> list[Finding]:
    return shared.only(code, "PYS107", path)


def django_view(statement: str) -> str:
    """A Django view in shop/views.py whose body (line 5) is `statement`."""
    return DJANGO + f"def view(request, name):\n    {statement}\n"


def lines_of_view(statement: str) -> list[int]:
    return [f.line for f in only(django_view(statement), "shop/views.py")]


# == flags ===============================================================================


@pytest.mark.parametrize(("body", "how"), [
    ("f'<h1>Hello {name}</h1>'", "f-string"),
    ("'<b>{}</b>'.format(name)", "format"),
    ("'<b>' + name + '</b>'", "concatenation"),
    ("'<ul>' + ''.join(items) + '</ul>'", "concatenation"),
    ("f'<p class=\"x\">' f'{name}</p>'", "f-string"),
    ("'<a href=\"/u/{n}\">{n}</a>'.format(n=name)", "format"),
])
def test_flags_html_built_from_values(body: str, how: str) -> None:
    findings = only(django_view(f"return HttpResponse({body})"), "shop/views.py")
    assert [f.line for f in findings] == [5]
    assert how in findings[0].message and findings[0].fix is None


@pytest.mark.parametrize(("head", "call", "path"), [
    (FLASK, "make_response(f'<p>{name}</p>')", "app.py"),
    (FLASK, "Response(f'<p>{name}</p>', mimetype='text/html')", "app.py"),
    ("from fastapi import FastAPI\nfrom fastapi.responses import HTMLResponse\n\napp = FastAPI()\n",
     "HTMLResponse(content='<p>' + name + '</p>')", "api.py"),
    ("from starlette.responses import HTMLResponse\nfrom fastapi import FastAPI\n\napp = FastAPI()\n",
     "HTMLResponse(f'<p>{name}</p>')", "api.py"),
])
def test_flags_each_response_of_each_framework(head: str, call: str, path: str) -> None:
    code = f"{head}\n\n@app.get('/')\ndef hello(name: str):\n    return {call}\n"
    assert len(only(code, path)) == 1


# == never flags =========================================================================


@pytest.mark.parametrize("body", ["'<p>ok</p>'", "f'<p>ok</p>'", "'<p>' '</p>'",
                                  "'<p>' + '</p>'", "'<br>'.join(lines)"])
def test_never_flags_literal_html(body: str) -> None:
    assert lines_of_view(f"return HttpResponse({body})") == []


@pytest.mark.parametrize("body", ["f'Hello {name}'", "'total: ' + str(name)",
                                  "'{} < {}'.format(name, name)", "f'a<{name}'"])
def test_never_flags_text_without_tags(body: str) -> None:
    assert lines_of_view(f"return HttpResponse({body})") == []


def test_never_flags_template_rendering() -> None:
    code = "from django.shortcuts import render\nfrom django.template.loader import render_to_string\n" \
           "from django.http import HttpResponse\n\n\ndef view(request, name):\n" \
           "    if name:\n        return render(request, 'x.html', {'name': name})\n" \
           "    return HttpResponse(render_to_string('x.html', {'name': name}))\n"
    assert only(code, "shop/views.py") == []


def test_never_flags_functions_that_are_not_handlers() -> None:
    code = DJANGO + "def badge(name):\n    return HttpResponse(f'<b>{name}</b>')\n"
    assert only(code, "shop/helpers.py") == []


def test_never_flags_drf_response_and_other_responses() -> None:
    code = "from rest_framework.decorators import api_view\nfrom rest_framework.response import Response\n" \
           "\n\n@api_view(['GET'])\ndef view(request):\n    return Response(f'<b>{request.user}</b>')\n"
    assert only(code) == []
    code = "from app.http import Response\nfrom flask import Flask\n\napp = Flask(__name__)\n\n\n" \
           "@app.get('/')\ndef view(name):\n    return Response(f'<b>{name}</b>')\n"
    assert only(code) == []


def test_skips_test_files() -> None:
    assert only(django_view("return HttpResponse(f'<b>{name}</b>')"), "tests/views.py") == []


# == admin-only code (Django admin modules, ModelAdmin methods, staff-only views) ==========

ADMIN_DEBUG_PAGE = "    return HttpResponse(f'<pre>{flags}</pre>')\n"
ADMIN_ONLY = [
    # a view module of an `admin/` package
    ("shop/admin/views.py", DJANGO + "def flags_page(request):\n    flags = load()\n"
     + ADMIN_DEBUG_PAGE),
    # an admin module's view (a handler by its decorator)
    ("shop/admin.py", "from django.http import HttpResponse\n"
     "from django.views.decorators.http import require_GET\n\n\n@require_GET\n"
     "def flags_page(request):\n    flags = load()\n" + ADMIN_DEBUG_PAGE),
    # a method of a ModelAdmin, even in a views module
    ("shop/views.py", DJANGO + "class OrderAdmin(admin.ModelAdmin):\n"
     "    def report_view(self, request):\n        flags = self.load()\n"
     "        return HttpResponse(f'<pre>{flags}</pre>')\n"),
    # a view behind Django's staff-only decorator
    ("shop/views.py", DJANGO + "@staff_member_required\ndef flags_page(request):\n"
     "    flags = load()\n" + ADMIN_DEBUG_PAGE),
]


def default_lines(code: str, path: str) -> list[int]:
    return [f.line for f in shared.lint(code, path, select="DEFAULT") if f.code == "PYS107"]


@pytest.mark.parametrize(("path", "code"), ADMIN_ONLY)
def test_admin_only_html_is_quiet_by_default_but_reported_by_code(path: str, code: str) -> None:
    assert default_lines(code, path) == []
    last = len(code.splitlines())
    assert [f.line for f in only(code, path)] == [last]


@pytest.mark.parametrize(("path", "code"), ADMIN_ONLY)
def test_admin_only_html_of_request_data_stays_a_finding(path: str, code: str) -> None:
    reflected = code.replace("{flags}", "{request.GET['q']}")
    assert default_lines(reflected, path) == [len(code.splitlines())]


def test_a_view_that_is_not_admin_only_stays_a_finding_by_default() -> None:
    code = DJANGO + "@login_required\ndef flags_page(request):\n    flags = load()\n" \
        + ADMIN_DEBUG_PAGE
    assert default_lines(code, "shop/views.py") == [7]
    code = DJANGO + "class OrderView(View):\n    def get(self, request):\n" \
        "        flags = self.load()\n        return HttpResponse(f'<pre>{flags}</pre>')\n"
    assert default_lines(code, "shop/views.py") == [7]
