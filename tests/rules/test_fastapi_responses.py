"""PYS401 fastapi-missing-response-model and PYS407 error-returned-as-success: every flags /
never-flags item and every fix of their RULES.md rows."""

from __future__ import annotations

import pytest

from tests.rules.lint import fix_of, lines_of, one, only

APP = "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
ROUTER = 'from fastapi import APIRouter\n\nrouter = APIRouter(tags=["items"])\n\n\n'


# == PYS401 fastapi-missing-response-model: flags ========================================


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "api_route"])
def test_401_flags_a_path_operation_without_response_model_or_return_annotation(method: str) -> None:
    code = APP + f'@app.{method}("/items")\nasync def items():\n    return []\n'
    finding = one(code, "PYS401")
    assert (finding.line, finding.column) == (7, 11)
    assert finding.message == ("Path operation `items` declares no response model: annotate its "
                               "return type or pass `response_model=`")


def test_401_flags_a_return_annotation_of_none_on_an_operation_returning_data() -> None:
    code = ROUTER + '@router.get("/items")\ndef items() -> None:\n    return {"a": 1}\n'
    assert lines_of(code, "PYS401") == [7]


@pytest.mark.parametrize(
    "body",
    [
        "    return {'a': 1}",
        "    if not request.query_params:\n        return\n    return [1, 2]",
        "    if not request.query_params:\n        return None\n    return await load()",
        "    response = await build(request)\n    return response",
        # A helper of the module that returns data, not a response.
        "    return _rows(request)",
        # A local built by a call, used as data (no cookie, no header set on it).
        "    data = await load()\n    data['count'] = 1\n    return data",
        "    data = await load()\n    data['X-Total'] = 1\n    data = {}\n    return data",
        # A generator is not "nothing".
        "    yield 1",
    ],
    ids=["dict", "nothing-or-list", "nothing-or-data", "local-of-a-call", "data-helper",
         "local-used-as-dict", "rebound-to-a-dict", "generator"],
)
def test_401_still_flags_operations_that_return_a_value_that_is_not_a_response(
        body: str) -> None:
    code = ("from fastapi import APIRouter, Request\n\nrouter = APIRouter()\n\n\n"
            "def _rows(request):\n    return [request.url.path]\n\n\n"
            f'@router.get("/")\nasync def page(request: Request):\n{body}\n')
    assert lines_of(code, "PYS401") == [11]


@pytest.mark.parametrize(
    ("signature", "body"),
    [
        ("()", "    do_work()"),
        ("()", "    do_work()\n    return"),
        ("() -> None", "    do_work()\n    return None"),
        ("(item_id: int)", "    if item_id < 0:\n        raise ValueError(item_id)\n"
                           "    do_work()"),
        ("(request: Request)", "    if request.query_params:\n"
                               "        return RedirectResponse('/')\n    do_work()"),
        ("()", "    RedirectResponse('/')\n    return"),
    ],
    ids=["no-return", "bare-return", "annotated-none", "raises", "redirect-or-nothing",
         "response-built-and-dropped"],
)
def test_401_never_flags_operations_that_return_nothing(signature: str, body: str) -> None:
    # Webhook receivers, refresh triggers, deletes without 204: FastAPI answers `null`, and
    # no response model could describe it (annotating `-> None` is the same).
    code = ("from fastapi import APIRouter, Request\n"
            "from fastapi.responses import RedirectResponse\n\nrouter = APIRouter()\n\n\n"
            f'@router.post("/hooks"){chr(10)}async def hook{signature}:{chr(10)}{body}{chr(10)}')
    assert only(code, "PYS401") == []


