"""PYS203 django-queryset-extra and PYS209 django-n-plus-one: every flags / never-flags
item and fix of their RULES.md rows."""

from __future__ import annotations

import asyncio
import textwrap

import pytest

from pystd.rules.engine import Finding, Severity
from pystd.rules.pipeline import ChangeScope, Outcome, SerialRunner, analyse
from pystd.rules.runner import FileInput
from tests.rules import lint as shared
from tests.rules.lint import fixed

SERVICE = "from django.contrib.auth import get_user_model\n\nfrom shop import models\n" \
          "from shop.models import Book\n\n\n"


def only(code: str, rule: str, path: str = "shop/services.py") -> list[Finding]:
    return shared.only(code, rule, path)


def one(code: str, rule: str) -> Finding:
    return shared.one(code, rule, "shop/services.py")


def in_function(*body: str, head: str = SERVICE) -> str:
    """`body` lines inside `def run(qs, self=None):`, the first on line 8."""
    return head + "def run(qs, self=None):\n" + "".join(f"    {b}\n" for b in body)


# == PYS203 django-queryset-extra: flags ================================================


@pytest.mark.parametrize(
    "expr",
    [
        "Book.objects.extra(select={'n': '1'})",
        "Book.objects.filter(a=1).exclude(b=2).extra(where=['c > %s'], params=[3])",
        "Book.objects.all()[:10].extra(select={'n': '1'})",
        "models.Book.objects.extra(tables=['t'])",
        "self.model.objects.extra(select={'n': '1'})",
        "get_user_model().objects.all().extra(select={'n': '1'})",
    ],
)
def test_extra_on_an_objects_chain_flagged(expr: str) -> None:
    finding = one(in_function(f"return {expr}"), "PYS203")
    assert finding.line == 8
    assert finding.severity is Severity.WARNING
    assert finding.message == (
        "`.extra()` is Django's last-resort API: use `annotate()`/`F()`/`RawSQL` with params"
    )
    assert finding.fix is None


def test_extra_flagged_over_the_whole_multi_line_chain() -> None:
    code = in_function("return (", "    Book.objects", "    .filter(a=1)",
                       "    .extra(where=['1'])", ")")
    finding = one(code, "PYS203")
    assert (finding.line, finding.end_line) == (9, 11)


def test_each_extra_call_flagged() -> None:
    code = in_function("a = Book.objects.extra(select={})", "b = Book.objects.extra(where=[])")
    assert [f.line for f in only(code, "PYS203")] == [8, 9]


def test_extra_flagged_in_a_module_that_does_not_import_django() -> None:
    code = "from shop.models import Book\n\n\ndef f():\n    return Book.objects.extra(where=['1'])\n"
    assert len(only(code, "PYS203")) == 1


# == PYS203: never flags (the row lists nothing; these are outside its scope) ===========


@pytest.mark.parametrize(
    "expr",
    [
        "qs.extra(select={'n': '1'})",
        "options.extra(1)",
        "self.extra",
        "Book.objects.annotate(n=RawSQL('select 1', ()))",
        "Book.objects.get(pk=1).extra()",
        "extra(select={})",
    ],
)
def test_extra_off_an_objects_chain_ignored(expr: str) -> None:
    assert only(in_function(f"return {expr}"), "PYS203") == []


# == PYS209 django-n-plus-one =========================================================

MODELS = textwrap.dedent("""\
    from django.db import models
    from django.db.models import ForeignKey, OneToOneField


    class Publisher(models.Model):
        name = models.CharField(max_length=100)


    class Book(models.Model):
        title = models.CharField(max_length=200)
        author = models.ForeignKey("Author", on_delete=models.CASCADE)
        publisher = ForeignKey(Publisher, on_delete=models.PROTECT)
        cover: "Cover" = OneToOneField("Cover", on_delete=models.CASCADE)
        tags = models.ManyToManyField("Tag")


    """)
LOOP_LINE = MODELS.count("\n") + 2  # the `for` line of `loop(...)`


def loop(header: str, *body: str, head: str = MODELS) -> str:
    """`for book in <header>:` with `body` inside `def run(request):`."""
    return head + "def run(request):\n" + f"    for book in {header}:\n" + "".join(
        f"        {b}\n" for b in body
    )


def n_plus_one(code: str) -> list[tuple[int, str]]:
    return [(f.line, f.message) for f in only(code, "PYS209", "shop/models.py")]


def message(relation: str, chain: str, variable: str = "book") -> str:
    return (f"`{variable}.{relation}` in a loop over `{chain}` runs one query per row: "
            f'add `.select_related("{relation}")`')


# == PYS209: flags ======================================================================


