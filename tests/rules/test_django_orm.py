"""PYS205 django-sync-orm-in-async: every flags / never-flags item and fix of its RULES.md
row."""

from __future__ import annotations

import textwrap

import pytest

from pystd.rules.django.querysets import EVALUATING
from tests.rules.lint import fix_of, fixed, lines_of, one, only

ASYNC = "from django.http import HttpResponse\nfrom shop.models import Author, Book\n\n\n"


def in_async(*body: str, head: str = ASYNC) -> str:
    """A Django module with `body` lines inside `async def view(request, pk):` (line 6 on)."""
    return head + "async def view(request, pk):\n" + "".join(f"    {b}\n" for b in body)


# == PYS205 django-sync-orm-in-async: flags ============================================


@pytest.mark.parametrize("method", sorted(EVALUATING))
def test_sync_orm_flags_each_evaluating_method(method: str) -> None:
    finding = one(in_async(f"Book.objects.{method}()"), "PYS205")
    assert finding.line == 6
    assert f"`Book.objects.{method}()` runs a synchronous ORM query" in finding.message


def test_sync_orm_flags_evaluation_at_the_end_of_a_lazy_chain() -> None:
    code = in_async("n = Book.objects.filter(a=1).exclude(b=2).order_by('x')[:5].count()")
    finding = one(code, "PYS205")
    assert finding.message == (
        "`Book.objects.filter(…).exclude(…).order_by(…)[…].count()` runs a synchronous ORM "
        "query in async code: use `await Book.objects.filter(…).exclude(…).order_by(…)[…]"
        ".acount()`"
    )


def test_sync_orm_flags_model_through_an_imported_module() -> None:
    code = in_async("return models.Book.objects.get(pk=pk)",
                    head="from django.http import HttpResponse\nfrom shop import models\n\n\n")
    assert lines_of(code, "PYS205") == [6]


def test_sync_orm_flags_list_of_a_queryset() -> None:
    assert lines_of(in_async("books = list(Book.objects.filter(a=1)[:10])"), "PYS205") == [6]


def test_sync_orm_flags_for_loop_over_a_queryset() -> None:
    code = in_async("for book in Book.objects.all():", "    pass")
    finding = one(code, "PYS205")
    assert (finding.line, finding.end_line) == (6, 6)
    assert finding.message.startswith("`for … in Book.objects.all()` runs a synchronous")


def test_sync_orm_flags_comprehension_over_a_queryset() -> None:
    assert lines_of(in_async("names = [b.name for b in Book.objects.all()]"), "PYS205") == [6]


@pytest.mark.parametrize(
    "binding",
    [
        "book = await Book.objects.aget(pk=pk)",
        "book = await Book.objects.filter(a=1).afirst()",
        "book = Book.objects.get(pk=pk)",
        "book: Book = await Book.objects.acreate(title='x')",
        "book, created = await Book.objects.aget_or_create(pk=pk)",
        "book = await sync_to_async(Book.objects.get)(pk=pk)",
        "book = await aget_object_or_404(Book, pk=pk)",
    ],
)
@pytest.mark.parametrize("method", ["save", "delete", "refresh_from_db"])
def test_sync_orm_flags_instance_methods_on_an_instance_from_the_orm(
    binding: str, method: str
) -> None:
    head = ASYNC + "from asgiref.sync import sync_to_async\n" \
                   "from django.shortcuts import aget_object_or_404\n"
    code = in_async(binding, "book.title = 'x'", f"book.{method}()", head=head)
    assert 10 in lines_of(code, "PYS205")


def test_sync_orm_flags_instance_of_a_loop_over_a_queryset() -> None:
    code = in_async("async for book in Book.objects.all():", "    book.save()")
    assert lines_of(code, "PYS205") == [7]


def test_sync_orm_flags_inline_instance_call_once() -> None:
    finding = one(in_async("Book.objects.get(pk=pk).delete()"), "PYS205")
    assert finding.message.startswith("`….delete()` runs a synchronous ORM query")


@pytest.mark.parametrize(
    "head",
    [
        "from ninja import Router\nfrom shop.models import Book\n\n\n",
        "from rest_framework.response import Response\nfrom shop.models import Book\n\n\n",
        "from channels.generic.websocket import AsyncWebsocketConsumer\n"
        "from shop.models import Book\n\n\n",
    ],
)
def test_sync_orm_applies_to_modules_of_django_based_frameworks(head: str) -> None:
    assert lines_of(in_async("Book.objects.count()", head=head), "PYS205") == [6]


