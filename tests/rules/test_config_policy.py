"""The severity and default policy (docs/rules.md): categories, the default selection,
opting in by category, code or ALL, and a finding's own severity."""

from __future__ import annotations

import libcst as cst
import pytest

from pystd.rules.catalogue import all_rules, select_rules
from pystd.rules.config import ConfigError, PystdConfig, config_from_texts, parse_config
from pystd.rules.engine import Category, Rule, RuleSet, Severity
from pystd.rules.runner import check_source

SLEEPY = "import time\n\n\nasync def f():\n    time.sleep(1)\n"
PRINTS = "import flask\n\n\ndef f():\n    print('hi')\n"


def codes(rules: RuleSet) -> set[str]:
    return {r.code for r in rules}


def by(category: Category) -> set[str]:
    return {c for c, r in all_rules().items() if r.category is category}


# -- every rule states its policy ---------------------------------------------------------

@pytest.mark.parametrize("rule", list(all_rules().values()), ids=lambda r: r.code)
def test_every_rule_has_a_category_a_default_and_a_reason(rule: type[Rule]):
    assert isinstance(rule.category, Category)
    assert isinstance(rule.default, bool)
    assert 20 < len(rule.rationale) < 400 and "\n" not in rule.rationale


def test_style_and_structure_rules_are_opt_in():
    on = {c for c, r in all_rules().items() if r.default}
    assert on.isdisjoint(by(Category.STYLE) | by(Category.STRUCTURE))


def test_only_a_few_rules_fail_the_gate_and_each_is_on_by_default():
    errors = {c for c, r in all_rules().items() if r.severity is Severity.ERROR}
    assert errors == {"PYS101", "PYS201", "PYS204", "PYS205", "PYS405", "PYS406"}
    assert all(all_rules()[c].default for c in errors)


# -- selection ----------------------------------------------------------------------------

def test_the_default_configuration_runs_only_the_default_rules():
    chosen = codes(PystdConfig().rule_set())
    assert chosen == {c for c, r in all_rules().items() if r.default}
    assert "PYS101" in chosen and "PYS104" not in chosen and "PYS409" not in chosen


def test_all_selects_every_rule():
    assert codes(parse_config({"select": ["ALL"]}).rule_set()) == set(all_rules())


@pytest.mark.parametrize("spelling", ["security", "SECURITY", "Security"])
def test_selection_by_category_in_any_case(spelling):
    assert codes(select_rules([spelling])) == by(Category.SECURITY)


def test_categories_codes_and_default_combine_and_ignore_takes_categories():
    config = parse_config({"select": ["DEFAULT", "upgrade", "PYS409"], "ignore": ["security"]})
    chosen = codes(config.rule_set())
    assert {"PYS404", "PYS410", "PYS203", "PYS409", "PYS205"} <= chosen
    assert chosen.isdisjoint(by(Category.SECURITY))
    assert "PYS104" not in chosen


def test_an_opted_in_rule_finds_what_the_default_set_does_not():
    assert check_source("views.py", PRINTS, PystdConfig().rule_set()).findings == ()
    opted = parse_config({"select": ["DEFAULT", "style"]}).rule_set()
    assert [f.code for f in check_source("views.py", PRINTS, opted).findings] == ["PYS104"]


def test_command_line_select_replaces_the_configuration_and_both_ignores_apply():
    config = parse_config({"select": ["PYS205"], "ignore": ["PYS102"]})
    chosen = codes(config.rule_set(["security"], ["PYS106"]))
    assert chosen == by(Category.SECURITY) - {"PYS102", "PYS106"}
    assert codes(config.rule_set()) == {"PYS205"}
    assert codes(config.rule_set(None, ["PYS205"])) == set()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"select": ["securty"]}, "unknown rule code or category 'securty'"),
        ({"ignore": ["styles"]}, "categories: correctness, security, performance, upgrade"),
        ({"select": ["PYS777"]}, "unknown rule code 'PYS777'"),
        ({"select": ["PYS8"]}, "unknown rule code 'PYS8'"),
    ],
)
def test_unknown_category_or_code_is_one_line(table, message):
    with pytest.raises(ConfigError) as err:
        parse_config(table, "pyproject.toml")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_config_file_selects_by_category():
    config, source = config_from_texts(
        {"pyproject.toml": '[tool.pystd]\nselect = ["correctness", "performance"]\n'})
    assert source == "pyproject.toml"
    assert codes(config.rule_set()) == by(Category.CORRECTNESS) | by(Category.PERFORMANCE)


# -- a finding's own severity -----------------------------------------------------------------

class _Evidence(Rule):
    """Reports every call; `evil(...)` as an error, anything else at the rule's severity."""

    code = "PYS996"
    name = "evidence"
    severity = Severity.WARNING
    category = Category.SECURITY
    default = True
    rationale = "A test rule: errors only with evidence."
    message = "call"

    def visit_Call(self, node: cst.Call) -> None:
        evil = isinstance(node.func, cst.Name) and node.func.value == "evil"
        self.report(node, severity=Severity.ERROR if evil else None)


def test_a_rule_may_raise_one_finding_to_error_and_configuration_still_wins():
    source = "evil(x)\nplain(x)\n"
    found = check_source("app.py", source, RuleSet((_Evidence,))).findings
    assert [(f.line, f.severity) for f in found] == [(1, Severity.ERROR), (2, Severity.WARNING)]
    pinned = RuleSet((_Evidence,), {"PYS996": Severity.INFO})
    assert {f.severity for f in check_source("app.py", source, pinned).findings} == {
        Severity.INFO}


def test_default_blocking_call_still_fails_the_gate():
    (finding,) = check_source("app.py", SLEEPY, PystdConfig().rule_set()).findings
    assert (finding.code, finding.severity) == ("PYS101", Severity.ERROR)
