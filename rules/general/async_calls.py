"""PYS101 blocking-call-in-async: calls that block the event loop inside coroutines."""

from __future__ import annotations

import libcst as cst

from pystd.rules.context import FileContext, dotted_name
from pystd.rules.engine import Category, Example, Rule, Severity, register
from pystd.rules.walker import is_async_body

# Qualified names (through import aliases) of calls that block the event loop.
BLOCKING_CALLS = frozenset(
    {
        "time.sleep",
        "urllib.request.urlopen",
        "os.system",
        "socket.create_connection",
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.Popen",
        "httpx.get",
        "httpx.post",
        "httpx.put",
        "httpx.patch",
        "httpx.delete",
        "httpx.head",
        "httpx.options",
        "httpx.request",
        "httpx.stream",
        "httpx.Client",
    }
)
# Arguments of these calls run in a thread, not on the event loop.
OFFLOADING_CALLS = frozenset({"asyncio.to_thread", "run_in_executor", "sync_to_async",
                              "asgiref.sync.sync_to_async", "anyio.to_thread.run_sync",
                              "starlette.concurrency.run_in_threadpool",
                              "fastapi.concurrency.run_in_threadpool"})


# `requests.*` names that never touch the network: exceptions, auth and adapter objects,
# helpers. Raising `requests.HTTPError(...)` in a coroutine blocks nothing.
_REQUESTS_OFFLINE = ("requests.exceptions.", "requests.utils.", "requests.structures.",
                     "requests.auth.", "requests.adapters.", "requests.compat.",
                     "requests.status_codes.", "requests.codes.", "requests.models.")
_REQUESTS_OFFLINE_NAMES = frozenset({"requests.Request", "requests.PreparedRequest"})
_EXCEPTION_SUFFIXES = ("Error", "Exception", "Timeout", "Warning")


def _is_blocking(qualified: str) -> bool:
    if qualified in BLOCKING_CALLS:
        return True
    if not qualified.startswith("requests.") or qualified in _REQUESTS_OFFLINE_NAMES:
        return False
    return not (qualified.startswith(_REQUESTS_OFFLINE)
                or qualified.endswith(_EXCEPTION_SUFFIXES))


