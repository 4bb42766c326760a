"""Every rule's documented examples are tests: bad ones flag the marked lines, good ones
flag nothing, every fix parses and removes the finding it was offered for, and a bad example
the rule can fix shows the exact source the fix gives (`Example(..., fixed=...)`)."""

from __future__ import annotations

import ast

import pytest

from pystd.rules.catalogue import all_rules, select_rules
from pystd.rules.engine import FLAG_MARKER, Example, Rule, example_of
from pystd.rules.fixes import apply_fix
from pystd.rules.runner import check_source

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


MAX_FIXES = 10


def fixed_source(rule: type[Rule], ex: Example) -> str | None:
    """The example after the rule's fixes, applied one at a time (the first finding's first)
    until the rule offers none, as `pystd check --fix --unsafe-fixes` would; None when the
    rule offers no fix for it."""
    if rule.file_kind == "change":
        return None
    rules = select_rules([rule.code])
    code = ex.code
    for _ in range(MAX_FIXES):
        fixes = [f.fix for f in check_source(ex.path, code, rules).findings if f.fix is not None]
        if not fixes:
            return None if code == ex.code else code
        code = apply_fix(code, fixes[0])
    raise AssertionError(f"{rule.code}'s fixes of {ex.path} never settle:\n{code}")


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


@pytest.mark.parametrize("case", _cases("bad"), ids=_id)
def test_a_fixable_bad_example_shows_its_exact_fix(case: tuple[type[Rule], Example]) -> None:
    rule, ex = case
    fixed = fixed_source(rule, ex)
    if fixed is None:
        assert ex.fixed is None, f"{rule.code} offers no fix here, so `fixed` must not be set"
        return
    assert ex.fixed is not None, f"{rule.code} fixes this example: add fixed=\"\"\"\n{fixed}\"\"\""
    assert ex.fixed == fixed
    if rule.file_kind == "python":
        ast.parse(fixed, ex.path)
    rules = select_rules([rule.code])
    before = check_source(ex.path, ex.code, rules).findings
    left = check_source(ex.path, fixed, rules).findings
    # Clean for the rule, but for findings it has no fix for (PYS404 rewrites `orm_mode`, not
    # the `class Config:` around it): the fixes removed findings and brought in none.
    assert len(left) < len(before)
    assert {f.message for f in left} <= {f.message for f in before if f.fix is None}, fixed


@pytest.mark.parametrize("case", _cases("good"), ids=_id)
def test_a_good_example_has_nothing_to_fix(case: tuple[type[Rule], Example]) -> None:
    assert case[1].fixed is None


def test_an_example_written_as_an_indented_block_is_the_module_it_shows() -> None:
    ex = Example("""
        import time

        async def handler():
            time.sleep(1)  # flagged
        """, "api.py", fixed="""
        async def handler():
            await asyncio.sleep(1)
        """)
    assert ex.code == "import time\n\nasync def handler():\n    time.sleep(1)  # flagged\n"
    assert ex.fixed == "async def handler():\n    await asyncio.sleep(1)\n"
    assert example_of("x = 1  # flagged\n").code == "x = 1  # flagged\n"  # plain strings as before
    assert example_of("    x = 1\n").code == "    x = 1\n"
