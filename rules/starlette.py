"""PYS5xx: Starlette rules.

Starlette wires endpoints up by reference (`Route("/", homepage)`, `WebSocketRoute("/ws",
feed)`), so both rules pair those references with the module's own function definitions.
The routing classes and websocket types are resolved through the module's imports: a class
of your own that happens to be called `Route` or `WebSocket` is not Starlette's.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from pystd.rules.context import FileContext, bound_names
from pystd.rules.engine import Category, Rule, Severity, register
from pystd.rules.walker import find_nodes

THREADPOOL_DOCS = "https://www.starlette.io/threadpool/"
WEBSOCKETS_DOCS = "https://www.starlette.io/websockets/"
FASTAPI_WEBSOCKETS_DOCS = "https://fastapi.tiangolo.com/advanced/websockets/"

ROUTE = "starlette.routing.Route"
WEBSOCKET_ROUTE = "starlette.routing.WebSocketRoute"
WEBSOCKET = frozenset({"starlette.websockets.WebSocket", "fastapi.WebSocket",
                       "fastapi.websockets.WebSocket"})
DISCONNECT = frozenset({"starlette.websockets.WebSocketDisconnect", "fastapi.WebSocketDisconnect",
                        "fastapi.websockets.WebSocketDisconnect"})
# A handler for these catches a disconnect too.
_BROAD = frozenset({"builtins.Exception", "builtins.BaseException"})
# Decorators known to keep a plain `def` endpoint a plain function (Starlette's `requires`
# wraps sync functions in a sync wrapper). Any other decorator may turn it into anything.
_KEEPS_SYNC = frozenset({"starlette.authentication.requires"})
# `@app.websocket("/ws")` (FastAPI, Starlette routers) and `@app.websocket_route("/ws")`.
WEBSOCKET_DECORATORS = frozenset({"websocket", "websocket_route"})
# A plain `def` endpoint calling into these blocks, and is right to stay a `def`: Starlette
# runs it in the thread pool. Top-level packages of blocking I/O libraries ...
BLOCKING_PACKAGES = frozenset({
    "boto3", "botocore", "ftplib", "gridfs", "libcloud", "mongoengine", "MySQLdb",
    "paramiko", "psycopg2", "pymongo", "pymysql", "requests", "shutil", "smtplib", "socket",
    "sqlalchemy_file", "sqlite3", "subprocess", "urllib", "urllib3",
})
# ... and single blocking functions of libraries that are not all blocking.
BLOCKING_CALLS = frozenset({
    "builtins.open", "time.sleep", "os.system", "os.popen", "httpx.Client", "httpx.get",
    "httpx.post", "httpx.put", "httpx.patch", "httpx.delete", "httpx.head", "httpx.request",
    "httpx.stream", "sqlalchemy.create_engine", "sqlalchemy.orm.Session",
})
RECEIVE = frozenset({"receive_text", "receive_bytes", "receive_json"})
ITERATE = frozenset({"iter_text", "iter_bytes", "iter_json"})
SEND = frozenset({"send", "send_text", "send_bytes", "send_json"})


def last_name(node: cst.BaseExpression) -> str | None:
    """`Route` for `Route` and for `routing.Route`."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def is_route(call: cst.Call, ctx: FileContext, qualified: str) -> bool:
    """Is `call` the Starlette route class `qualified`? The cheap name test first:
    `Route(...)`, `routing.Route(...)`, or a name imported as one (`Route as R`)."""
    func = call.func
    name = last_name(func)
    if name != qualified.rpartition(".")[2] and not (
            isinstance(func, cst.Name) and name in ctx.imports):
        return False
    return ctx.qualified_name(func) == qualified