@pytest.mark.parametrize(
    "body",
    [
        # A helper of the module annotated to return a response, or returning only ones.
        "    return _csv_download(rows)",
        "    return await _stream(request)",
        "    return _redirect_home()",
        # A local object built by a call and used as a response: a cookie or header set.
        "    response = await make_page(request)\n    response.set_cookie('seen', '1')\n"
        "    return response",
        "    response = proxy.forward(request)\n    response.headers['X-Cache'] = 'miss'\n"
        "    return response",
        "    resp = build()\n    resp.headers.update({'X-Total': '3'})\n    return resp",
        "    response = build()\n    response.delete_cookie('session')\n    return response",
        # FastAPI's injected response, returned.
        "    response.status_code = 202\n    return response",
        # A class of the module deriving from a response class.
        "    return CSVResponse(content='a,b')",
        "    return ExcelResponse(content=b'')",
        # A response class of any origin, known by a keyword only responses take.
        "    return MsgPackResponse(rows, media_type='application/msgpack')",
        "    return ProblemResponse({'title': 'x'}, headers={'X-Request-Id': '1'})",
        "    response = UJSONishResponse(rows, background=tasks)\n    return response",
    ],
    ids=["annotated-helper", "helper-returning-responses", "nested-helpers", "cookie-set",
         "header-set", "headers-updated", "cookie-deleted", "injected-response",
         "local-subclass", "local-subclass-of-a-subclass", "media-type-keyword",
         "headers-keyword", "background-keyword"],
)
def test_401_never_flags_operations_returning_responses_the_module_shows(body: str) -> None:
    code = ("from fastapi import APIRouter, Request, Response\n"
            "from fastapi.responses import RedirectResponse, StreamingResponse\n\n"
            "router = APIRouter()\n\n\n"
            "class CSVResponse(Response):\n    media_type = 'text/csv'\n\n\n"
            "class ExcelResponse(CSVResponse):\n    pass\n\n\n"
            "def _csv_download(rows) -> Response:\n    return Response(','.join(rows))\n\n\n"
            "async def _stream(request):\n    if request.query_params:\n"
            "        return RedirectResponse('/')\n"
            "    return StreamingResponse(iter([b'x']))\n\n\n"
            "def _redirect_home():\n    return _go('/')\n\n\n"
            "def _go(url):\n    return RedirectResponse(url)\n\n\n"
            '@router.get("/")\n'
            f"async def page(request: Request, response: Response, rows: list[str]):\n{body}\n")
    assert only(code, "PYS401") == []


def test_401_flags_a_sync_path_operation_on_an_aliased_router() -> None:
    code = ('from fastapi import APIRouter as Router\n\nr = Router(tags=["x"])\napi = r\n\n\n'
            '@api.post("/items", status_code=201)\ndef create():\n    return {}\n')
    assert lines_of(code, "PYS401") == [8]


# == PYS401: never flags ====================================================================


@pytest.mark.parametrize("status", ["204", "status.HTTP_204_NO_CONTENT",
                                   "starlette_status.HTTP_204_NO_CONTENT",
                                   "HTTPStatus.NO_CONTENT"])
def test_401_never_flags_status_code_204(status: str) -> None:
    code = ("from http import HTTPStatus\n\nfrom fastapi import FastAPI, status\n"
            "from starlette import status as starlette_status\n\napp = FastAPI()\n\n\n"
            f'@app.delete("/items/{{item_id}}", status_code={status})\n'
            "def delete_item(item_id: int):\n    pass\n")
    assert only(code, "PYS401") == []


def test_401_never_flags_response_class() -> None:
    code = ("from fastapi import FastAPI\nfrom fastapi.responses import HTMLResponse\n\n"
            'app = FastAPI()\n\n\n@app.get("/", response_class=HTMLResponse)\ndef index():\n'
            '    return "<h1>hi</h1>"\n')
    assert only(code, "PYS401") == []


@pytest.mark.parametrize("owner", ["FastAPI", "APIRouter"])
def test_401_never_flags_an_object_with_a_default_response_class(owner: str) -> None:
    code = (f"from fastapi import {owner}\nfrom fastapi.responses import ORJSONResponse\n\n"
            f"api = {owner}(default_response_class=ORJSONResponse)\n\n\n"
            '@api.get("/")\ndef index():\n    return {}\n')
    assert only(code, "PYS401") == []


@pytest.mark.parametrize("response", ["Response", "JSONResponse", "RedirectResponse",
                                      "StreamingResponse", "FileResponse"])
def test_401_never_flags_a_response_subclass_return_annotation(response: str) -> None:
    code = (f"from fastapi import Response\nfrom fastapi.responses import {response}\n"
            f"from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
            f'@app.get("/")\ndef index() -> {response}:\n    return {response}("x")\n')
    assert only(code, "PYS401") == []


