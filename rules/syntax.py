"""PYS000: the file could not be parsed, so nothing else was checked in it."""

from __future__ import annotations

from pystd.rules.engine import Category, Rule, Severity, register


@register
class SyntaxErrorRule(Rule):
    code = "PYS000"
    name = "syntax-error"
    severity = Severity.INFO
    category = Category.CORRECTNESS
    default = True
    rationale = "A file pystd cannot parse gets no other check, and saying so never fails the gate."
    message = "Could not parse this file; no other rule checked it"
    # Not a rule over a parsed tree: the engine reports through it the files the parser
    # rejects (rules/runner.py).
    file_kind = "unparsable"
    docs = """
## What it does
Reports a Python file that the parser rejects, with the parser's message and line.

## Why is this bad?
pystd only ever parses the code of a pull request — it never imports or runs it — so a
file that does not parse cannot be checked at all. The other rules stay silent on it.

## Example
```python
def handler(request:
    return 1
```

## Use instead
Fix the syntax error; the interpreter would reject the module too.
"""
    bad = (
        """
        def handler(request:  # flagged
            return 1
        """,
    )
    good = (
        """
        def handler(request):
            return 1
        """,
    )