def route_endpoint(call: cst.Call) -> cst.BaseExpression | None:
    """The endpoint of `Route(path, endpoint)` / `Route(path, endpoint=...)`."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "endpoint":
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    return positional[1].value if len(positional) >= 2 else None


def module_functions(module: cst.Module) -> dict[str, cst.FunctionDef | None]:
    """Module-level functions by name; None where the name's last top-level binding is
    something else (`homepage = wrap(homepage)`, a class, an import)."""
    out: dict[str, cst.FunctionDef | None] = {}
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef):
            out[stmt.name.value] = stmt
        elif isinstance(stmt, cst.ClassDef):
            out[stmt.name.value] = None
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                for name in _bound_names(small):
                    out[name] = None
    return out


def _bound_names(small: cst.BaseSmallStatement) -> list[str]:
    """Names a top-level simple statement binds (assignment targets, imports)."""
    if isinstance(small, cst.Assign):
        return [n for t in small.targets for n in bound_names(t.target)]
    if isinstance(small, (cst.AnnAssign, cst.AugAssign)):
        return bound_names(small.target)
    if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names,
                                                                         cst.ImportStar):
        names = []
        for alias in small.names:
            bound: cst.BaseExpression = (alias.asname.name if alias.asname is not None
                                         else alias.name)
            while isinstance(bound, cst.Attribute):
                bound = bound.value
            if isinstance(bound, cst.Name):
                names.append(bound.value)
        return names
    return []




def _positional(func: cst.FunctionDef) -> list[cst.Param]:
    return [*func.params.posonly_params, *func.params.params]


# == PYS501 starlette-sync-endpoint ====================================================


@register
class StarletteSyncEndpoint(Rule):
    code = "PYS501"
    name = "starlette-sync-endpoint"
    severity = Severity.INFO
    category = Category.PERFORMANCE
    default = False
    rationale = (
        "A sync endpoint runs in a thread pool and is right when it blocks (2 of 2 wrong "
        "before narrowing). Opt-in."
    )
    message = ("Starlette endpoint `{name}` is a plain `def`: every request takes a thread from "
               "a 40-thread pool; make it `async def` unless it blocks")
    requires = ("Route",)
    docs = f"""
## What it does
In a module that imports Starlette, flags a plain `def` function used as the endpoint of a
`starlette.routing.Route(...)` (positionally or as `endpoint=`; import aliases are
resolved). Only module-level functions are paired with the reference. `async def`
endpoints, `HTTPEndpoint` classes, endpoints referenced as `module.function`, functions
under a decorator other than Starlette's `@requires` (which could make them anything), and
endpoints that call a known blocking library (`open(...)`, `time.sleep`, `subprocess`,
`requests`, sync `httpx`, `socket`, `sqlite3`, `psycopg2`, `pymongo`/`gridfs`/`mongoengine`,
`boto3`, `libcloud`, `sqlalchemy_file`, `shutil` …, also imported inside the endpoint) are
never flagged: those are right to run in a thread.

## Why is this bad?
Starlette calls a plain `def` endpoint in a worker thread so it cannot block the event
loop, and that thread pool is small: 40 tokens by default, shared with file responses,
uploads, sync background tasks and every other sync endpoint. Under load, requests queue
for a thread even when the server is idle otherwise (Starlette docs, "Thread Pool",
{THREADPOOL_DOCS}). An endpoint that does no blocking I/O gains nothing from the thread and
should be `async def`.

## Example
```python
def homepage(request):
    return JSONResponse({{"hello": "world"}})

routes = [Route("/", homepage)]
```

## Use instead
```python
async def homepage(request):
    return JSONResponse({{"hello": "world"}})

routes = [Route("/", homepage)]
```
An endpoint that must call a blocking library can stay a `def` (suppress the finding), or
become `async def` and offload just that call with `starlette.concurrency.run_in_threadpool`.

