"""PYS203, PYS209: how querysets are built — `.extra()`, and N+1 loops over related objects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst

from pystd.rules.change.base import Change, ChangeModel
from pystd.rules.context import FileContext, bound_names
from pystd.rules.django.querysets import (
    EVALUATING,
    MANAGER,
    QUERYSET_METHODS,
    VALUES_METHODS,
    chain_label,
    chain_links,
    chain_methods,
    manager_of,
)
from pystd.rules.django.related import (
    change_models,
    import_module_of,
    same_module,
    with_inherited,
)
from pystd.rules.engine import Category, Example, Rule, Severity, register

# == PYS203 django-queryset-extra ======================================================


@register
class QuerysetExtra(Rule):
    code = "PYS203"
    name = "django-queryset-extra"
    severity = Severity.WARNING
    category = Category.UPGRADE
    default = False
    rationale = (
        "`.extra()` still works and Django keeps it for hard cases; replacing it is a "
        "refactor the team chooses, and interpolated SQL in it is PYS105's job. Opt-in."
    )
    message = "`.extra()` is Django's last-resort API: use `annotate()`/`F()`/`RawSQL` with params"
    requires = ("extra(",)
    docs = """
## What it does
Flags every `.extra(...)` call on a queryset chain that goes through a `.objects` manager:
`Book.objects.extra(...)`, `Book.objects.filter(...).extra(...)`,
`self.model.objects.extra(...)`, `get_user_model().objects.all().extra(...)`. `.extra()` on
anything else — a queryset held in a variable included — is not looked at.

