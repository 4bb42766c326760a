"""The App's own web pages: `GET /rules` (every rule, by category and by framework) and
`GET /rules/PYSxxx` (one rule's documentation), plus the page layout /setup shares.

Each rule page is the rule's own documentation (`Rule.docs`, what `pystd rule CODE`
prints), rendered from Markdown with markdown-it-py with raw HTML switched off (a `<tag>`
in the docs is shown, never interpreted) and the examples highlighted by Pygments. Review
comments and check runs link here when `PYSTD_PUBLIC_URL` is set (`messages.rule_docs_url`).
Links between pages are relative, so the pages work behind a proxy that adds a path prefix.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Iterable

from aiohttp import web
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from pystd.bot import messages
from pystd.rules.catalogue import all_rules
from pystd.rules.docs import fix_example, one_line, with_fix_example
from pystd.rules.engine import Category, Rule

# Code prefixes and what they cover (README "Rules"); PYS0xx is the parser's own finding.
FRAMEWORKS = (
    ("PYS0", "Parsing"), ("PYS1", "Every framework"), ("PYS2", "Django"), ("PYS3", "Flask"),
    ("PYS4", "FastAPI and Pydantic v2"), ("PYS5", "Starlette"), ("PYS6", "Django Ninja"),
    ("PYS9", "The pull request as a whole"),
)
# Pages are static text: no script, no frame, no outside resource. /setup's form posts to
# GitHub, so its page adds GitHub's web URL to form-action.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
       "frame-ancestors 'none'; form-action {forms}")
STYLE = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0;
       color: #1f2328; background: #fff; }
main { max-width: 52rem; margin: 0 auto; padding: 1.5rem 1rem 4rem; }
header { border-bottom: 1px solid #d0d7de; padding: .6rem 1rem; }
header a { color: #1f2328; font-weight: 600; text-decoration: none; }
a { color: #0969da; }
h1 { font-size: 1.7rem; margin-bottom: .3rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
code, pre { font: 14px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
:not(pre) > code { background: #eff1f3; padding: .1em .3em; border-radius: 4px; }
pre { background: #f6f8fa; padding: .8rem 1rem; overflow-x: auto; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #d0d7de;
         vertical-align: top; }
.meta { color: #59636e; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-size: .85rem;
         border: 1px solid #d0d7de; margin-right: .3rem; }
.error { background: #ffebe9; border-color: #ff8182; }
.warning { background: #fff8c5; border-color: #d4a72c; }
.info { background: #ddf4ff; border-color: #54aeff; }
.box { border: 1px solid #d0d7de; border-radius: 6px; padding: 1rem 1.2rem; margin: 1rem 0; }
.ok { border-color: #4ac26b; background: #dafbe1; }
.problem { border-color: #ff8182; background: #ffebe9; }
button, .button { font: inherit; font-weight: 600; color: #fff; background: #1f883d;
         border: 1px solid #1a7f37; border-radius: 6px; padding: .45rem 1rem;
         cursor: pointer; text-decoration: none; display: inline-block; }
input[type=text] { font: inherit; padding: .3rem .5rem; border: 1px solid #d0d7de;
         border-radius: 6px; }
"""


def html_page(title: str, body: str, *, status: int = 200, form_action: str = "'none'",
              headers: dict[str, str] | None = None) -> web.Response:
    """A whole HTML page: `body` is HTML the caller escaped; the title is escaped here."""
    text = (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="data:,">'
            f"<title>{html.escape(title)}</title><style>{STYLE}{_pygments_css()}</style>"
            f'</head><body><header><a href="{_home()}">pystd</a></header>'
            f"<main>{body}</main></body></html>\n")
    response = web.Response(text=text, status=status, content_type="text/html",
                            charset="utf-8", headers=headers)
    response.headers["Content-Security-Policy"] = CSP.format(forms=form_action)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # A page's address may carry a one-time code (the setup callback): never send it on.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _home() -> str:
    return messages.PROJECT_URL


@functools.cache
def _pygments_css() -> str:
    return HtmlFormatter(style="default").get_style_defs(".highlight")


