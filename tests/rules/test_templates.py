"""PYS208 django-template-autoescape-off: every flags / never-flags item of its RULES.md row,
positions, and suppression."""

from __future__ import annotations

import pytest

from pystd.rules.catalogue import select_rules
from pystd.rules.engine import Finding
from pystd.rules.runner import check_source
from tests.rules.lint import lint

PAGE = "templates/blog/post.html"


def findings(text: str, path: str = PAGE) -> list[Finding]:
    return lint(text, path, select="PYS208")


def spans(text: str, path: str = PAGE) -> list[tuple[int, int, int]]:
    """(line, column, end_column) of each finding."""
    return [(f.line, f.column, f.end_column) for f in findings(text, path)]


def flagged_text(text: str) -> list[str]:
    """The source text each finding covers."""
    lines = text.splitlines()
    return [lines[f.line - 1][f.column - 1 : f.end_column] for f in findings(text)]


# == flags ==============================================================================


def test_flags_autoescape_off() -> None:
    text = "<div>\n{% autoescape off %}{{ body }}{% endautoescape %}\n</div>\n"
    [finding] = findings(text)
    assert (finding.line, finding.column, finding.end_column) == (2, 1, 20)
    assert finding.message == (
        "`{% autoescape off %}` turns off HTML escaping for the whole block: "
        "a cross-site scripting risk"
    )


@pytest.mark.parametrize(
    "tag",
    [
        "{%autoescape off%}",
        "{%   autoescape    off   %}",
        "{%- autoescape false -%}",
        "{% autoescape false %}",
        "{%+ autoescape False %}",
    ],
)
def test_flags_autoescape_off_whitespace_and_jinja_forms(tag: str) -> None:
    assert flagged_text(f"<p>{tag}{{{{ x }}}}</p>\n") == [tag]


@pytest.mark.parametrize(
    ("block", "covered"),
    [
        ("{{ body|safe }}", "|safe"),
        ("{{ x | safe }}", "| safe"),
        ('{{ a|default:""|safe }}', "|safe"),
        ("{{ post.author.bio|linebreaks|safe }}", "|safe"),
        ("{{ items|safeseq|join:', ' }}", "|safeseq"),
        ('{{ "<b>%s</b>"|format(name)|safe }}', "|safe"),
        ("{{ render(x)|safe }}", "|safe"),
        ("{% with html=body|safe %}{{ html }}{% endwith %}", "|safe"),
    ],
)
def test_flags_safe_filter_on_a_variable(block: str, covered: str) -> None:
    assert flagged_text(f"<p>{block}</p>\n") == [covered]


def test_safe_message_names_the_value() -> None:
    [finding] = findings('<p>{{ a|default:""|safe }}</p>\n')
    assert finding.message == (
        '`|safe` on `a|default:""` turns off HTML escaping: a cross-site scripting risk'
    )


def test_columns_are_one_based_and_inclusive() -> None:
    text = "{{ a }}\n  <i>{{ body|safe }}</i> {{ x | safe }}\n"
    assert spans(text) == [(2, 13, 17), (2, 31, 36)]


@pytest.mark.parametrize(
    "path",
    [
        "templates/post.txt",
        "app/templates/app/post.jinja",
        "templates/emails/welcome.html",
        "templates/x.jinja2",
    ],
)
def test_flags_every_template_kind(path: str) -> None:
    text = "{% autoescape off %}\n<p>{{ body|safe }}</p>\n{% endautoescape %}\n"
    assert [f.line for f in findings(text, path)] == [1, 2]


# == never flags ========================================================================


@pytest.mark.parametrize(
    "text",
    [
        "{% autoescape on %}{{ body }}{% endautoescape %}\n",
        "{%- autoescape true -%}{{ body }}{%- endautoescape -%}\n",
        "{% endautoescape %}\n",
    ],
)
def test_ignores_autoescape_on(text: str) -> None:
    assert findings(text) == []


@pytest.mark.parametrize(
    "block",
    [
        '{{ "<br>"|safe }}',
        "{{ '<hr>' | safe }}",
        '{{ _("<b>Welcome</b>")|safe }}',
        '{{ "<b>x</b>"|upper|safe }}',
        '{{ "a"|truncate(length=5)|safe }}',
        "{{ 5|safe }}",
    ],
)
def test_ignores_safe_on_a_literal(block: str) -> None:
    assert findings(f"<p>{block}</p>\n") == []


