"""PYS107 html-built-in-code: handlers that return HTML assembled from values."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import libcst as cst

from pystd.rules.context import FileContext
from pystd.rules.engine import Category, Example, Rule, Severity, register
from pystd.rules.general.strings import (
    added_operands,
    concatenated_text,
    formatted_text,
    string_value,
)
from pystd.rules.walker import find_nodes

RESPONSE_NAMES = frozenset({"HttpResponse", "HTMLResponse", "Response", "make_response"})
# Packages whose responses send a string as the body (DRF's `Response` serializes it).
RESPONSE_PACKAGES = frozenset({"django", "flask", "fastapi", "starlette", "werkzeug", "ninja"})
# Admin-only code: Django's admin modules (`shop/admin.py`, `shop/admin/views.py`), classes
# built on its admin bases, views behind a staff-only decorator.
ADMIN_MODULES = frozenset({"admin", "admins"})
ADMIN_BASE_SUFFIXES = ("ModelAdmin", "AdminSite", "InlineModelAdmin", "TabularInline",
                       "StackedInline")
STAFF_ONLY_DECORATORS = frozenset({"staff_member_required", "superuser_required",
                                   "staff_required", "admin_required"})
REQUEST_NAMES = frozenset({"request", "req"})
_HTML_TAG = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9-]*(?:\s|/?>)")


@register
class HtmlBuiltInCode(Rule):
    code = "PYS107"
    name = "html-built-in-code"
    severity = Severity.WARNING
    category = Category.SECURITY
    default = True
    rationale = (
        "HTML assembled with interpolated values in a handler skips autoescaping, a common "
        "XSS source; the value may still be trusted, so a warning. Admin-only code that "
        "reads no request data (label-studio's staff debug pages: noise) is reported only "
        "where chosen by code."
    )
    message = ("HTML built from values with {how} in a handler; render a template "
               "(autoescaping prevents XSS)")
    requires = ("Response", "make_response")
    docs = """
## What it does
Flags a request handler that returns `HttpResponse(...)`, `HTMLResponse(...)`,
`Response(...)` or `make_response(...)` of a string built with an f-string, `.format(...)`
or `+` whose literal text contains an HTML tag and which interpolates a value.

Literal HTML (no values), template rendering (`render`, `render_template`,
`TemplateResponse`), functions that are not handlers and DRF's `Response` (it serializes
its data) are not flagged.

