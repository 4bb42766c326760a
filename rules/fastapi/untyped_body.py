"""PYS402 fastapi-untyped-body."""

from __future__ import annotations

import libcst as cst

from pystd.rules.engine import Category, Severity, register
from pystd.rules.fastapi.path_operations import (
    PathOperationRule,
    is_none,
    param_function,
)

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Annotations that say nothing about the body's shape.
_DICTS = frozenset({"builtins.dict", "typing.Dict"})
_ANY = frozenset({"typing.Any", "typing_extensions.Any"})
_OPTIONAL = frozenset({"typing.Optional"})
_UNION = frozenset({"typing.Union"})
_ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})


@register
class UntypedBody(PathOperationRule):
    code = "PYS402"
    name = "fastapi-untyped-body"
    severity = Severity.INFO
    category = Category.STYLE
    default = False
    rationale = (
        "A `dict` body is sometimes deliberate (webhooks, pass-through JSON); declaring a "
        "model is API design taste. Opt-in."
    )
    message = "Request body `{param}` is untyped: declare a Pydantic model for it"
    requires = ("dict", "Dict", "Any", "Body")
    docs = """
## What it does
In a FastAPI path operation serving POST, PUT or PATCH (`@app.post`, `@router.put`,
`@router.patch`, `@app.api_route(..., methods=["POST"])`), flags a parameter annotated
`dict`, `dict[...]`, `Dict[...]` or `Any` (also inside `Optional[...]`, `... | None` and
`Annotated[..., Body()]`), and a `Body()` parameter without a model: `data=Body(...)` with
no annotation. Parameters annotated with a Pydantic model, or any other class, are never
flagged; neither are dependencies (`= Depends(...)`), query, path, header, cookie, form
and file parameters, nor the path's own `{placeholders}`.

## Why is this bad?
A model is the request body's contract: FastAPI validates the JSON against it, answers
422 with the offending fields when it does not match, converts types, and documents the
body in OpenAPI. A `dict` accepts anything, so every handler re-validates by hand (or
forgets to) and a typo in a key becomes a `KeyError` and a 500. FastAPI's "Request Body"
tutorial (fastapi.tiangolo.com/tutorial/body/) declares the body as a Pydantic model for
exactly these reasons.

## Example
```python
@router.post("/items")
async def create_item(payload: dict) -> ItemOut:
    return await items.create(payload["name"], payload["price"])
```

## Use instead
```python
class ItemIn(BaseModel):
    name: str
    price: Decimal


@router.post("/items")
async def create_item(payload: ItemIn) -> ItemOut:
    return await items.create(payload.name, payload.price)
```

## Suppress
`# noqa: PYS402` on the parameter's line, for an endpoint that really takes free-form JSON
(a webhook receiver that stores the payload as is).
"""
    bad = (
        """
        from typing import Any

        from fastapi import APIRouter, Body

        router = APIRouter(tags=["items"])


        @router.post("/items")
        def create_item(
            payload: dict,  # flagged
        ) -> None:
            return None


        @router.put("/items/{item_id}")
        def replace_item(
            item_id: int,
            payload: Any,  # flagged
        ) -> None:
            return None


        @router.patch("/items/{item_id}")
        def update_item(item_id: int, payload=Body(...)) -> None:  # flagged
            return None
        """,
    )
    good = (
        """
        from fastapi import APIRouter
        from pydantic import BaseModel

        router = APIRouter(tags=["items"])


        class ItemIn(BaseModel):
            name: str


        @router.post("/items")
        def create_item(payload: ItemIn) -> ItemIn:
            return payload
        """,
        """
        from typing import Annotated

        from fastapi import APIRouter, Depends

        router = APIRouter(tags=["items"])


        def current_user() -> dict:
            return {"id": 1}


        @router.post("/items/{item_id}/star", status_code=204)
        def star(item_id: int, user: Annotated[dict, Depends(current_user)]) -> None:
            return None
        """,
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        op = self.apps.path_operation(node)
        if op is None or not op.serves(BODY_METHODS):
            return
        path_params = op.path_params
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.name.value not in path_params and self._untyped_body(param):
                shown = self.code_of(param.annotation.annotation) if param.annotation else ""
                text = f"{param.name.value}: {shown}" if shown else f"{param.name.value}=Body()"
                self.report(param, self.message.format(param=text))

    def _untyped_body(self, param: cst.Param) -> bool:
        default = param_function(self.ctx, param.default)
        if default is not None and default != "Body":
            return False  # a dependency, or a query/path/header/cookie/form/file parameter
        if param.annotation is None:
            return default == "Body"
        annotation = param.annotation.annotation
        if isinstance(annotation, cst.Subscript) and self._is(annotation.value, _ANNOTATED):
            parts = _elements(annotation)
            if not parts:
                return False
            if any(param_function(self.ctx, meta) not in (None, "Body") for meta in parts[1:]):
                return False
            annotation = parts[0]
        return self._untyped(annotation)

    def _untyped(self, annotation: cst.BaseExpression) -> bool:
        """`dict`, `dict[...]`, `Dict[...]` or `Any`, optionally with `None` allowed."""
        annotation = self._without_none(annotation)
        if isinstance(annotation, cst.Subscript):
            return self._is(annotation.value, _DICTS)
        return self._is(annotation, _DICTS | _ANY)

    def _without_none(self, annotation: cst.BaseExpression) -> cst.BaseExpression:
        """`X | None`, `None | X`, `Optional[X]`, `Union[X, None]` -> `X`."""
        if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator,
                                                                       cst.BitOr):
            if is_none(annotation.right):
                return annotation.left
            if is_none(annotation.left):
                return annotation.right
        elif isinstance(annotation, cst.Subscript):
            parts = _elements(annotation)
            if self._is(annotation.value, _OPTIONAL) and len(parts) == 1:
                return parts[0]
            if self._is(annotation.value, _UNION) and len(parts) == 2:
                others = [p for p in parts if not is_none(p)]
                if len(others) == 1:
                    return others[0]
        return annotation

    def _is(self, node: cst.BaseExpression, names: frozenset[str]) -> bool:
        return self.ctx.qualified_name(node) in names


def _elements(node: cst.Subscript) -> list[cst.BaseExpression]:
    """The expressions inside `X[...]` (empty if one is a slice)."""
    out: list[cst.BaseExpression] = []
    for element in node.slice:
        if not isinstance(element.slice, cst.Index):
            return []
        out.append(element.slice.value)
    return out
