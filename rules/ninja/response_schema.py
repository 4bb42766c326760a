"""PYS601 ninja-missing-response-schema: an operation with no `response=` schema."""

from __future__ import annotations

import libcst as cst

from pystd.rules.context import FileContext
from pystd.rules.engine import Category, Severity, register
from pystd.rules.ninja.operations import (
    RESPONSE_DOCS,
    NinjaRule,
    has_double_star,
    is_django_response,
    operation_decorators,
)
from pystd.rules.nodes import keyword
from pystd.rules.responses import ResponseEvidence, is_none_literal

# Shortcuts that return an `HttpResponse`.
RESPONSE_SHORTCUTS = frozenset({"django.shortcuts.render", "django.shortcuts.redirect"})
_OPTIONAL = frozenset({"typing.Optional", "typing.Union"})


@register
class NinjaMissingResponseSchema(NinjaRule):
    code = "PYS601"
    name = "ninja-missing-response-schema"
    severity = Severity.INFO
    category = Category.STYLE
    default = False
    rationale = (
        "A response schema documents and filters output, but operations returning an "
        "`HttpResponse` do not need one (issue #9). Opt-in."
    )
    message = ("Ninja operation `{name}` declares no `response=` schema: its output is not "
               "validated, filtered or documented")
    requires = ("ninja",)
    docs = f"""
## What it does
Flags a Django Ninja operation decorator — `@api.get/post/put/patch/delete(...)`,
`@api.api_operation(...)`, and the same on a router — without `response=`, where `api` is
bound to `ninja.NinjaAPI(...)` and `router` to `ninja.Router(...)` in the module (import
aliases and subclasses declared in the module are resolved). Operations annotated to return
a Django response (`-> HttpResponse`, `JsonResponse`, `StreamingHttpResponse`,
`FileResponse`, a subclass declared in the module, also `Optional[...]`/`X | None`) are
never flagged, nor are operations every `return <value>` of which hands back such a
response: no schema applies to them. A returned value is a response when it is built
there (`HttpResponse(...)`, `render(...)`, `redirect(...)`, Ninja's
`api.create_response(request, ...)`), returned by a function of the module annotated to
return one or returning only ones, a class named `...Response` built with
`content_type=` (`CSVResponse(rows, content_type="text/csv")`), or a local name bound to
a call and then used as a response (a header set by item, `response["Content-Disposition"] = ...`, or a cookie set
on it). Operations that return nothing (a bare `return`, `return None`, no `return`) are
not flagged either: there is no output to describe.
Decorators of other objects (FastAPI's `APIRouter`, DRF routers) are never looked at.

## Why is this bad?
Without `response=`, whatever the operation returns goes to the renderer as-is: nothing
is validated, nothing is filtered out (return a model or a dict and every field leaves,
password hashes included), and the OpenAPI document says nothing about the response.
Django Ninja's "Response Schema" guide ({RESPONSE_DOCS}) lists what the schema buys:
conversion, validation, documentation and, "most importantly", limiting the output to
the declared fields.

## Example
```python
@api.get("/users/{{user_id}}")
def get_user(request, user_id: int):
    return get_object_or_404(User, id=user_id)
```

## Use instead
```python
class UserOut(Schema):
    id: int
    username: str

@api.get("/users/{{user_id}}", response=UserOut)
def get_user(request, user_id: int):
    return get_object_or_404(User, id=user_id)
```
Several status codes: `response={{200: UserOut, 404: Message}}`; no body:
`response={{204: None}}`.

## Suppress
`# noqa: PYS601` on the decorator line.
"""
    bad = (
        """
        from ninja import NinjaAPI

        api = NinjaAPI()


        @api.get('/ping')  # flagged
        def ping(request):
            return {'ping': 'pong'}
        """,
        """
        from ninja import Router

        router = Router()


        @router.post('/items')  # flagged
        def create_item(request, name: str):
            return {'name': name}
        """,
    )
    good = (
        """
        from ninja import NinjaAPI, Schema

        api = NinjaAPI()


        class Pong(Schema):
            ping: str


        @api.get('/ping', response=Pong)
        def ping(request):
            return {'ping': 'pong'}
        """,
        """
        from django.http import HttpResponse
        from ninja import Router

        router = Router()


        @router.get('/robots.txt')
        def robots(request) -> HttpResponse:
            return HttpResponse('User-agent: *', content_type='text/plain')
        """,
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._evidence: ResponseEvidence | None = None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        owners = self.ninja.operation_owners
        if not owners or not node.decorators:
            return
        for dec, call in operation_decorators(node, owners):
            if keyword(call, "response") is not None or has_double_star(call):
                continue
            if self._returns_response(node):
                return
            self.report(dec, self.message.format(name=node.name.value))

    def _returns_response(self, func: cst.FunctionDef) -> bool:
        """Annotated as a response, or every `return <value>` hands back a response (or
        there is none: an operation that returns nothing has no output to describe)."""
        annotation = func.returns.annotation if func.returns is not None else None
        if annotation is not None and not is_none_literal(annotation):
            return self._is_response_type(annotation)
        if self._evidence is None:
            self._evidence = ResponseEvidence(
                self.ctx.module, lambda node, _func: self._is_response_type(node),
                self._builds_response)
        scopes = tuple(s for s in self.ctx.scopes if isinstance(s, cst.FunctionDef)
                       and s is not func)
        return self._evidence.only_responses_or_nothing(func, scopes)

    def _builds_response(self, value: cst.BaseExpression, func: cst.FunctionDef) -> bool:
        """`HttpResponse(...)`, `render(...)`, `redirect(...)`, a response subclass of the
        module, and Ninja's own `api.create_response(request, data, status=...)`."""
        if isinstance(value, cst.Await):
            value = value.expression
        if not isinstance(value, cst.Call):
            return False
        callee = value.func
        if isinstance(callee, cst.Attribute) and callee.attr.value == "create_response":
            return True
        return self._makes_response(callee, func)

    def _is_response_class(self, expr: cst.BaseExpression,
                           func: cst.FunctionDef | None = None) -> bool:
        if isinstance(expr, cst.Name) and expr.value in self.ninja.responses:
            return True
        return is_django_response(self._qualified(expr, func))

    def _makes_response(self, expr: cst.BaseExpression, func: cst.FunctionDef) -> bool:
        """Does calling `expr` build a response? Imports inside `func` count too (a
        `from django.http import HttpResponse` next to the only use is common)."""
        return (self._is_response_class(expr, func)
                or self._qualified(expr, func) in RESPONSE_SHORTCUTS)

    def _qualified(self, expr: cst.BaseExpression, func: cst.FunctionDef | None) -> str | None:
        if func is None:
            return self.ctx.qualified_name(expr)
        return self.ctx.qualified_name_in(expr, func)

    def _is_response_type(self, annotation: cst.BaseExpression) -> bool:
        """`HttpResponse`, `JsonResponse | None`, `Optional[FileResponse]`, `Union[...]`."""
        members = [m for m in self._union_members(annotation)
                   if not (isinstance(m, cst.Name) and m.value == "None")]
        return bool(members) and all(self._is_response_class(m) for m in members)

    def _union_members(self, node: cst.BaseExpression) -> list[cst.BaseExpression]:
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
            return [*self._union_members(node.left), *self._union_members(node.right)]
        if isinstance(node, cst.Subscript) and self.ctx.qualified_name(node.value) in _OPTIONAL:
            out: list[cst.BaseExpression] = []
            for element in node.slice:
                if not isinstance(element.slice, cst.Index):
                    return [node]
                out.extend(self._union_members(element.slice.value))
            return out
        return [node]
