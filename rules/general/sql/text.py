"""Reading SQL text around the values written into it (PYS105).

The rule turns each way of building SQL (f-string, `+`, `%`, `.format`) into segments:
literal text and the values placed between it. These functions answer, from the text
alone, where a value lands (a value position, where the driver could bind it, or an
identifier or clause position) and whether the SQL binds its values with placeholders.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst


@dataclass(frozen=True, slots=True)
class Piece:
    """A value written into SQL text. `numeric`: its conversion only takes numbers (`%d`,
    `{n:d}`), so it cannot carry SQL."""

    expr: cst.BaseExpression
    numeric: bool = False


Segment = str | Piece

# Right before a value the driver could bind: a comparison, `LIKE`, `IN`, `LIMIT`, ...
_VALUE_BEFORE = re.compile(
    r"(?:[=<>]|\b(?:like|ilike|in|values|limit|offset|between|then|else|default))\s*$", re.I)
# The function or list a `(` opens: `IN (`, `VALUES (`, `lower(`.
_OPENER = re.compile(r"(\w*)\s*$")
# Placeholders of the DB-API paramstyles and SQLAlchemy: `%s`, `%(name)s`, `?`, `:name`
# (not a `::json` cast nor the minutes of `'12:30'`), `$1`.
_BIND = re.compile(r"%s|%\(\w+\)s|\?|(?<![:\w]):[A-Za-z_]\w*|\$\d+")
_QUOTED = re.compile(r"'(?:[^']|'')*'")
# `%`-formatting conversions: `%s`, `%(name)s`, `%5.2f`, `%%`.
_CONVERSION = re.compile(
    r"%(?:\((?P<key>\w+)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?P<type>[diouxXeEfFgGcrsa%])")
_NUMERIC_TYPES = frozenset("diouxXeEfFgG")
_NUMERIC_SPEC = re.compile(r".*[bdoxXneEfFgG%]")


def is_value_position(before: str) -> bool:
    """Does a value written after SQL text `before` stand where a bound parameter could:
    inside a quoted literal, after a comparison, `LIKE`, `LIMIT`..., or in an `IN (...)`
    or `VALUES (...)` list (also as a function argument in such a place)?"""
    if before.count("'") % 2:
        return True
    text = before.rstrip()
    while text.endswith(("(", ",")):
        opening = _unmatched_paren(text)
        if opening < 0:
            return False
        word = _OPENER.search(text[:opening]).group(1).lower()  # type: ignore[union-attr]
        if word in ("in", "values"):
            return True
        if not word:  # a bare parenthesis: `WHERE (a = 1) AND ({x})`
            return False
        text = text[:opening - len(word)].rstrip()  # `= lower({x})`: where the call stands
    return bool(_VALUE_BEFORE.search(text))


def _unmatched_paren(text: str) -> int:
    """Index of the last `(` in `text` that no `)` after it closes, or -1."""
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            if depth == 0:
                return i
            depth -= 1
    return -1


def binds_values(text: str) -> bool:
    """Does the SQL text hold placeholders (outside its quoted literals)?"""
    return bool(_BIND.search(_QUOTED.sub("''", text)))


def numeric_spec(spec: str) -> bool:
    """A format spec that only takes numbers: `d`, `.2f`, `05x`."""
    return bool(_NUMERIC_SPEC.fullmatch(spec))


def percent_segments(template: str, values: cst.BaseExpression) -> list[Segment] | None:
    """`template % values` as segments, or None when the values cannot be matched to the
    conversions (`% params`, a name holding a tuple)."""
    conversions = [m for m in _CONVERSION.finditer(template) if m.group("type") != "%"]
    keyed = any(m.group("key") for m in conversions)
    if keyed:
        if not isinstance(values, cst.Dict):
            return None
        by_key = {}
        for element in values.elements:
            if not isinstance(element, cst.DictElement) or not isinstance(
                    element.key, cst.SimpleString):
                return None
            by_key[element.key.raw_value] = element.value
        items: Sequence[cst.BaseExpression | None] = [
            by_key.get(m.group("key") or "") for m in conversions]
    elif isinstance(values, cst.Tuple):
        items = [el.value if isinstance(el, cst.Element) else None for el in values.elements]
    else:
        items = [values]
    if len(items) != len(conversions) or any(item is None for item in items):
        return None
    out: list[Segment] = []
    pos, index = 0, 0
    for match in _CONVERSION.finditer(template):
        out.append(template[pos:match.start()])
        pos = match.end()
        if match.group("type") == "%":
            out.append("%")
            continue
        item = items[index]
        assert item is not None
        out.append(Piece(item, numeric=match.group("type") in _NUMERIC_TYPES))
        index += 1
    out.append(template[pos:])
    return out


def format_segments(template: str, call: cst.Call) -> list[Segment] | None:
    """`template.format(...)` as segments, or None for `*args`/`**kwargs`, attribute or
    index fields, or a malformed template."""
    if any(arg.star for arg in call.args):
        return None
    positional = [arg.value for arg in call.args if arg.keyword is None]
    keywords = {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}
    out: list[Segment] = []
    auto = 0
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        return None
    for literal, field, spec, _conversion in fields:
        out.append(literal)
        if field is None:
            continue
        if field == "":
            field = str(auto)
            auto += 1
        if field.isdigit():
            value = positional[int(field)] if int(field) < len(positional) else None
        else:
            value = keywords.get(field)
        if value is None:
            return None
        out.append(Piece(value, numeric=numeric_spec(spec or "")))
    return out
