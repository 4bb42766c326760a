"""PYS205: synchronous ORM queries in async code, with fixes to the async query API."""

from __future__ import annotations

import libcst as cst

from pystd.rules.context import FileContext, bound_names
from pystd.rules.django.querysets import (
    DJANGO_PACKAGES,
    EVALUATING,
    chain_label,
    evaluation,
    is_values_chain,
    iterable_queryset,
    queryset_chain,
)
from pystd.rules.engine import Category, Example, Rule, Severity, register

# Those that return one model instance, and those that return `(instance, created)`.
RETURNS_INSTANCE = frozenset({"get", "create", "first", "last", "latest", "earliest"})
RETURNS_PAIR = frozenset({"get_or_create", "update_or_create"})
# Model instance methods that hit the database; async twins since Django 4.2.
INSTANCE_METHODS = frozenset({"save", "delete", "refresh_from_db"})
# Calls whose arguments run in a worker thread, not on the event loop.
OFFLOADING = frozenset(
    {
        "asgiref.sync.sync_to_async", "channels.db.database_sync_to_async", "asyncio.to_thread",
        "anyio.to_thread.run_sync", "starlette.concurrency.run_in_threadpool",
    }
)
_OFFLOADING_NAMES = frozenset({"sync_to_async", "database_sync_to_async", "run_in_executor"})
_SHORTCUT_NAMES = frozenset({"get_object_or_404", "aget_object_or_404"})
_SHORTCUTS = frozenset("django.shortcuts." + name for name in _SHORTCUT_NAMES)
_ITERATOR = frozenset({"iterator"})
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
# The first Django releases with the async twins (release notes): queryset methods and
# `async for` (4.1), model instance methods `asave`/`adelete`/`arefresh_from_db` (4.2).
QUERYSET_ASYNC_SINCE = "4.1"
INSTANCE_ASYNC_SINCE = "4.2"
OLD_DJANGO_MESSAGE = ("`{call}` runs a synchronous ORM query in async code: wrap it in "
                      "`sync_to_async(...)` (the async ORM API needs Django {since})")


def _async_twin(methods: frozenset[str]) -> frozenset[str]:
    return frozenset("a" + m for m in methods)


_ASYNC_INSTANCE = _async_twin(RETURNS_INSTANCE)
_ASYNC_PAIR = _async_twin(RETURNS_PAIR)


def _is_offloading(func: cst.BaseExpression, ctx: FileContext) -> bool:
    if ctx.qualified_name(func) in OFFLOADING:
        return True
    last = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
    return last in _OFFLOADING_NAMES


def _returns(value: cst.BaseExpression, ctx: FileContext, sync: frozenset[str],
             async_: frozenset[str]) -> bool:
    """Does `value` produce a model instance (or pair) through the ORM, sync or awaited?"""
    if evaluation(value, ctx, sync):
        return True
    if isinstance(value, cst.Await):
        inner = value.expression
        if evaluation(inner, ctx, async_):
            return True
        # `await sync_to_async(X.objects.get)(pk=1)`
        if (
            isinstance(inner, cst.Call)
            and isinstance(inner.func, cst.Call)
            and _is_offloading(inner.func.func, ctx)
            and inner.func.args
        ):
            target = inner.func.args[0].value
            return (
                isinstance(target, cst.Attribute)
                and target.attr.value in sync
                and queryset_chain(target.value, ctx)
            )
    return False


def _model_instance(value: cst.BaseExpression, ctx: FileContext) -> bool:
    if _returns(value, ctx, RETURNS_INSTANCE, _ASYNC_INSTANCE):
        return True
    call = value.expression if isinstance(value, cst.Await) else value
    if not isinstance(call, cst.Call):
        return False
    func = call.func
    name = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
    return name in _SHORTCUT_NAMES and ctx.qualified_name(func) in _SHORTCUTS