@pytest.mark.parametrize(
    "body",
    [
        '    return RedirectResponse("/login")',
        '    return templates.TemplateResponse(request, "index.html", {})',
        '    if request.method == "POST":\n        return RedirectResponse("/done", status_code=303)\n'
        '    return templates.TemplateResponse(request, "form.html", {})',
        '    response = RedirectResponse("/")\n    response.set_cookie("k", "v")\n'
        '    return response',
        '    from starlette.responses import HTMLResponse as Page\n    return Page("<p>hi</p>")',
        "    return fastapi.Response(status_code=202)",
        # fief-server 0.27.0, fief/apps/auth/routers/oauth.py: session helpers take the
        # response and give it back.
        '    response = RedirectResponse("/")\n'
        "    response = await flow.rotate_session_token(response, request)\n"
        "    return response",
        # lnbits 1.6.2, lnbits/core/views/generic.py: templates fetched by a call.
        '    return template_renderer().TemplateResponse(request, "sw.js", {})',
        # fief-server 0.27.0, fief/apps/dashboard/routers/*.py: a project response class.
        "    return HXRedirectResponse(request.url_for('list'))",
    ],
    ids=["redirect", "template", "both", "local-name", "inner-import", "module-attribute",
         "passed-through-a-helper", "templates-from-a-call", "project-response-class"],
)
def test_401_never_flags_operations_that_only_return_responses_they_build(body: str) -> None:
    # fief-server 0.27.0: HTML dashboard pages (`templates.TemplateResponse(...)`,
    # `RedirectResponse(...)`) with neither annotation nor response_model: FastAPI sends a
    # returned response as it is, so no response model could apply.
    code = ("import fastapi\nfrom fastapi import APIRouter, Request\n"
            "from fastapi.responses import RedirectResponse\n"
            "from app.responses import HXRedirectResponse\n"
            "from app.templates import templates\n\nrouter = APIRouter()\n\n\n"
            f'@router.api_route("/", methods=["GET", "POST"])\nasync def page(request: Request):\n'
            f"{body}\n")
    assert only(code, "PYS401") == []


@pytest.mark.parametrize(
    "body",
    [
        '    if request.method == "POST":\n        return RedirectResponse("/done")\n'
        '    return {"form": True}',
        "    return await backend.login(request)",
        '    response = RedirectResponse("/")\n    if request.query_params:\n'
        '        response = {"moved": False}\n    return response',
        "    return UserResponse(name='x')",
        "    data = await load(request)\n    data = clean(data)\n    return data",
    ],
    ids=["one-dict", "awaited", "rebound-name", "model-named-response",
         "passed-through-only"],
)
def test_401_flags_operations_that_may_return_something_else(body: str) -> None:
    code = ("from fastapi import APIRouter, Request\n"
            "from fastapi.responses import RedirectResponse\n"
            "from app.schemas import UserResponse\n\nrouter = APIRouter()\n\n\n"
            f'@router.post("/")\nasync def page(request: Request):\n{body}\n')
    assert lines_of(code, "PYS401") == [9]


PAGES = ("from fastapi import APIRouter, Depends, Request, Response\n"
         "from fastapi_users.authentication import AuthenticationBackend\n"
         "from app.forms import FormHelper, LoginForm\n"
         "from app.responses import HXLocationResponse\n\nrouter = APIRouter()\n\n\n")


