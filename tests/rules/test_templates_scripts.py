"""PYS208 in the default selection: `|safe` on a user's data inside `<script>` is reported
(label-studio 1.21.0's `base.html`); every other `|safe` and `autoescape off` only where the
repository chose PYS208 by code, category or `ALL`."""

from __future__ import annotations

import pytest

from pystd.rules.engine import Finding, Severity
from pystd.rules.template_scripts import is_user_data, value_name
from tests.rules.lint import lint

PAGE = "label_studio/templates/base.html"


def by_default(text: str, path: str = PAGE) -> list[Finding]:
    """PYS208's findings when the repository sets nothing (`select = ["DEFAULT"]`)."""
    return [f for f in lint(text, path, select="DEFAULT") if f.code == "PYS208"]


def chosen(text: str, path: str = PAGE) -> list[int]:
    return [f.line for f in lint(text, path, select="PYS208")]


# label-studio 1.21.0 `label_studio/templates/base.html`, lines 103-107 and 153-156.
LABEL_STUDIO = """\
<html><body>
<script>
  var __customHotkeys = {{ user.custom_hotkeys|json_dumps_ensure_ascii|safe }};
</script>
<script nonce="{{ request.csp_nonce }}">
  var defaultEditorKeymap = JSON.parse({{ settings.EDITOR_KEYMAP|safe }});
  window.APP_SETTINGS = {
    version: {{ versions|json_dumps_ensure_ascii|safe }},
    avatar: "{{user.avatar_url|safe}}",
    server_id: {{ request.server_id|json_dumps_ensure_ascii|safe }},
  };
</script>
</body></html>
"""


def test_user_data_marked_safe_inside_script_is_a_default_warning() -> None:
    (finding,) = by_default(LABEL_STUDIO)
    assert (finding.line, finding.severity) == (3, Severity.WARNING)
    assert "`user.custom_hotkeys|json_dumps_ensure_ascii` inside `<script>`" in finding.message
    assert "json_script" in finding.message
    # chosen by code, the rule still reports every `|safe` it sees
    assert chosen(LABEL_STUDIO) == [3, 6, 8, 9]  # `server_id` is an id: never


@pytest.mark.parametrize("block", [
    "{{ user_hotkeys|safe }}",
    "{{ request.user.settings|safe }}",
    "{{ request.GET.next|safe }}",
    "{{ profile.bio | safe }}",
    "{{ comment.body|safeseq }}",
    "{{ current_user.preferences|tojson_str|safe }}",
])
def test_each_kind_of_user_data_inside_script_is_reported(block: str) -> None:
    text = f"<script>\n  var x = {block};\n</script>\n"
    assert [f.line for f in by_default(text)] == [2]


def test_a_script_opened_and_closed_on_one_line_and_its_opening_tag() -> None:
    text = ('<p>{{ user.bio|safe }}</p><script>var a = {{ user.bio|safe }};</script>'
            '<p>{{ user.bio|safe }}</p>\n'
            '<script src="/x.js" data-user="{{ user.name|safe }}">\n</script>\n')
    first, second = text.splitlines()[:2]
    inside = first.index("|", first.index("<script>")) + 1  # the `|` inside the script
    assert [(f.line, f.column) for f in by_default(text)] == [(1, inside),
                                                              (2, second.index("|") + 1)]
    assert len(lint(text, PAGE, select="PYS208")) == 4


@pytest.mark.parametrize("text", [
    # escaped for JavaScript, or as Django/Jinja recommend, or by the project's own filter
    # (label-studio 1.22's `escape_lt_gt`, judged a wrong finding before)
    "<script>var a = {{ user.name|escapejs|safe }};</script>\n",
    "<script>var a = {{ user.hotkeys|tojson }};</script>\n",
    "<script>var a = {{ user.hotkeys|json_dumps_ensure_ascii|escape_lt_gt|safe }};</script>\n",
    '{{ user.hotkeys|json_script:"hotkeys" }}\n',
    # no `|safe` at all: Django escapes it
    "<script>var a = {{ user.custom_hotkeys }};</script>\n",
    # numbers and literals
    "<script>var a = {{ user.id|safe }}, b = {{ user_count|safe }};</script>\n",
    '<script>var a = {{ "x"|safe }};</script>\n',
    # inside `{% verbatim %}` / a comment
    "<script>{% verbatim %}{{ user.bio|safe }}{% endverbatim %}</script>\n",
    "<script>{# {{ user.bio|safe }} #}</script>\n",
])
def test_never_flagged_inside_script(text: str) -> None:
    assert by_default(text) == []
    assert chosen(text) == []


@pytest.mark.parametrize("text", [
    # operator configuration, URLs and names that say nothing of a user
    "<script>var k = JSON.parse({{ settings.EDITOR_KEYMAP|safe }});</script>\n",
    "<script>var k = {{ config.theme|safe }}, t = {{ THEME|safe }};</script>\n",
    '<script>var a = "{{ user.avatar_url|safe }}";</script>\n',
    "<script>var v = {{ versions|json_dumps_ensure_ascii|safe }};</script>\n",
    "<script>var s = {{ request.server_name|safe }};</script>\n",
    # `|safe` outside `<script>`: help texts and rich text, judged noise (issue 9)
    "<div>{{ user.bio|safe }}</div>\n<script>var a = 1;</script>\n<p>{{ user.bio|safe }}</p>\n",
    "<script>var a = 1;</script>\n{% autoescape off %}{{ user.bio }}{% endautoescape %}\n",
    # a text template never renders HTML
    "{{ user.name|safe }} <script>\n",
])
def test_quiet_by_default_but_reported_when_chosen(text: str) -> None:
    path = "templates/sms/welcome.txt" if text.startswith("{{ user.name") else PAGE
    assert by_default(text, path) == []
    if path == PAGE:
        assert chosen(text, path) != []


@pytest.mark.parametrize(("text", "name"), [
    ("user.custom_hotkeys|json_dumps", "user.custom_hotkeys"),
    (" request . GET . q ", "request.GET.q"),
    ('"x"', ""),
])
def test_value_name(text: str, name: str) -> None:
    assert value_name(text) == name


def test_user_data_names() -> None:
    assert all(map(is_user_data, ["user.custom_hotkeys", "user_hotkeys", "request.POST",
                                  "request.path", "author.bio", "input_text"]))
    assert not any(map(is_user_data, ["settings.USER_KEYMAP", "USER_DEFAULTS", "versions",
                                      "request.server_id", "user.avatar_url", "username",
                                      "config.user_theme", "request"]))


@pytest.mark.parametrize("before", [
    "{# <script> left out for now #}\n",
    "<!-- <script src=\"old.js\"> -->\n",
    "{% comment %}\n<script>\n{% endcomment %}\n",
    "<!--\n<script>\n-->\n",
    "<script>\n  var x = 1; <!-- old browsers\n</script>\n",  # inside a script, <!-- is text
])
def test_a_script_tag_in_a_comment_opens_no_script(before: str) -> None:
    # found by review: the `|safe` below was reported as inside `<script>`
    assert by_default(before + "<div>{{ user.bio|safe }}</div>\n") == []


def test_a_script_after_a_comment_is_still_followed() -> None:
    text = "{# note #}<!-- x -->\n<script>\n  var k = {{ user.keys|safe }};\n</script>\n"
    assert [f.line for f in by_default(text)] == [3]
