"""PYS401 fastapi-missing-response-model."""

from __future__ import annotations

import libcst as cst

from pystd.rules.context import FileContext
from pystd.rules.engine import Category, Severity, register
from pystd.rules.fastapi.path_operations import (
    PathOperation,
    PathOperationRule,
    all_params,
    dotted_tail,
    is_none,
)
from pystd.rules.nodes import keyword, literal_string
from pystd.rules.responses import ResponseEvidence
from pystd.rules.walker import find_nodes

# `status.HTTP_204_NO_CONTENT` (fastapi.status, starlette.status), `HTTPStatus.NO_CONTENT`.
_NO_CONTENT = frozenset({"HTTP_204_NO_CONTENT", "NO_CONTENT"})
# Where the response classes live: `fastapi.Response`, `fastapi.responses.RedirectResponse`,
# `starlette.responses.HTMLResponse`, ...
_RESPONSE_MODULES = frozenset({"fastapi", "fastapi.responses", "starlette.responses"})
# A class of the project's own named after one of those (`HXRedirectResponse`,
# `ORJSONResponse`, sse-starlette's `EventSourceResponse`) is one too; a bare `...Response`
# is not: `UserResponse` is as likely a Pydantic model.
_RESPONSE_CLASS_NAMES = ("RedirectResponse", "HTMLResponse", "PlainTextResponse",
                         "JSONResponse", "StreamingResponse", "FileResponse",
                         "TemplateResponse", "EventSourceResponse")
# Template files: an object built from one (`FormHelper(LoginForm, "auth/login.html",
# request=request)`) renders pages, and its `..._response()` methods make them.
_TEMPLATE_SUFFIXES = (".html", ".htm", ".jinja", ".jinja2", ".j2")
# Library methods that return a response, by the class of the object they are called on:
# fastapi-users' `AuthenticationBackend.login()`/`logout()` return the transport's response
# (a cookie-setting `Response` or a bearer-token `JSONResponse`).
_RESPONSE_METHODS = {
    "fastapi_users.authentication.AuthenticationBackend": frozenset({"login", "logout"}),
    "fastapi_users.authentication.backend.AuthenticationBackend": frozenset({"login", "logout"}),
    "fastapi_users.AuthenticationBackend": frozenset({"login", "logout"}),
}


def is_no_content(node: cst.BaseExpression) -> bool:
    """`204`, `status.HTTP_204_NO_CONTENT` or `HTTPStatus.NO_CONTENT`."""
    if isinstance(node, cst.Integer):
        return node.evaluated_value == 204
    return dotted_tail(node) in _NO_CONTENT


def _last_word(name: str) -> str:
    return name.rpartition("_")[2]


def _callee_name(call: cst.Call) -> str | None:
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else None


def _unawaited(value: cst.BaseExpression) -> cst.BaseExpression:
    return value.expression if isinstance(value, cst.Await) else value


def _renders_template(value: cst.BaseExpression | None) -> bool:
    """A call handed a template file name: `FormHelper(Form, "auth/login.html", ...)`."""
    if value is None or not isinstance(value := _unawaited(value), cst.Call):
        return False
    for arg in value.args:
        text = literal_string(arg.value)
        if text is not None and text.endswith(_TEMPLATE_SUFFIXES):
            return True
    return False


def _annotation_class(annotation: cst.BaseExpression) -> cst.BaseExpression:
    """`AuthenticationBackend[models.UP, models.ID]` -> `AuthenticationBackend`."""
    return annotation.value if isinstance(annotation, cst.Subscript) else annotation


def _binds(node: cst.CSTNode, name: str) -> bool:
    """Is `node` an assignment (`=`, annotated, augmented) to the plain name `name`?"""
    if isinstance(node, cst.Assign):
        return any(isinstance(t.target, cst.Name) and t.target.value == name
                   for t in node.targets)
    return (isinstance(node, (cst.AnnAssign, cst.AugAssign)) and isinstance(node.target, cst.Name)
            and node.target.value == name)


def _bindings_in(scope: cst.FunctionDef, name: str) -> list[cst.BaseExpression | None]:
    """The values `scope`'s own body binds `name` to (None for a bare annotation or an
    augmented assignment)."""
    return [node.value if isinstance(node, (cst.Assign, cst.AnnAssign)) else None
            for node in find_nodes(scope.body, (cst.Assign, cst.AnnAssign, cst.AugAssign))
            if _binds(node, name)]


