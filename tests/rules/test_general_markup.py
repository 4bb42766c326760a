"""PYS106 unsafe-markup: every flags / never-flags item and the fix of its RULES.md row."""

from __future__ import annotations

import pytest

from pystd.rules.engine import Finding
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


@pytest.mark.parametrize("arg", ["'&nbsp;' * 4 * depth", "depth * '&nbsp;'",
                                 "('<br>' * 2) * x"])
def test_never_flags_a_repeated_literal(arg: str) -> None:
    """Survey (wagtail 8.0.1, `mark_safe("&nbsp;" * 4 * display_depth)`): repeating a
    literal adds no value to it; the count must be a number or `*` raises."""
    assert only(in_function(DJANGO, f"return mark_safe({arg})")) == []
    assert only(in_function(FLASK, f"return Markup({arg})")) == []


TRANSLATED = [
    ("from django.utils.translation import gettext_lazy as _", "_('<b>Child</b> categories')"),
    ("from django.utils.translation import gettext", "gettext('Number of categories')"),
    ("from django.utils.translation import pgettext", "pgettext('menu', '<b>Pages</b>')"),
    ("from django.utils import translation", "translation.gettext('Pages')"),
    ("from flask_babel import lazy_gettext", "lazy_gettext('<em>None</em>')"),
]


@pytest.mark.parametrize(("head", "call"), TRANSLATED)
def test_never_flags_a_translated_literal(head: str, call: str) -> None:
    """Survey (django-oscar 4.2.1, `mark_safe(_("Number of child categories"))`): the
    translators' text for a literal message holds no value."""
    imports = f"{head}\nfrom django.utils.safestring import mark_safe\nfrom markupsafe import Markup\n"
    assert only(f"{imports}\n\ndef f():\n    return mark_safe({call})\n") == []
    assert only(f"{imports}\n\ndef f():\n    return Markup({call})\n") == []


@pytest.mark.parametrize("arg", [
    "x * 2",  # a value repeated is still the value
    "_('Hello %s') % x",  # a translated template with a value put in
    "_(x)",  # a translated value
    "gettext(f'<b>{x}</b>')",
    "gettext('<b>', x)",
    "ngettext('one', 'many', x)",  # not in the list: plural forms take a count
])
def test_flags_repeated_values_and_translated_values(arg: str) -> None:
    head = ("from django.utils.translation import gettext, gettext_lazy as _, ngettext\n"
            "from django.utils.safestring import mark_safe\n\n")
    assert lines_of(in_function(head, f"return mark_safe({arg})")) == [5]


ESCAPING_HEAD = (
    "from django.forms.utils import flatatt\n"
    "from django.utils.html import conditional_escape, escape\n"
    "from django.utils.safestring import mark_safe\n"
    "from django.utils.translation import gettext_lazy as _, pgettext\n"
    "from markupsafe import Markup\n"
    "from wtforms.widgets import html_params\n"
)


@pytest.mark.parametrize("arg", [
    # survey, pretix 2026.8.0: every value escaped or a literal
    "f'<strike class=\"text-muted\">{escape(obj)}</strike>'",
    "'<span class=\"force-ltr\">' + escape(x) + '</span>'",
    "conditional_escape(label) + ' ' + '<span class=\"label\">{}</span>'.format(_('experimental'))",
    "'<br><span class=\"optional\">{}</span>'.format(pgettext('form', 'Optional'))",
    "_('Web Check-in') + ' <span class=\"label label-success\">beta</span>'",
    "_('Use one of <a {args}>many test cards</a>.').format(args='href=\"https://x.test\"')",
    "'href=\"{}\"'.format(escape(x) if user else escape(request))",
    "''.join(['&#{0};'.format(ord(char)) for char in x])",
    "''.join('<p>' + escape(m) + '</p>' for m in x)",
    "'<td>%s</td><td>%d</td>' % (escape(x), len(user))",
    "'<b>%(name)s</b>' % {'name': escape(x)}",
    # survey, wagtail 8.0.1 and pretix: Django's flatatt escapes the attribute values
    "f'<img{flatatt(x)}>'",
    "flatatt(x)",
    # survey, flask-admin 2.2.1: WTForms' html_params escapes the attribute values
    "f'<a {html_params(**user)}>{escape(x)}</a>'",
])
def test_never_flags_values_built_only_from_escaped_and_literal_parts(arg: str) -> None:
    assert only(in_function(ESCAPING_HEAD, f"return mark_safe({arg})")) == []