@pytest.mark.parametrize(
    "body",
    [
        # fief-server 0.27.0, fief/apps/auth/routers/reset.py and fief/apps/dashboard/
        # routers/*.py (39 operations): a form helper built from the page's template renders
        # it, `get_response()`/`get_error_response()` return `templates.TemplateResponse(...)`.
        '    form_helper = FormHelper(LoginForm, "auth/login.html", request=request)\n'
        "    if await form_helper.is_submitted_and_valid():\n"
        '        return await form_helper.get_error_response("Bad", "bad_credentials")\n'
        "    return await form_helper.get_response()",
        '    helper = FormHelper(LoginForm, template="admin/page.jinja2")\n'
        "    return helper.render_response()",
        # lnbits 1.6.2, lnbits/core/views/auth_api.py: fastapi-sso's get_login_redirect().
        "    provider_sso = _new_sso(provider)\n"
        "    return await provider_sso.get_login_redirect(state=state)",
        # fief-server 0.27.0, fief/apps/auth/routers/auth.py `consent`.
        "    response = await flow.get_authorization_code_success_redirect(user=user)\n"
        "    response = await flow.delete_login_session(response, session)\n"
        "    return response",
        "    return redirect(request.url_for('home'))",
        # fief-server 0.27.0, fief/apps/auth/routers/dashboard.py: an htmx response class.
        "    return HXLocationResponse(request.url_for('profile'), hx_target='#email')",
        # fief-server 0.27.0, fief/apps/auth/routers/register.py: the local is annotated.
        "    response: Response\n    if request.method == 'POST':\n"
        "        response = await registration_flow.finish(request)\n"
        "        return response\n"
        "    response = await make_page(request)\n    return response",
        # fastapi-users 15.0.5, fastapi_users/router/auth.py: AuthenticationBackend.login()
        # and logout() return the transport's response.
        "    response = await auth_backend.login(strategy, user)\n"
        "    await user_manager.on_after_login(user, request, response)\n    return response",
        "    return await auth_backend.logout(strategy, user, token)",
    ],
    ids=["form-helper", "renderer-keyword-template", "sso-redirect", "redirect-helper-rebound",
         "redirect-function", "htmx-response-class", "annotated-local",
         "fastapi-users-login", "fastapi-users-logout"],
)
def test_401_never_flags_operations_returning_responses_made_elsewhere(body: str) -> None:
    code = (PAGES + 'auth_backend = AuthenticationBackend(name="jwt", transport=t, '
            "get_strategy=s)\n\n\n"
            f'@router.api_route("/", methods=["GET", "POST"])\nasync def page(request: Request):\n'
            f"{body}\n")
    assert only(code, "PYS401") == []


def test_401_never_flags_a_fastapi_users_backend_of_a_router_factory() -> None:
    # fastapi-users 15.0.5, fastapi_users/router/auth.py and oauth.py: the backend is a
    # parameter of the function that builds the router.
    code = ("from fastapi import APIRouter\n"
            "from fastapi_users.authentication import AuthenticationBackend\n\n\n"
            "def get_auth_router(backend: AuthenticationBackend[UP, ID]) -> APIRouter:\n"
            "    router = APIRouter()\n\n"
            '    @router.post("/login")\n    async def login(strategy, user):\n'
            "        response = await backend.login(strategy, user)\n        return response\n\n"
            '    @router.post("/logout")\n    async def logout(strategy, user, token):\n'
            "        return await backend.logout(strategy, user, token)\n\n"
            "    return router\n")
    assert only(code, "PYS401") == []


@pytest.mark.parametrize(
    "body",
    [
        '    return {"status": "ok"}',
        "    return Item(name='x')",
        "    return [Item(name='x')]",
        "    return await db.get(User, user_id)",
        "    return 42",
        '    return "ok"',
        "    return user.get_claims()",
        "    return token_response.model_dump(exclude_none=True)",
        # An LLM reply, a dict envelope: `..._response` alone does not make a response.
        "    return await generate_response(request.message)",
        "    return await chatbot.get_ai_response(request.message)",
        "    return success_response(data=items)",
        '    if stream:\n        return StreamingResponse(chunks(), media_type="text/plain")\n'
        "    return await generate_response(request.message)",
        # `..._response()` of an object not built from a template file.
        "    form = Form(request)\n    return await form.get_response()",
        "    return await form_helper.get_response()",
        "    helper = FormHelper(LoginForm, 'auth/login.html')\n"
        "    helper = other_helper()\n    return helper.get_response()",
        # Other methods of a template renderer, a template rendered to a string.
        "    form_helper = FormHelper(LoginForm, 'auth/login.html', request=request)\n"
        "    return await form_helper.get_form()",
        "    return templates.get_template('page.html').render(user=user)",
        # Not a redirect, a local annotated as something else, a backend of unknown class.
        "    return get_redirect_url(request)",
        "    result: dict = {}\n    return result",
        "    return await backend.login(strategy, user)",
        "    return await other_backend.login(strategy, user)",
        "    return UserResponse(name='x')",
        # Pydantic models named `...Response`, with fields a response also has.
        "    return ChatResponse(content='hello', role='assistant')",
        "    return ErrorResponse(status_code=400, detail='bad')",
    ],
    ids=["dict", "model", "list", "orm-object", "int", "str", "method-result", "model-dump",
         "llm-reply", "llm-reply-method", "envelope-helper", "stream-or-llm-reply",
         "response-method-of-a-plain-object", "response-method-of-a-parameter",
         "renderer-rebound", "renderer-other-method", "rendered-string", "redirect-url",
         "annotated-local-dict", "untyped-backend", "backend-of-another-class",
         "model-named-response", "chat-reply-model", "error-model"],
)
def test_401_still_flags_operations_returning_data(body: str) -> None:
    code = ("from fastapi import APIRouter, Request\n"
            "from fastapi.responses import StreamingResponse\n"
            "from app.auth import OtherBackend\nfrom app.forms import FormHelper, LoginForm\n"
            "from app.schemas import UserResponse\n\nrouter = APIRouter()\n"
            "other_backend = OtherBackend()\n\n\n"
            f'@router.post("/")\nasync def page(request: Request, form_helper: FormHelper):\n'
            f"{body}\n")
    assert lines_of(code, "PYS401") == [12]


