"""What the parser can safely be given: file size and expression depth. The engine and
the change rules (which parse a file's text before the change too) both ask."""

from __future__ import annotations

import io
import tokenize

MAX_FILE_BYTES = 1_000_000  # larger files are skipped with a reason (DESIGN: huge files)
# libcst's native parser overflows its stack (a segfault, not an exception) on expressions
# nested a few thousand deep, such as a generated 10,000-term `a + b + ...` (and CPython's
# `ast` module does too). So big files, and files with very long lines, are measured first
# with the tokenizer, which is iterative: a statement chaining more binary operators,
# attribute accesses or implicitly concatenated strings than this is skipped.
MAX_NESTING = 1000
DEPTH_CHECK_BYTES = 50_000
TOO_DEEP = "too deeply nested to analyse"
_FLAT_OPS = frozenset({",", "(", "[", "{", ")", "]", "}", ":", "=", ";", "->", ":=", "**="})
_OPERAND_END = frozenset({tokenize.NAME, tokenize.NUMBER, tokenize.STRING})


def too_deep(text: str) -> bool:
    """Would parsing `text` nest deeper than libcst can safely go?"""
    if len(text) < DEPTH_CHECK_BYTES and max(map(len, text.splitlines()), default=0) < 5000:
        return False
    chain = 0
    previous: tokenize.TokenInfo | None = None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                chain = 0
            elif previous is not None and (
                (tok.type == tokenize.OP and tok.string not in _FLAT_OPS
                 and (previous.type in _OPERAND_END or previous.string in (")", "]", "}")))
                or (tok.type == tokenize.STRING and previous.type == tokenize.STRING)
                or (tok.type == tokenize.NAME and tok.string in ("and", "or"))
            ):
                chain += 1
                if chain > MAX_NESTING:
                    return True
            if tok.type not in (tokenize.NL, tokenize.COMMENT):
                previous = tok
    except (tokenize.TokenError, SyntaxError):
        return False  # the parser reports it
    return False


def parseable(text: str) -> bool:
    """Small enough and shallow enough for libcst."""
    return len(text) <= MAX_FILE_BYTES and not too_deep(text)