@pytest.mark.parametrize(
    "block",
    [
        "{{ body|escape|safe }}",
        "{{ body|force_escape|linebreaks|safe }}",
        "{{ data|tojson|safe }}",
        "{{ html|bleach|safe }}",
        "{{ entry.series|escapedlink|safe }}",  # a project's own escaping filter
        "{{ post.body|sanitize_markdown|safe }}",
        "{{ comment|clean_html(tags)|safe }}",
        "{{ items|safe_join:', ' }}",
        "{{ safe }}",
        "{{ page.safe_url }}",
    ],
)
def test_ignores_escaped_values_and_other_names(block: str) -> None:
    assert findings(f"<p>{block}</p>\n") == []


@pytest.mark.parametrize(
    "text",
    [
        "{# {{ body|safe }} {% autoescape off %} #}\n",
        "{% comment %}\n{{ body|safe }}\n{% autoescape off %}\n{% endcomment %}\n",
        "{% comment 'old' %}{{ body|safe }}{% endcomment %}\n",
        "{% verbatim %}\n{{ body|safe }}\n{% endverbatim %}\n",
        "{% raw %}{{ body|safe }}{% endraw %}\n",
        "{#\n  {{ body|safe }}\n#}\n",
        "<p>Mark it safe | body</p>\n",
    ],
)
def test_ignores_comments_and_verbatim_sections(text: str) -> None:
    assert findings(text) == []


def test_scans_again_after_a_closed_section() -> None:
    text = "{% comment %}{{ a|safe }}{% endcomment %}{{ b|safe }}\n{# x #}{{ c|safe }}\n"
    assert [f.line for f in findings(text)] == [1, 2]


@pytest.mark.parametrize(
    "path",
    [
        # Plain-text e-mail bodies and subjects (allauth, oscar, wagtail layouts).
        "allauth/templates/account/email/password_reset_key_message.txt",
        "templates/mfa/email/totp_activated_subject.txt",
        "oscar/templates/oscar/communication/emails/commtype_order_placed_body.txt",
        "wagtail/admin/templates/wagtailadmin/notifications/approved.txt",
        "templates/shop/welcome_subject.txt",
        "templates/mail/digest.txt",
    ],
)
def test_ignores_plain_text_mail_templates(path: str) -> None:
    text = "{% autoescape off %}\n{{ user.name|safe }}: {{ body }}\n{% endautoescape %}\n"
    assert findings(text, path) == []


@pytest.mark.parametrize(
    "path",
    [
        # The same folders still flag HTML mail bodies, and other `.txt` templates.
        "templates/account/email/password_reset_key_message.html",
        "oscar/templates/oscar/communication/emails/commtype_product_alert_body.html",
        "templates/blog/summary.txt",
        "templates/email_preview/summary.txt",
    ],
)
def test_still_flags_html_mail_and_other_text_templates(path: str) -> None:
    text = "{% autoescape off %}\n<p>{{ body|safe }}</p>\n{% endautoescape %}\n"
    assert [f.line for f in findings(text, path)] == [1, 2]


@pytest.mark.parametrize("path", ["static/post.html", "templates/post.css", "docs/post.txt"])
def test_ignores_files_that_are_not_templates(path: str) -> None:
    result = check_source(path, "{{ body|safe }}\n", select_rules(["PYS208"]))
    assert result.findings == ()


def test_ignores_python_files() -> None:
    code = 'TEMPLATE = "{{ body|safe }} {% autoescape off %}"\n'
    assert lint(code, "templates/render.py", select="PYS208") == []


# == suppression ========================================================================


def test_noqa_with_the_code_suppresses() -> None:
    text = "{{ body|safe }} {# noqa: PYS208 #}\n{% autoescape off %}{# noqa: PYS208 #}\n"
    assert findings(text) == []


def test_bare_noqa_suppresses() -> None:
    assert findings("{{ body|safe }} {# noqa #}\n") == []