## Why is this bad?
`extra()` splices raw SQL fragments into the query. Django's QuerySet reference
(docs.djangoproject.com/en/stable/ref/models/querysets/#extra) says: "Use this method as a
last resort. This is an old API that we aim to deprecate at some point in the future."
The fragments are not portable between databases, are easy to open to SQL injection
(anything interpolated instead of passed in `params`), and break silently when the query
is combined or aliased. Almost every use has a supported replacement: `annotate()` with
`F()` expressions and database functions, `Subquery`/`Exists`, or `RawSQL(sql, params)`.

## Example
```python
books = Book.objects.extra(select={"is_recent": "pub_date > '2020-01-01'"})
```

## Use instead
```python
books = Book.objects.annotate(
    is_recent=ExpressionWrapper(Q(pub_date__gt=date(2020, 1, 1)), output_field=BooleanField())
)
```
or, when only SQL will do, `annotate(x=RawSQL("…", (param,)))`.

## Suppress
`# noqa: PYS203` on the line.
"""
    bad = (
        """
        from shop.models import Book


        def recent():
            return Book.objects.extra(where=['pub_date > %s'], params=[2020])  # flagged
        """,
        """
        from shop.models import Book


        def titled(prefix):
            return Book.objects.filter(published=True).extra(  # flagged
                select={'upper_title': 'UPPER(title)'}
            )
        """,
    )
    good = (
        """
        from django.db.models.functions import Upper

        from shop.models import Book


        def titled():
            return Book.objects.annotate(upper_title=Upper('title'))
        """,
        """
        def merge(options, extra):
            return options.extra(extra)
        """,
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            isinstance(func, cst.Attribute)
            and func.attr.value == "extra"
            and manager_of(func.value, self.ctx, any_receiver=True) is not None
        ):
            self.report(node)


# == PYS209 django-n-plus-one ==========================================================

# `ForeignKey`/`OneToOneField` as Django exports them (`django.db.models`, the GIS
# re-export `django.contrib.gis.db.models`, `django.db.models.fields.related`).
RELATION_FIELDS = frozenset({"ForeignKey", "OneToOneField"})
# Methods that load related objects up front: a chain using either is left alone.
RELATION_LOADERS = frozenset({"select_related", "prefetch_related"})


def _is_relation_field(value: cst.BaseExpression | None, ctx: FileContext) -> bool:
    if not isinstance(value, cst.Call):
        return False
    qualified = ctx.qualified_name(value.func)
    if qualified is None or not qualified.startswith("django."):
        return False
    return qualified.rsplit(".", 1)[-1] in RELATION_FIELDS


def _class_statements(node: cst.ClassDef) -> list[cst.BaseSmallStatement]:
    body = node.body
    if isinstance(body, cst.SimpleStatementSuite):
        return list(body.body)
    return [
        small
        for stmt in body.body
        if isinstance(stmt, cst.SimpleStatementLine)
        for small in stmt.body
    ]


def model_relations(module: cst.Module, ctx: FileContext) -> dict[str, frozenset[str]]:
    """Top-level classes of `module` -> the ForeignKey/OneToOneField fields declared on
    them, including those inherited from another class of the same module."""
    declared: dict[str, set[str]] = {}
    parents: dict[str, list[str]] = {}
    for stmt in module.body:
        if not isinstance(stmt, cst.ClassDef):
            continue
        fields: set[str] = set()
        for small in _class_statements(stmt):
            if isinstance(small, cst.Assign) and _is_relation_field(small.value, ctx):
                fields.update(
                    t.target.value for t in small.targets if isinstance(t.target, cst.Name)
                )
            elif (
                isinstance(small, cst.AnnAssign)
                and isinstance(small.target, cst.Name)
                and _is_relation_field(small.value, ctx)
            ):
                fields.add(small.target.value)
        declared[stmt.name.value] = fields
        parents[stmt.name.value] = [
            arg.value.value for arg in stmt.bases if isinstance(arg.value, cst.Name)
        ]

    return with_inherited(declared, parents)


@dataclass
class _Loop:
    """A `for` loop over a model's queryset whose relations are not loaded up front."""

    node: cst.For
    variable: str
    relations: frozenset[str]
    # Relation name -> its first `<var>.<relation>` read in the body, in source order.
    reads: dict[str, cst.Attribute] = field(default_factory=dict)


def _loop_queryset(node: cst.For, ctx: FileContext) -> cst.Attribute | None:
    """The `<Model>.objects` node of a loop over a queryset of model instances."""
    chain: cst.BaseExpression = node.iter
    if not isinstance(chain, (cst.Call, cst.Subscript)):
        return None  # the bare manager is not iterable
    if (
        isinstance(chain, cst.Call)
        and isinstance(chain.func, cst.Attribute)
        and chain.func.attr.value == "iterator"
    ):
        chain = chain.func.value
    manager = manager_of(chain, ctx)
    if manager is None or not isinstance(manager.value, cst.Name):
        return None
    for method in chain_methods(node.iter):
        if method in RELATION_LOADERS or method in VALUES_METHODS:
            return None
    return manager


def with_select_related(
    iterable: cst.BaseExpression, manager: cst.Attribute, relations: list[str]
) -> cst.BaseExpression:
    """`iterable` with `.select_related("a", …)` right after its `<Model>.objects`, or
    after the first call on the manager when that is a custom manager method
    (`Book.objects.published()`), which a QuerySet may not have."""
    anchor: cst.BaseExpression = manager
    for link in chain_links(iterable):
        if (
            isinstance(link, cst.Call)
            and isinstance(link.func, cst.Attribute)
            and link.func.value is manager
        ):
            if link.func.attr.value not in QUERYSET_METHODS | EVALUATING:
                anchor = link
            break
    loader = cst.Call(
        func=cst.Attribute(value=anchor, attr=cst.Name("select_related")),
        args=[cst.Arg(value=cst.SimpleString(f'"{name}"')) for name in relations],
    )
    new = iterable.deep_replace(anchor, loader)
    assert isinstance(new, cst.BaseExpression)
    return new


@register
class NPlusOne(Rule):
    code = "PYS209"
    name = "django-n-plus-one"
    severity = Severity.WARNING
    category = Category.PERFORMANCE
    default = True
    rationale = (
        "A related object read per row of a queryset is one query per row, which maintainers "
        "fix when shown (1 of 1 right in the Django survey)."
    )
    message = (
        "`{read}` in a loop over `{chain}` runs one query per row: "
        'add `.select_related("{relation}")`'
    )
    # The relation is declared in the same file (see `model_relations`), or the loop is
    # over a model of another models module of the change (`FileContext.change_models`).
    requires = ("ForeignKey", "OneToOneField", ".objects")
    docs = """
## What it does
Flags a `for` (or `async for`) loop over a queryset chain rooted at `<Model>.objects`
whose body reads `<loop variable>.<relation>.<anything>`, where `<relation>` is a
`ForeignKey` or `OneToOneField` declared on that model (or on a base class of it) in the
same file. One finding per loop and relation, on the first read.

Chains that already use `select_related(...)` or `prefetch_related(...)` anywhere, and
`.values()`/`.values_list()` chains (rows, not model instances), are left alone; so are
loops over a queryset held in a variable, and comprehensions.

A model imported from another module is known when that module is part of the same
change (a pull request, `pystd check --diff`): `from shop.models import Book` in
`shop/views.py` while the change also edits `shop/models.py`. Models of modules outside
the change are not seen: `pystd check` of a whole repository only knows the fields of
the file it reads.

## Why is this bad?
Each `book.author` on an instance whose author was not loaded runs its own `SELECT`: a
page of 100 books makes 101 queries (the "N+1 queries" problem), and the page gets slower
as the table grows. Django's QuerySet reference
(docs.djangoproject.com/en/stable/ref/models/querysets/#select-related) shows the exact
case: `select_related()` follows foreign keys in the same query, which "means later use of
foreign-key relationships won't require database queries". The "Database access
optimization" guide (docs.djangoproject.com/en/stable/topics/db/optimization/) says to
retrieve everything at once when you know you will need it. In async code it is worse:
the lazy load is a synchronous query, which Django refuses to run there.

## Example
```python
for book in Book.objects.filter(published=True):
    names.append(book.author.name)
```

## Use instead
```python
for book in Book.objects.select_related("author").filter(published=True):
    names.append(book.author.name)
```

## Fix
Adds `.select_related("<relation>", …)`, naming every related field the loop body reads,
right after `<Model>.objects` (`Book.objects.select_related("author").filter(…)`), or
after a custom manager method, which a QuerySet may lack
(`Book.objects.published().select_related("author")`).

## Suppress
`# noqa: PYS209` on the line that reads the relation.
"""
    bad = (
        Example(
            """
            from django.db import models


            class Author(models.Model):
                name = models.CharField(max_length=100)


            class Book(models.Model):
                title = models.CharField(max_length=200)
                author = models.ForeignKey(Author, on_delete=models.CASCADE)


            def author_names():
                names = []
                for book in Book.objects.filter(title__startswith='A'):
                    names.append(book.author.name)  # flagged
                return names
            """,
            fixed="""
            from django.db import models


            class Author(models.Model):
                name = models.CharField(max_length=100)


            class Book(models.Model):
                title = models.CharField(max_length=200)
                author = models.ForeignKey(Author, on_delete=models.CASCADE)


            def author_names():
                names = []
                for book in Book.objects.select_related("author").filter(title__startswith='A'):
                    names.append(book.author.name)  # flagged
                return names
            """,
        ),
    )
    good = (
        """
        from django.db import models


        class Author(models.Model):
            name = models.CharField(max_length=100)


        class Book(models.Model):
            title = models.CharField(max_length=200)
            author = models.ForeignKey(Author, on_delete=models.CASCADE)


        def author_names():
            names = []
            for book in Book.objects.select_related('author').filter(title__startswith='A'):
                names.append(book.author.name)
            return names
        """,
        """
        from django.db import models


        class Book(models.Model):
            title = models.CharField(max_length=200)
            author = models.ForeignKey('Author', on_delete=models.CASCADE)


        def author_ids():
            return [book.author_id for book in Book.objects.all()]
        """,
    )

    # How to read the models of the change's other files: the pipeline (rules/pipeline.py)
    # calls it once per change and hands the result to every file's context.
    change_models_of: ClassVar[Callable[[Change], tuple[ChangeModel, ...]]] = staticmethod(
        change_models)

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._relations: dict[str, frozenset[str]] | None = None
        # Every enclosing `for` (innermost last): the names it binds, and the loop being
        # watched (None for a loop that is not one, which still shadows outer names).
        self._loops: list[tuple[list[str], _Loop | None]] = []

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return f".{MANAGER}" in ctx.source and ctx.imports_module("django")

    def _relations_of(self, model: str) -> frozenset[str]:
        if self._relations is None:  # built once, on the first loop over a queryset
            module = self.ctx.module
            self._relations = model_relations(module, self.ctx) if module is not None else {}
        if model in self._relations:
            return self._relations[model]
        return self._imported_relations(model)

    def _imported_relations(self, model: str) -> frozenset[str]:
        """The relations of a model imported from a models module of the change
        (`from shop.models import Book`, `from .models import Book`)."""
        ctx = self.ctx
        target = ctx.imports.get(model)
        if target is None or not ctx.change_models:
            return frozenset()
        name = target.rpartition(".")[2]
        module = import_module_of(target, ctx.path)
        for declared, cls, fields in ctx.change_models:
            if cls == name and same_module(module, declared):
                return fields
        return frozenset()

    def visit_For(self, node: cst.For) -> None:
        loop = None
        manager = _loop_queryset(node, self.ctx) if isinstance(node.target, cst.Name) else None
        if manager is not None:
            assert isinstance(manager.value, cst.Name) and isinstance(node.target, cst.Name)
            relations = self._relations_of(manager.value.value)
            if relations:
                loop = _Loop(node, node.target.value, relations)
        self._loops.append((bound_names(node.target), loop))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if not self._loops:
            return
        inner = node.value
        if not (isinstance(inner, cst.Attribute) and isinstance(inner.value, cst.Name)):
            return
        relation = inner.attr.value
        loop = self._loop_binding(inner.value.value)
        if loop is None or relation not in loop.relations or relation in loop.reads:
            return
        body = loop.node.body
        if any(ancestor is body for ancestor in self.ctx.ancestors):  # not the header or `else`
            loop.reads[relation] = inner

    def _loop_binding(self, name: str) -> _Loop | None:
        """The watched loop whose variable `name` is, unless an inner loop rebinds it."""
        for names, loop in reversed(self._loops):
            if name in names:
                return loop
        return None

    def leave_For(self, original_node: cst.For) -> None:
        _, loop = self._loops.pop()
        if loop is None or not loop.reads:
            return
        manager = _loop_queryset(loop.node, self.ctx)
        assert manager is not None
        new_iter = with_select_related(loop.node.iter, manager, list(loop.reads))
        chain = chain_label(loop.node.iter)
        for relation, read in loop.reads.items():
            message = self.message.format(
                read=f"{loop.variable}.{relation}", chain=chain, relation=relation
            )
            self.report(read, message, replace=(loop.node.iter, new_iter))
