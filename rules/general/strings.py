"""Reading identifiers and string literals, shared by the PYS1xx rules."""

from __future__ import annotations

import re
from functools import lru_cache

import libcst as cst

from pystd.rules.nodes import string_pieces, string_value

_CAMEL_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def split_camel_case(name: str) -> str:
    """`dbPassword` -> `db_Password`, `HTTPServer` -> `HTTP_Server`."""
    return _CAMEL_ACRONYM.sub(r"\1_\2", _CAMEL_LOWER_UPPER.sub(r"\1_\2", name))


@lru_cache(maxsize=4096)
def identifier_words(name: str) -> tuple[str, ...]:
    """Lower-case words of an identifier or key: `dbPassword2` -> ("db", "password"),
    `X-API-Key` -> ("x", "api", "key"), `SECRET_KEY` -> ("secret", "key")."""
    spaced = split_camel_case(name)
    words = (word.lower().rstrip("0123456789") for word in _NOT_ALNUM.split(spaced))
    return tuple(word for word in words if word)



def concatenated_text(node: cst.ConcatenatedString) -> str:
    """The literal text of an implicit concatenation; interpolations become NUL."""
    return "".join(
        formatted_text(piece) if isinstance(piece, cst.FormattedString)
        else string_value(piece) or ""
        for piece in string_pieces(node)
    )


def formatted_text(node: cst.FormattedString) -> str:
    """The literal text of an f-string; interpolations become NUL."""
    return "".join(
        part.value if isinstance(part, cst.FormattedStringText) else "\x00"
        for part in node.parts
    )


def added_operands(expr: cst.BinaryOperation) -> list[cst.BaseExpression]:
    """The operands of an `a + b + c` chain, left to right (iteratively: chains get long)."""
    operands: list[cst.BaseExpression] = []
    stack: list[cst.BaseExpression] = [expr.right, expr.left]
    while stack:
        item = stack.pop()
        if (isinstance(item, cst.BinaryOperation) and isinstance(item.operator, cst.Add)
                and not item.lpar):
            stack.append(item.right)
            stack.append(item.left)
        else:
            operands.append(item)
    return operands

