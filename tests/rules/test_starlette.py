"""PYS501 and PYS502: every flags / never-flags item of their RULES.md rows."""

from __future__ import annotations

import pytest

from tests.rules.lint import lines_of, only

ROUTING = "from starlette.responses import PlainTextResponse\nfrom starlette.routing import Route\n"
WS = (
    "from starlette.routing import WebSocketRoute\n"
    "from starlette.websockets import WebSocket, WebSocketDisconnect\n"
)


# == PYS501 starlette-sync-endpoint: flags ==============================================


def test_flags_plain_def_referenced_positionally() -> None:
    code = ROUTING + (
        "\n\ndef homepage(request):\n    return PlainTextResponse('hi')\n\n\n"
        "routes = [Route('/', homepage)]\n"
    )
    (finding,) = only(code, "PYS501")
    assert (finding.line, finding.column, finding.severity.value) == (5, 5, "info")
    assert finding.message == (
        "Starlette endpoint `homepage` is a plain `def`: every request takes a thread from a "
        "40-thread pool; make it `async def` unless it blocks"
    )
    assert finding.fix is None


def test_flags_plain_def_referenced_by_endpoint_keyword() -> None:
    code = ROUTING + (
        "\n\ndef health(request):\n    return PlainTextResponse('ok')\n\n\n"
        "routes = [Route('/health', endpoint=health, methods=['GET'])]\n"
    )
    assert lines_of(code, "PYS501") == [5]


@pytest.mark.parametrize(
    ("imports", "call"),
    [
        ("from starlette.routing import Route as R", "R('/', home)"),
        ("import starlette.routing as routing", "routing.Route('/', home)"),
        ("from starlette import routing", "routing.Route(path='/', endpoint=home)"),
        ("import starlette.routing", "starlette.routing.Route('/', home)"),
    ],
)
def test_flags_through_import_aliases(imports: str, call: str) -> None:
    code = f"{imports}\n\n\ndef home(request):\n    return None\n\n\nroutes = [{call}]\n"
    assert lines_of(code, "PYS501") == [4]


def test_flags_endpoint_defined_after_the_routes() -> None:
    code = ROUTING + (
        "\nroutes = [Route('/', home)]\n\n\ndef home(request):\n"
        "    return PlainTextResponse('hi')\n"
    )
    assert lines_of(code, "PYS501") == [7]


def test_flags_each_sync_endpoint_once() -> None:
    code = ROUTING + (
        "\n\ndef a(request):\n    return PlainTextResponse('a')\n\n\n"
        "async def b(request):\n    return PlainTextResponse('b')\n\n\n"
        "def c(request):\n    return PlainTextResponse('c')\n\n\n"
        "routes = [Route('/a', a), Route('/b', b), Route('/c', c), Route('/a2', a)]\n"
    )
    assert lines_of(code, "PYS501") == [5, 13]


def test_flags_under_starlettes_requires_decorator() -> None:
    code = ROUTING + (
        "from starlette.authentication import requires\n\n\n@requires('authenticated')\n"
        "def me(request):\n    return PlainTextResponse('me')\n\n\nroutes = [Route('/me', me)]\n"
    )
    assert lines_of(code, "PYS501") == [7]


# == PYS501: never flags ================================================================


def test_never_flags_async_def_endpoint() -> None:
    code = ROUTING + (
        "\n\nasync def homepage(request):\n    return PlainTextResponse('hi')\n\n\n"
        "routes = [Route('/', homepage)]\n"
    )
    assert only(code, "PYS501") == []


def test_never_flags_http_endpoint_class() -> None:
    code = ROUTING + (
        "from starlette.endpoints import HTTPEndpoint\n\n\nclass Users(HTTPEndpoint):\n"
        "    def get(self, request):\n        return PlainTextResponse('users')\n\n\n"
        "routes = [Route('/users', Users), Route('/u', endpoint=Users)]\n"
    )
    assert only(code, "PYS501") == []


def test_never_flags_a_route_class_that_is_not_starlettes() -> None:
    code = (
        "from starlette.responses import PlainTextResponse\nfrom myrouting import Route\n\n\n"
        "def home(request):\n    return PlainTextResponse('hi')\n\n\nroutes = [Route('/', home)]\n"
    )
    assert only(code, "PYS501") == []