@pytest.mark.parametrize("relation", ["author", "publisher", "cover"])
def test_n_plus_one_flags_each_kind_of_relation_field(relation: str) -> None:
    code = loop("Book.objects.filter(title__startswith='A')", f"print(book.{relation}.name)")
    assert n_plus_one(code) == [
        (LOOP_LINE + 1, message(relation, "Book.objects.filter(…)"))
    ]


def test_n_plus_one_is_a_warning_reported_on_the_read() -> None:
    finding = only(loop("Book.objects.all()", "x = book.author.name"), "PYS209",
                   "shop/models.py")[0]
    assert finding.severity is Severity.WARNING
    assert (finding.line, finding.column, finding.end_column) == (LOOP_LINE + 1, 13, 23)


@pytest.mark.parametrize(
    "header",
    [
        "Book.objects.all()",
        "Book.objects.filter(a=1).exclude(b=2).order_by('title')",
        "Book.objects.all()[:10]",
        "Book.objects.iterator()",
        "Book.objects.only('title', 'author')",
        "Book.objects.published()",
    ],
)
def test_n_plus_one_flags_loops_over_any_objects_chain(header: str) -> None:
    assert len(n_plus_one(loop(header, "book.author.name"))) == 1


@pytest.mark.parametrize(
    "read",
    ["x = book.author.name", "book.author.save()", "book.author.name = 'x'",
     "names[book.author.pk] = 1", "if book.author.is_active:\n            pass",
     "for tag in request.tags:\n            tag.add(book.author.name)"],
)
def test_n_plus_one_flags_every_kind_of_read_in_the_body(read: str) -> None:
    assert len(n_plus_one(loop("Book.objects.all()", read))) == 1


def test_n_plus_one_flags_a_relation_inherited_from_a_base_in_the_same_file() -> None:
    head = MODELS + textwrap.dedent("""\
        class Owned(models.Model):
            owner = models.ForeignKey("auth.User", on_delete=models.CASCADE)

            class Meta:
                abstract = True


        class Note(Owned):
            text = models.TextField()


        """)
    code = head + "def run(request):\n    for note in Note.objects.all():\n" \
        "        print(note.owner.email)\n"
    assert [m for _, m in n_plus_one(code)] == [message("owner", "Note.objects.all()", "note")]


def test_n_plus_one_knows_models_declared_below_the_loop() -> None:
    code = textwrap.dedent("""\
        from django.db import models


        def run():
            for book in Book.objects.all():
                print(book.author.name)


        class Book(models.Model):
            author = models.ForeignKey("Author", on_delete=models.CASCADE)
        """)
    assert [line for line, _ in n_plus_one(code)] == [6]


def test_n_plus_one_one_finding_per_loop_and_relation() -> None:
    code = loop("Book.objects.all()", "a = book.author.name", "b = book.author.email",
                "c = book.publisher.name", "d = book.author.name")
    assert n_plus_one(code) == [
        (LOOP_LINE + 1, message("author", "Book.objects.all()")),
        (LOOP_LINE + 3, message("publisher", "Book.objects.all()")),
    ]


def test_n_plus_one_flags_nested_loops_separately() -> None:
    code = loop("Book.objects.all()", "for other in Book.objects.filter(a=1):",
                "    x = (book.author.name, other.publisher.name)")
    assert [m for _, m in n_plus_one(code)] == [
        message("author", "Book.objects.all()"),
        message("publisher", "Book.objects.filter(…)", "other"),
    ]


def test_n_plus_one_flags_async_for_too() -> None:
    code = MODELS + "async def run(request):\n    async for book in Book.objects.all():\n" \
        "        print(book.author.name)\n"
    assert len(n_plus_one(code)) == 1


def test_n_plus_one_flags_in_methods_of_the_models() -> None:
    code = MODELS + textwrap.dedent("""\
        class Shelf(models.Model):
            def titles(self):
                return [self.label(b) for b in Book.objects.none()]

            def authors(self):
                out = []
                for book in Book.objects.filter(shelf=self):
                    out.append(book.author.name)
                return out
        """)
    assert len(n_plus_one(code)) == 1


# == PYS209: never flags ================================================================


@pytest.mark.parametrize(
    "header",
    [
        "Book.objects.select_related('author')",
        "Book.objects.filter(a=1).select_related('author', 'publisher')",
        "Book.objects.select_related()",
        "Book.objects.prefetch_related('author')",
        "Book.objects.all().prefetch_related('tags')",
        "Book.objects.select_related('publisher').filter(a=1)",
    ],
)
def test_n_plus_one_ignores_chains_that_select_or_prefetch(header: str) -> None:
    assert n_plus_one(loop(header, "print(book.author.name)")) == []


