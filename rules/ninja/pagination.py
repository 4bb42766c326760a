"""PYS602 ninja-unpaginated-list: a list operation that returns a whole queryset unpaginated."""

from __future__ import annotations

import libcst as cst

from pystd.rules.context import FileContext, dotted_name
from pystd.rules.engine import Category, Example, Severity, register
from pystd.rules.ninja.operations import (
    PAGINATE,
    PAGINATE_IMPORT,
    PAGINATION_DOCS,
    NinjaRule,
    operation_decorators,
)
from pystd.rules.ninja.querysets import Bindings, returns_queryset
from pystd.rules.nodes import keyword
from pystd.rules.walker import find_nodes

LIST_TYPES = frozenset({"typing.List", "builtins.list"})


def _returns(func: cst.FunctionDef) -> list[cst.Return]:
    return [r for r in find_nodes(func.body, (cst.Return,)) if isinstance(r, cst.Return)]


@register
class NinjaUnpaginatedList(NinjaRule):
    code = "PYS602"
    name = "ninja-unpaginated-list"
    severity = Severity.WARNING
    category = Category.PERFORMANCE
    default = False
    rationale = (
        "A whole queryset as a list response grows with the table, but small lookup tables "
        "are returned whole on purpose. Opt-in."
    )
    message = ("Ninja operation `{name}` returns a whole queryset as its list response: "
               "add `@paginate`")
    requires = ("ninja",)
    docs = f"""
## What it does
Flags a Django Ninja operation (`@api.get(...)`, `@router.get(...)` … on a `NinjaAPI` or
`ninja.Router` bound in the module) declared with `response=List[...]` (`typing.List`,
resolved through imports) or `response=list[...]` whose body returns a queryset — a
`<Model>.objects…` chain such as `Book.objects.filter(...).order_by(...)`, or a local name
assigned only such chains (`qs = Book.objects.all()`, `qs = qs.filter(...)`) — and that is
not decorated with `@paginate` (`ninja.pagination.paginate`, bare or with a pagination
class). Never flagged: paginated operations (also under a decorator of your own whose name
says `paginat…`), querysets evaluated first (`list(qs)`, a comprehension), chains bounded by
a slice (`[:50]`), and `response={{200: List[...]}}` mappings.

## Why is this bad?
Without pagination, the operation serializes every row the queryset matches: response
time, memory and payload grow with the table until the endpoint times out, and one client
can make the server read the whole table per request. Django Ninja's pagination
({PAGINATION_DOCS}) evaluates only the requested page and adds `limit`/`offset` (or
`page`) parameters and a `count` to the response.

## Example
```python
@api.get("/books", response=List[BookOut])
def list_books(request):
    return Book.objects.order_by("title")
```

## Use instead
```python
from ninja.pagination import paginate

@api.get("/books", response=List[BookOut])
@paginate
def list_books(request):
    return Book.objects.order_by("title")
```
The response becomes `{{"items": [...], "count": N}}`: clients must expect the wrapper.

## Fix
Adds `@paginate` directly below the operation decorator and
`from ninja.pagination import paginate` when the module lacks it (no fix when the name
`paginate` is already bound to something else).

## Suppress
`# noqa: PYS602` on the decorator line, for a table that stays small by design.
"""
    bad = (
        Example(
            """
            from typing import List

            from ninja import NinjaAPI, Schema

            from library.models import Book

            api = NinjaAPI()


            class BookOut(Schema):
                title: str


            @api.get('/books', response=List[BookOut])  # flagged
            def list_books(request):
                return Book.objects.order_by('title')
            """,
            fixed="""
            from typing import List

            from ninja import NinjaAPI, Schema

            from library.models import Book
            from ninja.pagination import paginate

            api = NinjaAPI()


            class BookOut(Schema):
                title: str


            @api.get('/books', response=List[BookOut])  # flagged
            @paginate
            def list_books(request):
                return Book.objects.order_by('title')
            """,
        ),
        Example(
            """
            from ninja import Router, Schema

            from library.models import Book

            router = Router()


            class BookOut(Schema):
                title: str


            @router.get('/books', response=list[BookOut])  # flagged
            def search(request, q: str = ''):
                books = Book.objects.all()
                if q:
                    books = books.filter(title__icontains=q)
                return books
            """,
            fixed="""
            from ninja import Router, Schema

            from library.models import Book
            from ninja.pagination import paginate

            router = Router()


            class BookOut(Schema):
                title: str


            @router.get('/books', response=list[BookOut])  # flagged
            @paginate
            def search(request, q: str = ''):
                books = Book.objects.all()
                if q:
                    books = books.filter(title__icontains=q)
                return books
            """,
        ),
    )
    good = (
        """
        from typing import List

        from ninja import NinjaAPI, Schema
        from ninja.pagination import paginate

        from library.models import Book

        api = NinjaAPI()


        class BookOut(Schema):
            title: str


        @api.get('/books', response=List[BookOut])
        @paginate
        def list_books(request):
            return Book.objects.order_by('title')
        """,
        """
        from ninja import NinjaAPI, Schema

        from library.models import Book

        api = NinjaAPI()


        class BookOut(Schema):
            title: str


        @api.get('/books/latest', response=list[BookOut])
        def latest(request):
            return Book.objects.order_by('-published')[:10]
        """,
    )

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return "ninja" in ctx.frameworks and ".objects" in ctx.source

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        owners = self.ninja.operation_owners
        if not owners or not node.decorators or self._paginated(node):
            return
        for dec, call in operation_decorators(node, owners):
            response = keyword(call, "response")
            if response is None or not self._is_list_type(response.value):
                continue
            if not self._returns_queryset(node):
                return
            self.report(dec, self.message.format(name=node.name.value),
                        replace=self._fix(node, dec), imports=(PAGINATE_IMPORT,))
            return

    def _paginated(self, func: cst.FunctionDef) -> bool:
        for dec in func.decorators:
            target = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
            if self.ctx.qualified_name(target) == PAGINATE:
                return True
            # A project's own pagination decorator: trust the name rather than flag it.
            name = dotted_name(target) or ""
            if "paginat" in name.rpartition(".")[2].lower():
                return True
        return False

    def _is_list_type(self, value: cst.BaseExpression) -> bool:
        return (isinstance(value, cst.Subscript)
                and self.ctx.qualified_name(value.value) in LIST_TYPES)

    def _returns_queryset(self, func: cst.FunctionDef) -> bool:
        bindings: Bindings | None = None
        for ret in _returns(func):
            if ret.value is None:
                continue
            if bindings is None:
                bindings = Bindings(func)
            if returns_queryset(ret.value, bindings):
                return True
        return False

    def _fix(self, func: cst.FunctionDef, dec: cst.Decorator
             ) -> tuple[cst.CSTNode, cst.CSTNode] | None:
        """`@paginate` right below the operation decorator."""
        if self.ninja.paginate_taken:
            return None
        decorators: list[cst.Decorator] = []
        for d in func.decorators:
            decorators.append(d)
            if d is dec:
                decorators.append(cst.Decorator(decorator=cst.Name("paginate")))
        return func, func.with_changes(decorators=decorators)