def test_never_flags_without_starlette() -> None:
    code = (
        "class Route:\n    def __init__(self, path, endpoint):\n        self.endpoint = endpoint\n"
        "\n\ndef home(request):\n    return 'hi'\n\n\nroutes = [Route('/', home)]\n"
    )
    assert only(code, "PYS501") == []


def test_never_flags_websocket_route_or_plain_function() -> None:
    code = (
        "from starlette.routing import WebSocketRoute\n\n\ndef helper(request):\n"
        "    return None\n\n\nroutes = [WebSocketRoute('/ws', helper)]\n"
    )
    assert only(code, "PYS501") == []


def test_never_flags_endpoint_from_another_module() -> None:
    code = ROUTING + "from app import views\n\nroutes = [Route('/', views.home)]\n"
    assert only(code, "PYS501") == []


def test_never_flags_sync_endpoint_under_an_unknown_decorator() -> None:
    code = ROUTING + (
        "from app.wrappers import to_async\n\n\n@to_async\ndef home(request):\n"
        "    return PlainTextResponse('hi')\n\n\nroutes = [Route('/', home)]\n"
    )
    assert only(code, "PYS501") == []


def test_never_flags_a_name_rebound_after_the_def() -> None:
    code = ROUTING + (
        "from app.wrappers import wrap\n\n\ndef home(request):\n"
        "    return PlainTextResponse('hi')\n\n\nhome = wrap(home)\nroutes = [Route('/', home)]\n"
    )
    assert only(code, "PYS501") == []


def test_never_flags_a_nested_function_endpoint() -> None:
    code = ROUTING + (
        "\n\ndef build():\n    def home(request):\n        return PlainTextResponse('hi')\n"
        "    return [Route('/', home)]\n"
    )
    assert only(code, "PYS501") == []


def test_never_flags_a_sync_fastapi_path_operation() -> None:
    # RULES.md: a sync path operation is fine in FastAPI (it runs in the thread pool by
    # design); only functions referenced by Starlette's `Route(...)` are endpoints here.
    code = ("from fastapi import FastAPI\nfrom starlette.responses import PlainTextResponse\n"
            "from starlette.routing import Mount\n\napp = FastAPI()\n\n\n"
            "@app.get('/')\ndef home():\n    return PlainTextResponse('hi')\n\n\n"
            "def other(request):\n    return PlainTextResponse('x')\n\n\n"
            "app.add_api_route('/other', other)\nroutes = [Mount('/m', app)]\n")
    assert only(code, "PYS5") == []


@pytest.mark.parametrize(
    ("imports", "body"),
    [
        # starlette-admin 1.0.3, starlette_admin/contrib/mongoengine/admin.py: GridFS reads.
        ("import gridfs\nfrom mongoengine.connection import get_db\n",
         "    fs = gridfs.GridFS(get_db('db'), 'files')\n    return StreamingResponse(fs.get(1))"),
        # starlette-admin 1.0.3, starlette_admin/contrib/sqla/admin.py: a storage lookup
        # through a library imported inside the endpoint.
        ("", "    from sqlalchemy_file.storage import StorageManager\n"
             "    return StreamingResponse(StorageManager.get_file('a/b').object.as_stream())"),
        ("", "    return PlainTextResponse(open('motd.txt').read())"),
        ("import requests as http\n",
         "    return PlainTextResponse(http.get('https://example.com').text)"),
        ("from time import sleep\n", "    sleep(1)\n    return PlainTextResponse('late')"),
        ("import sqlite3\n",
         "    rows = sqlite3.connect('db').execute('select 1').fetchall()\n"
         "    return PlainTextResponse(str(rows))"),
    ],
    ids=["gridfs", "inner-import", "open", "requests-alias", "sleep", "sqlite3"],
)
def test_never_flags_an_endpoint_that_calls_a_blocking_library(imports: str, body: str) -> None:
    code = ROUTING + "from starlette.responses import StreamingResponse\n" + imports + (
        f"\n\ndef serve(request):\n{body}\n\n\nroutes = [Route('/f', serve)]\n")
    assert only(code, "PYS501") == []


