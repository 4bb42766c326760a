"""PYS208: rules over Django and Jinja template files (autoescaping switched off).

Templates are not parsed: a small scanner finds the `{{ … }}` and `{% … %}` blocks of each
line, skips comments and `verbatim`/`raw` sections, and tokenises filter chains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from pystd.rules.context import FileContext
from pystd.rules.engine import Category, Example, LineRule, Severity, register
from pystd.rules.template_scripts import ScriptTracker, is_user_data, value_name

_OPEN = re.compile(r"\{[{%#]")
_AUTOESCAPE_OFF = re.compile(r"autoescape\s+(?:off|false|False)")
# Tags whose content is not template code: Django `{% comment %}`/`{% verbatim %}`,
# Jinja `{% raw %}`; each maps to the tag that ends it.
_OPAQUE = {"comment": "endcomment", "verbatim": "endverbatim", "raw": "endraw"}
_END_TAGS = {end: re.compile(r"\{%[-+]?\s*" + end + r"\b[^%]*%\}") for end in _OPAQUE.values()}
_TOKEN = re.compile(
    r"""(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<number>\d+(?:\.\d+)?)
      | (?P<name>[A-Za-z_]\w*)
      | (?P<op>\S)""",
    re.VERBOSE,
)
SAFE_FILTERS = frozenset({"safe", "safeseq"})
# Filters whose output is escaped or sanitised already: `x|escape|safe` is not a hole.
ESCAPING_FILTERS = frozenset(
    {
        "escape", "e", "force_escape", "escapejs", "urlencode", "iriencode", "tojson",
        "json_script", "bleach", "bleach_clean", "sanitize", "sanitize_html", "clean_html",
    }
)
# A project's own filter named for escaping says what it does (calibre-web's
# `escapedlink`, `sanitize_markdown`, `clean_body`).
_ESCAPING_NAME = re.compile(r"(?i)escape|saniti[sz]|bleach|clean")


# A `|safe` on a user's data inside `<script>`: the finding the default selection reports.
SCRIPT_MESSAGE = ("`|{filter}` on `{value}` inside `<script>`: a `</script>` in this user data "
                  "ends the script and runs the rest as HTML; render it with `json_script` "
                  "(Django) or `|tojson` (Jinja), or escape it with `escapejs`")


def is_escaping(name: str) -> bool:
    return name in ESCAPING_FILTERS or _ESCAPING_NAME.search(name) is not None


# Filters whose output is a number or a date, whatever the value: `|safe` after them marks
# digits and punctuation safe (`{{ total|floatformat:2|safe }}`, `{{ items|length|safe }}`).
NUMERIC_FILTERS = frozenset(
    {
        "floatformat", "length", "count", "date", "time", "timesince", "timeuntil",
        "filesizeformat", "intcomma", "intword", "naturalday", "naturaltime", "ordinal",
        "int", "float", "round", "abs", "sum", "wordcount", "divisibleby", "length_is",
    }
)
# Names of numbers and ids (`order.id`, `forloop.counter`, `user_pk`, `unread_count`).
_NUMBER_NAMES = frozenset({"id", "pk", "count", "total", "counter", "counter0", "revcounter",
                           "revcounter0", "index", "index0", "length", "year", "num_pages",
                           "number", "quantity"})
_NUMBER_AFFIXES = re.compile(r".+_(?:id|pk|count|total|num|number)|(?:num|n)_.+")
# Translation calls of a literal (`_("<b>Hi</b>")|safe`) are literals too.
_TRANSLATIONS = frozenset({"_", "gettext", "ngettext", "pgettext", "trans"})
_LITERAL_NAMES = frozenset({"True", "False", "None", "true", "false", "none"})
# Plain-text e-mail templates (`account/email/x_message.txt`, `notifications/approved.txt`,
# `emails/welcome_subject.txt`) are rendered into a text/plain body or a subject line, not
# into HTML: `{% autoescape off %}` there is what Django's e-mail guide recommends, and
# escaping would only turn `&` into `&amp;` in the mail.
_MAIL_FOLDERS = frozenset({"email", "emails", "mail", "mails", "notifications"})
_MAIL_STEM = re.compile(r"(?:^|[_.-])(?:subject|message|body|email|mail)$")


# A tag of HTML (`<p>`, `</div>`, `<br/>`, `<!DOCTYPE html>`, `<!-- -->`): a template
# without any renders text, where there is no markup to inject into.
_HTML_TAG = re.compile(r"<(?:/?[A-Za-z][\w:-]*(?=[\s/>])|!--|!doctype\b)", re.I)
# Words of a path that say the template renders text: an SMS body, a push title, a
# plain-text mail kept with an `.html` suffix.
_TEXT_CHANNELS = frozenset({"sms", "push", "plain", "text", "txt", "subject", "title"})
# Mail folders hold text mails and HTML mails alike: the word alone decides only for a
# template that extends none (a child of an HTML mail layout is HTML).
_MAIL_WORDS = frozenset({"email", "emails", "mail", "mails"})
_EXTENDS = re.compile(r"\{%-?\s*extends\b")
_PATH_WORDS = re.compile(r"[/_.\-]+")


def renders_html(path: str, text: str) -> bool:
    """Does the template render HTML? Yes when it holds an HTML tag. Without one, a
    `.txt` file, or one whose path names a text channel (`sms/`, `push_title.html`,
    `email/receipt_text.html`), renders text; any other file without a tag may be a
    fragment included into a page (`{{ post.body|safe }}` alone), and counts as HTML, as
    does a mail template that `{% extends %}` a layout (its blocks land in that markup)."""
    if _HTML_TAG.search(text):
        return True
    p = PurePosixPath(path.replace("\\", "/"))
    if p.suffix == ".txt":
        return False
    parts = p.parts
    inside = parts[parts.index("templates") + 1:] if "templates" in parts else parts[-1:]
    words = {w for part in inside for w in _PATH_WORDS.split(part.lower())}
    channels = _TEXT_CHANNELS if _EXTENDS.search(text) else _TEXT_CHANNELS | _MAIL_WORDS
    return words.isdisjoint(channels)


def is_number_name(name: str) -> bool:
    """`id`, `pk`, `count`, `order_id`, `unread_count`, `num_items`: a number's name."""
    return name in _NUMBER_NAMES or bool(_NUMBER_AFFIXES.fullmatch(name))


