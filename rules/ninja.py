"""PYS6xx: Django Ninja rules.

The operation rules (PYS601, PYS602) look only at decorators of names the module itself
binds to `ninja.NinjaAPI(...)` or `ninja.Router(...)` (resolved through imports, also through
a subclass declared in the module). FastAPI's `APIRouter`, DRF's routers and anything else
spelled `router.get` are never touched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from rules.context import FileContext, dotted_name
from rules.django import EVALUATING
from rules.engine import Category, Example, Rule, Severity, register
from rules.nodes import keyword
from rules.responses import ResponseEvidence, is_none_literal
from rules.walker import find_nodes

RESPONSE_DOCS = "https://django-ninja.dev/guides/response/"
PAGINATION_DOCS = "https://django-ninja.dev/guides/response/pagination/"
TUTORIAL_DOCS = "https://django-ninja.dev/tutorial/"

NINJA_APIS = frozenset({"ninja.NinjaAPI", "ninja.main.NinjaAPI"})
NINJA_ROUTERS = frozenset({"ninja.Router", "ninja.router.Router"})
OPERATIONS = frozenset({"get", "post", "put", "patch", "delete", "api_operation"})
PAGINATE = "ninja.pagination.paginate"
PAGINATE_IMPORT = "from ninja.pagination import paginate"
LIST_TYPES = frozenset({"typing.List", "builtins.list"})
# Django's response classes live here; `HttpResponse*`, `JsonResponse`, `FileResponse`,
# `StreamingHttpResponse`, `TemplateResponse` are all named `...Response...`.
_RESPONSE_MODULES = ("django.http.", "django.template.response.")
# Shortcuts that return an `HttpResponse`.
RESPONSE_SHORTCUTS = frozenset({"django.shortcuts.render", "django.shortcuts.redirect"})
_OPTIONAL = frozenset({"typing.Optional", "typing.Union"})
# Methods that end a lazy queryset chain (they run the query and return something else).
_NOT_LAZY = EVALUATING | {"a" + m for m in EVALUATING} | {"contains", "explain", "raw"}
URL_FUNCTIONS = frozenset({"django.urls.path", "django.urls.conf.path"})
REGEX_URL_FUNCTIONS = frozenset({"django.urls.re_path", "django.urls.conf.re_path",
                                 "django.conf.urls.url"})
# Words in an imported name that say "this is an API object" (PYS603).
_API_WORDS = frozenset({"api", "apis", "ninja"})
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def is_django_response(qualified: str | None) -> bool:
    """`django.http.HttpResponse`, `django.http.JsonResponse`, `django.http.response.
    FileResponse`, `django.template.response.TemplateResponse` …"""
    if qualified is None or not qualified.startswith(_RESPONSE_MODULES):
        return False
    return "Response" in qualified.rpartition(".")[2]


@dataclass
class NinjaModule:
    """What the module's top level binds: Ninja objects, response classes, `paginate`."""

    apis: set[str] = field(default_factory=set)
    routers: set[str] = field(default_factory=set)
    responses: set[str] = field(default_factory=set)  # local HttpResponse subclasses
    paginate_taken: bool = False  # `paginate` bound to something other than Ninja's

    @property
    def operation_owners(self) -> set[str]:
        return self.apis | self.routers


def analyse(ctx: FileContext, module: cst.Module) -> NinjaModule:
    """One pass over the module's top-level statements (never into functions)."""
    out = NinjaModule()
    api_classes, router_classes = set(NINJA_APIS), set(NINJA_ROUTERS)

    def kind_of(expr: cst.BaseExpression) -> str | None:
        qualified = ctx.qualified_name(expr)
        name = expr.value if isinstance(expr, cst.Name) else None
        if qualified in api_classes or (qualified is None and name in api_classes):
            return "api"
        if qualified in router_classes or (qualified is None and name in router_classes):
            return "router"
        return None

    for stmt in module.body:
        if isinstance(stmt, cst.ClassDef):
            name = stmt.name.value
            for base in stmt.bases:
                kind = kind_of(base.value)
                if kind == "api":
                    api_classes.add(name)
                elif kind == "router":
                    router_classes.add(name)
                elif is_django_response(ctx.qualified_name(base.value)) or (
                        isinstance(base.value, cst.Name) and base.value.value in out.responses):
                    out.responses.add(name)
            out.paginate_taken |= name == "paginate"
        elif isinstance(stmt, cst.FunctionDef):
            out.paginate_taken |= stmt.name.value == "paginate"
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                _bind(small, kind_of, out)
    if ctx.imports.get("paginate", PAGINATE) != PAGINATE:
        out.paginate_taken = True
    return out