def test_flags_an_endpoint_whose_calls_do_not_block() -> None:
    code = ROUTING + "import json\nimport httpx\n" + (
        "\n\ndef home(request):\n    client = httpx.AsyncClient()\n"
        "    return PlainTextResponse(json.dumps({'c': str(client)}))\n\n\n"
        "routes = [Route('/', home)]\n")
    assert lines_of(code, "PYS501") == [7]


def test_never_flags_in_test_files() -> None:
    code = ROUTING + (
        "\n\ndef home(request):\n    return PlainTextResponse('hi')\n\n\n"
        "routes = [Route('/', home)]\n"
    )
    assert only(code, "PYS501", "tests/test_app.py") == []


def test_noqa_suppresses() -> None:
    code = ROUTING + (
        "\n\ndef home(request):  # noqa: PYS501\n    return PlainTextResponse('hi')\n\n\n"
        "routes = [Route('/', home)]\n"
    )
    assert only(code, "PYS501") == []


# == PYS502 websocket-disconnect-unhandled: flags ======================================


def ws_endpoint(*body: str, head: str = WS, params: str = "websocket: WebSocket",
                route: bool = True) -> str:
    """A module with `async def endpoint(<params>):` whose body starts on line 6."""
    text = head + f"\n\nasync def endpoint({params}):\n" + "".join(f"    {b}\n" for b in body)
    if route:
        text += "\n\nroutes = [WebSocketRoute('/ws', endpoint)]\n"
    return text


LOOP = ("await websocket.accept()", "while True:",
        "    text = await websocket.receive_text()", "    await websocket.send_text(text)")


def test_flags_while_loop_on_receive_text() -> None:
    (finding,) = only(ws_endpoint(*LOOP), "PYS502")
    assert (finding.line, finding.severity.value) == (8, "warning")
    assert finding.message == (
        "`websocket.receive_text()` in a loop raises `WebSocketDisconnect` when the client "
        "leaves: handle it in `endpoint`"
    )
    assert finding.fix is None


@pytest.mark.parametrize("method", ["receive_text", "receive_bytes", "receive_json"])
def test_flags_every_receive_method(method: str) -> None:
    code = ws_endpoint("while True:", f"    data = await websocket.{method}()",
                       "    await handle(data)")
    assert lines_of(code, "PYS502") == [7]


def test_flags_receive_in_the_loop_condition() -> None:
    code = ws_endpoint("while (text := await websocket.receive_text()) != 'bye':",
                       "    await websocket.send_text(text)")
    assert lines_of(code, "PYS502") == [6]


def test_flags_receive_in_a_for_loop() -> None:
    code = ws_endpoint("async for event in events():", "    await websocket.send_json(event)",
                       "    await websocket.receive_json()")
    assert lines_of(code, "PYS502") == [8]


def test_flags_async_for_over_iter_that_sends() -> None:
    code = ws_endpoint("async for text in websocket.iter_text():",
                       "    await websocket.send_text(text.upper())")
    (finding,) = only(code, "PYS502")
    assert finding.line == 6
    assert finding.message.startswith("`websocket.iter_text()` in a loop raises")


@pytest.mark.parametrize("method", ["iter_text", "iter_bytes", "iter_json"])
def test_flags_every_iter_method(method: str) -> None:
    code = ws_endpoint(f"async for item in websocket.{method}():",
                       "    await websocket.send_json({'echo': 1})")
    assert lines_of(code, "PYS502") == [6]


def test_flags_endpoint_referenced_by_websocket_route_without_annotation() -> None:
    code = ws_endpoint("await ws.accept()", "while True:", "    await ws.receive_bytes()",
                       params="ws")
    assert lines_of(code, "PYS502") == [8]


def test_flags_websocket_route_through_alias() -> None:
    head = "import starlette.routing as r\n\n"
    code = head + (
        "\nasync def feed(ws):\n    while True:\n        await ws.receive_json()\n\n\n"
        "routes = [r.WebSocketRoute('/feed', endpoint=feed)]\n"
    )
    assert lines_of(code, "PYS502") == [6]


