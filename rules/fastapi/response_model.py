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

# `status.HTTP_204_NO_CONTENT` (fastapi.status, starlette.status), `HTTPStatus.NO_CONTENT`.
_NO_CONTENT = frozenset({"HTTP_204_NO_CONTENT", "NO_CONTENT"})


def is_no_content(node: cst.BaseExpression) -> bool:
    """`204`, `status.HTTP_204_NO_CONTENT` or `HTTPStatus.NO_CONTENT`."""
    if isinstance(node, cst.Integer):
        return node.evaluated_value == 204
    return dotted_tail(node) in _NO_CONTENT


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
`default_response_class=`), and operations annotated to return a `Response` subclass are
left alone, as is `response_model=None` written out.

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
        self.report(node.name, self.message.format(name=op.name))

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
