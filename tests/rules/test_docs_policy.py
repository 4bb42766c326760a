"""docs/rules.md opens with the policy: categories, one row per rule (category, severity,
on by default, why) and the other tools' suppressions, all generated from the code."""

from __future__ import annotations

from pystd.rules.catalogue import all_rules
from pystd.rules.docs import rules_markdown
from pystd.rules.engine import Category
from pystd.rules.suppress import EQUIVALENTS


def test_policy_table_has_a_row_per_rule_before_the_rule_sections():
    text = rules_markdown()
    first_section = text.index("\n## PYS000 ")
    assert text.index("## Policy") < first_section
    for code, rule in all_rules().items():
        row = (f"| [{code}](#{code.lower()}-{rule.name}) | {rule.name} | {rule.category.value} "
               f"| {rule.severity.value} | {'on' if rule.default else 'off'} | ")
        assert row in text[:first_section], code
        assert rule.rationale.replace("|", "\\|") in text[:first_section]


def test_policy_lists_the_categories_and_how_to_select():
    text = rules_markdown()
    for category in Category:
        assert f"| `{category.value}` | {category.description} |" in text
    assert 'select = ["DEFAULT",' in text and "`ALL`" in text


def test_suppression_table_lists_every_equivalent():
    text = rules_markdown()
    section = text[text.index("## Suppressions other tools already decided"):]
    for code, others in EQUIVALENTS.items():
        row = next(line for line in section.splitlines() if line.startswith(f"| [{code}]"))
        assert all(f"`{other}`" in row for other in others)
    assert "`# nosec`" in section and "`# nosemgrep`" in section


def test_each_rule_section_states_its_policy():
    text = rules_markdown()
    rule = all_rules()["PYS409"]
    assert ("Severity: **info** · category: **style** · on by default: **no**"
            in text[text.index(f"\n## PYS409 {rule.name}\n"):])