def test_flags_parameter_annotated_websocket_through_alias() -> None:
    head = "from starlette.websockets import WebSocket as WS\n"
    code = ws_endpoint("while True:", "    await sock.receive_text()", head=head,
                       params="sock: WS", route=False)
    assert lines_of(code, "PYS502") == [6]


def test_flags_fastapi_websocket_decorator() -> None:
    code = (
        "from fastapi import FastAPI, WebSocket\n\napp = FastAPI()\n\n\n"
        "@app.websocket('/ws')\nasync def ws(websocket: WebSocket):\n"
        "    await websocket.accept()\n    while True:\n"
        "        data = await websocket.receive_json()\n        await websocket.send_json(data)\n"
    )
    assert lines_of(code, "PYS502", "api.py") == [10]


def test_flags_router_websocket_decorator_with_unannotated_parameter() -> None:
    code = (
        "from starlette.routing import Router\n\nrouter = Router()\n\n\n"
        "@router.websocket_route('/ws')\nasync def ws(socket):\n    while True:\n"
        "        await socket.receive_text()\n"
    )
    assert lines_of(code, "PYS502") == [9]


def test_flags_when_only_another_exception_is_caught() -> None:
    code = ws_endpoint("while True:", "    try:", "        data = await websocket.receive_json()",
                       "    except ValueError:", "        continue")
    assert lines_of(code, "PYS502") == [8]


def test_flags_when_another_object_is_closed() -> None:
    code = ws_endpoint("while True:", "    await websocket.receive_text()", "await redis.close()")
    assert lines_of(code, "PYS502") == [7]


def test_flags_once_per_endpoint() -> None:
    code = ws_endpoint("while True:", "    await websocket.receive_text()", "while True:",
                       "    await websocket.receive_bytes()")
    assert lines_of(code, "PYS502") == [7]


# == PYS502: never flags ================================================================


def test_never_flags_enclosing_try_except_websocket_disconnect() -> None:
    code = ws_endpoint("try:", "    while True:", "        await websocket.receive_text()",
                       "except WebSocketDisconnect:", "    pass")
    assert only(code, "PYS502") == []


def test_never_flags_inner_handler() -> None:
    code = ws_endpoint("while True:", "    try:", "        await websocket.receive_text()",
                       "    except WebSocketDisconnect:", "        break")
    assert only(code, "PYS502") == []


@pytest.mark.parametrize(
    ("head", "caught"),
    [
        ("import starlette.websockets\n", "starlette.websockets.WebSocketDisconnect"),
        ("from fastapi import WebSocketDisconnect\n", "WebSocketDisconnect"),
        ("import fastapi\n", "fastapi.WebSocketDisconnect"),
        ("from fastapi.websockets import WebSocketDisconnect as Gone\n", "Gone"),
        ("from starlette.websockets import WebSocketDisconnect\n", "(WebSocketDisconnect, KeyError)"),
        ("from app.ws import WebSocketDisconnect\n", "WebSocketDisconnect"),
        ("", "Exception"),
    ],
)
def test_never_flags_the_disconnect_caught_any_way(head: str, caught: str) -> None:
    code = (
        "from starlette.routing import WebSocketRoute\n" + head + "\n\nasync def feed(ws):\n"
        "    try:\n        while True:\n            await ws.receive_text()\n"
        f"    except {caught}:\n        return\n\n\nroutes = [WebSocketRoute('/f', feed)]\n"
    )
    assert only(code, "PYS502") == []


def test_never_flags_bare_except_or_except_star() -> None:
    bare = ws_endpoint("try:", "    while True:", "        await websocket.receive_text()",
                       "except:", "    raise")
    star = ws_endpoint("try:", "    while True:", "        await websocket.receive_text()",
                       "except* WebSocketDisconnect:", "    pass")
    assert only(bare, "PYS502") == [] and only(star, "PYS502") == []


def test_never_flags_suppressed_disconnect() -> None:
    code = ws_endpoint("with contextlib.suppress(WebSocketDisconnect):", "    while True:",
                       "        await websocket.receive_text()",
                       head=WS + "import contextlib\n")
    assert only(code, "PYS502") == []