def test_never_flags_local_names_assigned_only_safe_values() -> None:
    """Survey (indico 3.2.9, pretix, django-cms 5.1.3): a translated message or an indent
    held in a local before it is marked safe."""
    code = ESCAPING_HEAD + (
        "\n\ndef flash_merged(user):\n"
        "    msg = _('Your profile has been merged into <strong>{}</strong>.')\n"
        "    return Markup(msg).format(user.full_name)\n"
        "\n\ndef label(page, title):\n"
        "    indent = '&nbsp;&nbsp;' * (page.depth - 1)\n"
        "    return mark_safe(f'{indent}{escape(title)}')\n"
        "\n\ndef choices(items):\n"
        "    tpl = '{} &nbsp; <span class=\"text-muted\">{}</span>'\n"
        "    allvars = _('All variations')\n"
        "    tpl += '<br>'\n"
        "    return [mark_safe(tpl.format(_('Normal'), allvars)) for item in items]\n"
    )
    assert only(code) == []


def test_never_flags_a_local_dict_of_escaped_values() -> None:
    """Survey (django-cms 5.1.3, `plugin_base.py`): `_("...") % msg_dict` where every
    value of the dict is escaped."""
    code = ESCAPING_HEAD + (
        "\n\ndef changed(opts, obj):\n"
        "    msg_dict = {'name': conditional_escape(opts.verbose_name),\n"
        "                'obj': conditional_escape(obj)}\n"
        "    return mark_safe(_('The %(name)s \"%(obj)s\" was changed.') % msg_dict)\n"
    )
    assert only(code) == []


def test_flags_a_local_dict_changed_before_use() -> None:
    code = ESCAPING_HEAD + (
        "\n\ndef item(x, user):\n"
        "    data = {'a': escape(x)}\n"
        "    data['b'] = user\n"
        "    return mark_safe('%(a)s %(b)s' % data)\n"  # line 12
        "\n\ndef updated(x, user):\n"
        "    data = {'a': escape(x)}\n"
        "    data.update(b=user)\n"
        "    return mark_safe('%(a)s %(b)s' % data)\n"  # line 18
        "\n\ndef filled(x, fill):\n"
        "    data = {'a': escape(x)}\n"
        "    fill(data)\n"
        "    return mark_safe('%(a)s %(b)s' % data)\n"  # line 24
        "\n\ndef listed(x, fill):\n"
        "    parts = ['<ul>']\n"
        "    fill(parts)\n"
        "    return mark_safe(''.join(parts))\n"  # line 30
    )
    assert lines_of(code) == [12, 18, 24, 30]


@pytest.mark.parametrize("statement", [
    "return mark_safe(f'<i>{escape(x)}</i>{user}')",  # one value unescaped
    "return mark_safe('<b>%s</b>' % (escape(x), user))",
    "return mark_safe('<b>{}</b>'.format(escape(x), name=user))",
    "return mark_safe('<b>{}</b>'.format(*x))",
    "return mark_safe(''.join('<p>' + m + '</p>' for m in x))",
    "return mark_safe(''.join(x))",
    "return mark_safe(escape(x) if user else x)",
    "return mark_safe(x.strip())",
    "return mark_safe(user.format(escape(x)))",  # the template is a value
    "return mark_safe(_('Hi {}').format(user))",
    "return Markup(x * 2)",
])
def test_flags_when_any_part_is_an_unescaped_value(statement: str) -> None:
    assert lines_of(in_function(ESCAPING_HEAD, statement)) == [8]


def test_flags_local_names_once_assigned_a_value() -> None:
    code = ESCAPING_HEAD + (
        "TEMPLATE = '<b>{}</b>'\n"
        "\n\ndef reassigned(x, user):\n"
        "    html = '<br>'\n"
        "    if user:\n"
        "        html = x\n"
        "    html = '<hr>'\n"
        "    return mark_safe(html)\n"  # line 15
        "\n\ndef appended(x):\n"
        "    html = '<ul>'\n"
        "    html += x\n"
        "    return mark_safe(html)\n"  # line 21
        "\n\ndef looped(items):\n"
        "    row = '<tr>'\n"
        "    for row in items:\n"
        "        yield mark_safe(row)\n"  # line 27
        "\n\ndef shadowed(TEMPLATE):\n"
        "    return mark_safe(TEMPLATE)\n"  # line 31
        "\n\nrender = lambda TEMPLATE: Markup(TEMPLATE)\n"  # line 34
        "\n\ndef module_constant(x):\n"
        "    return mark_safe(TEMPLATE.format(escape(x)))\n"  # not flagged
    )
    assert lines_of(code) == [15, 21, 27, 31, 34]


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


