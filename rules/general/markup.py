"""PYS106 unsafe-markup: values marked as safe HTML without escaping."""

from __future__ import annotations

import libcst as cst

from rules.engine import Rule, Severity, register
from rules.general.strings import string_pieces

# `django.utils.html` re-exports `mark_safe`; both spellings are in use.
MARK_SAFE = frozenset({"django.utils.safestring.mark_safe", "django.utils.html.mark_safe"})
# Calls that declare their argument safe HTML, through import aliases.
SAFE_MARKERS = MARK_SAFE | frozenset({
    "django.utils.safestring.SafeString",
    "django.utils.safestring.SafeText",
    "markupsafe.Markup",
    "flask.Markup",
    "jinja2.Markup",
})
RENDER_TEMPLATE_STRING = frozenset({"flask.render_template_string"})
FORMAT_HTML = frozenset({"django.utils.html.format_html"})
# Arguments that are already escaped HTML: marking them safe changes nothing.
ESCAPING_CALLS = frozenset({
    "django.utils.html.escape", "django.utils.html.conditional_escape",
    "django.utils.html.format_html", "django.utils.html.format_html_join",
    "django.utils.html.json_script", "django.template.loader.render_to_string",
    "django.shortcuts.render_to_string", "markupsafe.escape", "flask.escape",
    "flask.render_template", "html.escape",
})
FORMAT_HTML_IMPORT = "from django.utils.html import format_html"


@register
class UnsafeMarkup(Rule):
    code = "PYS106"
    name = "unsafe-markup"
    severity = Severity.ERROR
    message = "`{call}` of a non-literal value bypasses HTML escaping (XSS)"
    format_message = ("`format_html` of a pre-formatted string escapes nothing; pass the "
                      "values as its arguments")
    requires = ("mark_safe", "SafeString", "SafeText", "Markup", "render_template_string",
                "format_html")
    docs = """
## What it does
Flags calls that declare a value safe HTML or a template source when the value is not a
string literal: Django's `mark_safe(...)`/`SafeString(...)`, `Markup(...)` from
markupsafe or Flask, and Flask's `render_template_string(...)`. Also flags Django's
`format_html` called with a string already formatted by an f-string, `.format(...)` or
`%`, which leaves nothing for it to escape.

Literal arguments (`mark_safe("<br>")`), `format_html("<b>{}</b>", value)` and arguments
that are already escaped (`mark_safe(format_html(...))`, `Markup(escape(x))`,
`mark_safe(render_to_string(...))`) are not flagged.

## Why is this bad?
Autoescaping is what keeps user data from becoming markup. `mark_safe` and `Markup` turn it
off for their argument: Django's documentation warns that `mark_safe` "should not be used
on user input", Flask's security page ("Cross-Site Scripting") says the same of `Markup`,
and a template built from a value with `render_template_string` lets that value inject
template code (server-side template injection). OWASP's Cross Site Scripting Prevention
Cheat Sheet: escape output by its context, don't mark untrusted data as safe.

## Example
```python
return mark_safe(f"<b>{user.name}</b>")
```

## Use instead
```python
return format_html("<b>{}</b>", user.name)
```
`format_html` escapes each argument; in Flask/Jinja pass values to a template, or
`Markup("<b>{}</b>").format(name)`.

## Fix
`mark_safe(f"<b>{x}</b>")` becomes `format_html("<b>{}</b>", x)` (adding
`from django.utils.html import format_html`) when the f-string's placeholders have no
format spec or conversion.

## Suppress
`# noqa: PYS106` on the line, for a value you know is already escaped HTML.
"""
    bad = (
        "from django.utils.safestring import mark_safe\n\n\ndef badge(user):\n"
        "    return mark_safe(f'<b>{user.name}</b>')  # flagged\n",
        "from markupsafe import Markup\n\n\ndef badge(name):\n"
        "    return Markup('<b>' + name + '</b>')  # flagged\n",
        "from flask import render_template_string, request\n\n\ndef page():\n"
        "    return render_template_string(request.args['t'])  # flagged\n",
        "from django.utils.html import format_html\n\n\ndef link(url):\n"
        "    return format_html(f'<a href=\"{url}\">x</a>')  # flagged\n",
    )
    good = (
        "from django.utils.safestring import mark_safe\n\nBR = mark_safe('<br>')\n",
        "from django.utils.html import format_html\n\n\ndef badge(user):\n"
        "    return format_html('<b>{}</b>', user.name)\n",
        "from markupsafe import Markup\n\n\ndef badge(name):\n"
        "    return Markup('<b>{}</b>').format(name)\n",
        "from flask import render_template_string\n\n\ndef page(name):\n"
        "    return render_template_string('<p>{{ name }}</p>', name=name)\n",
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name):
            if func.value not in self.ctx.imports:  # `from ... import mark_safe as safe`
                return
        elif not isinstance(func, cst.Attribute) or func.attr.value not in _SHORT_NAMES:
            return
        qualified = self.ctx.qualified_name(func)
        if qualified is None:
            return
        short = qualified.rsplit(".", 1)[-1]
        arg = _first_argument(node)
        if arg is None:
            return
        if qualified in FORMAT_HTML:
            if _pre_formatted(arg):
                self.report(node, self.format_message)
            return
        if qualified not in SAFE_MARKERS and qualified not in RENDER_TEMPLATE_STRING:
            return
        if _is_literal(arg) or self._escaped(arg):
            return
        message = self.message.format(call=short)
        new = _format_html_call(node, arg) if qualified in MARK_SAFE else None
        if new is None:
            self.report(node, message)
        else:
            self.report(node, message, replace=(node, new), imports=(FORMAT_HTML_IMPORT,))

    def _escaped(self, arg: cst.BaseExpression) -> bool:
        return isinstance(arg, cst.Call) and self.ctx.qualified_name(arg.func) in ESCAPING_CALLS