## Suppress
`# noqa: PYS501` on the `def` line, for an endpoint that calls blocking code on purpose.
"""
    bad = (
        """
        from starlette.responses import JSONResponse
        from starlette.routing import Route


        def homepage(request):  # flagged
            return JSONResponse({'hello': 'world'})


        routes = [Route('/', homepage)]
        """,
        """
        from starlette import routing
        from starlette.responses import PlainTextResponse


        def health(request):  # flagged
            return PlainTextResponse('ok')


        routes = [routing.Route('/health', endpoint=health, methods=['GET'])]
        """,
    )
    good = (
        """
        from starlette.responses import JSONResponse
        from starlette.routing import Route


        async def homepage(request):
            return JSONResponse({'hello': 'world'})


        routes = [Route('/', homepage)]
        """,
        """
        from starlette.endpoints import HTTPEndpoint
        from starlette.responses import PlainTextResponse
        from starlette.routing import Route


        class Users(HTTPEndpoint):
            def get(self, request):
                return PlainTextResponse('users')


        routes = [Route('/users', Users)]
        """,
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._referenced: dict[str, None] = {}  # endpoint names, in source order

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return "starlette" in ctx.frameworks

    def visit_Call(self, node: cst.Call) -> None:
        if is_route(node, self.ctx, ROUTE):
            endpoint = route_endpoint(node)
            if isinstance(endpoint, cst.Name):
                self._referenced[endpoint.value] = None

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self._referenced:
            return
        functions = module_functions(original_node)
        for name in self._referenced:
            func = functions.get(name)
            if (func is None or func.asynchronous is not None or not self._stays_sync(func)
                    or self._blocks(func)):
                continue
            self.report(func.name, self.message.format(name=name))

    def _blocks(self, func: cst.FunctionDef) -> bool:
        """Does `func` call a known blocking library (`open(...)`, `requests.get(...)`,
        `gridfs.GridFS(...)`), also one it imports in its own body?"""
        for call in find_nodes(func.body, (cst.Call,)):
            qualified = self.ctx.qualified_name_in(call.func, func)
            if qualified is not None and (qualified in BLOCKING_CALLS or qualified.split(
                    ".", 1)[0] in BLOCKING_PACKAGES):
                return True
        return False

    def _stays_sync(self, func: cst.FunctionDef) -> bool:
        for dec in func.decorators:
            target = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
            if self.ctx.qualified_name(target) not in _KEEPS_SYNC:
                return False
        return True


# == PYS502 websocket-disconnect-unhandled =============================================


@register
class WebSocketDisconnectUnhandled(Rule):
    code = "PYS502"
    name = "websocket-disconnect-unhandled"
    severity = Severity.WARNING
    category = Category.CORRECTNESS
    default = True
    rationale = (
        "An unhandled `WebSocketDisconnect` ends the endpoint with an error on every client "
        "leaving; loops that end quietly are never flagged."
    )
    message = ("`{call}` in a loop raises `WebSocketDisconnect` when the client leaves: "
               "handle it in `{name}`")
    requires = ("WebSocket", "websocket")
    docs = f"""
## What it does
In a module that imports Starlette or FastAPI, flags an `async def` websocket endpoint
that loops on `websocket.receive_text()`/`receive_bytes()`/`receive_json()` with no
`WebSocketDisconnect` handler and no `websocket.close()` call. A websocket endpoint is a
function with a parameter annotated `WebSocket` (Starlette's or FastAPI's, import aliases
resolved), one referenced by `WebSocketRoute(...)`, or one decorated
`@app.websocket(...)`/`@router.websocket(...)`/`@app.websocket_route(...)`.
An `async for` over `websocket.iter_text()`/`iter_bytes()`/`iter_json()` is flagged only
when its body sends or receives on the websocket: the iterators themselves end quietly on a
disconnect, but a send to a client that has gone raises.

Never flagged: an endpoint whose body has an `except` clause catching `WebSocketDisconnect`
(from `starlette.websockets` or `fastapi`, alone or in a tuple, or a broad
`except Exception`/bare `except`) or a `contextlib.suppress(WebSocketDisconnect)` block,
wherever it sits in the function; a function called inside such a `try` elsewhere in the
module (a helper whose caller handles the disconnect); a loop in a nested function; an
endpoint under a decorator other than the route decorator (it may handle the disconnect).

## Why is this bad?
`receive_text()`, `receive_bytes()` and `receive_json()` raise
`starlette.websockets.WebSocketDisconnect` when the client goes away (Starlette docs,
"WebSockets", {WEBSOCKETS_DOCS}), which for a long-lived socket is the normal way for it
to end. Unhandled, the exception escapes the endpoint: the server logs an application error
with a traceback for every closed browser tab, and the cleanup after the loop (removing the
client from a connection manager or broadcast set) never runs, so later broadcasts go to
dead sockets. FastAPI's "WebSockets" guide shows the pattern ("Handling disconnections and
multiple clients", {FASTAPI_WEBSOCKETS_DOCS}).