def test_never_flags_an_endpoint_that_closes() -> None:
    code = ws_endpoint("while True:", "    text = await websocket.receive_text()",
                       "    if text == 'bye':", "        break", "await websocket.close()")
    assert only(code, "PYS502") == []


def test_never_flags_iter_loop_that_does_not_talk_to_the_socket() -> None:
    # `iter_*()` end quietly on a disconnect (Starlette catches it inside the iterator).
    code = ws_endpoint("async for text in websocket.iter_text():", "    await queue.put(text)",
                       "await cleanup(websocket)")
    assert only(code, "PYS502") == []


def test_never_flags_a_single_receive_outside_loops() -> None:
    code = ws_endpoint("await websocket.accept()", "name = await websocket.receive_text()",
                       "await websocket.send_text(name)")
    assert only(code, "PYS502") == []


def test_never_flags_plain_def() -> None:
    code = WS + "\n\ndef endpoint(websocket: WebSocket):\n    while True:\n        websocket.receive_text()\n"
    assert only(code, "PYS502") == []


def test_never_flags_a_helper_whose_caller_handles_the_disconnect() -> None:
    code = WS + (
        "\n\nasync def pump(websocket: WebSocket):\n    while True:\n"
        "        await websocket.receive_text()\n\n\nasync def endpoint(websocket: WebSocket):\n"
        "    await websocket.accept()\n    try:\n        await pump(websocket)\n"
        "    except WebSocketDisconnect:\n        return\n"
    )
    assert only(code, "PYS502") == []


def test_never_flags_a_method_whose_caller_handles_the_disconnect() -> None:
    code = WS + (
        "\n\nclass Session:\n    async def listen(self, websocket: WebSocket):\n"
        "        while True:\n            await websocket.receive_text()\n\n\n"
        "async def endpoint(websocket: WebSocket):\n    try:\n"
        "        await Session().listen(websocket)\n    except WebSocketDisconnect:\n"
        "        pass\n"
    )
    assert only(code, "PYS502") == []


def test_never_flags_a_loop_in_a_nested_function() -> None:
    code = ws_endpoint("async def reader():", "    while True:",
                       "        await websocket.receive_text()", "await run(reader)")
    assert only(code, "PYS502") == []


def test_never_flags_receive_on_another_object() -> None:
    code = ws_endpoint("while True:", "    await channel.receive_text()")
    assert only(code, "PYS502") == []


def test_never_flags_other_websocket_libraries() -> None:
    code = (
        "from starlette.responses import Response\nfrom websockets import WebSocket\n\n\n"
        "async def client(websocket: WebSocket):\n    while True:\n"
        "        await websocket.receive_text()\n"
    )
    assert only(code, "PYS502") == []


def test_never_flags_without_starlette_or_fastapi() -> None:
    code = (
        "from myws import WebSocketRoute\n\n\nasync def feed(websocket):\n    while True:\n"
        "        await websocket.receive_text()\n\n\nroutes = [WebSocketRoute('/f', feed)]\n"
    )
    assert only(code, "PYS502") == []


def test_never_flags_websocket_endpoint_under_an_unknown_decorator() -> None:
    code = WS + (
        "from app.ws import on_disconnect\n\n\n@on_disconnect\n"
        "async def endpoint(websocket: WebSocket):\n    while True:\n"
        "        await websocket.receive_text()\n"
    )
    assert only(code, "PYS502") == []


def test_never_flags_websocket_endpoint_classes() -> None:
    code = WS + (
        "from starlette.endpoints import WebSocketEndpoint\n\n\nclass Echo(WebSocketEndpoint):\n"
        "    async def on_receive(self, websocket, data):\n        await websocket.send_text(data)\n"
        "\n\nroutes = [WebSocketRoute('/ws', Echo)]\n"
    )
    assert only(code, "PYS502") == []


def test_flags_routed_endpoint_even_if_a_method_shares_its_name() -> None:
    code = WS + (
        "\n\nclass Manager:\n    async def endpoint(self, websocket: WebSocket):\n"
        "        await websocket.close()\n\n\nasync def endpoint(ws):\n    while True:\n"
        "        await ws.receive_text()\n\n\nroutes = [WebSocketRoute('/ws', endpoint)]\n"
    )
    assert lines_of(code, "PYS502") == [12]