def test_noqa_for_another_code_does_not_suppress() -> None:
    assert [f.line for f in findings("{{ body|safe }} {# noqa: PYS106 #}\n")] == [1]


def test_ignore_file_directive() -> None:
    text = "{# pystd: ignore-file #}\n{{ body|safe }}\n"
    result = check_source(PAGE, text, select_rules(["PYS208"]))
    assert (result.findings, result.skipped) == ((), "pystd: ignore-file")


# == templates that render text, and numbers (issue #9) =================================


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("templates/sms/order_shipped.html",
         "Your order {{ order.code|safe }} ships today: {{ tracking_url|safe }}\n"),
        ("templates/notifications/push_title.html", "{{ actor.name|safe }} liked your post\n"),
        ("templates/emails/receipt_text.html",
         "{% autoescape off %}\nHi {{ user.name }},\n{{ body|safe }}\n{% endautoescape %}\n"),
        ("app/templates/app/email/welcome_subject.html", "Welcome, {{ user.get_full_name|safe }}\n"),
        ("templates/reports/summary.txt", "{% autoescape off %}{{ report.text }}{% endautoescape %}\n"),
    ],
)
def test_ignores_templates_that_render_text(path: str, text: str) -> None:
    assert findings(text, path) == []


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # an HTML mail in the same folders has tags: still flagged
        ("templates/emails/receipt.html", "<p>Hi {{ user.name }}</p>\n<div>{{ body|safe }}</div>\n"),
        ("templates/sms/preview.html", "<pre>{{ message.text|safe }}</pre>\n"),
        ("templates/notifications/push_title.html", "<!-- push -->{{ actor.name|safe }}\n"),
        # a fragment with no tag and no text channel in its path may be included in a page
        ("templates/blog/_body.html", "{{ post.body|safe }}\n"),
        ("templates/blog/_body.jinja", "{% autoescape false %}{{ post.body }}{% endautoescape %}\n"),
    ],
)
def test_still_flags_html_templates_and_fragments(path: str, text: str) -> None:
    assert len(findings(text, path)) == 1


@pytest.mark.parametrize(
    "block",
    [
        "{{ total|floatformat:2|safe }}",
        "{{ items|length|safe }}",
        '{{ post.created|date:"Y-m-d"|safe }}',
        "{{ size|filesizeformat|safe }}",
        "{{ price|round(2)|safe }}",
        "{{ n|int|safe }}",
        "{{ order.id|safe }}",
        "{{ user.pk|safe }}",
        "{{ forloop.counter|safe }}",
        "{{ unread_count|safe }}",
        "{{ invoice_id|safe }}",
        "{{ num_items|safe }}",
        '{{ items|length|pluralize:"y,ies"|safe }}',
    ],
)
def test_ignores_safe_on_numbers_and_ids(block: str) -> None:
    assert findings(f"<p>{block}</p>\n") == []


@pytest.mark.parametrize(
    "block",
    [
        "{{ items|length|add:suffix|safe }}",  # a value joins the number after it
        "{{ post.body|safe }}",
        "{{ identity|safe }}",  # named like, not a number's name
        "{{ order.ids_html|safe }}",
        "{{ counter_label|safe }}",
        "{{ get_id(x)|safe }}",
        "{{ total|default:note|safe }}",
    ],
)
def test_still_flags_safe_on_values_that_are_not_numbers(block: str) -> None:
    assert len(findings(f"<p>{block}</p>\n")) == 1


def test_a_mail_template_that_extends_a_layout_is_html_but_its_subject_is_text() -> None:
    """indico's e-mails: a tagless child of `emails/base_i18n.html`, whose body block lands
    in HTML and whose subject block is the Subject line."""
    text = ("{% extends 'emails/base_i18n.html' %}\n"
            "{% block subject %}{{ subject | safe }}{% endblock %}\n"
            "{% block body %}\n    {{ email_body | safe }}\n{% endblock %}\n")
    assert [f.line for f in findings(text, "templates/emails/agreement_new.html")] == [4]
    plain = text.replace("email_body | safe", "email_body")
    assert findings(plain, "templates/emails/agreement_new.html") == []
    # a text channel in the path still says text, layout or not
    assert findings(text, "templates/sms/agreement_new.html") == []
