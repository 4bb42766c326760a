"""docs/rules.md is generated from the rules; it must never drift from them."""

from __future__ import annotations

from pathlib import Path

from pystd.bot.messages import DOCS_URL, rule_docs_url
from pystd.rules.catalogue import all_rules
from pystd.rules.docs import rules_markdown

DOCS = Path(__file__).parents[2] / "docs" / "rules.md"


def test_docs_rules_md_is_up_to_date():
    assert DOCS.read_text(encoding="utf-8") == rules_markdown(), (
        "docs/rules.md is stale: run `make docs` (pystd rule --markdown > docs/rules.md)"
    )


def test_every_rule_has_a_section_the_comment_links_reach():
    text = DOCS.read_text(encoding="utf-8")
    for rule in all_rules().values():
        assert f"\n## {rule.code} {rule.name}\n" in text
        anchor = rule_docs_url(rule.code, rule.name).removeprefix(DOCS_URL)
        assert anchor == f"#{rule.code.lower()}-{rule.name}"


def test_a_rule_with_a_documented_fix_shows_it_before_and_after_in_its_fix_section():
    from pystd.rules.docs import rule_section
    from pystd.rules.engine import example_of

    section = rule_section(all_rules()["PYS104"])
    ex = next(e for e in map(example_of, all_rules()["PYS104"].bad) if e.fixed)
    fix = section[section.index("\n### Fix\n"):]
    fix = fix[:fix.find("\n### ", 1)] if "\n### " in fix[1:] else fix
    assert "print('index')\n" in fix and "logger.info('index')\n" in fix
    assert "# flagged" not in fix  # the test suite's markers are not shown
    assert ex.fixed.replace("  # flagged", "").rstrip() in fix
