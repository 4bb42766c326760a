"""PYS401 fastapi-missing-response-model."""

from __future__ import annotations

import libcst as cst

from rules.engine import Severity, register
from rules.fastapi.path_operations import (
    PathOperation,
    PathOperationRule,
    dotted_tail,
    is_none,
    keyword,
)
from rules.walker import find_nodes

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


def is_no_content(node: cst.BaseExpression) -> bool:
    """`204`, `status.HTTP_204_NO_CONTENT` or `HTTPStatus.NO_CONTENT`."""
    if isinstance(node, cst.Integer):
        return node.evaluated_value == 204
    return dotted_tail(node) in _NO_CONTENT


def _passes_through(value: cst.BaseExpression, name: str) -> bool:
    """`response = await flow.set_cookie(response, ...)`: a call handed the response and
    bound back to its name, which gives the response back (fief-server's session helpers).
    Only counts where the name is also bound to a response built in the function."""
    if isinstance(value, cst.Await):
        value = value.expression
    return isinstance(value, cst.Call) and any(
        isinstance(arg.value, cst.Name) and arg.value.value == name for arg in value.args)


@register
class MissingResponseModel(PathOperationRule):
    code = "PYS401"
    name = "fastapi-missing-response-model"
    severity = Severity.WARNING
    message = ("Path operation `{name}` declares no response model: annotate its return type "
               "or pass `response_model=`")
    docs = """
## What it does
Flags a FastAPI path operation (a function decorated `@app.get(...)`, `@router.post(...)`,
… on an object bound to `FastAPI(...)` or `APIRouter(...)`) that has neither
`response_model=` in its decorator nor a return type annotation other than `None`.
Operations declared `status_code=204` (also `status.HTTP_204_NO_CONTENT`), operations with
`response_class=` (or on an application or router created with
`default_response_class=`), operations annotated to return a `Response` subclass, and
operations without a return annotation every `return` of which hands back a response they
build (`RedirectResponse(...)`, `templates.TemplateResponse(...)`, a response class of
`fastapi`/`starlette.responses` or an imported class named after one, `HXRedirectResponse`,
or a local name bound only to such calls and to calls
handed that name, `response = await set_cookie(response)`) are left alone,
as is `response_model=None` written out: FastAPI sends a returned response as it is.

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
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get(\"/health\")\n"
        "def health():  # flagged\n    return {\"status\": \"ok\"}\n",
        "from fastapi import APIRouter\n\nrouter = APIRouter(tags=[\"items\"])\n\n\n"
        "@router.post(\"/items\")\nasync def create_item() -> None:  # flagged\n    return None\n",
    )
    good = (
        "from fastapi import FastAPI\nfrom pydantic import BaseModel\n\napp = FastAPI()\n\n\n"
        "class Health(BaseModel):\n    status: str\n\n\n@app.get(\"/health\")\n"
        "def health() -> Health:\n    return Health(status=\"ok\")\n",
        "from fastapi import FastAPI, status\n\napp = FastAPI()\n\n\n"
        "@app.delete(\"/items/{item_id}\", status_code=status.HTTP_204_NO_CONTENT)\n"
        "def delete_item(item_id: int):\n    return None\n",
        "from fastapi import FastAPI\nfrom fastapi.responses import HTMLResponse\n\n"
        "app = FastAPI()\n\n\n@app.get(\"/\", response_class=HTMLResponse)\ndef index():\n"
        "    return \"<h1>Hello</h1>\"\n",
        "from fastapi import FastAPI\nfrom fastapi.responses import RedirectResponse\n\n"
        "app = FastAPI()\n\n\n@app.get(\"/\")\ndef index() -> RedirectResponse:\n"
        "    return RedirectResponse(\"/docs\")\n",
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        op = self.apps.path_operation(node)
        if op is None or self._declares_response(op):
            return
        returns = node.returns
        if returns is not None and not is_none(returns.annotation):
            return
        if returns is None and self._only_returns_responses(node):
            return
        self.report(node.name, self.message.format(name=op.name))

    def _only_returns_responses(self, func: cst.FunctionDef) -> bool:
        """Does every `return` of `func` hand back a response object it builds
        (`RedirectResponse(...)`, `templates.TemplateResponse(...)`, or a local name bound
        only to such calls)? FastAPI sends those as they are: no model applies."""
        returns = [r for r in find_nodes(func.body, (cst.Return,)) if isinstance(r, cst.Return)]
        if not returns:
            return False
        built: dict[str, bool] = {}  # local name -> bound only to response calls so far
        constructed: set[str] = set()  # local names bound to a response built here
        for node in find_nodes(func.body, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
            targets = ([t.target for t in node.targets] if isinstance(node, cst.Assign)
                       else [node.target])  # type: ignore[union-attr]
            value = node.value  # type: ignore[union-attr]
            for target in targets:
                if isinstance(target, cst.Name):
                    name = target.value
                    made = (not isinstance(node, cst.AugAssign) and value is not None
                            and self._builds_response(value, func))
                    if made:
                        constructed.add(name)
                    ok = made or (value is not None and _passes_through(value, name))
                    built[name] = built.get(name, True) and ok
        for ret in returns:
            value = ret.value
            if isinstance(value, cst.Name):
                if not (built.get(value.value, False) and value.value in constructed):
                    return False
            elif value is None or not self._builds_response(value, func):
                return False
        return True

    def _builds_response(self, value: cst.BaseExpression, func: cst.FunctionDef) -> bool:
        if not isinstance(value, cst.Call):
            return False
        func_ = value.func
        if isinstance(func_, cst.Attribute) and func_.attr.value == "TemplateResponse":
            return True  # Jinja2Templates(...).TemplateResponse, however the templates are had
        qualified = self.ctx.qualified_name_in(func_, func)
        if qualified is None:
            return False
        module, _, name = qualified.rpartition(".")
        return ((module in _RESPONSE_MODULES and name.endswith("Response"))
                or name.endswith(_RESPONSE_CLASS_NAMES))

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