@register
class MissingResponseModel(PathOperationRule):
    code = "PYS401"
    name = "fastapi-missing-response-model"
    severity = Severity.INFO
    category = Category.STYLE
    default = False
    rationale = (
        "A response model documents and filters output, but operations that return nothing or "
        "build their own response do not need one (98 of 156 wrong before narrowing; issue "
        "#9). Opt-in."
    )
    message = ("Path operation `{name}` declares no response model: annotate its return type "
               "or pass `response_model=`")
    docs = """
## What it does
Flags a FastAPI path operation (a function decorated `@app.get(...)`, `@router.post(...)`,
… on an object bound to `FastAPI(...)` or `APIRouter(...)`) that has neither
`response_model=` in its decorator nor a return type annotation other than `None`, and
that returns a value. Operations that return nothing (no `return <value>`: a bare
`return`, `return None`, or none at all) are never flagged, annotated `-> None` or not:
there is no output for a model to describe. Operations declared `status_code=204` (also `status.HTTP_204_NO_CONTENT`), operations with
`response_class=` (or on an application or router created with
`default_response_class=`), operations annotated to return a `Response` subclass, and
operations without a return annotation every `return` of which hands back a response are
left alone, as is `response_model=None` written out: FastAPI sends a returned response as
it is. A return counts as a response when it is (awaited or not):
- a response class of `fastapi`/`starlette.responses`, or a class named after one
  (`HXRedirectResponse`, `ORJSONResponse`) or after an htmx response header
  (`HXLocationResponse`), built there: `RedirectResponse(...)`;
- `<templates>.TemplateResponse(...)`;
- a call of a function or method named `redirect` or `..._redirect`
  (`provider_sso.get_login_redirect()`);
- a `..._response()` method of a local object built from a template file name
  (`form_helper = FormHelper(LoginForm, "auth/login.html", request=request)`;
  `return await form_helper.get_error_response(...)`);
- `login()`/`logout()` of a fastapi-users `AuthenticationBackend` (known from a parameter
  annotation or from the object's construction);
- a local name annotated as a response class (`response: Response`, also FastAPI's
  injected `response: Response` parameter), or bound only to such calls and to calls
  handed that name (`response = await set_cookie(response)`);
- a class of the module deriving from a response class (`class CSVResponse(Response)`);
- a call of a function of the module that is annotated to return a response class, or
  whose every `return` is one of these (`return _csv_download(rows)`);
- a class named `...Response` of any origin built with a keyword only response classes
  take: `media_type=`, `headers=`, `background=` (`MsgPackResponse(data,
  media_type="application/msgpack")`; `ChatResponse(content=...)` stays data);
- a local name bound to any call and then used as a response: a cookie set or deleted on
  it (`response.set_cookie(...)`) or a header set on it
  (`response.headers["X-Cache"] = "miss"`, `response.headers.update(...)`).

A return path that returns nothing next to ones that return responses is fine too.

Other `..._response()` calls are still flagged: `generate_response(prompt)` is as likely an
LLM's reply and `success_response(data)` a dict envelope, both data a model should
describe.

## Why is this bad?
The response model is what FastAPI validates, filters and documents the output with.
Without one, whatever the function returns is serialized as is: a field added to the ORM
object (a password hash, an internal flag) leaks to clients, and the OpenAPI schema says
nothing about the response, so generated clients get `any`. FastAPI's "Response Model -
Return Type" tutorial (fastapi.tiangolo.com/tutorial/response-model/) recommends declaring
the return type, or `response_model=` when the function returns something else, for
validation, filtering and documentation.

## Example
```python
@router.get("/users/{user_id}")
async def read_user(user_id: int, db: DB):
    return await db.get(User, user_id)
```

## Use instead
```python
@router.get("/users/{user_id}")
async def read_user(user_id: int, db: DB) -> UserOut:
    return await db.get(User, user_id)
```
or `@router.get("/users/{user_id}", response_model=UserOut)` when the function returns the
ORM object and FastAPI should filter it through `UserOut`.

## Suppress
`# noqa: PYS401` on the `def` line.
"""
    bad = (
        """
        from fastapi import FastAPI

        app = FastAPI()


        @app.get("/health")
        def health():  # flagged
            return {"status": "ok"}
        """,
        """
        from fastapi import APIRouter

        router = APIRouter(tags=["items"])


        @router.post("/items")
        async def create_item() -> None:  # flagged
            return {"id": 1}
        """,
    )
    good = (
        """
        from fastapi import FastAPI
        from pydantic import BaseModel

        app = FastAPI()


        class Health(BaseModel):
            status: str


        @app.get("/health")
        def health() -> Health:
            return Health(status="ok")
        """,
        """
        from fastapi import FastAPI, status

        app = FastAPI()


        @app.delete("/items/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
        def delete_item(item_id: int):
            return None
        """,
        """
        from fastapi import APIRouter

        router = APIRouter(tags=["hooks"])
        builds: list[str] = []


        @router.post("/hooks/build")
        async def build_hook() -> None:
            builds.append("queued")
        """,
        """
        from fastapi import FastAPI
        from fastapi.responses import HTMLResponse

        app = FastAPI()


        @app.get("/", response_class=HTMLResponse)
        def index():
            return "<h1>Hello</h1>"
        """,
        """
        from fastapi import FastAPI
        from fastapi.responses import RedirectResponse

        app = FastAPI()


        @app.get("/")
        def index() -> RedirectResponse:
            return RedirectResponse("/docs")
        """,
        """
        from fastapi import APIRouter, Request

        from app.forms import FormHelper, LoginForm

        router = APIRouter()


        @router.api_route("/login", methods=["GET", "POST"])
        async def login(request: Request):
            form_helper = FormHelper(LoginForm, "auth/login.html", request=request)
            if not await form_helper.is_submitted_and_valid():
                return await form_helper.get_error_response("Invalid", "bad_form")
            return await form_helper.get_response()
        """,
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._evidence: ResponseEvidence | None = None
        self._local_classes: frozenset[str] | None = None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        op = self.apps.path_operation(node)
        if op is None or self._declares_response(op):
            return
        returns = node.returns
        if returns is not None and not is_none(returns.annotation):
            return
        if self._only_returns_responses(node):
            return
        self.report(node.name, self.message.format(name=op.name))

    def _only_returns_responses(self, func: cst.FunctionDef) -> bool:
        """Does every `return <value>` of `func` hand back a response (`RedirectResponse(...)`,
        `templates.TemplateResponse(...)`, `await form_helper.get_response()`, a helper of
        the module that returns one, a local name bound only to such calls, annotated as a
        response class or used as one), or is there no `return <value>` at all? FastAPI
        sends a response as it is and nothing has no shape: no model applies."""
        if self._evidence is None:
            self._evidence = ResponseEvidence(self.ctx.module, self._is_response_class,
                                              self._builds_response)
        scopes = tuple(s for s in self.ctx.scopes if isinstance(s, cst.FunctionDef)
                       and s is not func)
        return self._evidence.only_responses_or_nothing(func, scopes)

    def _builds_response(self, value: cst.BaseExpression, func: cst.FunctionDef) -> bool:
        """A call (awaited or not) that gives a response: a response class,
        `<templates>.TemplateResponse(...)`, a function or method named `..._redirect`, a
        `..._response()` method of a template renderer, or a library method known to
        return one (`_RESPONSE_METHODS`)."""
        value = _unawaited(value)
        if not isinstance(value, cst.Call):
            return False
        callee = value.func
        name = _callee_name(value)
        if isinstance(callee, cst.Attribute):
            if name == "TemplateResponse":
                return True  # Jinja2Templates(...).TemplateResponse, however the templates are had
            receiver = callee.value
            if isinstance(receiver, cst.Name):
                if _last_word(callee.attr.value) == "response" and self._is_renderer(
                        receiver.value, func):
                    return True
                cls = self._class_of(receiver.value, func)
                if cls is not None and callee.attr.value in _RESPONSE_METHODS.get(cls, ()):
                    return True
        if name is not None and name[:1].islower() and _last_word(name) == "redirect":
            return True  # `get_login_redirect()` (fastapi-sso), `..._success_redirect()` (fief)
        return self._is_response_class(callee, func)

    def _is_response_class(self, node: cst.BaseExpression, func: cst.FunctionDef) -> bool:
        """A response class of `fastapi`/`starlette.responses`, or one named after one
        (`HXRedirectResponse`) or after an htmx response header (`HXLocationResponse`), or
        a class of the module deriving from one (`class CSVResponse(Response)`)."""
        if isinstance(node, cst.Name) and node.value in self._local_response_classes():
            return True
        qualified = self.ctx.qualified_name_in(node, func)
        if qualified is None:
            return False
        module, _, name = qualified.rpartition(".")
        return ((module in _RESPONSE_MODULES and name.endswith("Response"))
                or name.endswith(_RESPONSE_CLASS_NAMES)
                or (name.startswith("HX") and name.endswith("Response")))

    def _local_response_classes(self) -> frozenset[str]:
        """Top-level classes of the module that derive, maybe through each other, from a
        response class."""
        if self._local_classes is None:
            found: set[str] = set()
            module = self.ctx.module
            classes = [s for s in (module.body if module is not None else ())
                       if isinstance(s, cst.ClassDef)]
            changed = True
            while changed:
                changed = False
                for cls in classes:
                    name = cls.name.value
                    if name in found:
                        continue
                    for base in cls.bases:
                        value = base.value
                        if (isinstance(value, cst.Name) and value.value in found) or (
                                self._is_imported_response_class(value)):
                            found.add(name)
                            changed = True
                            break
            self._local_classes = frozenset(found)
        return self._local_classes

    def _is_imported_response_class(self, node: cst.BaseExpression) -> bool:
        qualified = self.ctx.qualified_name(node)
        if qualified is None:
            return False
        module, _, name = qualified.rpartition(".")
        return ((module in _RESPONSE_MODULES and name.endswith("Response"))
                or name.endswith(_RESPONSE_CLASS_NAMES))

    @staticmethod
    def _is_renderer(name: str, func: cst.FunctionDef) -> bool:
        """Is the local `name` bound, every time, to a call handed a template file name
        (`form_helper = FormHelper(LoginForm, "auth/login.html", request=request)`)?"""
        values = _bindings_in(func, name)
        return bool(values) and all(_renders_template(v) for v in values)

    def _class_of(self, name: str, func: cst.FunctionDef) -> str | None:
        """The imported class `name` stands for an instance of, from its nearest binding:
        a parameter annotation (`backend: AuthenticationBackend[UP, ID]`), or assignments
        all constructing the same class (`backend = AuthenticationBackend(...)`), in `func`,
        then the functions around it, then the module."""
        scopes = [func, *(s for s in reversed(self.ctx.scopes)
                          if isinstance(s, cst.FunctionDef) and s is not func)]
        for scope in scopes:
            for param in all_params(scope.params):
                if param.name.value == name:
                    if param.annotation is None:
                        return None
                    return self.ctx.qualified_name_in(
                        _annotation_class(param.annotation.annotation), scope)
            values = _bindings_in(scope, name)
            if values:
                return self._one_class(values, scope)
        module = self.ctx.module
        if module is None:
            return None
        values = [small.value for stmt in module.body
                  if isinstance(stmt, cst.SimpleStatementLine)
                  for small in stmt.body
                  if isinstance(small, (cst.Assign, cst.AnnAssign)) and _binds(small, name)]
        return self._one_class(values, func) if values else None

    def _one_class(self, values: list[cst.BaseExpression | None],
                   scope: cst.FunctionDef) -> str | None:
        classes = set()
        for value in values:
            value = _unawaited(value) if value is not None else None
            if not isinstance(value, cst.Call):
                return None
            classes.add(self.ctx.qualified_name_in(value.func, scope))
        return classes.pop() if len(classes) == 1 else None

    def _declares_response(self, op: PathOperation) -> bool:
        for route in op.routes:
            if route.keyword("response_model") or route.keyword("response_class"):
                return True
            status = route.keyword("status_code")
            if status is not None and is_no_content(status.value):
                return True
            if any(keyword(call, "default_response_class")
                   for call in self.apps.calls.get(route.owner, ())):
                return True
        return False