_SHORT_NAMES = frozenset(
    q.rsplit(".", 1)[1] for q in SAFE_MARKERS | RENDER_TEMPLATE_STRING | FORMAT_HTML
)


def _first_argument(call: cst.Call) -> cst.BaseExpression | None:
    if not call.args:
        return None
    first = call.args[0]
    if first.star:
        return None
    return first.value


def _is_literal(node: cst.BaseExpression) -> bool:
    """A string literal: plain, implicitly concatenated, or an f-string without values."""
    for piece in string_pieces(node):
        if isinstance(piece, cst.FormattedString):
            if any(isinstance(p, cst.FormattedStringExpression) for p in piece.parts):
                return False
        elif not isinstance(piece, cst.SimpleString):
            return False
    return True


def _pre_formatted(node: cst.BaseExpression) -> bool:
    """An f-string with values, `"...".format(...)` or `"..." % ...`."""
    if isinstance(node, (cst.FormattedString, cst.ConcatenatedString)):
        return not _is_literal(node)
    if isinstance(node, cst.Call):
        func = node.func
        return (isinstance(func, cst.Attribute) and func.attr.value == "format"
                and _is_literal(func.value))
    return (isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo)
            and _is_literal(node.left))


_UNSAFE_AS_ARGUMENT = (cst.NamedExpr, cst.Lambda, cst.Yield, cst.StarredElement)


def _format_html_call(call: cst.Call, arg: cst.BaseExpression) -> cst.Call | None:
    """`mark_safe(f"<b>{x}</b>")` -> `format_html("<b>{}</b>", x)`, or None when the
    f-string is not simple (format spec, conversion, `=`, nested f-strings)."""
    if len(call.args) != 1 or call.args[0].keyword is not None:
        return None
    if not isinstance(arg, cst.FormattedString):
        return None
    prefix = arg.prefix.lower().replace("f", "")
    if prefix not in ("", "r"):
        return None
    template = ""
    values: list[cst.BaseExpression] = []
    for part in arg.parts:
        if isinstance(part, cst.FormattedStringText):
            template += part.value  # braces stay escaped as `{{`/`}}`, as format_html wants
            continue
        assert isinstance(part, cst.FormattedStringExpression)
        if (part.conversion is not None or part.format_spec is not None
                or part.equal is not None or isinstance(part.expression, _UNSAFE_AS_ARGUMENT)):
            return None
        template += "{}"
        values.append(part.expression)
    quote = arg.start[len(arg.prefix):]
    literal = cst.SimpleString(f"{prefix}{quote}{template}{arg.end}")
    args = [cst.Arg(literal, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))]
    for i, value in enumerate(values):
        last = i == len(values) - 1
        args.append(cst.Arg(value, comma=cst.MaybeSentinel.DEFAULT if last
                            else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))))
    return call.with_changes(func=cst.Name("format_html"), args=args)