class _Where:
    """What lies between the node being visited and its enclosing `async def`."""

    __slots__ = ("class_body", "comprehensions", "generator", "offloaded")

    def __init__(self, ctx: FileContext) -> None:
        self.comprehensions = 0
        self.generator = self.offloaded = self.class_body = False
        ancestors = ctx.ancestors
        for i in range(len(ancestors) - 2, -1, -1):
            node = ancestors[i]
            if isinstance(node, cst.FunctionDef):
                break
            if isinstance(node, _COMPREHENSIONS):
                self.comprehensions += 1
                self.generator |= isinstance(node, cst.GeneratorExp)
            elif isinstance(node, cst.ClassDef):
                self.class_body = True
            elif (
                isinstance(node, cst.Call)
                and isinstance(ancestors[i + 1], cst.Arg)
                and _is_offloading(node.func, ctx)
            ):
                self.offloaded = True

    def allows_await(self) -> bool:
        """May an `await` go here without changing what the code means (or its syntax)?"""
        return not self.generator and self.comprehensions <= 1


def _awaited(call: cst.Call, original: cst.Call, parent: cst.CSTNode | None) -> cst.Await:
    """`await call` in place of `original`: its parentheses move outside the `await`, and
    it gains some where it is the object of `.attr` or `[...]` (`await` binds looser)."""
    if original.lpar:
        lpar, rpar = original.lpar, original.rpar
    elif isinstance(parent, (cst.Attribute, cst.Subscript)) and parent.value is original:
        lpar, rpar = [cst.LeftParen()], [cst.RightParen()]
    else:
        lpar, rpar = [], []
    return cst.Await(expression=call.with_changes(lpar=[], rpar=[]), lpar=lpar, rpar=rpar)


def _renamed(call: cst.Call, method: str) -> cst.Call:
    assert isinstance(call.func, cst.Attribute)
    return call.with_changes(func=call.func.with_changes(attr=cst.Name(method)))


