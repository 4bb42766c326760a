"""PYS110: handlers that a change adds or grows past `max-handler-lines`."""

from __future__ import annotations

import libcst as cst

from pystd.rules.change.base import (
    HANDLER_WORDS,
    Change,
    ChangedPath,
    ChangeRule,
    functions,
    handlers,
    on_added_line,
    source_files,
)
from pystd.rules.context import is_docstring
from pystd.rules.engine import Category, Severity, register


def handler_size(fn: cst.FunctionDef, module: cst.Module) -> int:
    """Lines' worth of statements in `fn`'s body: non-blank lines that are not only a
    comment, without the docstring."""
    body = fn.body
    if isinstance(body, cst.SimpleStatementSuite):
        return 1
    stmts = list(body.body)
    if stmts and is_docstring(stmts[0]):
        stmts = stmts[1:]
    return sum(1 for stmt in stmts for line in module.code_for_node(stmt).splitlines()
               if (text := line.strip()) and not text.startswith("#"))


@register
class FatHandler(ChangeRule):
    code = "PYS110"
    name = "fat-handler"
    severity = Severity.INFO
    category = Category.STRUCTURE
    default = False
    rationale = "Handler size limits are a team's taste, and a long handler is not a defect; opt-in."
    message = ("Handler `{handler}` has {size} lines of statements (more than {limit}); keep "
               "handlers thin and move the logic to a service function")
    docs = """
## What it does
Flags a request handler (a Django view, a Flask route, a FastAPI or Ninja path operation,
a Starlette endpoint) that crosses `max-handler-lines` lines of statements (40 by default;
set it in `[tool.pystd]`) in this change: a new handler over the limit, or one that was
within the limit before the change and is over it after. The size is the number of
non-blank lines of the body that are not only a comment, without the docstring. A handler
that was already over the limit is not flagged again when a change grows it: the finding
would repeat on every pull request that touches it, about a size nobody chose in that
pull request.

## Why is this bad?
A handler should translate HTTP to a call and back: parse input, call the domain, shape
the response. Business logic inside it cannot be reused from a task, a command or
another endpoint, and can only be tested through the test client. Django's "fat models,
thin views" advice, the service layer of Cosmic Python (Architecture Patterns with
Python) and FastAPI's dependency-injected services all keep the logic out of the handler.

## Example
```python
@app.post("/orders")
def create_order(payload: OrderIn, db: Session = Depends(get_db)) -> OrderOut:
    # 60 lines: validate stock, price the cart, apply coupons, charge, e-mail, ...
    ...
```

## Use instead
```python
@app.post("/orders")
def create_order(payload: OrderIn, orders: OrderService = Depends()) -> OrderOut:
    return orders.place(payload)
```

## Suppress
`# noqa: PYS110` on the handler's `def` line, `max-handler-lines = 60` or
`ignore = ["PYS110"]` in `[tool.pystd]`.
"""
    bad = (
        """
        # the change grows a view from 35 to 60 lines of statements  # flagged
        """,
    )
    good = (
        """
        # the change adds a 10-line view that calls a service
        """,
        """
        # the change grows a view that already had 60 lines to 65
        """,
    )

    def check_change(self, change: Change) -> None:
        for f in source_files(change, *HANDLER_WORDS):
            for line, message in self.facts(f) or ():  # type: ignore[attr-defined]
                self.report_line(f.path, line, message)

    def file_facts(self, f: ChangedPath) -> tuple[tuple[int, str], ...]:
        """(def line, message) of each handler the change adds over the limit or grows
        across it (it was within the limit before the change)."""
        limit = self.cctx.change.max_handler_lines
        assert f.text is not None
        if f.text.count("\n") <= limit:  # too short to hold a handler that big
            return ()
        parsed = self.cctx.parsed(f)
        if parsed is None:
            return ()
        big = [(fn, size) for fn in handlers(parsed)
               if (size := handler_size(fn.node, parsed.module)) > limit]
        if not big:
            return ()
        before = self.cctx.parsed_before(f)
        old = None if before is None else {
            fn.key: handler_size(fn.node, before.module) for fn in functions(before.module)}
        out = []
        for fn, size in big:
            def_line = parsed.start(fn.node.name, fn.top)
            if old is None:
                grew = on_added_line(f, def_line)
            else:
                grew = fn.key not in old or old[fn.key] <= limit
            if grew:
                out.append((def_line, self.message.format(
                    handler=fn.display_name, size=size, limit=limit)))
        return tuple(out)