def _bind(small: cst.BaseSmallStatement, kind_of: Callable[[cst.BaseExpression], str | None],
          out: NinjaModule) -> None:
    targets: list[cst.BaseExpression] = []
    value: cst.BaseExpression | None = None
    if isinstance(small, cst.Assign):
        targets, value = [t.target for t in small.targets], small.value
    elif isinstance(small, cst.AnnAssign):
        targets, value = [small.target], small.value
    names = [t.value for t in targets if isinstance(t, cst.Name)]
    if "paginate" in names:
        out.paginate_taken = True
    if isinstance(value, cst.Call):
        kind = kind_of(value.func)
        if kind == "api":
            out.apis.update(names)
        elif kind == "router":
            out.routers.update(names)


def operation_decorators(func: cst.FunctionDef, owners: set[str]
                         ) -> list[tuple[cst.Decorator, cst.Call]]:
    """`@api.get(...)`, `@router.post(...)`, `@api.api_operation(...)` on a Ninja object."""
    out = []
    for dec in func.decorators:
        call = dec.decorator
        if (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
                and call.func.attr.value in OPERATIONS and isinstance(call.func.value, cst.Name)
                and call.func.value.value in owners):
            out.append((dec, call))
    return out


def has_double_star(call: cst.Call) -> bool:
    """`**options` may carry any keyword: the decorator's arguments are unknown."""
    return any(arg.star == "**" for arg in call.args)


def _returns(func: cst.FunctionDef) -> list[cst.Return]:
    return [r for r in find_nodes(func.body, (cst.Return,)) if isinstance(r, cst.Return)]


class _NinjaRule(Rule):
    """Shared setup: the module's Ninja objects, known before any function is visited."""

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self.ninja = NinjaModule()

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return "ninja" in ctx.frameworks

    def visit_Module(self, node: cst.Module) -> None:
        self.ninja = analyse(self.ctx, node)


# == PYS601 ninja-missing-response-schema ==============================================


@register
class NinjaMissingResponseSchema(_NinjaRule):
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


# == PYS602 ninja-unpaginated-list =====================================================


@dataclass(frozen=True, slots=True)
class _Chain:
    """A lazy queryset-like chain: its root, whether a slice bounds it, and its calls."""

    root: cst.BaseExpression
    bounded: bool
    calls: int


def lazy_chain(expr: cst.BaseExpression) -> _Chain | None:
    """Walk `X.objects.filter(...).order_by(...)[a:b]` down to its root; None when a link
    evaluates the query (`.get()`, `.count()`, `[0]` …)."""
    bounded, calls = False, 0
    while True:
        if isinstance(expr, cst.Call):
            func = expr.func
            if not isinstance(func, cst.Attribute) or func.attr.value in _NOT_LAZY:
                return None
            calls += 1
            expr = func.value
        elif isinstance(expr, cst.Subscript):
            if len(expr.slice) != 1 or not isinstance(expr.slice[0].slice, cst.Slice):
                return None
            bounded |= expr.slice[0].slice.upper is not None
            expr = expr.value
        else:
            return _Chain(expr, bounded, calls)


def is_manager(expr: cst.BaseExpression) -> bool:
    """`Book.objects` or `models.Book.objects`: a CapWords class's default manager."""
    if not (isinstance(expr, cst.Attribute) and expr.attr.value == "objects"):
        return False
    owner = expr.value
    last = owner.attr.value if isinstance(owner, cst.Attribute) else getattr(owner, "value", "")
    return dotted_name(owner) is not None and last[:1].isupper()


