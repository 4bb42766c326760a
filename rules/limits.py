"""What the parser can safely be given: file size and expression depth. The engine and
the change rules (which parse a file's text before the change too) both ask.

libcst's native parser recurses once per level of an expression: a few thousand levels
overflow its stack (a segfault, not an exception, e.g. `x = ((((…))))` 2,000 deep), and
long before that its time grows with the square of the depth (a `x = (a +` chain of 16k
terms over 48 KB of short lines takes minutes; `a[0][0]…` 5,000 deep, 45 s). So every
file is screened, cheaply, before libcst sees it:

1. a scan of the raw text (regular expressions in C, well under 1% of the engine's time
   on ordinary code) looks for what a deep expression needs: deeply nested brackets, long
   runs of unary operators or trailers, many lines that continue an expression, a huge
   file or a very long line;
2. only if it finds one, the tokenizer (exact, iterative, but about a fifth of the
   engine's time) measures the deepest expression; beyond the limits the file is skipped
   as TOO_DEEP (and reported as not checked).
"""

from __future__ import annotations

import io
import re
import tokenize
from itertools import accumulate, count
from operator import sub

MAX_FILE_BYTES = 1_000_000  # larger files are skipped with a reason (DESIGN: huge files)
# CPython's own tokenizer refuses brackets nested more than 200 deep (MAXLEVEL,
# "too many nested parentheses"); libcst takes 0.3 s at that depth and crashes near 2,000.
MAX_BRACKETS = 200
# Operators, trailers and brackets chained in one expression (see _depth): libcst takes
# about 0.5 s at 1,000 and crashes some way beyond 5,000.
MAX_NESTING = 1000
DEPTH_CHECK_BYTES = 50_000
TOO_DEEP = "too deeply nested to analyse"

_NOT_BRACKETS = re.compile(r"[^()\[\]{}]+")
_STEP = str.maketrans("([{)]}", "\x02\x02\x02\x00\x00\x00")  # prefix sum - count = depth
# 50 unary operators in a row (`- - - a`, `~~~a`, `not not …`, `await await …`): ordinary
# code never does that. (Comment rulers `# ------` match too: they cost one tokenizer pass,
# not a verdict.) The keyword runs are only looked for when the words are that frequent.
_SYMBOL_RUN = re.compile(r"[-+~](?:[ \t\\\n]*[-+~]){49}")
_WORD_RUN = re.compile(r"(?:\b(?:not|await|lambda\b[^:\n]*:)[ \t\\\n]+){50}")
_RUN_WORDS = ("not", "await", "lambda")
# Lines that end or start with a binary operator, start with a trailer (`.`, `[`, `(`) or
# end with a backslash continue one expression over many lines (`x = (\na +\na +\n…`):
# an ordinary file has a few dozen.
_ENDS_WITH_OPERATOR = re.compile(r"[-+*/%&|^<>@][ \t]*\\?\n")
_STARTS_WITH_OPERATOR = re.compile(r"\n[ \t]*[-+*/%&|^.\[(]")
_ENDS_WITH_WORD = (" and\n", " or\n", " not\n", " if\n", " else\n", " in\n", " is\n")
_MAX_CONTINUED = 300
_FLAT = frozenset({",", ";", "=", ":=", "->"})
_COMPARISONS = frozenset({"==", "!=", "<=", ">="})
_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")
_KEYWORD_OPS = frozenset({"not", "await", "lambda", "if", "else", "and", "or", "in", "is"})


def too_deep(text: str) -> bool:
    """Would parsing `text` nest deeper than libcst can safely (and quickly) go?"""
    return _suspect(text) and _depth_exceeds(text)


def _suspect(text: str) -> bool:
    """The cheap screen: could `text` hold an expression deeper than the limits?"""
    if len(text) >= DEPTH_CHECK_BYTES or max(map(len, text.splitlines()), default=0) >= 5000:
        return True
    steps = _NOT_BRACKETS.sub("", text).translate(_STEP).encode()
    if max(map(sub, accumulate(steps), count(1)), default=0) > MAX_BRACKETS:
        return True
    if _SYMBOL_RUN.search(text) or (
            sum(map(text.count, _RUN_WORDS)) >= 50 and _WORD_RUN.search(text)):
        return True
    continued = (len(_ENDS_WITH_OPERATOR.findall(text)) + len(_STARTS_WITH_OPERATOR.findall(text))
                 + sum(map(text.count, _ENDS_WITH_WORD)) + text.count("\\\n"))
    return continued > _MAX_CONTINUED


def _depth_exceeds(text: str) -> bool:
    """The exact measure, on tokens: brackets nested deeper than MAX_BRACKETS, or an
    expression chaining more than MAX_NESTING operators, trailers and brackets.

    `depth` rises by one per operator (binary, unary, comparison, `.`, keyword operators,
    implicitly concatenated strings) and per bracket; a comma or keyword `=` inside
    brackets starts a new operand at the depth of its bracket; a closing bracket makes
    the whole bracket one operand; a statement's end starts from zero.
    """
    depth = 0
    outer: list[int] = []  # the depth at each open bracket
    previous: tokenize.TokenInfo | None = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            kind, string = tok.type, tok.string
            if kind in (tokenize.NEWLINE, tokenize.ENDMARKER) or (string == ";" and not outer):
                depth = 0
                outer.clear()
            elif kind == tokenize.OP and string in _OPEN:
                outer.append(depth)
                depth += 1
                if len(outer) > MAX_BRACKETS:
                    return True
            elif kind == tokenize.OP and string in _CLOSE:
                depth = outer.pop() + 1 if outer else 0
            elif kind == tokenize.OP and (string in _FLAT or (
                    string.endswith("=") and string not in _COMPARISONS)):  # `=`, `+=`, …
                depth = outer[-1] + 1 if outer else 0
            elif ((kind == tokenize.OP and string != ":")
                  or (kind == tokenize.NAME and string in _KEYWORD_OPS)
                  or (kind == tokenize.STRING and previous is not None
                      and previous.type == tokenize.STRING)):
                depth += 1
            if depth > MAX_NESTING:
                return True
            if kind not in (tokenize.NL, tokenize.COMMENT):
                previous = tok
    except (tokenize.TokenError, SyntaxError):
        return False  # the parser reports it
    return False


def parseable(text: str) -> bool:
    """Small enough and shallow enough for libcst."""
    return len(text) <= MAX_FILE_BYTES and not too_deep(text)