@pytest.mark.parametrize("declaration", ['@app.get("/", response_model=Item)\ndef f():',
                                         '@app.get("/", response_model=None)\ndef f():',
                                         '@app.get("/")\ndef f() -> Item:',
                                         '@app.get("/")\ndef f() -> list[Item]:',
                                         '@app.get("/")\ndef f() -> "Item":'])
def test_401_never_flags_a_declared_response_model(declaration: str) -> None:
    code = APP + "class Item:\n    pass\n\n\n" + declaration + "\n    return Item()\n"
    assert only(code, "PYS401") == []


@pytest.mark.parametrize(
    "code",
    [
        'from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get("/")\ndef index():\n'
        '    return "x"\n',
        'from ninja import NinjaAPI\n\napi = NinjaAPI()\n\n\n@api.get("/")\ndef index(request):\n'
        '    return "x"\n',
        "import fastapi\n\n\ndef helper():\n    return 1\n",
        APP + '@app.websocket("/ws")\nasync def ws(websocket):\n    pass\n',
    ],
    ids=["flask", "ninja", "plain-function", "websocket"],
)
def test_401_never_flags_functions_that_are_not_fastapi_path_operations(code: str) -> None:
    assert only(code, "PYS401") == []


# == PYS407 error-returned-as-success: flags ===============================================


def test_407_flags_a_dict_with_an_error_key() -> None:
    code = ROUTER + ('@router.get("/items/{item_id}")\ndef read(item_id: int) -> dict:\n'
                     '    if item_id < 0:\n        return {"error": "bad id"}\n    return {}\n')
    finding = one(code, "PYS407")
    assert finding.line == 9
    assert finding.message == ("Path operation `read` returns an error with a success status: "
                               "raise `HTTPException` instead")


def test_407_flags_an_error_key_among_others_and_with_a_success_status_code() -> None:
    code = ROUTER + ('@router.post("/items", status_code=201)\nasync def create() -> dict:\n'
                     '    return {"ok": False, "error": "full"}\n')
    assert lines_of(code, "PYS407") == [8]


@pytest.mark.parametrize("decorator", ['@router.get("/items")', '@router.get("/items", tags=["x"])'])
def test_407_flags_a_detail_key_when_no_status_code_is_set(decorator: str) -> None:
    code = ROUTER + f'{decorator}\ndef items() -> dict:\n    return {{"detail": "not found"}}\n'
    assert lines_of(code, "PYS407") == [8]


# == PYS407: never flags =====================================================================


def test_407_never_flags_raising_http_exception() -> None:
    code = ('from fastapi import APIRouter, HTTPException\n\nrouter = APIRouter(tags=["x"])\n\n\n'
            '@router.get("/items")\ndef items() -> dict:\n'
            '    raise HTTPException(status_code=404, detail="not found")\n')
    assert only(code, "PYS407") == []


@pytest.mark.parametrize("status", ["200", "404", "status.HTTP_202_ACCEPTED"])
def test_407_never_flags_detail_with_a_status_code_in_the_decorator(status: str) -> None:
    code = ROUTER + (f'@router.get("/items", status_code={status})\ndef items() -> dict:\n'
                     '    return {"detail": "queued"}\n')
    assert only(code, "PYS407") == []


@pytest.mark.parametrize("key", ["error", "detail"])
def test_407_never_flags_a_path_operation_that_sets_the_response_status(key: str) -> None:
    code = ('from fastapi import APIRouter, Response\n\nrouter = APIRouter(tags=["x"])\n\n\n'
            '@router.get("/items")\ndef items(response: Response) -> dict:\n'
            f'    response.status_code = 404\n    return {{"{key}": "not found"}}\n')
    assert only(code, "PYS407") == []