def _highlight(code: str, language: str, _attrs: str) -> str:
    """A fenced example, highlighted; markdown-it escapes it itself when this returns ""."""
    try:
        lexer = get_lexer_by_name(language or "text")
    except ClassNotFound:
        return ""
    spans = highlight(code, lexer, HtmlFormatter(nowrap=True))  # escaped by Pygments
    language = html.escape(language)
    return f'<pre class="highlight"><code class="language-{language}">{spans}</code></pre>\n'


@functools.cache
def _markdown() -> MarkdownIt:
    # "commonmark" with html=False: raw HTML in the docs is escaped, not passed through.
    return MarkdownIt("commonmark", {"html": False, "highlight": _highlight}).enable("table")


def render_markdown(text: str) -> str:
    return _markdown().render(text)


def _inline(text: str) -> str:
    """One line of Markdown (a rule's message has `code` in it), escaped."""
    return _markdown().renderInline(text)


def _badges(rule: type[Rule]) -> str:
    severity = rule.severity.value
    default = messages.PAGE_ON_BY_DEFAULT if rule.default else messages.PAGE_OFF_BY_DEFAULT
    return (f'<span class="badge {severity}">{severity}</span>'
            f'<span class="badge">{html.escape(rule.category.value)}</span>'
            f'<span class="badge">{default}</span>')


@functools.cache
def rule_html(code: str) -> str | None:
    """The body of a rule's page, or None for an unknown code."""
    rule = all_rules().get(code)
    if rule is None:
        return None
    # The same docs as docs/rules.md, with the documented fix shown before and after.
    docs = with_fix_example(rule.docs.strip(), fix_example(rule))
    return (f'<p class="meta"><a href="../rules">{messages.PAGE_ALL_RULES}</a></p>'
            f"<h1>{rule.code} {html.escape(rule.name)}</h1><p>{_badges(rule)}</p>"
            f"<p><strong>{_inline(one_line(rule.message))}</strong></p>"
            f'<p class="meta">{html.escape(rule.rationale)}</p>'
            f"{render_markdown(docs)}")


def _rows(rules: Iterable[type[Rule]]) -> str:
    return "".join(
        f'<tr><td><a href="rules/{r.code}">{r.code}</a></td><td>{html.escape(r.name)}</td>'
        f'<td><span class="badge {r.severity.value}">{r.severity.value}</span></td>'
        f"<td>{'on' if r.default else 'off'}</td>"
        f"<td>{_inline(one_line(r.message))}</td></tr>"
        for r in rules)


def _table(rules: list[type[Rule]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in messages.PAGE_RULE_COLUMNS)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{_rows(rules)}</tbody></table>"


@functools.cache
def index_html() -> str:
    rules = list(all_rules().values())
    parts = [f"<h1>{messages.PAGE_RULES_TITLE}</h1><p>{messages.PAGE_RULES_INTRO}</p>",
             f"<h2>{messages.PAGE_BY_CATEGORY}</h2>"]
    for category in Category:
        chosen = [r for r in rules if r.category is category]
        if chosen:
            parts.append(f'<h3 id="{category.value}">{category.value}</h3>'
                         f'<p class="meta">{html.escape(category.description)}</p>'
                         f"{_table(chosen)}")
    parts.append(f"<h2>{messages.PAGE_BY_FRAMEWORK}</h2>")
    for prefix, framework in FRAMEWORKS:
        chosen = [r for r in rules if r.code.startswith(prefix)]
        if chosen:
            parts.append(f"<h3>{html.escape(framework)}</h3>{_table(chosen)}")
    return "".join(parts)


async def rules_index(request: web.Request) -> web.Response:
    return html_page(messages.PAGE_RULES_TITLE, index_html())


async def rule_page(request: web.Request) -> web.Response:
    code = request.match_info["code"].upper()
    body = rule_html(code)
    if body is None:
        return html_page(messages.PAGE_NO_SUCH_RULE_TITLE,
                         messages.PAGE_NO_SUCH_RULE.format(code=html.escape(code)), status=404)
    name = all_rules()[code].name
    return html_page(f"{code} {name} · pystd", body)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/rules", rules_index)
    app.router.add_get("/rules/{code}", rule_page)