def is_plain_text_mail(path: str) -> bool:
    """Is `path` a `.txt` template of an e-mail (by its folder or its file name)?"""
    p = PurePosixPath(path.replace("\\", "/"))
    if p.suffix != ".txt":
        return False
    parts = p.parts[:-1]
    inside = parts[parts.index("templates") + 1 :] if "templates" in parts else parts
    return any(part in _MAIL_FOLDERS for part in inside) or bool(_MAIL_STEM.search(p.stem))


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # string, number, name or op
    text: str
    start: int  # offset in the line
    end: int

    def is_op(self, text: str) -> bool:
        return self.kind == "op" and self.text == text

    @property
    def literal(self) -> bool:
        return self.kind in ("string", "number") or (
            self.kind == "name" and self.text in _LITERAL_NAMES
        )


def tokenize(text: str, offset: int) -> list[Token]:
    out = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        assert kind is not None
        out.append(Token(kind, match.group(), offset + match.start(), offset + match.end()))
    return out


def _matching_open(tokens: list[Token], close: int) -> int | None:
    depth = 0
    for i in range(close, -1, -1):
        if tokens[i].is_op(")"):
            depth += 1
        elif tokens[i].is_op("("):
            depth -= 1
            if depth == 0:
                return i
    return None


def _literal_args(tokens: list[Token]) -> bool:
    """Are the arguments of a filter call all literals (keyword names aside)?"""
    for i, tok in enumerate(tokens):
        keyword = i + 1 < len(tokens) and tokens[i + 1].is_op("=")
        if tok.kind == "name" and not tok.literal and not keyword:
            return False
    return True


@dataclass(frozen=True, slots=True)
class UnsafeFilter:
    """A `|safe` (or `|safeseq`) applied to `tokens[operand]` and the filters after it."""

    filter: Token
    operand: Token


def unsafe_filters(tokens: list[Token]) -> list[UnsafeFilter]:
    """The `safe`/`safeseq` filters applied to something not known to be harmless.

    Walks back from each `|safe` over the filters before it to the value they apply to:
    a literal (with literal filter arguments only), or anything passed through an escaping
    filter first, is harmless.
    """
    found = []
    for i, tok in enumerate(tokens):
        if tok.kind != "name" or tok.text not in SAFE_FILTERS or i == 0:
            continue
        if not tokens[i - 1].is_op("|"):
            continue
        operand = _unsafe_operand(tokens, i - 1)
        if operand is not None:
            found.append(UnsafeFilter(tok, tokens[operand]))
    return found


