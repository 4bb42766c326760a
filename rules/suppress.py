"""`# noqa`, `# noqa: PYS101,PYS205` and `# pystd: ignore-file`."""

from __future__ import annotations

import re
import tokenize
from io import StringIO

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*))?", re.I)
# A comment line of its own (`{# ... #}` in templates), so prose that mentions the
# directive, like this module's docstring, does not switch a file off.
_IGNORE_FILE = re.compile(r"^\s*\{?#\s*pystd:\s*ignore-file\b", re.I)
# Non-Python files (templates) carry the directives inside their own comment syntax,
# `{# noqa: PYS208 #}`, which the same patterns find.
ALL = frozenset({"*"})


def ignores_file(source: str) -> bool:
    """`# pystd: ignore-file` anywhere in the first 5 lines."""
    head = source.split("\n", 5)[:5]
    return any(_IGNORE_FILE.search(line) for line in head)


def noqa_lines(source: str, *, python: bool = True) -> dict[int, frozenset[str]]:
    """Line -> suppressed codes (`{"*"}` for a bare `# noqa`).

    For Python, only real comments count (a `# noqa` inside a string does not), found
    with the tokenizer; lines that do not tokenize fall back to a text scan.
    """
    if "noqa" not in source and "NOQA" not in source:
        return {}
    out: dict[int, frozenset[str]] = {}
    comments: list[tuple[int, str]] = []
    if python:
        try:
            for tok in tokenize.generate_tokens(StringIO(source).readline):
                if tok.type == tokenize.COMMENT:
                    comments.append((tok.start[0], tok.string))
        except (tokenize.TokenError, SyntaxError, IndentationError):
            comments = list(enumerate(source.splitlines(), start=1))
    else:
        comments = list(enumerate(source.splitlines(), start=1))
    for lineno, text in comments:
        match = _NOQA.search(text)
        if match is None:
            continue
        codes = match.group("codes")
        out[lineno] = (
            frozenset(c.strip().upper() for c in codes.split(",")) if codes else ALL
        )
    return out


def is_suppressed(code: str, lines: tuple[int, ...], noqa: dict[int, frozenset[str]]) -> bool:
    for line in lines:
        codes = noqa.get(line)
        if codes is not None and (codes is ALL or "*" in codes or code in codes):
            return True
    return False
