"""Every rule's documented examples are tests: bad ones flag the marked lines, good ones
flag nothing, and every fix parses and removes the finding it was offered for."""

from __future__ import annotations

import pytest

from rules.catalogue import all_rules, select_rules
from rules.engine import FLAG_MARKER, Example, Rule, example_of
from rules.fixes import apply_fix
from rules.runner import check_source

RULES = list(all_rules().values())
ALL = select_rules()


def _cases(kind: str) -> list[tuple[type[Rule], Example]]:
    # Change-level rules judge a whole change, not a file: tests/rules/test_change.py.
    return [(rule, example_of(ex)) for rule in RULES if rule.file_kind != "change"
            for ex in getattr(rule, kind)]


def _id(case: tuple[type[Rule], Example]) -> str:
    rule, ex = case
    first = ex.code.strip().splitlines()[-1][:40]
    return f"{rule.code}-{ex.path}-{first}"


def _marked_lines(code: str) -> list[int]:
    return [i for i, line in enumerate(code.splitlines(), 1) if line.rstrip().endswith(FLAG_MARKER)]


def test_every_rule_documents_itself() -> None:
    for rule in RULES:
        assert rule.bad and rule.good, f"{rule.code} needs bad and good examples"
        assert rule.docs.strip(), f"{rule.code} has no docs"
        for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
            assert heading in rule.docs, f"{rule.code} docs lack {heading!r}"


@pytest.mark.parametrize("case", _cases("bad"), ids=_id)
def test_bad_example_is_flagged_on_marked_lines(case: tuple[type[Rule], Example]) -> None:
    rule, ex = case
    want = _marked_lines(ex.code)
    assert want, "a bad example must mark the lines it expects flagged"
    result = check_source(ex.path, ex.code, select_rules([rule.code]))
    assert sorted({f.line for f in result.findings}) == want


@pytest.mark.parametrize("case", _cases("good"), ids=_id)
def test_good_example_is_clean(case: tuple[type[Rule], Example]) -> None:
    _rule, ex = case
    result = check_source(ex.path, ex.code, ALL)
    assert result.findings == (), [f"{f.code}:{f.line} {f.message}" for f in result.findings]


@pytest.mark.parametrize("case", _cases("bad"), ids=_id)
def test_fixes_parse_and_clear_the_finding(case: tuple[type[Rule], Example]) -> None:
    rule, ex = case
    rules = select_rules([rule.code])
    before = check_source(ex.path, ex.code, rules).findings
    for finding in before:
        if finding.fix is None:
            continue
        after_code = apply_fix(ex.code, finding.fix)
        after = check_source(ex.path, after_code, select_rules(["ALL"]))
        assert not [f for f in after.findings if f.code == "PYS000"], after_code
        remaining = [f for f in after.findings if f.code == rule.code]
        assert len(remaining) < len(before), after_code
