"""docs/rules.md is generated from the rules; it must never drift from them."""

from __future__ import annotations

from pathlib import Path

from bot.messages import DOCS_URL, rule_docs_url
from rules.catalogue import all_rules
from rules.docs import rules_markdown

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