def _unsafe_operand(tokens: list[Token], pipe: int) -> int | None:
    """Index of the first token of the value the filter chain ending at `pipe` starts
    from, or None when that chain is harmless."""
    literal = True
    while True:
        k = pipe - 1
        if k < 0:
            return None  # `{{ |safe }}` is a template syntax error, not ours to report
        tok = tokens[k]
        if tok.is_op(")"):
            opening = _matching_open(tokens, k)
            if opening is None or opening == 0:
                return k
            callee = tokens[opening - 1]
            inside = tokens[opening + 1 : k]
            if callee.kind == "name" and opening >= 2 and tokens[opening - 2].is_op("|"):
                if is_escaping(callee.text):  # Jinja `|filter(args)`
                    return None
                if callee.text in NUMERIC_FILTERS and literal:  # `|round(2)|safe`
                    return None
                literal = literal and _literal_args(inside)
                pipe = opening - 2
                continue
            # The value is a call: only a translated literal counts as a literal.
            translated = callee.text in _TRANSLATIONS and len(inside) == 1 \
                and inside[0].kind == "string"
            return None if literal and translated else _start_of_value(tokens, opening - 1)
        if k >= 3 and tokens[k - 1].is_op(":") and tokens[k - 2].kind == "name" \
                and tokens[k - 3].is_op("|"):  # Django `|filter:arg`
            if is_escaping(tokens[k - 2].text):
                return None
            if tokens[k - 2].text in NUMERIC_FILTERS and literal:  # `|floatformat:2`
                return None
            literal = literal and tok.literal
            pipe = k - 3
            continue
        if tok.kind == "name" and k >= 1 and tokens[k - 1].is_op("|"):  # `|filter`
            if is_escaping(tok.text) or (tok.text in NUMERIC_FILTERS and literal):
                return None
            pipe = k - 1
            continue
        if literal and (tok.literal or (tok.kind == "name" and is_number_name(tok.text))):
            return None  # `{{ 5|safe }}`, `{{ order.id|safe }}`
        return _start_of_value(tokens, k)


def _start_of_value(tokens: list[Token], last: int) -> int:
    """Back from `tokens[last]` over a dotted name (`post.author.bio`)."""
    while last >= 2 and tokens[last - 1].is_op(".") and tokens[last - 2].kind == "name":
        last -= 2
    return last