## Example
```python
async def chat(websocket: WebSocket):
    await websocket.accept()
    clients.add(websocket)
    while True:
        message = await websocket.receive_text()
        await broadcast(message)
```

## Use instead
```python
async def chat(websocket: WebSocket):
    await websocket.accept()
    clients.add(websocket)
    try:
        while True:
            message = await websocket.receive_text()
            await broadcast(message)
    except WebSocketDisconnect:
        pass
    finally:
        clients.discard(websocket)
```

## Suppress
`# noqa: PYS502` on the flagged line, when a middleware or wrapper you trust handles it.
"""
    bad = (
        """
        from starlette.routing import WebSocketRoute
        from starlette.websockets import WebSocket


        async def echo(websocket: WebSocket):
            await websocket.accept()
            while True:
                text = await websocket.receive_text()  # flagged
                await websocket.send_text(text)


        routes = [WebSocketRoute('/ws', echo)]
        """,
        """
        from starlette.routing import WebSocketRoute


        async def feed(ws):
            await ws.accept()
            async for item in ws.iter_json():  # flagged
                await ws.send_json(item)


        routes = [WebSocketRoute('/feed', feed)]
        """,
    )
    good = (
        """
        from starlette.routing import WebSocketRoute
        from starlette.websockets import WebSocket, WebSocketDisconnect


        async def echo(websocket: WebSocket):
            await websocket.accept()
            try:
                while True:
                    text = await websocket.receive_text()
                    await websocket.send_text(text)
            except WebSocketDisconnect:
                return


        routes = [WebSocketRoute('/ws', echo)]
        """,
        """
        from starlette.routing import WebSocketRoute
        from starlette.websockets import WebSocket


        async def ask(websocket: WebSocket):
            await websocket.accept()
            for _ in range(3):
                await websocket.receive_text()
            await websocket.close()


        routes = [WebSocketRoute('/ask', ask)]
        """,
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._routed: dict[str, None] = {}  # names referenced by WebSocketRoute(...)
        self._guarded: set[str] = set()  # names called inside a disconnect-handling try
        self._checked: set[cst.FunctionDef] = set()
        self._found: list[tuple[cst.FunctionDef, cst.Call, str]] = []

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return bool(ctx.frameworks & {"starlette", "fastapi"})

    # -- collecting ---------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        if is_route(node, self.ctx, WEBSOCKET_ROUTE):
            endpoint = route_endpoint(node)
            if isinstance(endpoint, cst.Name):
                self._routed[endpoint.value] = None

    def visit_Try(self, node: cst.Try) -> None:
        if any(self._catches(h) for h in node.handlers):
            self._guard(node.body)

    def visit_TryStar(self, node: cst.TryStar) -> None:
        if any(self._catches(h) for h in node.handlers):
            self._guard(node.body)

    def visit_With(self, node: cst.With) -> None:
        if self._suppresses(node):
            self._guard(node.body)

    def _guard(self, body: cst.BaseSuite) -> None:
        for call in find_nodes(body, (cst.Call,)):
            assert isinstance(call, cst.Call)
            name = last_name(call.func)
            if name is not None:
                self._guarded.add(name)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.asynchronous is None:
            return
        sockets = self._annotated_sockets(node)
        if not sockets and any(self._is_route_decorator(d) for d in node.decorators):
            sockets = [p.name.value for p in _positional(node)[:1]]
        if sockets:
            self._check(node, sockets)

    def leave_Module(self, original_node: cst.Module) -> None:
        if self._routed:
            functions = module_functions(original_node)
            for name in self._routed:
                func = functions.get(name)
                if func is None or func.asynchronous is None or func in self._checked:
                    continue
                sockets = self._annotated_sockets(func) or [
                    p.name.value for p in _positional(func)[:1]]
                if sockets:
                    self._check(func, sockets)
        for func, call, text in self._found:
            if func.name.value not in self._guarded:
                self.report(call, self.message.format(call=text, name=func.name.value))

    # -- judging ------------------------------------------------------------------------

    def _annotated_sockets(self, func: cst.FunctionDef) -> list[str]:
        params = [*_positional(func), *func.params.kwonly_params]
        return [p.name.value for p in params if p.annotation is not None
                and self.ctx.qualified_name(p.annotation.annotation) in WEBSOCKET]

    @staticmethod
    def _is_route_decorator(dec: cst.Decorator) -> bool:
        target = dec.decorator
        return (isinstance(target, cst.Call) and isinstance(target.func, cst.Attribute)
                and target.func.attr.value in WEBSOCKET_DECORATORS)

    def _check(self, func: cst.FunctionDef, sockets: Sequence[str]) -> None:
        """Remember the first unprotected receive loop of an endpoint; whether a caller
        guards it is known only at the end of the module."""
        self._checked.add(func)
        if not all(self._is_route_decorator(d) for d in func.decorators):
            return  # an unknown wrapper may handle the disconnect
        nodes = find_nodes(func.body, (cst.ExceptHandler, cst.ExceptStarHandler, cst.With,
                                       cst.Call, cst.While, cst.For))
        loops: list[cst.While | cst.For] = []
        for node in nodes:
            if isinstance(node, (cst.ExceptHandler, cst.ExceptStarHandler)):
                if self._catches(node):
                    return
            elif isinstance(node, cst.With):
                if self._suppresses(node):
                    return
            elif isinstance(node, cst.Call):
                if _socket_method(node, sockets) == "close":
                    return
            elif isinstance(node, (cst.While, cst.For)):
                loops.append(node)
        for loop in loops:
            call = _receive_in_loop(loop, sockets)
            if call is not None:
                func_name = call.func
                assert isinstance(func_name, cst.Attribute)
                text = f"{last_name(func_name.value)}.{func_name.attr.value}()"
                self._found.append((func, call, text))
                return

    def _catches(self, handler: cst.ExceptHandler | cst.ExceptStarHandler) -> bool:
        """Does this `except` clause catch `WebSocketDisconnect`?"""
        if handler.type is None:
            return True
        kinds = ([e.value for e in handler.type.elements] if isinstance(handler.type, cst.Tuple)
                 else [handler.type])
        return any(self._is_disconnect(k) or self.ctx.qualified_name(k) in _BROAD
                   for k in kinds)

    def _is_disconnect(self, node: cst.BaseExpression) -> bool:
        # An unresolved `WebSocketDisconnect` (re-exported by a module of the project)
        # counts: treating it as handled can only cost a finding, never invent one.
        return (self.ctx.qualified_name(node) in DISCONNECT
                or last_name(node) == "WebSocketDisconnect")

    def _suppresses(self, node: cst.With) -> bool:
        """`with suppress(WebSocketDisconnect):` (contextlib's, any spelling)."""
        for item in node.items:
            call = item.item
            if (isinstance(call, cst.Call) and last_name(call.func) == "suppress"
                    and any(self._is_disconnect(a.value) or self.ctx.qualified_name(a.value)
                            in _BROAD for a in call.args)):
                return True
        return False


def _socket_method(call: cst.Call, sockets: Sequence[str]) -> str | None:
    """`m` for a call `ws.m(...)` on one of the websocket names, else None."""
    func = call.func
    if (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
            and func.value.value in sockets):
        return func.attr.value
    return None


def _receive_in_loop(loop: cst.While | cst.For, sockets: Sequence[str]) -> cst.Call | None:
    """The call that raises on disconnect in this loop: a `receive_*()` anywhere in it, or
    the `iter_*()` of an `async for` whose body talks to the socket."""
    calls = [c for c in find_nodes(loop, (cst.Call,)) if isinstance(c, cst.Call)]
    for call in calls:
        if _socket_method(call, sockets) in RECEIVE:
            return call
    if (isinstance(loop, cst.For) and loop.asynchronous is not None
            and isinstance(loop.iter, cst.Call) and _socket_method(loop.iter, sockets) in ITERATE):
        body_calls = find_nodes(loop.body, (cst.Call,))
        if any(_socket_method(c, sockets) in SEND for c in body_calls
               if isinstance(c, cst.Call)):
            return loop.iter
    return None