@pytest.mark.parametrize(
    "read",
    [
        "print(book.author_id)",
        "print(book.author)",
        "print(book.title.upper())",
        "print(book.tags.count())",
        "print(book.author)  # fetched, but not read through",
        "print(request.author.name)",
        "print(book.get_author().name)",
    ],
)
def test_n_plus_one_ignores_reads_that_are_not_through_a_relation(read: str) -> None:
    assert n_plus_one(loop("Book.objects.all()", read)) == []


@pytest.mark.parametrize(
    "header",
    [
        "Book.objects.values('author__name')",
        "Book.objects.values_list('id', 'author')",
        "qs",
        "Book.published.all()",
        "models.Book.objects.all()",
        "Publisher.objects.all()",
        "Author.objects.all()",
        "books",
        "enumerate(Book.objects.all())",
    ],
)
def test_n_plus_one_ignores_loops_over_other_iterables(header: str) -> None:
    assert n_plus_one(loop(header, "print(book.author.name)")) == []


def test_n_plus_one_ignores_models_declared_in_another_module() -> None:
    code = "from django.db import models\n\nfrom shop.models import Book\n\n\n" \
        "class Review(models.Model):\n    book = models.ForeignKey(Book, on_delete=models.CASCADE)\n" \
        "\n\ndef run():\n    for book in Book.objects.all():\n        print(book.author.name)\n"
    assert n_plus_one(code) == []


def test_n_plus_one_ignores_foreign_keys_that_are_not_djangos() -> None:
    head = "from django.db import models\nfrom mptt.fields import TreeForeignKey\n\n\n" \
        "class Page(models.Model):\n    parent = TreeForeignKey('self', on_delete=models.CASCADE)\n\n\n"
    code = head + "def run():\n    for page in Page.objects.all():\n        print(page.parent.title)\n"
    assert n_plus_one(code) == []


def test_n_plus_one_ignores_comprehensions() -> None:
    code = MODELS + "def run():\n    return [b.author.name for b in Book.objects.all()]\n"
    assert n_plus_one(code) == []


def test_n_plus_one_ignores_the_loop_header_and_else_clause() -> None:
    code = loop("Book.objects.filter(pk=book.author.pk)", "pass") + \
        "    else:\n        print(book.author.name)\n"
    assert n_plus_one(code) == []


def test_n_plus_one_ignores_a_loop_variable_rebound_by_an_inner_loop() -> None:
    code = loop("Book.objects.all()", "for book in request.books:",
                "    print(book.author.name)")
    assert n_plus_one(code) == []


def test_n_plus_one_ignores_test_files() -> None:
    code = loop("Book.objects.all()", "print(book.author.name)")
    assert only(code, "PYS209", "shop/tests/test_models.py") == []


# == PYS209: fix ========================================================================


def fix_of(code: str, index: int = 0) -> str:
    """The source after the `index`th finding's fix, checked to be clean for PYS209."""
    findings = only(code, "PYS209", "shop/models.py")
    new = fixed(code, findings[index])
    assert only(new, "PYS209", "shop/models.py") == [], new
    return new


def for_line(source: str) -> str:
    return source.splitlines()[LOOP_LINE - 1]


@pytest.mark.parametrize(
    ("header", "fixed_header"),
    [
        ("Book.objects.all()", 'Book.objects.select_related("author").all()'),
        ("Book.objects.filter(a=1).order_by('t')[:5]",
         "Book.objects.select_related(\"author\").filter(a=1).order_by('t')[:5]"),
        ("Book.objects.iterator(chunk_size=50)",
         'Book.objects.select_related("author").iterator(chunk_size=50)'),
        ("Book.objects.published()", 'Book.objects.published().select_related("author")'),
        ("Book.objects.published(year=2020).filter(a=1)",
         'Book.objects.published(year=2020).select_related("author").filter(a=1)'),
    ],
)
def test_n_plus_one_fix_adds_select_related_to_the_chain(header: str, fixed_header: str) -> None:
    code = loop(header, "print(book.author.name)")
    finding = only(code, "PYS209", "shop/models.py")[0]
    assert finding.fix is not None
    assert (finding.fix.line, finding.fix.end_line) == (LOOP_LINE, LOOP_LINE)
    assert for_line(fix_of(code)) == f"    for book in {fixed_header}:"


def test_n_plus_one_fix_selects_every_relation_the_loop_reads() -> None:
    code = loop("Book.objects.all()", "print(book.publisher.name)", "print(book.author.name)")
    assert len(only(code, "PYS209", "shop/models.py")) == 2
    for index in (0, 1):
        assert for_line(fix_of(code, index)) == \
            '    for book in Book.objects.select_related("publisher", "author").all():'