class _Bindings:
    """How a function's local names are bound: plain `name = value` assignments are kept;
    a name bound any other way (loop target, `with … as`, `+=`, a parameter …) is unknown."""

    def __init__(self, func: cst.FunctionDef) -> None:
        self.values: dict[str, list[cst.BaseExpression]] = {}
        self.unknown: set[str] = {p.name.value for p in find_nodes(func.params, (cst.Param,))
                                  if isinstance(p, cst.Param)}
        kinds = (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.For, cst.WithItem, cst.NamedExpr,
                 cst.ExceptHandler, cst.Global, cst.Nonlocal, cst.Del, cst.FunctionDef,
                 cst.ClassDef, cst.ImportAlias, cst.MatchAs)
        for node in find_nodes(func.body, kinds):
            if isinstance(node, cst.Assign):
                for target in node.targets:
                    if isinstance(target.target, cst.Name):
                        self.values.setdefault(target.target.value, []).append(node.value)
                    else:
                        self._forget(target.target)
            elif isinstance(node, cst.AnnAssign) and isinstance(node.target, cst.Name):
                if node.value is not None:
                    self.values.setdefault(node.target.value, []).append(node.value)
            else:
                self._forget(node)

    def _forget(self, node: cst.CSTNode) -> None:
        targets: list[cst.CSTNode] = []
        if isinstance(node, (cst.AugAssign, cst.For, cst.NamedExpr, cst.Del, cst.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            targets = [node.asname.name]
        elif isinstance(node, (cst.ExceptHandler, cst.MatchAs)) and node.name is not None:
            targets = [node.name]
        elif isinstance(node, (cst.Global, cst.Nonlocal)):
            targets = [n.name for n in node.names]
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            targets = [node.name]
        elif isinstance(node, cst.ImportAlias):
            targets = [node.asname.name if node.asname is not None else node.name]
        else:
            targets = [node]
        for target in targets:
            if isinstance(target, cst.Name):
                self.unknown.add(target.value)
            for name in find_nodes(target, (cst.Name,)):
                assert isinstance(name, cst.Name)
                self.unknown.add(name.value)


def returns_queryset(expr: cst.BaseExpression, bindings: _Bindings,
                     seen: frozenset[str] = frozenset()) -> bool:
    """Is `expr` an unsliced queryset: a `<Model>.objects…` chain with at least one call,
    or a local name every assignment of which is one (or refines it: `qs = qs.filter()`)?"""
    chain = lazy_chain(expr)
    if chain is None or chain.bounded:
        return False
    root = chain.root
    if is_manager(root):
        return chain.calls > 0
    if not isinstance(root, cst.Name) or root.value in seen or root.value in bindings.unknown:
        return False
    values = bindings.values.get(root.value, [])
    sourced = False
    for value in values:
        link = lazy_chain(value)
        if link is None or link.bounded:
            return False
        if isinstance(link.root, cst.Name) and link.root.value == root.value:
            continue  # `qs = qs.filter(...)` refines itself
        if not returns_queryset(value, bindings, seen | {root.value}):
            return False
        sourced = True
    return sourced


@register
class NinjaUnpaginatedList(_NinjaRule):
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
        bindings: _Bindings | None = None
        for ret in _returns(func):
            if ret.value is None:
                continue
            if bindings is None:
                bindings = _Bindings(func)
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


# == PYS603 ninja-api-at-root ==========================================================


def _words(name: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(name)}


def _rooted_route(string: cst.SimpleString, regex: bool) -> cst.SimpleString:
    """`""` -> `"api/"`, `r"^"` -> `r"^api/"`, keeping the prefix and the quotes."""
    text = string.value
    prefix = text[: len(text) - len(text.lstrip("rRbBuU"))]
    quote = text[len(prefix):][:3] if text[len(prefix):][:3] in ('"""', "'''") else text[len(prefix)]
    return string.with_changes(value=f"{prefix}{quote}{'^api/' if regex else 'api/'}{quote}")


@register
class NinjaApiAtRoot(Rule):
    code = "PYS603"
    name = "ninja-api-at-root"
    severity = Severity.INFO
    category = Category.STYLE
    default = False
    rationale = "Where the API is mounted is the project's choice. Opt-in."
    message = "`{api}.urls` is mounted at the site root: mount it under a prefix such as `api/`"
    requires = (".urls",)
    docs = f"""
## What it does
In a URLconf module (`urls.py`), flags `path("", api.urls)` — also `re_path("", …)` /
`re_path(r"^", …)`, `url(r"^", …)` and the `route=`/`view=` keywords — where `api` is a
name bound to `ninja.NinjaAPI(...)` in that module, or a name imported from elsewhere
(`from .api import api`) that reads as an API object: its name or its module path has the
word `api`, `apis` or `ninja` in it (`api`, `public_api`, `from core.api import v1`). Other
`.urls` objects — an admin site (`admin_site.urls`, `admin.site.urls`), DRF routers — are
never flagged, nor is `path("api/", api.urls)`.

## Why is this bad?
At the root, the API's operations share one URL space with the rest of the site: an
operation and a Django view can shadow each other depending on the order of
`urlpatterns`, the interactive docs land on the site's own `/docs` and the schema on
`/openapi.json`, and there is no prefix to version (`api/v2/`), proxy, rate-limit or
exempt from middleware as a whole. Django Ninja's tutorial ({TUTORIAL_DOCS}) mounts the API
with `path("api/", api.urls)`.

## Example
```python
urlpatterns = [
    path("", api.urls),
]
```

## Use instead
```python
urlpatterns = [
    path("api/", api.urls),
]
```

## Fix
`path("", api.urls)` -> `path("api/", api.urls)` (`r"^"` -> `r"^api/"` for regex routes);
no fix when the module already routes `api/` elsewhere. Clients and the docs URL move to
`/api/...`.

## Suppress
`# noqa: PYS603` on the line, for a service whose whole site is the API.
"""
    bad = (
        Example(
            """
            from django.urls import path

            from .api import api

            urlpatterns = [
                path('', api.urls),  # flagged
            ]
            """,
            "mysite/urls.py",
            fixed="""
            from django.urls import path

            from .api import api

            urlpatterns = [
                path('api/', api.urls),  # flagged
            ]
            """,
        ),
        Example(
            """
            from django.urls import path
            from ninja import NinjaAPI

            api = NinjaAPI()

            urlpatterns = [
                path("", api.urls),  # flagged
            ]
            """,
            "mysite/urls.py",
            fixed="""
            from django.urls import path
            from ninja import NinjaAPI

            api = NinjaAPI()

            urlpatterns = [
                path("api/", api.urls),  # flagged
            ]
            """,
        ),
    )
    good = (
        Example(
            """
            from django.urls import path

            from .api import api

            urlpatterns = [
                path('api/', api.urls),
            ]
            """,
            "mysite/urls.py",
        ),
        Example(
            """
            from django.urls import path

            from .admin import admin_site

            urlpatterns = [
                path('', admin_site.urls),
            ]
            """,
            "backoffice/urls.py",
        ),
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._apis: set[str] = set()

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return ctx.kind.is_urls and "django" in ctx.frameworks

    def visit_Module(self, node: cst.Module) -> None:
        self._apis = analyse(self.ctx, node).apis

    def visit_Call(self, node: cst.Call) -> None:
        func_name = node.func.attr.value if isinstance(node.func, cst.Attribute) else getattr(
            node.func, "value", None)
        if func_name not in ("path", "re_path", "url"):
            return
        qualified = self.ctx.qualified_name(node.func)
        regex = qualified in REGEX_URL_FUNCTIONS
        if not regex and qualified not in URL_FUNCTIONS:
            return
        positional = [a for a in node.args if a.keyword is None and not a.star]
        route = keyword(node, "route") or (positional[0] if positional else None)
        view = keyword(node, "view") or (positional[1] if len(positional) >= 2 else None)
        if route is None or view is None or not isinstance(route.value, cst.SimpleString):
            return
        if route.value.evaluated_value not in (("", "^") if regex else ("",)):
            return
        target = view.value
        if not (isinstance(target, cst.Attribute) and target.attr.value == "urls"
                and isinstance(target.value, cst.Name) and self._is_api(target.value.value)):
            return
        message = self.message.format(api=target.value.value)
        if re.search(r"""['"]\^?api/['"]""", self.ctx.source):
            self.report(node, message)  # `api/` is taken: the fix would collide
            return
        self.report(node, message, replace=(route.value, _rooted_route(route.value, regex)))

    def _is_api(self, name: str) -> bool:
        if name in self._apis:
            return True
        imported = self.ctx.imports.get(name)
        if imported is None or "." not in imported.strip("."):
            return False  # not imported, or `import api` (a module has no `.urls` API)
        words = _words(name)
        for part in imported.split("."):
            words |= _words(part)
        return bool(words & _API_WORDS)
