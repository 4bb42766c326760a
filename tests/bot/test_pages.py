"""The rule pages the App serves (`/rules`, `/rules/PYSxxx`), and the links to them in
what the App posts on GitHub when it knows its public URL."""

from __future__ import annotations

import re

from pystd.bot import messages
from pystd.bot.app import create_app
from pystd.bot.pages import render_markdown
from pystd.rules.catalogue import all_rules
from tests.bot.drivers import OWNER, REPO, add_pr, only_run, open_pr, settle

PUBLIC = "https://pystd.example.org"


async def test_the_index_lists_every_rule_by_category_and_by_framework(bot):
    response = await bot.get("/rules")
    assert response.status == 200
    assert response.content_type == "text/html"
    page = await response.text()
    links = re.findall(r'href="rules/(PYS\d+)"', page)
    # Each rule appears once under its category and once under its framework.
    assert sorted(set(links)) == sorted(all_rules())
    assert all(links.count(code) == 2 for code in all_rules())
    for heading in ("correctness", "security", "Django", "Flask", "FastAPI and Pydantic v2"):
        assert f">{heading}</h3>" in page
    assert "<script" not in page


async def test_a_rule_page_is_its_documentation_with_highlighted_examples(bot):
    response = await bot.get("/rules/PYS205")
    assert response.status == 200
    page = await response.text()
    assert "<h1>PYS205 django-sync-orm-in-async</h1>" in page
    assert "<h2>What it does</h2>" in page and "<h2>Use instead</h2>" in page
    # The example is highlighted: Pygments' keyword class on `async`.
    assert '<span class="k">async</span>' in page
    assert "&lt;Model&gt;.objects" in page  # text of the docs, escaped
    assert 'href="../rules"' in page
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_a_code_in_lower_case_finds_its_rule_and_an_unknown_code_is_404(bot):
    assert (await bot.get("/rules/pys101")).status == 200
    response = await bot.get("/rules/PYS999")
    assert response.status == 404
    assert "No rule PYS999" in await response.text()
    response = await bot.get("/rules/%3Cscript%3E")
    assert response.status == 404
    assert "<script>" not in await response.text()


def test_raw_html_in_docs_is_shown_not_interpreted():
    page = render_markdown('<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n'
                           '```python\nx = "<b>"\n```\n\n```nosuchlanguage\n<i>\n```\n')
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;" in page and "&lt;i&gt;" in page


async def test_comments_and_the_check_run_link_to_the_public_rule_pages(
        aiohttp_client, settings, delivery, fake_github):
    bot = await aiohttp_client(create_app(settings.model_copy(update={"public_url": PUBLIC}),
                                          engine_in_process=True))
    add_pr(fake_github)
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    link = f"{PUBLIC}/rules/PYS101"
    assert link == messages.rule_docs_url("PYS101", "blocking-call-in-async", PUBLIC)
    run = only_run(fake_github)
    assert f"[PYS101 blocking-call-in-async]({link})" in run.summary
    assert all(a["raw_details"].endswith(f"About this rule: {link}") for a in run.annotations)
    (comment,) = fake_github.review_comments(OWNER, REPO, 1)
    assert f"({link})" in comment.body
    assert messages.DOCS_URL not in comment.body


async def test_without_a_public_url_links_go_to_the_repository_docs(bot, delivery, fake_github):
    add_pr(fake_github)
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    (comment,) = fake_github.review_comments(OWNER, REPO, 1)
    assert messages.rule_docs_url("PYS101", "blocking-call-in-async") in comment.body
    assert "About this rule" not in str(only_run(fake_github).annotations)


async def test_a_rule_page_shows_its_documented_fix_before_and_after(bot):
    page = await (await bot.get("/rules/PYS205")).text()
    # PYS205's first fixable example, as `pystd check --fix` rewrites it (Example.fixed).
    assert "pystd check --fix" in page and "into" in page
    assert "aget" in page  # the async ORM call the fix writes