def test_n_plus_one_fix_keeps_a_multi_line_chain() -> None:
    code = MODELS + textwrap.dedent("""\
        def run(request):
            for book in (
                Book.objects
                .filter(a=1)
            ):
                print(book.author.name)
        """)
    new = fix_of(code)
    assert '        Book.objects.select_related("author")\n        .filter(a=1)\n' in new


def test_n_plus_one_fix_keeps_the_loop_body_and_comment() -> None:
    code = MODELS + "def run(request):\n    for book in Book.objects.all():  # every book\n" \
        "        print(book.author.name)\n"
    new = fix_of(code)
    assert for_line(new) == '    for book in Book.objects.select_related("author").all():  # every book'
    assert new.endswith("        print(book.author.name)\n")


# == PYS209: models declared in another module of the change =============================

VIEWS = textwrap.dedent("""\
    from django.shortcuts import render

    from shop.models import Book


    def catalogue(request):
        rows = []
        for book in Book.objects.filter(title__startswith="A"):
            rows.append(book.author.name)
        return render(request, "catalogue.html", {"rows": rows})
    """)


def change_findings(*files: tuple[str, str]) -> list[tuple[str, int, str]]:
    """PYS209 over a change of `files` (path, new text), the way the App and
    `pystd check --diff` run the engine: through the analysis pipeline."""
    return [(f.path, f.line, f.message) for f in analysed(files).findings()]


def analysed(files: tuple[tuple[str, str], ...]) -> Outcome:
    """PYS209 over a change of `files` (path, new text), in this process."""
    from pystd.rules.catalogue import select_rules

    inputs = [FileInput(path, text.encode()) for path, text in files]
    return asyncio.run(analyse(inputs, ChangeScope(), select_rules(["PYS209"]),
                               run=SerialRunner()))


@pytest.mark.parametrize(
    ("models_path", "views_path", "import_line"),
    [
        ("shop/models.py", "shop/views.py", "from shop.models import Book"),
        ("shop/models.py", "shop/views.py", "from .models import Book"),
        ("src/shop/models.py", "src/shop/views/catalogue.py", "from shop.models import Book"),
        ("src/shop/models.py", "src/shop/views/catalogue.py", "from ..models import Book"),
        ("shop/models/book.py", "shop/views.py", "from shop.models import Book"),
    ],
    ids=["absolute", "relative", "src-layout", "relative-from-a-views-package",
         "models-package"],
)
def test_n_plus_one_over_a_model_of_another_module_of_the_change(
        models_path: str, views_path: str, import_line: str) -> None:
    views = VIEWS.replace("from shop.models import Book", import_line)
    found = change_findings((models_path, MODELS), (views_path, views))
    assert found == [(views_path, 9, message("author", "Book.objects.filter(…)"))]


def test_n_plus_one_fix_over_a_model_of_another_module_parses_and_is_clean() -> None:
    from pystd.rules.fixes import apply_fix

    (finding,) = analysed((("shop/models.py", MODELS), ("shop/views.py", VIEWS))).findings()
    assert finding.fix is not None
    new = apply_fix(VIEWS, finding.fix)
    assert 'Book.objects.select_related("author").filter(title__startswith="A")' in new
    assert change_findings(("shop/models.py", MODELS), ("shop/views.py", new)) == []


@pytest.mark.parametrize(
    ("files", "why"),
    [
        ((("shop/views.py", VIEWS),), "the models module is not in the change"),
        ((("shop/models.py", MODELS),
          ("shop/views.py", VIEWS.replace("from shop.models import Book",
                                          "from library.models import Book"))),
         "Book of another app"),
        ((("shop/models.py", "from myorm import ForeignKey, Model\n\n\nclass Book(Model):\n"
           "    author = ForeignKey('Author')\n"), ("shop/views.py", VIEWS)),
         "not Django's models"),
        ((("shop/models.py", MODELS),
          ("shop/views.py", VIEWS.replace("book.author.name", "book.title.upper()"))),
         "not a relation"),
        ((("shop/models.py", MODELS),
          ("shop/views.py", VIEWS.replace("Book.objects.filter(",
                                          "Book.objects.select_related('author').filter("))),
         "already selected"),
    ],
    ids=["models-not-in-the-change", "other-app", "not-django", "not-a-relation",
         "already-selected"],
)
def test_n_plus_one_across_modules_never_flags_what_it_cannot_see(
        files: tuple[tuple[str, str], ...], why: str) -> None:
    assert change_findings(*files) == [], why


def test_whole_file_check_without_a_change_still_knows_only_the_file() -> None:
    assert only(VIEWS, "PYS209", "shop/views.py") == []
