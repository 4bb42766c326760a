"""PYS407 error-returned-as-success."""

from __future__ import annotations

import re

import libcst as cst

from pystd.rules.context import FileContext
from pystd.rules.engine import Category, Example, Severity, register
from pystd.rules.fastapi.path_operations import PathOperation, PathOperationRule, dotted_tail
from pystd.rules.nodes import keyword_arg, literal_string
from pystd.rules.walker import find_nodes

HTTP_EXCEPTIONS = frozenset({"fastapi.HTTPException", "fastapi.exceptions.HTTPException",
                             "starlette.exceptions.HTTPException"})
_IMPORT = "from fastapi import HTTPException"
# `status.HTTP_404_NOT_FOUND` and the like: a 4xx or 5xx status set in the decorator.
_ERROR_STATUS_NAME = re.compile(r"HTTP_[45]\d\d_")
_NO_ERROR = ("None", "False")


def _string_keys(node: cst.Dict) -> dict[str, cst.DictElement]:
    keys: dict[str, cst.DictElement] = {}
    for element in node.elements:
        if isinstance(element, cst.DictElement):
            key = literal_string(element.key)
            if key is not None:
                keys.setdefault(key, element)
    return keys


def _says_no_error(value: cst.BaseExpression) -> bool:
    """`"error": None` in an envelope like `{"data": ..., "error": None}` is a success."""
    if isinstance(value, cst.Name):
        return value.value in _NO_ERROR
    if isinstance(value, (cst.List, cst.Dict, cst.Tuple)):
        return not value.elements
    return literal_string(value) == ""


def _is_error_status(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Integer):
        value = node.evaluated_value
        return isinstance(value, int) and 400 <= value < 600
    return bool(_ERROR_STATUS_NAME.match(dotted_tail(node)))


