"""The parser's pre-checks: the hostile inputs that crash or hang libcst are skipped as
too deep (and reported as not checked) before libcst sees them; ordinary code, however
large or bracket-heavy, is analysed as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from pystd.rules.catalogue import select_rules
from pystd.rules.limits import MAX_BRACKETS, TOO_DEEP, too_deep
from pystd.rules.runner import check_source

ROOT = Path(__file__).resolve().parents[2]

# Each of these crashed libcst's native parser (a segfault) or kept it busy for minutes.
HOSTILE = {
    "parentheses": "x = " + "(" * 50_000 + "1" + ")" * 50_000 + "\n",
    "brackets": "x = " + "[" * 2_000 + "]" * 2_000 + "\n",
    "nested calls": "x = " + "f(" * 2_000 + ")" * 2_000 + "\n",
    "nested dicts": "x = " + "{1: " * 2_000 + "1" + "}" * 2_000 + "\n",
    "not not": "x = " + "not " * 50_000 + "a\n",
    "minus minus": "x = " + "- " * 50_000 + "a\n",
    "tilde": "x = " + "~" * 20_000 + "a\n",
    "await await": "async def f():\n    x = " + "await " * 20_000 + "a\n",
    # 48 KB, under the size screen: one expression over 16,000 short lines.
    "a+ over short lines": "x = (\n" + "a+\n" * 16_000 + "a)\n",
    "a and over short lines": "x = (\n" + "a and\n" * 8_000 + "a)\n",
    "backslash continuations": "x = a" + " \\\n+ a" * 5_000 + "\n",
    "subscript chain": "x = a" + "[0]" * 5_000 + "\n",
    "subscripts over lines": "x = (a\n" + "[0]\n" * 5_000 + ")\n",
    "call chain": "x = a" + "()" * 5_000 + "\n",
    "attribute chain": "x = a" + ".b" * 5_000 + "\n",
    "lambda chain": "x = " + "lambda: " * 5_000 + "1\n",
    "conditional chain": "x = " + "a if b else " * 5_000 + "c\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_is_skipped_as_too_deep_and_not_checked(name):
    result = check_source("app/generated.py", HOSTILE[name].encode(), select_rules())
    assert (result.skipped, result.failed, result.findings) == (TOO_DEEP, True, ())


def test_hostile_input_in_a_file_of_ordinary_code_is_caught_too():
    ordinary = (ROOT / "rules" / "runner.py").read_text(encoding="utf-8")
    text = ordinary + "\n\nLIMIT = (\n" + "    1 +\n" * 3_000 + "    1)\n"
    assert too_deep(text)


def test_brackets_as_deep_as_cpython_allows_are_analysed():
    text = "x = " + "[" * (MAX_BRACKETS - 10) + "]" * (MAX_BRACKETS - 10) + "\n"
    assert check_source("app/data.py", text, select_rules()).skipped is None
    deeper = "x = " + "[" * (MAX_BRACKETS + 1) + "]" * (MAX_BRACKETS + 1) + "\n"
    assert check_source("app/data.py", deeper, select_rules()).skipped == TOO_DEEP


@pytest.mark.parametrize("text", [
    # Large but flat data: long lists, dictionaries over many lines, negative numbers.
    "DATA = [" + ", ".join(f"-{i}" for i in range(5_000)) + "]\n",
    "TABLE = {\n" + "".join(f"    'k{i}': ('v', -{i}, [{i}]),\n" for i in range(3_000)) + "}\n",
    # Many short statements, each with operators, continued lines and brackets.
    "".join(f"x{i} = (a +\n      b[{i}] -\n      -c) * f(g(h({i})))\n" for i in range(2_000)),
    # Brackets inside strings do not count as nesting.
    "PATTERN = '" + "(" * 300 + "'\n",
    # A comment ruler is not a chain of minus signs.
    "# " + "-" * 200 + "\nx = 1\n",
])
def test_large_flat_code_is_not_too_deep(text):
    assert not too_deep(text)


def test_pystd_own_code_is_not_too_deep():
    for path in sorted((ROOT / "rules").rglob("*.py")) + sorted((ROOT / "bot").rglob("*.py")):
        assert not too_deep(path.read_text(encoding="utf-8")), path