MARKUPSAFE = "from markupsafe import Markup\n\n\n"


def test_never_flags_a_template_loaded_by_name_and_rendered() -> None:
    """Survey (starlette-admin 1.0.3, `widgets.py`: seven widgets end with
    `template = env.get_template(self.template)` then `Markup(template.render(ctx))`): the
    engine escaped the values; so does Django's `get_template(...).render(...)`."""
    code = MARKUPSAFE + (
        "class Widget:\n"
        "    async def render(self, request, env):\n"
        "        ctx = await self.get_context(request)\n"
        "        template = env.get_template(self.template)\n"
        "        return Markup(template.render(ctx, request=request))\n"
        "\n"
        "    async def render_direct(self, env):\n"
        "        return Markup(env.get_template('w.html').render({'items': self.items}))\n"
        "\n"
        "    async def render_async(self, env):\n"
        "        tpl = env.get_template('w.html')\n"
        "        return Markup(await tpl.render_async(x=self.x))\n"
    )
    assert only(code) == []
    django = ("from django.template.loader import get_template\n"
              "from django.utils.safestring import mark_safe\n\n\n"
              "def card(obj):\n"
              "    return mark_safe(get_template('card.html').render({'obj': obj}))\n")
    assert only(django) == []


def test_flags_a_template_from_source_or_a_name_reassigned() -> None:
    """A template built from a string (`Template(src)`, `env.from_string(src)`) renders
    whatever the string says, and a name that may hold other text is not a template."""
    code = MARKUPSAFE + (
        "from jinja2 import Template\n\n\n"
        "def source(src, ctx):\n"
        "    return Markup(Template(src).render(ctx))\n"  # line 8
        "\n\ndef from_string(env, src, ctx):\n"
        "    return Markup(env.from_string(src).render(ctx))\n"  # line 12
        "\n\ndef reassigned(env, other, ctx):\n"
        "    template = env.get_template('a.html')\n"
        "    if ctx:\n"
        "        template = other\n"
        "    return Markup(template.render(ctx))\n"  # line 19
        "\n\ndef raw_render(widget, ctx):\n"
        "    return Markup(widget.render(ctx))\n"  # line 23
    )
    assert lines_of(code) == [8, 12, 19, 23]


def test_never_flags_html_sanitized_by_a_sanitizer_library() -> None:
    """Survey (starlette-admin 1.0.3, `helpers.py:556`: `Markup(nh3.clean(str(html),
    tags=..., attributes=...))` for TinyMCE content)."""
    code = MARKUPSAFE + (
        "import bleach\nimport nh3\n\n\n"
        "def sanitize_html(html):\n"
        "    cleaned = nh3.clean(str(html), tags={'p', 'b'})\n"
        "    return Markup(cleaned)\n"
        "\n\ndef bleached(html):\n"
        "    return Markup(bleach.clean(html))\n"
    )
    assert only(code) == []


def test_never_flags_text_translated_by_an_html_escape_table() -> None:
    """Survey (starlette-admin 1.0.3, `helpers.py:604`, `html_safe_json`): JSON whose `<`,
    `>`, `&` (and `'`) are replaced by `\\u` escapes through a module-level table."""
    code = MARKUPSAFE + (
        "import json\n\n"
        "_JSON_HTML_ESCAPES = str.maketrans(\n"
        "    {'&': '\\\\u0026', '<': '\\\\u003c', '>': '\\\\u003e', \"'\": '\\\\u0027'}\n"
        ")\n\n\n"
        "def html_safe_json(data):\n"
        "    return Markup(json.dumps(data).translate(_JSON_HTML_ESCAPES))\n"
    )
    assert only(code) == []


def test_flags_text_translated_by_a_table_that_leaves_html_in() -> None:
    code = MARKUPSAFE + (
        "QUOTES = str.maketrans({'\"': '&quot;'})\n"
        "PARTIAL = str.maketrans({'<': '&lt;', '>': '&gt;'})\n"
        "BACK = str.maketrans({'<': '&lt;', '>': '&gt;', '&': '<amp>'})\n\n\n"
        "def a(x):\n    return Markup(x.translate(QUOTES))\n"  # line 10
        "\n\ndef b(x):\n    return Markup(x.translate(PARTIAL))\n"  # line 14
        "\n\ndef c(x):\n    return Markup(x.translate(BACK))\n"  # line 18
        "\n\ndef d(x, table):\n    return Markup(x.translate(table))\n"  # line 22
    )
    assert lines_of(code) == [10, 14, 18, 22]
