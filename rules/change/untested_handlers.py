"""PYS901: request handlers changed without a test."""

from __future__ import annotations

from dataclasses import dataclass

from pystd.rules.change.base import (
    HANDLER_WORDS,
    Change,
    ChangedPath,
    ChangeRule,
    Function,
    Parsed,
    handlers,
    on_added_line,
    source_files,
)
from pystd.rules.context import module_kind
from pystd.rules.engine import Category, Severity, register


@register
class HandlerChangeWithoutTests(ChangeRule):
    code = "PYS901"
    name = "handler-change-without-tests"
    severity = Severity.INFO
    category = Category.STRUCTURE
    default = False
    rationale = (
        "Whether each handler change needs a test in the same pull request is team policy. "
        "Opt-in."
    )
    message = "This change edits request handlers ({handlers}) but no test file"
    docs = """
## What it does
Flags a change that adds or edits request handlers — Django views, Flask routes, FastAPI
and Ninja path operations, Starlette endpoints — and touches no test file (`test_*.py`,
`*_test.py`, `tests/`, `conftest.py`). It is reported once per change, on the first changed
handler.

## Why is this bad?
Handlers are where user input meets your code; a behaviour change there without a test is
how regressions ship. Every framework documents a test client for exactly this (Django's
`Client`, Flask's `test_client()`, FastAPI's `TestClient`), and the test pyramid puts the
cheap, fast checks next to the code they guard.

## Example
A pull request that changes `views.py`:
```python
def order_detail(request, pk):
    order = get_object_or_404(Order, pk=pk, owner=request.user)
    return render(request, "orders/detail.html", {"order": order})
```
and no file under `tests/`.

## Use instead
Add or update a test that exercises the handler through the framework's test client.

## Suppress
`# noqa: PYS901` on the handler's `def` line, or `ignore = ["PYS901"]` in `[tool.pystd]`.
"""
    bad = (
        """
        # the change edits a view and no test  # flagged
        """,
    )
    good = (
        """
        # the change edits a view and tests/test_views.py
        """,
    )

    def check_change(self, change: Change) -> None:
        if change.touches_tests():
            return
        anchor: tuple[str, int] | None = None
        names: list[str] = []
        for f in source_files(change, *HANDLER_WORDS):
            found = self.facts(f)
            if found is None:
                continue
            assert isinstance(found, ChangedHandlers)
            anchor = anchor or (f.path, found.first_line)
            names.extend(found.names)
        if anchor is not None:
            listed = ", ".join(f"`{name}`" for name in names[:5])
            if len(names) > 5:
                listed += f" and {len(names) - 5} more"
            self.report_line(*anchor, self.message.format(handlers=listed))

    def file_facts(self, f: ChangedPath) -> ChangedHandlers | None:
        parsed = self.cctx.parsed(f)
        if parsed is None or module_kind(f.path).is_test:
            return None
        changed = changed_handlers(f, parsed)
        if not changed:
            return None
        first = changed[0]
        return ChangedHandlers(tuple(fn.display_name for fn in changed),
                               parsed.start(first.node.name, first.top))


@dataclass(frozen=True)
class ChangedHandlers:
    """PYS901's facts of a file: the handlers the change added or edited, and the `def`
    line of the first."""

    names: tuple[str, ...]
    first_line: int


def changed_handlers(f: ChangedPath, parsed: Parsed) -> list[Function]:
    """Handlers of `f` that the change added or edited (all of them when the changed lines
    are not known)."""
    return [fn for fn in handlers(parsed)
            if f.added is None or (not f.added.isdisjoint(parsed.rough_span(fn.top))
                                   and on_added_line(f, parsed.span(fn.node, fn.top)))]
