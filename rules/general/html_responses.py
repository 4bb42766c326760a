"""PYS107 html-built-in-code: handlers that return HTML assembled from values."""

from __future__ import annotations

import re

import libcst as cst

from pystd.rules.context import FileContext
from pystd.rules.engine import Category, Example, Rule, Severity, register
from pystd.rules.general.strings import (
    added_operands,
    concatenated_text,
    formatted_text,
    string_value,
)

RESPONSE_NAMES = frozenset({"HttpResponse", "HTMLResponse", "Response", "make_response"})
# Packages whose responses send a string as the body (DRF's `Response` serializes it).
RESPONSE_PACKAGES = frozenset({"django", "flask", "fastapi", "starlette", "werkzeug", "ninja"})
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
        "XSS source; the value may still be trusted, so a warning."
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
        self.report(call, self.message.format(how=how))

    def _in_handler(self) -> bool:
        func = self.ctx.enclosing_function()
        if func is None:
            return False
        known = self._handlers.get(id(func))
        if known is None:
            known = self._handlers[id(func)] = self.ctx.handler_framework(func) is not None
        return known


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

