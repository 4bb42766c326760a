"""PYS106 unsafe-markup: every flags / never-flags item and the fix of its RULES.md row."""

from __future__ import annotations

import pytest

from rules.engine import Finding
from tests.rules.lint import fixed, lint

DJANGO = "from django.utils.safestring import SafeString, mark_safe\n\n\n"
FLASK = "from flask import Markup, render_template_string\n\n\n"


def only(code: str, path: str = "app.py") -> list[Finding]:
    return lint(code, path, select="PYS106")


def lines_of(code: str, path: str = "app.py") -> list[int]:
    return [f.line for f in only(code, path)]


def in_function(head: str, statement: str) -> str:
    """`head` (three lines) then `def f(x, user, request):` whose body (line 5) is
    `statement`."""
    return f"{head}def f(x, user, request):\n    {statement}\n"


def fix_of(code: str) -> str:
    findings = only(code)
    assert len(findings) == 1, findings
    new = fixed(code, findings[0])
    assert only(new) == [], new
    return new


# == flags ===============================================================================


@pytest.mark.parametrize("arg", ["x", "user.bio", "f'<b>{x}</b>'", "'<b>' + x + '</b>'",
                                 "'<b>%s</b>' % x", "'<b>{}</b>'.format(x)", "str(x)",
                                 "request.GET['html']", "''.join(parts)"])
@pytest.mark.parametrize("call", ["mark_safe", "SafeString"])
def test_flags_django_mark_safe_on_non_literals(call: str, arg: str) -> None:
    assert lines_of(in_function(DJANGO, f"return {call}({arg})")) == [5]


@pytest.mark.parametrize("head", [
    "from markupsafe import Markup\n\n\n",
    "from flask import Markup\n\n\n",
    "import markupsafe\n\nMarkup = markupsafe.Markup\n",
])
def test_flags_markup_on_non_literals(head: str) -> None:
    call = "markupsafe.Markup" if "import markupsafe\n" in head else "Markup"
    assert lines_of(in_function(head, f"return {call}(f'<i>{{x}}</i>')")) == [5]


@pytest.mark.parametrize("arg", ["x", "request.args['t']", "f'<p>{x}</p>'", "open(x).read()"])
def test_flags_render_template_string_on_non_literals(arg: str) -> None:
    assert lines_of(in_function(FLASK, f"return render_template_string({arg})")) == [5]


@pytest.mark.parametrize("arg", ["f'<a href=\"{x}\">link</a>'", "'<b>{}</b>'.format(x)",
                                 "'<b>%s</b>' % x", "'<b>' f'{x}</b>'"])
def test_flags_format_html_with_a_pre_formatted_string(arg: str) -> None:
    head = "from django.utils.html import format_html\n\n\n"
    findings = only(in_function(head, f"return format_html({arg})"))
    assert [f.line for f in findings] == [5]
    assert "pre-formatted" in findings[0].message


def test_flags_through_import_aliases() -> None:
    code = in_function("from django.utils import safestring as ss\n\n\n", "return ss.mark_safe(x)")
    assert lines_of(code) == [5]
    code = in_function("from django.utils.html import mark_safe as safe\n\n\n", "return safe(x)")
    assert lines_of(code) == [5]


# == never flags =========================================================================


@pytest.mark.parametrize("arg", ["'<br>'", "\"<hr class='x'>\"", "'<b>' '</b>'",
                                 "f'<br>'", "'''<p>\n</p>'''"])
def test_never_flags_literal_arguments(arg: str) -> None:
    for head, call in ((DJANGO, "mark_safe"), (DJANGO, "SafeString"), (FLASK, "Markup"),
                       (FLASK, "render_template_string")):
        assert only(in_function(head, f"return {call}({arg})")) == []


@pytest.mark.parametrize("call", ["format_html('<b>{}</b>', x)",
                                  "format_html('<a href=\"{}\">{}</a>', x, user.name)",
                                  "format_html('<br>')",
                                  "format_html(TEMPLATE, x)"])
def test_never_flags_format_html_with_values_as_arguments(call: str) -> None:
    head = "from django.utils.html import format_html\n\n\n"
    assert only(in_function(head, f"return {call}")) == []


@pytest.mark.parametrize("statement", [
    "return mark_safe(format_html('<b>{}</b>', x))",
    "return mark_safe(escape(x))",
    "return mark_safe(render_to_string('row.html', {'x': x}))",
])
def test_never_flags_already_escaped_arguments(statement: str) -> None:
    head = ("from django.template.loader import render_to_string\n"
            "from django.utils.html import escape, format_html\n"
            "from django.utils.safestring import mark_safe\n")
    assert only(in_function(head, statement)) == []


def test_never_flags_markup_format_or_unrelated_functions() -> None:
    assert only(in_function(FLASK, "return Markup('<b>{}</b>').format(x)")) == []
    assert only(in_function("from app.html import mark_safe\n\n\n", "return mark_safe(x)")) == []
    assert only("def mark_safe(x):\n    return x\n\n\nmark_safe(y)\n") == []


def test_skips_test_files() -> None:
    assert only(in_function(DJANGO, "return mark_safe(x)"), path="tests/test_html.py") == []


# == fix =================================================================================


def test_fix_mark_safe_f_string_becomes_format_html() -> None:
    code = in_function(DJANGO, 'return mark_safe(f"<b>{x}</b>")')
    new = fix_of(code)
    assert "from django.utils.html import format_html\n" in new
    assert '    return format_html("<b>{}</b>", x)\n' in new


def test_fix_moves_every_value_and_keeps_escaped_braces() -> None:
    code = in_function(DJANGO, "return mark_safe(f'<a href=\"{user.url}\" data-x=\"{{}}\">"
                               "{user.name[0]}</a>')")
    assert "    return format_html('<a href=\"{}\" data-x=\"{{}}\">{}</a>', user.url, " \
           "user.name[0])\n" in fix_of(code)


def test_fix_keeps_an_existing_format_html_import() -> None:
    head = "from django.utils.html import format_html\nfrom django.utils.safestring import mark_safe\n\n"
    new = fix_of(in_function(head, "return mark_safe(f'<i>{x}</i>')"))
    assert new.count("import format_html") == 1


@pytest.mark.parametrize("arg", ["f'<b>{x!r}</b>'", "f'<b>{x:>10}</b>'", "f'<b>{x=}</b>'",
                                 "'<b>' + x", "x", "b'<b>'.decode() + x"])
def test_no_fix_unless_a_simple_f_string(arg: str) -> None:
    findings = only(in_function(DJANGO, f"return mark_safe({arg})"))
    assert findings and all(f.fix is None for f in findings)


def test_no_fix_for_markup_safestring_or_render_template_string() -> None:
    for head, call in ((DJANGO, "SafeString"), (FLASK, "Markup"), (FLASK, "render_template_string")):
        findings = only(in_function(head, f"return {call}(f'<b>{{x}}</b>')"))
        assert findings and all(f.fix is None for f in findings)