@pytest.mark.parametrize("status", ["404", "status.HTTP_409_CONFLICT"])
def test_407_never_flags_an_error_with_an_error_status_code_in_the_decorator(status: str) -> None:
    code = ROUTER + (f'@router.get("/teapot", status_code={status})\ndef teapot() -> dict:\n'
                     '    return {"error": "conflict"}\n')
    assert only(code, "PYS407") == []


@pytest.mark.parametrize("value", ["None", "False", '""', "[]"])
def test_407_never_flags_an_envelope_saying_there_is_no_error(value: str) -> None:
    code = ROUTER + ('@router.get("/items")\ndef items() -> dict:\n'
                     f'    return {{"data": [], "error": {value}}}\n')
    assert only(code, "PYS407") == []


@pytest.mark.parametrize(
    "body",
    [
        '    def nested():\n        return {"error": "x"}\n    return nested()\n',
        '    return JSONResponse({"error": "x"}, status_code=400)\n',
        '    return {"message": "error"}\n',
    ],
    ids=["nested-function", "json-response", "error-as-value"],
)
def test_407_never_flags_other_returns(body: str) -> None:
    code = ("from fastapi import APIRouter\nfrom fastapi.responses import JSONResponse\n\n"
            'router = APIRouter(tags=["x"])\n\n\n@router.get("/items")\ndef items() -> dict:\n' + body)
    assert only(code, "PYS407") == []


def test_407_never_flags_functions_that_are_not_path_operations() -> None:
    code = 'import fastapi\n\n\ndef validate(x: int) -> dict:\n    return {"error": "bad"}\n'
    assert only(code, "PYS407") == []


# == PYS407: fix ============================================================================


def test_407_fix_raises_http_exception_and_adds_the_import() -> None:
    code = ROUTER + ('@router.get("/items/{item_id}")\ndef read(item_id: int) -> dict:\n'
                     '    if item_id < 0:\n        return {"error": f"bad id {item_id}"}\n'
                     '    return {}\n')
    assert fix_of(code, "PYS407") == (
        'from fastapi import APIRouter\nfrom fastapi import HTTPException\n\n'
        'router = APIRouter(tags=["items"])\n\n\n'
        '@router.get("/items/{item_id}")\ndef read(item_id: int) -> dict:\n'
        '    if item_id < 0:\n'
        '        raise HTTPException(status_code=400, detail=f"bad id {item_id}")\n'
        '    return {}\n')


@pytest.mark.parametrize("imported", ["from fastapi import APIRouter, HTTPException",
                                      "from fastapi import APIRouter\n"
                                      "from starlette.exceptions import HTTPException"])
def test_407_fix_uses_an_imported_http_exception(imported: str) -> None:
    code = (f'{imported}\n\nrouter = APIRouter(tags=["x"])\n\n\n'
            '@router.post("/login")\nasync def login(name: str) -> dict:\n'
            '    if not name: return {"error": "name required"}\n    return {}\n')
    new = fix_of(code, "PYS407")
    assert new.startswith(imported + "\n\n")
    assert '    if not name: raise HTTPException(status_code=400, detail="name required")\n' in new


@pytest.mark.parametrize(
    "code",
    [
        ROUTER + '@router.get("/")\ndef f() -> dict:\n    return {"error": "x", "code": 3}\n',
        ROUTER + '@router.get("/")\ndef f() -> dict:\n    return {"detail": "x"}\n',
        ROUTER + ('@router.get("/")\ndef f() -> dict:\n    try:\n        return {"error": "x"}\n'
                  '    except Exception:\n        return {}\n'),
        'from werkzeug.exceptions import HTTPException\n' + ROUTER
        + '@router.get("/")\ndef f() -> dict:\n    return {"error": "x"}\n',
        ROUTER + 'class HTTPException(Exception):\n    pass\n\n\n'
        '@router.get("/")\ndef f() -> dict:\n    return {"error": "x"}\n',
    ],
    ids=["more-keys", "detail", "inside-try", "other-http-exception", "own-http-exception"],
)
def test_407_no_fix_when_raising_would_lose_or_change_something(code: str) -> None:
    finding = one(code, "PYS407")
    assert finding.fix is None