@register
class ErrorReturnedAsSuccess(PathOperationRule):
    code = "PYS407"
    name = "error-returned-as-success"
    severity = Severity.WARNING
    category = Category.CORRECTNESS
    default = False
    rationale = (
        "A 200 response carrying an error hides failures from clients, but some APIs use an "
        "error envelope by design. Opt-in."
    )
    message = ("Path operation `{name}` returns an error with a success status: raise "
               "`HTTPException` instead")
    requires = ("error", "detail")
    docs = """
## What it does
Flags `return {...}` of a dict literal in the body of a FastAPI path operation when the
dict has an `"error"` key (not `"error": None`, the success case of an envelope), or a
`"detail"` key in a path operation that sets no status code: no `status_code=` in its
decorator and no `response.status_code = ...` in its body. Raising `HTTPException` is never
flagged, and neither is a path operation that sets an error status itself
(`response.status_code = 404`, or a 4xx/5xx `status_code=` in the decorator).

## Why is this bad?
FastAPI sends whatever a path operation returns with its success status, 200 by default.
The client, its HTTP library, caches, retries, monitoring and the OpenAPI docs all take the
error for a success; only code that knows to look inside the JSON notices. FastAPI's
"Handling Errors" tutorial (fastapi.tiangolo.com/tutorial/handling-errors/) reports errors
by raising `HTTPException` with the status code, which FastAPI turns into a JSON
`{"detail": ...}` response with that status.

## Example
```python
@router.get("/items/{item_id}")
def read_item(item_id: int) -> ItemOut:
    item = items.get(item_id)
    if item is None:
        return {"error": "Item not found"}
    return item
```

## Use instead
```python
@router.get("/items/{item_id}")
def read_item(item_id: int) -> ItemOut:
    item = items.get(item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return item
```

## Fix
`return {"error": msg}` (a dict with that one key) becomes
`raise HTTPException(status_code=400, detail=msg)`, adding `from fastapi import
HTTPException` when the module lacks it; adjust the status code if 400 is not the right
one. No fix is offered inside a `try` block, whose handlers could catch the exception.

## Suppress
`# noqa: PYS407` on the `return` line, for an API whose clients are contracted to read
errors from 200 responses.
"""
    bad = (
        Example(
            """
            from fastapi import APIRouter

            router = APIRouter(tags=["items"])
            ITEMS = {1: "a"}


            @router.get("/items/{item_id}")
            def read_item(item_id: int) -> dict[str, str]:
                if item_id not in ITEMS:
                    return {"error": "Item not found"}  # flagged
                return {"name": ITEMS[item_id]}
            """,
            fixed="""
            from fastapi import APIRouter
            from fastapi import HTTPException

            router = APIRouter(tags=["items"])
            ITEMS = {1: "a"}


            @router.get("/items/{item_id}")
            def read_item(item_id: int) -> dict[str, str]:
                if item_id not in ITEMS:
                    raise HTTPException(status_code=400, detail="Item not found")  # flagged
                return {"name": ITEMS[item_id]}
            """,
        ),
        """
        from fastapi import APIRouter

        router = APIRouter(tags=["items"])


        @router.post("/items")
        def create_item(name: str) -> dict[str, str]:
            if not name:
                return {"detail": "name is required"}  # flagged
            return {"name": name}
        """,
    )
    good = (
        """
        from fastapi import APIRouter, HTTPException

        router = APIRouter(tags=["items"])
        ITEMS = {1: "a"}


        @router.get("/items/{item_id}")
        def read_item(item_id: int) -> dict[str, str]:
            if item_id not in ITEMS:
                raise HTTPException(status_code=404, detail="Item not found")
            return {"name": ITEMS[item_id]}
        """,
        """
        from fastapi import APIRouter, Response

        router = APIRouter(tags=["items"])


        @router.post("/items")
        def create_item(name: str, response: Response) -> dict[str, str]:
            if not name:
                response.status_code = 422
                return {"detail": "name is required"}
            return {"name": name}
        """,
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._sets_status: dict[cst.FunctionDef, bool] = {}

    def visit_Return(self, node: cst.Return) -> None:
        value = node.value
        if not isinstance(value, cst.Dict):
            return
        keys = _string_keys(value)
        error, detail = keys.get("error"), keys.get("detail")
        if error is not None and _says_no_error(error.value):
            error = None
        if error is None and detail is None:
            return
        op = self.operation_around()
        if op is None or self._sets_status_itself(op):
            return
        if error is None and op.keyword("status_code") is not None:
            return  # `"detail"` with a status code the path operation chose
        message = self.message.format(name=op.name)
        fix = self._fix(node, value, error) if error is not None else None
        if fix is None:
            self.report(node, message)
        else:
            self.report(node, message, replace=(node, fix[0]), imports=fix[1])

    def _sets_status_itself(self, op: PathOperation) -> bool:
        """An error status in a decorator (`status_code=404`), or `x.status_code = ...` in
        the body."""
        status = op.keyword("status_code")
        if status is not None and _is_error_status(status.value):
            return True
        func = op.func
        if func not in self._sets_status:
            self._sets_status[func] = any(
                isinstance(t, cst.Attribute) and t.attr.value == "status_code"
                for stmt in find_nodes(func.body, (cst.Assign, cst.AnnAssign, cst.AugAssign))
                for t in _targets(stmt)
            )
        return self._sets_status[func]

    def _fix(self, node: cst.Return, value: cst.Dict, error: cst.DictElement
             ) -> tuple[cst.Raise, tuple[str, ...]] | None:
        if len(value.elements) != 1 or self._in_try():
            return None
        bound = self.ctx.imports.get("HTTPException")
        if bound is None and "HTTPException" in self.apps.bindings:
            return None  # defined in the module: not ours to call
        if bound is not None and bound not in HTTP_EXCEPTIONS:
            return None
        call = cst.Call(func=cst.Name("HTTPException"), args=[
            keyword_arg("status_code", cst.Integer("400")).with_changes(
                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            keyword_arg("detail", error.value),
        ])
        raise_ = cst.Raise(exc=call, semicolon=node.semicolon)
        return raise_, (() if bound is not None else (_IMPORT,))

    def _in_try(self) -> bool:
        """Is the node being visited inside a `try` statement of its function?"""
        for node in reversed(self.ctx.ancestors):
            if isinstance(node, (cst.FunctionDef, cst.Lambda)):
                return False
            if isinstance(node, (cst.Try, cst.TryStar)):
                return True
        return False


def _targets(stmt: cst.CSTNode) -> list[cst.BaseExpression]:
    if isinstance(stmt, cst.Assign):
        return [t.target for t in stmt.targets]
    if isinstance(stmt, (cst.AnnAssign, cst.AugAssign)):
        return [stmt.target]
    return []