def test_sync_orm_flags_in_async_methods() -> None:
    code = ASYNC + textwrap.dedent("""\
        class BookView:
            async def get(self, request, pk):
                return Book.objects.get(pk=pk)
        """)
    assert lines_of(code, "PYS205") == [7]


# == PYS205: never flags ================================================================


@pytest.mark.parametrize(
    "statement",
    [
        "qs = Book.objects.filter(a=1).exclude(b=2).order_by('x')",
        "qs = Book.objects.select_related('author').prefetch_related('tags').all()",
        "qs = Book.objects.values('id').annotate(n=Count('id'))",
        "qs = Book.objects.all()[:10]",
        "manager = Book.objects",
    ],
)
def test_sync_orm_ignores_lazy_building(statement: str) -> None:
    assert only(in_async(statement), "PYS205") == []


@pytest.mark.parametrize("method", sorted(EVALUATING - {"iterator"}))
def test_sync_orm_ignores_the_async_api(method: str) -> None:
    assert only(in_async(f"await Book.objects.a{method}()"), "PYS205") == []


@pytest.mark.parametrize(
    "body",
    [
        ("async for book in Book.objects.all():", "    await book.asave()"),
        ("names = [b.name async for b in Book.objects.all()]",),
        ("async for book in Book.objects.aiterator():", "    pass"),
        ("book = await Book.objects.aget(pk=pk)", "await book.adelete()"),
    ],
)
def test_sync_orm_ignores_async_iteration_and_async_instance_methods(
    body: tuple[str, ...]
) -> None:
    assert only(in_async(*body), "PYS205") == []


def test_sync_orm_ignores_awaited_calls() -> None:
    assert only(in_async("return await Book.objects.get(pk=pk)"), "PYS205") == []


@pytest.mark.parametrize(
    "statement",
    [
        "return await sync_to_async(Book.objects.get)(pk=pk)",
        "return await sync_to_async(lambda: Book.objects.get(pk=pk))()",
        "return await sync_to_async(list)(Book.objects.all())",
        "return await database_sync_to_async(Book.objects.count)()",
        "return await asyncio.to_thread(Book.objects.count)",
        "return await sync_to_async(Book.objects.count())()",
    ],
)
def test_sync_orm_ignores_calls_wrapped_in_sync_to_async(statement: str) -> None:
    head = ASYNC + "import asyncio\n\nfrom asgiref.sync import sync_to_async\n" \
                   "from channels.db import database_sync_to_async\n"
    assert only(in_async(statement, head=head), "PYS205") == []


def test_sync_orm_ignores_a_function_passed_to_sync_to_async() -> None:
    code = ASYNC + textwrap.dedent("""\
        from asgiref.sync import sync_to_async


        @sync_to_async
        def load(pk):
            book = Book.objects.get(pk=pk)
            book.save()
            return list(Book.objects.all())


        async def view(request, pk):
            def work():
                book = Book.objects.get(pk=pk)
                book.save()
                return [b for b in Book.objects.all()]

            return await sync_to_async(work)()
        """)
    assert only(code, "PYS205") == []


def test_sync_orm_ignores_plain_functions() -> None:
    code = ASYNC + "def view(request, pk):\n    book = Book.objects.get(pk=pk)\n" \
                   "    book.save()\n    return list(Book.objects.all())\n"
    assert only(code, "PYS205") == []


def test_sync_orm_ignores_modules_without_django() -> None:
    code = "from mongoengine import Document\n\n\nasync def view(pk):\n" \
           "    return User.objects.get(pk=pk)\n"
    assert only(code, "PYS205") == []


@pytest.mark.parametrize(
    "statement",
    [
        "return self.objects.get(pk=pk)",
        "return request.objects.count()",
        "return cache.objects.get('k')",
        "return get_model().objects.get(pk=pk)",
    ],
)
def test_sync_orm_ignores_chains_not_rooted_at_a_model_manager(statement: str) -> None:
    assert only(in_async(statement), "PYS205") == []


@pytest.mark.parametrize(
    "statement",
    ["return Book.objects.filter(a=1)[0]", "return Book.objects.raw('select 1')"],
)
def test_sync_orm_ignores_evaluations_the_catalog_does_not_list(statement: str) -> None:
    assert only(in_async(statement), "PYS205") == []