@register
class TemplateAutoescapeOff(LineRule):
    code = "PYS208"
    name = "django-template-autoescape-off"
    severity = Severity.WARNING
    category = Category.SECURITY
    default = True
    rationale = (
        "`|safe` and `autoescape off` are nearly always deliberate (help texts, rich text): "
        "about 2 of 22 read worth a comment, so they need opting in. By default only `|safe` "
        "on a user's data inside `<script>`, where `</script>` breaks out (label-studio "
        "1.21.0's hotkeys JSON, the one true alarm the defaults missed)."
    )
    message = "`|{filter}` on `{value}` turns off HTML escaping: a cross-site scripting risk"
    requires = ("safe", "autoescape")
    docs = """
## What it does
In template files (`*.html`, `*.txt`, `*.jinja` under a `templates/` folder) flags
`{% autoescape off %}` (and Jinja's `{% autoescape false %}`, with or without `-`
whitespace control) and the `|safe`/`|safeseq` filter applied to a variable, in `{{ … }}`
and in tags (`{% with html=body|safe %}`). `{% autoescape on %}`, `|safe` on a string
literal (`{{ "<br>"|safe }}`), values that went through an escaping or sanitising filter
first (`|escape`, `|force_escape`, `|escapejs`, `|tojson`, `|bleach` …, or a project's own
filter named for it: `|escapedlink`, `|sanitize_markdown`, `|clean_html`), comments and
`{% verbatim %}`/`{% raw %}` sections are not flagged. Nor are plain-text e-mail
templates (a `.txt` file in an `email/`, `emails/`, `mail/` or `notifications/` folder, or
named `*_subject.txt`/`*_message.txt`/`*_body.txt`): they render a text/plain body or a
subject, where there is no HTML to inject into and `autoescape off` is the documented practice.
The same holds for any template without an HTML tag that is a `.txt` file or whose path
names a text channel (`sms/`, `push_title.html`, `email/receipt_text.html`, `*_subject.html`):
it renders an SMS, a push title or a plain-text mail (a tagless file in an `email/` or
`mail/` folder too, unless it `{% extends %}` a layout, whose markup its blocks land in).
A tagless `.html` file elsewhere may be a fragment included into a page, and is checked.
`|safe` inside `{% block subject %}` is a mail's subject line, and is not flagged. Nor is `|safe` flagged on a number:
after a filter whose output is a number or a date (`|floatformat`, `|length`, `|date`,
`|filesizeformat`, `|round`, `|int` …, with literal arguments after it), or on a value
named like one (`order.id`, `user.pk`, `forloop.counter`, `unread_count`, `invoice_id`).

**By default** (no configuration, `select = ["DEFAULT"]`) only one kind of finding is
reported, the one the template itself shows is a hole: `|safe` on a user's data inside a
`<script>` element (its opening tag included), such as
`var keys = {{ user.custom_hotkeys|json_dumps|safe }};`. A user's data is a value named for
a user or the request's input: a dotted name with a part `user`, `profile`, `author`,
`owner`, `member`, `customer`, `account`, `comment`, `submission` or `input` (split at `_`
too: `user_hotkeys`), or `request.GET`/`.POST`/`.args`/`.json`/`.path`/…. Operator
configuration (`settings.…`, `config.…`, UPPER_CASE names), URLs (`user.avatar_url`:
storage and `reverse()` percent-encode `<`) and other names (`versions`, `feature_flags`)
are not. Every other finding above is reported where PYS208 is chosen by code, by the
`security` category or by `ALL`.

## Why is this bad?
Automatic escaping is what keeps a value such as `<script>…</script>` from becoming markup
in the page. Inside `<script>` the browser ends the element at the first `</script>` in
the text, whatever the JavaScript around it, so JSON of a user's data marked safe there
runs whatever the user saved after it; Django's `json_script` filter and Jinja's `tojson`
escape `<`, `>` and `&` for exactly this (Django's built-in filter reference, `json_script`). `|safe` and `autoescape off` tell the engine the value is trusted HTML; when
any part of it comes from a user, that is stored cross-site scripting. Django's security
guide (docs.djangoproject.com/en/stable/topics/security/#cross-site-scripting-xss-protection)
warns about exactly these two switches, and the template language guide's "Automatic HTML
escaping" section explains how to turn escaping off only for trusted content. Jinja's
documentation ("Working with Automatic Escaping") says the same of `|safe`.

## Example
```django
{% autoescape off %}{{ comment.body }}{% endautoescape %}
<div>{{ post.html|safe }}</div>
```

## Use instead
```django
{{ comment.body }}
<div>{{ post.html_sanitized }}</div>
```
Sanitise HTML that must stay HTML when it is saved (e.g. with `nh3`/`bleach`), or build
trusted markup in Python with `format_html()`, which escapes every argument. For data a
script needs, `{{ user.hotkeys|json_script:"hotkeys" }}` and
`JSON.parse(document.getElementById("hotkeys").textContent)` (Django), or
`{{ user.hotkeys|tojson }}` (Jinja).

## Suppress
`{# noqa: PYS208 #}` on the line, for content you produce and trust.
"""
    bad = (
        Example(
            """
            <div>{{ body|safe }}</div> # flagged
            """,
            "templates/post.html",
        ),
        Example(
            """
            {% autoescape off %} # flagged
            {{ body }}
            {% endautoescape %}
            """,
            "templates/post.html",
        ),
        Example(
            """
            <p>{{ note | safe }}</p> # flagged
            """,
            "app/templates/app/note.jinja",
        ),
        Example(
            """
            <script>
              var hotkeys = {{ user.custom_hotkeys|json_dumps|safe }}; // # flagged
            </script>
            """,
            "templates/base.html",
        ),
    )
    good = (
        Example(
            """
            {% autoescape on %}
            <div>{{ body }}</div>
            {% endautoescape %}
            """,
            "templates/post.html",
        ),
        Example(
            """
            <p>{{ "<br>"|safe }}</p>
            """,
            "templates/post.html",
        ),
        Example(
            """
            <p>{{ body|escape|safe }}</p>
            """,
            "templates/post.html",
        ),
        Example(
            """
            {{ user.custom_hotkeys|json_script:"hotkeys" }}
            <script>
              var hotkeys = JSON.parse(document.getElementById("hotkeys").textContent);
              var name = "{{ user.name|escapejs }}";
            </script>
            """,
            "templates/base.html",
        ),
        Example(
            """
            {% autoescape off %}
            Hi {{ user.name }}
            {% endautoescape %}
            """,
            "templates/account/email/welcome_message.txt",
        ),
    )

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return not is_plain_text_mail(ctx.path) and renders_html(ctx.path, ctx.source)

    def check_lines(self, lines: list[str]) -> None:
        closing: str | None = None  # the tag or `#}` that ends the opaque section we are in
        self._blocks: list[str] = []  # the `{% block name %}` sections we are in
        scripts = ScriptTracker()
        for number, line in enumerate(lines, start=1):
            scripts.feed(line)
            pos = 0
            while pos < len(line):
                if closing is not None:
                    pos = _end_of(line, pos, closing)
                    if pos < 0:
                        break
                    closing = None
                    continue
                match = _OPEN.search(line, pos)
                if match is None:
                    break
                kind = match.group()[1]
                if kind == "#":
                    end = line.find("#}", match.end())
                    if end < 0:  # a Jinja comment running over several lines
                        closing = "#}"
                        break
                    pos = end + 2
                    continue
                end = line.find("}}" if kind == "{" else "%}", match.end())
                if end < 0:  # a block spread over lines: not scanned
                    break
                content = line[match.end() : end]
                if kind == "%":
                    closing = self._tag(content, number, match.start(), end + 2)
                if closing is None and not self._in_subject():
                    for found in unsafe_filters(tokenize(content, match.end())):
                        self._report_filter(line, number, found, scripts)
                pos = end + 2

    def _report_filter(self, line: str, number: int, found: UnsafeFilter,
                       scripts: ScriptTracker) -> None:
        """Report a `|safe`. The code shows the hole only inside `<script>` on a user's
        data (`</script>` in it ends the element); elsewhere the value may be trusted
        markup, reported where PYS208 is chosen by name."""
        tok = found.filter
        value = line[found.operand.start : tok.start].rstrip(" |")
        column = _pipe_column(line, tok)
        if scripts.in_script(found.operand.start) and is_user_data(value_name(value)):
            self.report_at(number, column, tok.end, SCRIPT_MESSAGE.format(
                filter=tok.text, value=value))
            return
        self.report_at(number, column, tok.end,
                       self.message.format(filter=tok.text, value=value), evidence=False)

    def _in_subject(self) -> bool:
        """Inside `{% block subject %}` (`email_subject` ...): a mail's subject line, text
        whatever the body is."""
        return bool(self._blocks) and self._blocks[-1].endswith("subject")

    def _tag(self, content: str, line: int, start: int, end: int) -> str | None:
        """Report `autoescape off`; return the tag that closes an opaque section it opens."""
        body = content.strip().strip("-+").strip()
        words = body.split()
        word = words[0] if words else ""
        if word == "block" and len(words) > 1:
            self._blocks.append(words[1])
        elif word == "endblock" and self._blocks:
            self._blocks.pop()
        if word in _OPAQUE:
            return _OPAQUE[word]
        if word == "autoescape" and _AUTOESCAPE_OFF.fullmatch(body):
            tag = "{% " + body + " %}"
            self.report_at(line, start + 1, end,
                           f"`{tag}` turns off HTML escaping for the whole block: "
                           "a cross-site scripting risk", evidence=False)
        return None


def _end_of(line: str, pos: int, closing: str) -> int:
    """Offset just past `closing` (`#}` or an end tag name) in `line` from `pos`, or -1."""
    if closing == "#}":
        end = line.find("#}", pos)
        return end + 2 if end >= 0 else -1
    match = _END_TAGS[closing].search(line, pos)
    return match.end() if match else -1


def _pipe_column(line: str, tok: Token) -> int:
    """1-based column of the `|` before the filter name `tok`."""
    return line.rfind("|", 0, tok.start) + 1
