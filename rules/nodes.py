"""Small readings of libcst nodes that rules of every framework share: the value of a
string literal, `True`/`False`, a call's keyword argument.

Each is here once; a rule module imports it rather than keeping its own copy (copies
drift: one learns about implicit concatenation, the other does not).
"""

from __future__ import annotations

import warnings

import libcst as cst


def literal_string(node: cst.BaseExpression | None) -> str | None:
    """The value of ONE plain string literal (`"x"`, not an f-string, bytes or an implicit
    concatenation), else None: for arguments whose value is a single word
    (`allow_origins=["*"]`, `on_event("startup")`)."""
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def string_pieces(node: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The strings of an implicit concatenation, left to right (iteratively: generated
    code concatenates thousands of literals); any other node alone."""
    pieces: list[cst.BaseExpression] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, cst.ConcatenatedString):
            stack.append(item.right)
            stack.append(item.left)
        else:
            pieces.append(item)
    return pieces


def string_value(node: cst.BaseExpression) -> str | None:
    """The value of a plain string (or bytes) literal, implicit concatenation included;
    None for anything else, f-strings included: for text a rule reads (SQL, secrets,
    HTML)."""
    out: list[str] = []
    for piece in string_pieces(node):
        if not isinstance(piece, cst.SimpleString):
            return None
        try:
            with warnings.catch_warnings():  # `"\d"`: the checked code's problem, not ours
                warnings.simplefilter("ignore")
                value = piece.evaluated_value
        except (SyntaxError, ValueError):  # literal_eval rejects it: not worth a crash
            return None
        out.append(value.decode("latin-1") if isinstance(value, bytes) else value)
    return "".join(out)


def is_true(node: cst.BaseExpression) -> bool:
    """The literal `True`."""
    return isinstance(node, cst.Name) and node.value == "True"


def is_false(node: cst.BaseExpression) -> bool:
    """The literal `False`."""
    return isinstance(node, cst.Name) and node.value == "False"


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    """The `name=...` argument of `call`, if given."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def keyword_arg(name: str, value: cst.BaseExpression) -> cst.Arg:
    """A new `name=value` argument, laid out as PEP 8 asks (no spaces around `=`)."""
    return cst.Arg(value=value, keyword=cst.Name(name),
                   equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                         whitespace_after=cst.SimpleWhitespace("")))
