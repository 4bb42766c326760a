"""rules/nodes.py: the readings of literals and arguments every framework's rules share."""

from __future__ import annotations

import libcst as cst
import pytest

from pystd.rules.nodes import (
    is_false,
    is_true,
    keyword,
    keyword_arg,
    literal_string,
    string_value,
)


def expr(code: str) -> cst.BaseExpression:
    return cst.parse_expression(code)


@pytest.mark.parametrize(("code", "literal", "value"), [
    ('"*"', "*", "*"),
    ("'a' 'b'", None, "ab"),  # an implicit concatenation is one value, not one literal
    ('b"x"', None, "x"),
    ('f"{x}"', None, None),
    ("name", None, None),
])
def test_string_readings(code: str, literal: str | None, value: str | None):
    assert literal_string(expr(code)) == literal
    assert string_value(expr(code)) == value


def test_literal_string_of_nothing_is_nothing():
    assert literal_string(None) is None


def test_true_and_false_are_the_literals_only():
    assert is_true(expr("True")) and not is_true(expr("true")) and not is_true(expr("1"))
    assert is_false(expr("False")) and not is_false(expr("None"))


def test_keyword_finds_a_named_argument():
    call = expr("f(1, debug=True)")
    assert isinstance(call, cst.Call)
    found = keyword(call, "debug")
    assert found is not None and is_true(found.value)
    assert keyword(call, "host") is None


def test_keyword_arg_is_laid_out_as_pep8_asks():
    call = cst.Call(func=cst.Name("f"), args=[keyword_arg("tags", cst.List([]))])
    assert cst.Module([]).code_for_node(call) == "f(tags=[])"
