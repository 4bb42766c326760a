"""PYS108 task-reference-dropped: an asyncio task created and thrown away.

The event loop keeps only weak references to tasks; a task nobody holds can be
garbage-collected mid-run. A task the code says it drops on purpose (a comment next to it:
`# fire and forget`, `# don't await`) is reported only where PYS108 is chosen by code.
"""

from __future__ import annotations

import re

import libcst as cst

from pystd.rules.context import FileContext, dotted_name
from pystd.rules.engine import Category, Rule, Severity, register

# == PYS108 task-reference-dropped =====================================================

TASK_FUNCTIONS = frozenset({"asyncio.create_task", "asyncio.ensure_future"})
# `<loop>.create_task(...)` where `<loop>` is one of these calls ...
_LOOP_GETTERS = frozenset({"asyncio.get_event_loop", "asyncio.get_running_loop",
                           "asyncio.new_event_loop"})


@register
class TaskReferenceDropped(Rule):
    code = "PYS108"
    name = "task-reference-dropped"
    severity = Severity.WARNING
    category = Category.CORRECTNESS
    default = True
    rationale = (
        "The event loop keeps only a weak reference to a task, so a dropped one can vanish "
        "mid-run (Python's asyncio docs; ruff RUF006); rarely intended, but the task may be "
        "kept elsewhere. A task whose comment says it is dropped on purpose (open-webui's "
        "commented fire-and-forget, judged noise) is reported only where chosen by code."
    )
    message = ("Task from `{call}` is not kept and may be garbage-collected mid-run; keep a "
               "reference, or use `BackgroundTasks`/`TaskGroup`")
    requires = ("create_task", "ensure_future")
    docs = """
## What it does
Flags `asyncio.create_task(...)`, `asyncio.ensure_future(...)` and `loop.create_task(...)`
used as a bare expression statement, so the task object is thrown away. A receiver counts as
a loop when it is a name or attribute called `loop`/`event_loop`/`_loop` (`self.loop`,
`self._loop`) or a call to `asyncio.get_event_loop()`/`get_running_loop()`.

Tasks that are assigned, awaited, passed to a call, returned or added to a set are not
flagged, nor is `tg.create_task(...)` on an `asyncio.TaskGroup`, which keeps its tasks.

By default, a task whose adjacent comment says it is dropped on purpose is not reported:
a comment on its line, inside its call, or in the block of comment lines directly above it
(no blank line between) that says `fire and forget`, `don't await`, `do not wait`,
`no need to await`, `intentionally`/`deliberately`/`on purpose`/`by design`. The author
has decided; select PYS108 by code to have those reported too.

## Why is this bad?
The event loop keeps only weak references to tasks. The Python documentation of
`asyncio.create_task` says: "Important: Save a reference to the result of this function,
to avoid a task disappearing mid-execution." A dropped task can be garbage-collected
before it finishes, and its exception is never retrieved, so failures vanish.

## Example
```python
async def signup(request):
    user = await create_user(request)
    asyncio.create_task(send_welcome_email(user))
    return user
```

## Use instead
```python
background_tasks = set()

async def signup(request):
    user = await create_user(request)
    task = asyncio.create_task(send_welcome_email(user))
    background_tasks.add(task)
    task.add_done_callback(background_tasks.discard)
    return user
```
or `async with asyncio.TaskGroup() as tg: tg.create_task(...)`, or FastAPI/Starlette
`BackgroundTasks`.

## Suppress
`# noqa: PYS108` on the line, when something else holds the task.
"""
    bad = (
        """
        import asyncio

        async def f():
            asyncio.create_task(job())  # flagged
        """,
        """
        from asyncio import ensure_future

        async def f():
            ensure_future(job())  # flagged
        """,
        """
        import asyncio

        def start(loop):
            loop.create_task(job())  # flagged
        """,
        """
        import asyncio

        async def f():
            asyncio.get_running_loop().create_task(job())  # flagged
        """,
        """
        class Worker:
            def start(self):
                self._loop.create_task(self.run())  # flagged
        """,
    )
    good = (
        """
        import asyncio

        TASKS = set()


        async def f():
            task = asyncio.create_task(job())
            TASKS.add(task)
            task.add_done_callback(TASKS.discard)
        """,
        """
        import asyncio

        async def f():
            await asyncio.create_task(job())
        """,
        """
        import asyncio

        async def f():
            async with asyncio.TaskGroup() as tg:
                tg.create_task(job())
        """,
        """
        import asyncio

        async def f(tasks):
            tasks.add(asyncio.ensure_future(job()))
        """,
    )

    def visit_Expr(self, node: cst.Expr) -> None:
        call = node.value
        if not isinstance(call, cst.Call):
            return
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "create_task" and _is_loop(
            self.ctx, func.value
        ):
            name = dotted_name(func) or "loop.create_task"
        else:
            qualified = self.ctx.qualified_name(func)
            if qualified not in TASK_FUNCTIONS:
                return
            name = qualified
        # A comment next to the task saying it is dropped on purpose: the author decided.
        evidence = not any(DELIBERATE.search(c) for c in adjacent_comments(self.ctx.parent))
        self.report(node, self.message.format(call=name), evidence=evidence)


# Comment wording that says a task is dropped on purpose: `# fire and forget`,
# `# fire-and-forget`, `# don't await`, `# do not wait for it`, `# intentionally not
# awaited`, `# deliberately not kept`, `# on purpose`, `# no need to await`.
DELIBERATE = re.compile(
    r"(?i)fire[\s-]*(?:and|&|n|'n')[\s-]*forget"
    r"|\b(?:don'?t|do\s+not|does\s+not|doesn'?t|no\s+need\s+to|not|never|without)"
    r"\s+(?:\w+\s+)?(?:await|wait|block)"
    r"|\b(?:intentional|intentionally|deliberate|deliberately|on\s+purpose|by\s+design)\b"
)


def adjacent_comments(stmt: cst.CSTNode | None) -> list[str]:
    """The comments next to a statement: the block of comment lines directly above it
    (no blank line between), the one at the end of its line, and those inside it (the
    lines of a call spread over several). `stmt` is the statement line (or one-line
    suite) holding the expression."""
    if not isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        return []
    found: list[str] = []
    if isinstance(stmt, cst.SimpleStatementLine):
        for line in reversed(stmt.leading_lines):
            if line.comment is None:
                break
            found.append(line.comment.value)
    collector = _Comments()
    # Only statements already flagged get here (rare), so a full walk of their own lines.
    for part in (*stmt.body, stmt.trailing_whitespace):
        part.visit(collector)
    return found + collector.found


class _Comments(cst.CSTVisitor):
    """Every comment under a node (the walker's `find_nodes` skips whitespace)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def visit_Comment(self, node: cst.Comment) -> None:
        self.found.append(node.value)


def _is_loop(ctx: FileContext, receiver: cst.BaseExpression) -> bool:
    """Does `receiver` look like an event loop (not a TaskGroup or a task manager)?"""
    if isinstance(receiver, cst.Call):
        return ctx.qualified_name(receiver.func) in _LOOP_GETTERS
    if isinstance(receiver, cst.Attribute):
        name = receiver.attr.value
    elif isinstance(receiver, cst.Name):
        name = receiver.value
    else:
        return False
    return name.lstrip("_") in ("loop", "event_loop", "ioloop")