By default, admin-only code is not reported either, unless the HTML reads the request: an
`admin.py` module or a module in an `admin/` package, a method of a class built on
Django's admin (`ModelAdmin`, `AdminSite`, `TabularInline`, `StackedInline`), or a view
behind `@staff_member_required`/`@superuser_required`. Such pages show staff the project's
own data (label-studio's debug pages, judged noise), so the code shows no untrusted value.
Select PYS107 by code to have those reported too.

## Why is this bad?
A value pasted into HTML by string building is not escaped: any user-controlled part is a
cross-site scripting hole (OWASP Top 10 A03: Injection; OWASP Cross Site Scripting
Prevention Cheat Sheet). Django, Jinja and Starlette templates autoescape by default
(Django's "Security in Django": "Django templates escape specific characters which are
particularly dangerous to HTML"; Flask's "Security Considerations").

## Example
```python
def hello(request):
    return HttpResponse(f"<h1>Hello {request.GET['name']}</h1>")
```

## Use instead
```python
def hello(request):
    return render(request, "hello.html", {"name": request.GET["name"]})
```
"""
    bad = (
        Example(
            """
            from django.http import HttpResponse


            def hello(request):
                return HttpResponse(f"<h1>Hello {request.GET['name']}</h1>")  # flagged
            """,
            "shop/views.py",
        ),
        """
        from flask import Flask, make_response

        app = Flask(__name__)


        @app.get('/')
        def hello(name):
            return make_response('<p>' + name + '</p>')  # flagged
        """,
    )
    good = (
        Example(
            """
            from django.http import HttpResponse


            def ping(request):
                return HttpResponse('<p>ok</p>')
            """,
            "shop/views.py",
        ),
        Example(
            """
            from django.shortcuts import render


            def hello(request):
                return render(request, 'hello.html', {'name': request.GET['name']})
            """,
            "shop/views.py",
        ),
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._handlers: dict[int, bool] = {}

    def visit_Return(self, node: cst.Return) -> None:
        call = node.value
        if not isinstance(call, cst.Call) or not call.args:
            return
        func = call.func
        short = func.attr.value if isinstance(func, cst.Attribute) else (
            func.value if isinstance(func, cst.Name) else None)
        if short not in RESPONSE_NAMES:
            return
        qualified = self.ctx.qualified_name(func) or ""
        if qualified.split(".", 1)[0] not in RESPONSE_PACKAGES:
            return
        first = call.args[0]
        if first.keyword is not None and first.keyword.value not in ("content", "response"):
            return
        how = _html_built(first.value)
        if how is None or not self._in_handler():
            return
        # Admin-only code builds pages for staff from the project's own data: without
        # request data in the HTML, the code shows no untrusted value (chosen by code only).
        evidence = not self._admin_only() or _reads_request(first.value)
        self.report(call, self.message.format(how=how), evidence=evidence)

    def _admin_only(self) -> bool:
        """Is the code being walked admin-only: an `admin.py` module or `admin/` package,
        a method of a `ModelAdmin`-like class, or a function behind a staff-only
        decorator (`@staff_member_required`, `@superuser_required`)?"""
        path = PurePosixPath(self.ctx.kind.path)
        if path.stem in ADMIN_MODULES or ADMIN_MODULES.intersection(path.parts[:-1]):
            return True
        for scope in self.ctx.ancestors:
            if isinstance(scope, cst.ClassDef) and any(
                _last_name(base.value).endswith(ADMIN_BASE_SUFFIXES) for base in scope.bases
            ):
                return True
            if isinstance(scope, cst.FunctionDef) and any(
                _last_name(d.decorator.func if isinstance(d.decorator, cst.Call)
                           else d.decorator) in STAFF_ONLY_DECORATORS
                for d in scope.decorators
            ):
                return True
        return False

    def _in_handler(self) -> bool:
        func = self.ctx.enclosing_function()
        if func is None:
            return False
        known = self._handlers.get(id(func))
        if known is None:
            known = self._handlers[id(func)] = self.ctx.handler_framework(func) is not None
        return known


def _last_name(node: cst.BaseExpression) -> str:
    """`ModelAdmin` of `admin.ModelAdmin`, `staff_member_required` of a decorator."""
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return node.value if isinstance(node, cst.Name) else ""


def _reads_request(expr: cst.BaseExpression) -> bool:
    """Does the built HTML read the request (`request.GET["q"]`, `req.args`)? Then a link
    sent to a staff member can inject it, admin code or not."""
    names = find_nodes(expr, (cst.Name,), into_functions=True)
    return any(isinstance(n, cst.Name) and n.value in REQUEST_NAMES for n in names)


def _literal_text(node: cst.BaseExpression) -> str | None:
    """Literal text of a string expression (f-string values as NUL), or None."""
    if isinstance(node, cst.SimpleString):
        return string_value(node)
    if isinstance(node, cst.FormattedString):
        return formatted_text(node)
    if isinstance(node, cst.ConcatenatedString):
        return concatenated_text(node)
    return None


def _html_built(expr: cst.BaseExpression) -> str | None:
    """How `expr` interpolates values into HTML text (`an f-string`, ...), or None."""
    if isinstance(expr, (cst.FormattedString, cst.ConcatenatedString)):
        text = _literal_text(expr) or ""
        if "\x00" in text and _HTML_TAG.search(text):
            return "an f-string"
        return None
    if isinstance(expr, cst.Call):
        func = expr.func
        if (isinstance(func, cst.Attribute) and func.attr.value == "format" and expr.args
                and _HTML_TAG.search(_literal_text(func.value) or "")):
            return "`.format()`"
        return None
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        operands = added_operands(expr)
        texts = [_literal_text(op) for op in operands]
        has_tag = any(t is not None and _HTML_TAG.search(t) for t in texts)
        has_value = any(t is None or "\x00" in t for t in texts)
        if has_tag and has_value:
            return "`+` concatenation"
    return None