@register
class BlockingCallInAsync(Rule):
    code = "PYS101"
    name = "blocking-call-in-async"
    severity = Severity.ERROR
    category = Category.PERFORMANCE
    default = True
    rationale = (
        "A blocking call inside `async def` stalls every coroutine the event loop serves, and "
        "the evidence is the call itself (1 of 1 right in the async survey); a local name that "
        "only shadows the module (`requests = []`, issue #9) must never be flagged."
    )
    message = "Blocking call `{call}` in async code stalls the event loop"
    requires = ("async",)
    docs = """
## What it does
Flags calls that block the thread — `time.sleep`, `requests.*`, `urllib.request.urlopen`,
`httpx.get/post/…` and `httpx.Client()`, `subprocess.run/call/check_call/check_output/Popen`,
`os.system`, `socket.create_connection` — made directly in async code (lexically inside an
`async def`, not in a nested plain `def` or `lambda`). Import aliases are resolved:
`from time import sleep as nap; nap(1)` is `time.sleep(1)`. A name that only looks like
the module is not flagged: a parameter or local variable of the coroutine or of an
enclosing function (`requests = []` … `requests.clear()`, `for time in times`), or a
module-level assignment after the import.

## Why is this bad?
An event loop runs one thing at a time. A blocking call inside a coroutine freezes every
other request the worker is serving until it returns: one slow upstream turns into a
whole-service outage. The asyncio documentation says so plainly ("Running Blocking Code",
docs.python.org/3/library/asyncio-dev.html), and FastAPI's "Concurrency and async / await"
page tells you to use a plain `def` path operation when you call blocking libraries.

## Example
```python
async def refresh(request):
    time.sleep(1)
    return requests.get(URL).json()
```

## Use instead
```python
async def refresh(request):
    await asyncio.sleep(1)
    async with httpx.AsyncClient() as client:
        return (await client.get(URL)).json()
```
or offload: `await asyncio.to_thread(requests.get, URL)`. In FastAPI, a path operation
that awaits nothing can simply be a plain `def`: FastAPI runs it in a thread pool.

## Fix
`time.sleep(x)` becomes `await asyncio.sleep(x)` (adding `import asyncio`). In a FastAPI
path operation whose body awaits nothing, `async def` becomes `def`.

## Suppress
`# noqa: PYS101` on the line, for a call you know returns at once.
"""
    bad = (
        Example(
            """
            import time

            async def handler():
                time.sleep(1)  # flagged
            """,
            fixed="""
            import time
            import asyncio

            async def handler():
                await asyncio.sleep(1)  # flagged
            """,
        ),
        Example(
            """
            from time import sleep as nap

            async def handler():
                nap(0.5)  # flagged
            """,
            fixed="""
            from time import sleep as nap
            import asyncio

            async def handler():
                await asyncio.sleep(0.5)  # flagged
            """,
        ),
        """
        import requests

        async def fetch(url):
            return requests.get(url).json()  # flagged
        """,
        """
        import subprocess as sp

        async def run():
            sp.run(['ls'])  # flagged
        """,
        """
        import httpx

        async def run():
            with httpx.Client() as c:  # flagged
                pass
        """,
        """
        from urllib.request import urlopen

        async def run(u):
            return urlopen(u)  # flagged
        """,
        """
        import os

        async def run():
            os.system('ls')  # flagged
        """,
        """
        import socket

        async def run():
            socket.create_connection(('h', 1))  # flagged
        """,
        Example(
            """
            import requests
            from fastapi import FastAPI

            app = FastAPI()


            @app.get('/')
            async def index():
                return requests.get('http://x').json()  # flagged
            """,
            "api.py",
            fixed="""
            import requests
            from fastapi import FastAPI

            app = FastAPI()


            @app.get('/')
            def index():
                return requests.get('http://x').json()  # flagged
            """,
        ),
    )
    good = (
        """
        import time

        def handler():
            time.sleep(1)
        """,
        """
        import asyncio

        async def handler():
            await asyncio.sleep(1)
        """,
        """
        import asyncio, requests

        async def f(u):
            return await asyncio.to_thread(requests.get, u)
        """,
        """
        import asyncio, requests

        async def f(loop, u):
            return await loop.run_in_executor(None, lambda: requests.get(u))
        """,
        """
        import time

        async def outer():
            def inner():
                time.sleep(1)
            return inner
        """,
        """
        import httpx

        async def f(u):
            async with httpx.AsyncClient() as c:
                return await c.get(u)
        """,
        """
        from asgiref.sync import sync_to_async
        import requests

        async def f(u):
            return await sync_to_async(requests.get)(u)
        """,
        """
        async def f(session, u):
            return await session.get(u)
        """,
        """
        import time

        async def f():
            t = time.time()
            return t
        """,
    )

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        if not ctx.in_async():
            return
        qualified = ctx.qualified_name(node.func)
        if qualified is None or not _is_blocking(qualified):
            return
        head = (dotted_name(node.func) or "").partition(".")[0]
        if ctx.rebinds(head):
            return  # `requests = []` ... `requests.clear()`: a local, not the module
        if isinstance(ctx.parent, cst.Await) or _offloaded(ctx):
            return
        message = self.message.format(call=qualified)
        func = ctx.enclosing_function()
        if (
            func is not None
            and ctx.handler_framework(func) == "fastapi"
            and not is_async_body(func)
        ):
            self.report(node, message, replace=(func, func.with_changes(asynchronous=None)))
            return
        if qualified == "time.sleep":
            new = cst.Await(
                expression=node.with_changes(
                    func=cst.Attribute(value=cst.Name("asyncio"), attr=cst.Name("sleep"))
                )
            )
            self.report(node, message, replace=(node, new), imports=("import asyncio",))
            return
        self.report(node, message)


def _offloaded(ctx: FileContext) -> bool:
    """Is the node being visited inside the arguments of a call that offloads to a thread?"""
    ancestors = ctx.ancestors
    for i in range(len(ancestors) - 2, -1, -1):
        node = ancestors[i]
        if isinstance(node, (cst.FunctionDef, cst.Lambda)):
            return False
        if isinstance(node, cst.Call) and isinstance(ancestors[i + 1], cst.Arg):
            func = node.func
            qualified = ctx.qualified_name(func) or ""
            attr = func.attr.value if isinstance(func, cst.Attribute) else ""
            if qualified in OFFLOADING_CALLS or attr in OFFLOADING_CALLS:
                return True
    return False