@register
class SyncOrmInAsync(Rule):
    code = "PYS205"
    # Same query, awaited: the fix keeps what the code does.
    fix_safe = True
    name = "django-sync-orm-in-async"
    severity = Severity.ERROR
    category = Category.CORRECTNESS
    default = True
    rationale = (
        "A synchronous ORM query in async code raises SynchronousOnlyOperation at run time: a "
        "certain bug."
    )
    message = "`{call}` runs a synchronous ORM query in async code: use `{fix}`"
    # Every finding involves a `.objects` chain or an instance from `get_object_or_404`.
    requires = ("objects", "get_object_or_404")
    docs = """
## What it does
In async code (lexically inside an `async def`, not in a nested plain `def` or `lambda`)
of a Django module, flags ORM calls that run a query synchronously:
- `get`, `create`, `get_or_create`, `update_or_create`, `count`, `exists`, `first`, `last`,
  `latest`, `earliest`, `update`, `delete`, `aggregate`, `in_bulk`, `bulk_create`,
  `bulk_update` and `iterator` on a chain rooted at `<Model>.objects`;
- `list(qs)`, `for x in qs:` and comprehensions over such a chain;
- `save()`, `delete()` and `refresh_from_db()` on a model instance the same function got
  from the ORM (`obj = await Book.objects.aget(...)`, `obj = Book.objects.first()`,
  `for obj in Book.objects.all()`, `get_object_or_404(...)`).

Lazy building (`filter`, `exclude`, `order_by`, `select_related`, …), the `a`-prefixed API,
`async for`, awaited calls and anything handed to `sync_to_async(...)`/
`database_sync_to_async(...)` are fine.

## Why is this bad?
Django's ORM is synchronous. Called from a coroutine it would block the event loop and
every request sharing it, so Django refuses: it raises `SynchronousOnlyOperation: You
cannot call this from an async context`. The "Asynchronous support" documentation
(docs.djangoproject.com/en/stable/topics/async/#queries-the-orm) says to use the
asynchronous query API (`aget()`, `acreate()`, `async for`, Django 4.1+; `Model.asave()`,
`adelete()`, `arefresh_from_db()`, Django 4.2+) or to wrap synchronous code in asgiref's
`sync_to_async()`.

## Example
```python
async def publish(request, pk):
    book = Book.objects.get(pk=pk)
    book.published = True
    book.save()
    for author in Author.objects.filter(books=book):
        notify(author)
```

## Use instead
```python
async def publish(request, pk):
    book = await Book.objects.aget(pk=pk)
    book.published = True
    await book.asave()
    async for author in Author.objects.filter(books=book):
        notify(author)
```

## Fix
`X.objects.get(...)` becomes `await X.objects.aget(...)` (likewise `acreate`, `acount`,
`aexists`, `afirst`, `aupdate`, `adelete`, `aget_or_create`, …), `obj.save()` becomes
`await obj.asave()`, `list(qs)` becomes `[obj async for obj in qs]` and `for x in qs:`
becomes `async for x in qs:` (`qs.iterator()` becomes `qs.aiterator()` there). No fix is
offered where an `await` would turn a generator expression asynchronous.

## Versions
The query still raises on any Django, so the finding stays whatever the version; only the
advice follows it. On a project whose dependency files pin Django below 4.1 the message
says to wrap the call in `sync_to_async(...)` and no fix is offered (no async query API
there); below 4.2 the same holds for `save()`, `delete()` and `refresh_from_db()` on an
instance. An unknown version counts as current.

## Suppress
`# noqa: PYS205` on the line.
"""
    bad = (
        Example(
            """
            from django.http import JsonResponse
            from shop.models import Book


            async def detail(request, pk):
                book = Book.objects.get(pk=pk)  # flagged
                return JsonResponse({'title': book.title})
            """,
            fixed="""
            from django.http import JsonResponse
            from shop.models import Book


            async def detail(request, pk):
                book = await Book.objects.aget(pk=pk)  # flagged
                return JsonResponse({'title': book.title})
            """,
        ),
        Example(
            """
            from django.http import HttpResponse
            from shop.models import Book


            async def publish(request, pk):
                book = await Book.objects.aget(pk=pk)
                book.published = True
                book.save()  # flagged
                return HttpResponse(status=204)
            """,
            fixed="""
            from django.http import HttpResponse
            from shop.models import Book


            async def publish(request, pk):
                book = await Book.objects.aget(pk=pk)
                book.published = True
                await book.asave()  # flagged
                return HttpResponse(status=204)
            """,
        ),
        Example(
            """
            from django.http import JsonResponse
            from shop.models import Book


            async def titles(request):
                titles = []
                for book in Book.objects.filter(published=True):  # flagged
                    titles.append(book.title)
                return JsonResponse({'titles': titles})
            """,
            fixed="""
            from django.http import JsonResponse
            from shop.models import Book


            async def titles(request):
                titles = []
                async for book in Book.objects.filter(published=True):  # flagged
                    titles.append(book.title)
                return JsonResponse({'titles': titles})
            """,
        ),
        Example(
            """
            from django.http import JsonResponse
            from shop.models import Book


            async def stats(request):
                total = Book.objects.filter(published=True).count()  # flagged
                books = list(Book.objects.order_by('title')[:10])  # flagged
                return JsonResponse({'total': total, 'first': books[0].title})
            """,
            fixed="""
            from django.http import JsonResponse
            from shop.models import Book


            async def stats(request):
                total = await Book.objects.filter(published=True).acount()  # flagged
                books = [obj async for obj in Book.objects.order_by('title')[:10]]  # flagged
                return JsonResponse({'total': total, 'first': books[0].title})
            """,
        ),
    )
    good = (
        """
        from django.http import JsonResponse
        from shop.models import Book


        async def detail(request, pk):
            book = await Book.objects.aget(pk=pk)
            await book.asave()
            return JsonResponse({'title': book.title})
        """,
        """
        from django.http import JsonResponse
        from shop.models import Book


        async def titles(request):
            books = Book.objects.filter(published=True).order_by('title')
            return JsonResponse({'titles': [b.title async for b in books]})
        """,
        """
        from asgiref.sync import sync_to_async
        from shop.models import Book


        async def detail(pk):
            return await sync_to_async(Book.objects.get)(pk=pk)
        """,
        """
        from django.http import JsonResponse
        from shop.models import Book


        def detail(request, pk):
            return JsonResponse({'title': Book.objects.get(pk=pk).title})
        """,
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        # Per function (innermost last): names bound to a model instance from the ORM.
        self._instances: list[set[str]] = []

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return ctx.imports_module(*DJANGO_PACKAGES)

    # -- which names hold a model instance ----------------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._instances.append(set())

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._instances.pop()

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if not self._instances or not self.ctx.in_async():  # only async code is checked
            return
        names = self._instances[-1]
        bound = bound_names(target)
        for name in bound:
            names.discard(name)
        if value is None:
            return
        if isinstance(target, cst.Name) and _model_instance(value, self.ctx):
            names.add(target.value)
        elif (
            isinstance(target, (cst.Tuple, cst.List))
            and target.elements
            and isinstance(target.elements[0].value, cst.Name)
            and _returns(value, self.ctx, RETURNS_PAIR, _ASYNC_PAIR)
        ):
            names.add(target.elements[0].value.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target, node.value)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target, node.value)

    # -- findings --------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if (
                method in EVALUATING
                and self.ctx.in_async()
                and queryset_chain(func.value, self.ctx)
            ):
                self._query(node, method)
                return
            if method in INSTANCE_METHODS and self.ctx.in_async():
                self._instance_call(node, func, method)
        elif isinstance(func, cst.Name) and func.value == "list" and self.ctx.in_async():
            self._list(node)

    def _query(self, node: cst.Call, method: str) -> None:
        ctx = self.ctx
        parent = ctx.parent
        if isinstance(parent, cst.Await):
            return
        if method == "iterator" and isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node:
            return  # reported (and fixed) as the loop
        if method in RETURNS_INSTANCE and self._receiver_of_instance_call(node):
            return  # `X.objects.get(...).delete()`: reported once, as the outer call
        where = _Where(ctx)
        if where.offloaded or self._reported_for_old_django(node, chain_label(node)):
            return
        renamed = _renamed(node, "a" + method)
        if method == "iterator":
            fix = f"async for … in {chain_label(renamed)}"
        else:
            fix = f"await {chain_label(renamed)}"
        message = self.message.format(call=chain_label(node), fix=fix)
        if method == "iterator" or where.class_body or not where.allows_await():
            self.report(node, message)
            return
        self.report(node, message, replace=(node, _awaited(renamed, node, parent)))

    def _receiver_of_instance_call(self, node: cst.Call) -> bool:
        ancestors = self.ctx.ancestors
        if len(ancestors) < 4:
            return False
        attr, outer, above = ancestors[-2], ancestors[-3], ancestors[-4]
        return (
            isinstance(attr, cst.Attribute)
            and attr.value is node
            and attr.attr.value in INSTANCE_METHODS
            and isinstance(outer, cst.Call)
            and outer.func is attr
            and not isinstance(above, cst.Await)
        )

    def _instance_call(self, node: cst.Call, func: cst.Attribute, method: str) -> None:
        ctx = self.ctx
        receiver = func.value
        if isinstance(receiver, cst.Name):
            if not self._instances or receiver.value not in self._instances[-1]:
                return
            label = receiver.value
        elif _model_instance(receiver, ctx):
            label = "…"
        else:
            return
        message = self.message.format(call=f"{label}.{method}()", fix=f"await {label}.a{method}()")
        if isinstance(ctx.parent, cst.Await):
            return
        where = _Where(ctx)
        if where.offloaded or self._reported_for_old_django(node, f"{label}.{method}()",
                                                            INSTANCE_ASYNC_SINCE):
            return
        if where.class_body or not where.allows_await():
            self.report(node, message)
            return
        new_receiver: cst.BaseExpression = receiver
        if isinstance(receiver, cst.Call):  # `X.objects.get(pk=1).delete()`
            if not isinstance(receiver.func, cst.Attribute):  # `get_object_or_404(...)`
                self.report(node, message)
                return
            new_receiver = cst.Await(
                expression=_renamed(receiver, "a" + receiver.func.attr.value),
                lpar=[cst.LeftParen()], rpar=[cst.RightParen()],
            )
        renamed = node.with_changes(
            func=func.with_changes(value=new_receiver, attr=cst.Name("a" + method))
        )
        new = _awaited(renamed, node, ctx.parent)
        self.report(node, message, replace=(node, new))

    def _list(self, node: cst.Call) -> None:
        ctx = self.ctx
        if len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
            return
        queryset = node.args[0].value
        if not iterable_queryset(queryset, ctx) or ctx.qualified_name(node.func) != "builtins.list":
            return
        where = _Where(ctx)
        label = chain_label(queryset)
        if where.offloaded or self._reported_for_old_django(node, f"list({label})"):
            return
        message = self.message.format(call=f"list({label})", fix=f"[obj async for obj in {label}]")
        if where.comprehensions or where.class_body:
            self.report(node, message)
            return
        element = cst.Name("obj")
        new = cst.ListComp(
            elt=element,
            for_in=cst.CompFor(target=element, iter=queryset, asynchronous=cst.Asynchronous()),
            lpar=node.lpar, rpar=node.rpar,
        )
        self.report(node, message, replace=(node, new))

    def visit_For(self, node: cst.For) -> None:
        ctx = self.ctx
        iterable = node.iter
        over_queryset = iterable_queryset(iterable, ctx)
        iterator = not over_queryset and evaluation(iterable, ctx, _ITERATOR)
        # The loop variable holds model instances (unless `values()` made them dicts).
        self._bind(node.target, None)
        if (
            over_queryset
            and isinstance(node.target, cst.Name)
            and self._instances
            and not is_values_chain(iterable)
        ):
            self._instances[-1].add(node.target.value)
        if node.asynchronous is not None or not (over_queryset or iterator):
            return
        if not ctx.in_async() or self._reported_for_old_django(
                iterable, f"for … in {chain_label(iterable)}"):
            return
        where = _Where(ctx)
        new_iter = iterable
        if iterator:
            assert isinstance(iterable, cst.Call)
            new_iter = _renamed(iterable, "aiterator")
        message = self._loop_message(iterable, new_iter)
        if where.class_body:
            self.report(iterable, message)
            return
        new = node.with_changes(asynchronous=cst.Asynchronous(), iter=new_iter)
        self.report(iterable, message, replace=(node, new))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        ctx = self.ctx
        if node.asynchronous is not None or not ctx.in_async():
            return
        if not iterable_queryset(node.iter, ctx):
            return
        where = _Where(ctx)
        if where.offloaded or self._reported_for_old_django(
                node.iter, f"for … in {chain_label(node.iter)}"):
            return
        message = self._loop_message(node.iter, node.iter)
        comprehension = ctx.inside(*_COMPREHENSIONS)
        if where.comprehensions > 1 or where.class_body or isinstance(comprehension, cst.GeneratorExp):
            self.report(node.iter, message)
            return
        self.report(node.iter, message,
                    replace=(node, node.with_changes(asynchronous=cst.Asynchronous())))

    def _reported_for_old_django(self, node: cst.CSTNode, call: str,
                                 since: str = QUERYSET_ASYNC_SINCE) -> bool:
        """On a project known to run Django older than `since`, the async twin does not
        exist: report the call with `sync_to_async` advice and no fix (True: done)."""
        if not self.ctx.versions.below("django", since):
            return False
        self.report(node, OLD_DJANGO_MESSAGE.format(call=call, since=since))
        return True

    def _loop_message(self, iterable: cst.BaseExpression, new_iter: cst.BaseExpression) -> str:
        return self.message.format(call=f"for … in {chain_label(iterable)}",
                                   fix=f"async for … in {chain_label(new_iter)}")