@pytest.mark.parametrize(
    "body",
    [
        ("book = load(pk)", "book.save()"),
        ("book = await Book.objects.aget(pk=pk)", "book = Serializer(book)", "book.save()"),
        ("for row in Book.objects.values('id'):", "    pass", "row.delete()"),
        ("form.save()", "request.session.save()"),
    ],
)
def test_sync_orm_ignores_instance_methods_on_other_objects(body: tuple[str, ...]) -> None:
    findings = only(in_async(*body), "PYS205")
    assert [f for f in findings if "save()" in f.message or "delete()" in f.message] == []


def test_sync_orm_instances_do_not_leak_between_functions() -> None:
    code = ASYNC + textwrap.dedent("""\
        async def first(pk):
            book = await Book.objects.aget(pk=pk)

            async def inner():
                book.save()

            return inner


        async def second(book):
            book.save()
        """)
    assert only(code, "PYS205") == []


# == PYS205: fixes ======================================================================


@pytest.mark.parametrize("method", sorted(EVALUATING - {"iterator"}))
def test_sync_orm_fix_awaits_the_async_twin(method: str) -> None:
    new = fix_of(in_async(f"x = Book.objects.filter(a=1).{method}(y)"), "PYS205")
    assert new.splitlines()[5] == f"    x = await Book.objects.filter(a=1).a{method}(y)"


def test_sync_orm_fix_parenthesises_before_attribute_access() -> None:
    new = fix_of(in_async("return Book.objects.get(pk=pk).title"), "PYS205")
    assert "    return (await Book.objects.aget(pk=pk)).title\n" in new


def test_sync_orm_fix_moves_existing_parentheses_outside_await() -> None:
    new = fix_of(in_async("return (Book.objects.first()).title"), "PYS205")
    assert "    return (await Book.objects.afirst()).title\n" in new


def test_sync_orm_fix_instance_method() -> None:
    code = in_async("book = await Book.objects.aget(pk=pk)", "book.save(update_fields=['t'])")
    new = fix_of(code, "PYS205")
    assert "    await book.asave(update_fields=['t'])\n" in new


def test_sync_orm_fix_inline_instance_call() -> None:
    new = fix_of(in_async("Book.objects.get(pk=pk).delete()"), "PYS205")
    assert "    await (await Book.objects.aget(pk=pk)).adelete()\n" in new


def test_sync_orm_fix_list_becomes_async_comprehension() -> None:
    new = fix_of(in_async("books = list(Book.objects.filter(a=1))"), "PYS205")
    assert "    books = [obj async for obj in Book.objects.filter(a=1)]\n" in new


def test_sync_orm_fix_changes_only_the_for_header() -> None:
    code = in_async("for book in Book.objects.filter(a=1):  # all of them",
                    "    print(book)", "else:", "    pass")
    finding = one(code, "PYS205")
    assert finding.fix is not None
    assert (finding.fix.line, finding.fix.end_line) == (6, 6)
    assert finding.fix.replacement == \
        "    async for book in Book.objects.filter(a=1):  # all of them\n"
    assert only(fixed(code, finding), "PYS205") == []


def test_sync_orm_fix_iterator_loop_uses_aiterator() -> None:
    code = in_async("for book in Book.objects.iterator(chunk_size=100):", "    pass")
    new = fix_of(code, "PYS205")
    assert "    async for book in Book.objects.aiterator(chunk_size=100):\n" in new


def test_sync_orm_no_fix_for_a_bare_iterator_call() -> None:
    finding = one(in_async("rows = Book.objects.iterator()"), "PYS205")
    assert finding.fix is None
    assert "async for … in Book.objects.aiterator()" in finding.message


def test_sync_orm_fix_comprehension_becomes_async() -> None:
    new = fix_of(in_async("names = {b.name for b in Book.objects.all()}"), "PYS205")
    assert "    names = {b.name async for b in Book.objects.all()}\n" in new


def test_sync_orm_fix_await_inside_a_list_comprehension() -> None:
    new = fix_of(in_async("books = [Book.objects.get(pk=i) for i in ids]"), "PYS205")
    assert "    books = [await Book.objects.aget(pk=i) for i in ids]\n" in new


@pytest.mark.parametrize(
    "statement",
    [
        "return sum(Book.objects.get(pk=i).pages for i in ids)",
        "return sum(b.pages for b in Book.objects.all())",
        "return [[Book.objects.get(pk=i) for i in row] for row in grid]",
        "return [list(Book.objects.filter(pk=i)) for i in ids]",
    ],
)
def test_sync_orm_flags_but_offers_no_fix_where_await_changes_meaning(statement: str) -> None:
    finding = one(in_async(statement), "PYS205")
    assert finding.fix is None
