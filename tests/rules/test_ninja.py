"""PYS601, PYS602 and PYS603: every flags / never-flags item and every fix of their
RULES.md rows."""

from __future__ import annotations

import textwrap

import pytest

from pystd.rules.engine import Finding
from tests.rules import lint as shared

API = "from ninja import NinjaAPI, Schema\n\napi = NinjaAPI()\n\n\n"  # operations from line 6
LIST_API = (
    "from typing import List\n\nfrom ninja import NinjaAPI, Schema\n\n"
    "from library.models import Book\n\napi = NinjaAPI()\n\n\n"
)  # operations from line 10
URLS = "mysite/urls.py"


def only(code: str, rule: str, path: str = "api.py") -> list[Finding]:
    return shared.only(code, rule, path)


def one(code: str, rule: str, path: str = "api.py") -> Finding:
    return shared.one(code, rule, path)


def fix_of(code: str, rule: str, path: str = "api.py") -> str:
    """The source after the single finding's fix, checked to be clean for `rule`."""
    return shared.fix_of(code, rule, path)


def lines_of(code: str, rule: str, path: str = "api.py") -> list[int]:
    return shared.lines_of(code, rule, path)


def operation(decorator: str, *body: str, head: str = API, signature: str = "(request)") -> str:
    return head + f"{decorator}\ndef op{signature}:\n" + "".join(f"    {b}\n" for b in body)


# == PYS601 ninja-missing-response-schema: flags =======================================


def test_flags_api_get_without_response() -> None:
    finding = one(operation("@api.get('/ping')", "return {'ping': 'pong'}"), "PYS601")
    assert (finding.line, finding.severity.value, finding.fix) == (6, "info", None)
    assert finding.message == (
        "Ninja operation `op` declares no `response=` schema: its output is not validated, "
        "filtered or documented"
    )


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_flags_every_http_method(method: str) -> None:
    assert lines_of(operation(f"@api.{method}('/x')", "return {}"), "PYS601") == [6]


def test_flags_api_operation() -> None:
    code = operation("@api.api_operation(['GET', 'POST'], '/x')", "return {}")
    assert lines_of(code, "PYS601") == [6]


def test_flags_ninja_router() -> None:
    head = "from ninja import Router\n\nrouter = Router(tags=['items'])\n\n\n"
    code = operation("@router.post('/items')", "return {}", head=head)
    assert lines_of(code, "PYS601") == [6]


@pytest.mark.parametrize(
    "head",
    [
        "import ninja\n\napi = ninja.NinjaAPI()\n\n\n",
        "from ninja import NinjaAPI as API\n\napi = API(urls_namespace='v1')\n\n\n",
        "from ninja.router import Router\n\napi = Router()\n\n\n",
        "from ninja import NinjaAPI\n\napi: NinjaAPI = NinjaAPI()\n\n\n",
        "from ninja import NinjaAPI\n\n\nclass API(NinjaAPI):\n    pass\n\n\napi = API()\n\n\n",
    ],
)
def test_flags_through_aliases_annotations_and_subclasses(head: str) -> None:
    code = operation("@api.get('/x')", "return {}", head=head)
    assert lines_of(code, "PYS601") == [head.count("\n") + 1]


def test_flags_async_operation_and_each_decorator() -> None:
    code = API + (
        "@api.get('/a')\n@api.post('/a', response=Schema)\nasync def op(request):\n"
        "    return {}\n"
    )
    assert lines_of(code, "PYS601") == [6]


def test_flags_returning_a_response_only_sometimes() -> None:
    code = operation("@api.get('/x')", "if request.GET:", "    return HttpResponse('x')",
                     "return {'a': 1}", head="from django.http import HttpResponse\n" + API)
    assert lines_of(code, "PYS601") == [7]


# == PYS601: never flags ===============================================================


@pytest.mark.parametrize("response", ["Schema", "{200: Schema, 404: Schema}", "{204: None}",
                                      "List[Schema]"])
def test_never_flags_operations_with_a_response(response: str) -> None:
    code = operation(f"@api.get('/x', response={response})", "return {}")
    assert only(code, "PYS601") == []


@pytest.mark.parametrize(
    ("imports", "annotation"),
    [
        ("from django.http import HttpResponse", "HttpResponse"),
        ("from django.http import JsonResponse", "JsonResponse"),
        ("from django.http import StreamingHttpResponse", "StreamingHttpResponse"),
        ("from django.http import FileResponse", "FileResponse"),
        ("from django.http import HttpResponseRedirect", "HttpResponseRedirect"),
        ("from django.http.response import HttpResponseBase", "HttpResponseBase"),
        ("from django.template.response import TemplateResponse", "TemplateResponse"),
        ("import django.http", "django.http.HttpResponse"),
        ("from django import http", "http.JsonResponse"),
        ("from django.http import HttpResponse", "HttpResponse | None"),
        ("from typing import Optional\nfrom django.http import HttpResponse",
         "Optional[HttpResponse]"),
        ("from typing import Union\nfrom django.http import FileResponse, HttpResponse",
         "Union[FileResponse, HttpResponse]"),
    ],
)
def test_never_flags_operations_returning_an_http_response_by_annotation(
    imports: str, annotation: str
) -> None:
    code = operation("@api.get('/x')", "return make()", head=imports + "\n" + API,
                     signature=f"(request) -> {annotation}")
    assert only(code, "PYS601") == []


def test_never_flags_a_response_subclass_declared_in_the_module() -> None:
    head = (
        "from django.http import HttpResponse\n\n\nclass CSVResponse(HttpResponse):\n"
        "    pass\n\n\nclass ExcelResponse(CSVResponse):\n    pass\n\n\n"
    )
    code = operation("@api.get('/x.csv')", "return build()", head=head + API,
                     signature="(request) -> ExcelResponse")
    assert only(code, "PYS601") == []


def test_flags_annotations_that_are_not_responses() -> None:
    head = "from typing import Optional\nfrom django.http import HttpResponse\n"
    for annotation in ("dict", "Optional[dict]", "HttpResponse | dict"):
        code = operation("@api.get('/x')", "return {}", head=head + API,
                         signature=f"(request) -> {annotation}")
        assert lines_of(code, "PYS601") == [8], annotation


@pytest.mark.parametrize(
    ("imports", "value"),
    [
        ("from django.http import FileResponse", "FileResponse(open('x', 'rb'))"),
        ("from django.http import HttpResponse", "HttpResponse(status=204)"),
        ("from django.shortcuts import redirect", "redirect('/')"),
        ("from django.shortcuts import render", "render(request, 'x.html')"),
    ],
)
def test_never_flags_operations_that_only_build_responses(imports: str, value: str) -> None:
    code = operation("@api.get('/x')", f"return {value}", head=imports + "\n" + API)
    assert only(code, "PYS601") == []


def test_never_flags_responses_built_from_an_import_inside_the_operation() -> None:
    # django-ninja-boost 0.2.1, ninja_boost/health.py: a readiness probe that imports
    # HttpResponse next to its only use and returns it to bypass the schema.
    code = operation("@api.get('/ready', auth=None)",
                     "import json", "from django.http import HttpResponse as Raw",
                     "if broken:", "    return Raw(json.dumps({'ok': False}), status=503)",
                     "return Raw(json.dumps({'ok': True}), content_type='application/json')")
    assert only(code, "PYS601") == []


def test_flags_when_the_inner_import_is_not_a_response() -> None:
    code = operation("@api.get('/ready')", "from app.payloads import HttpResponse",
                     "return HttpResponse()")
    assert lines_of(code, "PYS601") == [6]


HELPERS = (
    "from django.http import HttpResponse, JsonResponse\n"
    "from ninja import NinjaAPI\n\napi = NinjaAPI()\n\n\n"
    "def _csv(rows) -> HttpResponse:\n    return HttpResponse(','.join(rows))\n\n\n"
    "def _error(message):\n    return JsonResponse({'error': message}, status=400)\n\n\n"
    "def _rows(request):\n    return [request.path]\n\n\n"
)  # operations from line 19


@pytest.mark.parametrize(
    "body",
    [
        # Returns nothing: Ninja answers `null`; no schema could describe it.
        ("do_work(request)",),
        ("if not request.body:", "    return", "do_work(request)"),
        ("do_work(request)", "return None"),
        # A local response, headers set by item (Django's way) or cookies set on it.
        ("response = HttpResponse(data, content_type='text/csv')",
         "response['Content-Disposition'] = 'attachment; filename=\"x.csv\"'",
         "return response"),
        ("response = export(request)", "response['Content-Disposition'] = 'attachment'",
         "return response"),
        ("response = build(request)", "response.set_cookie('seen', '1')", "return response"),
        # Ninja's own API builds the response.
        ("return api.create_response(request, {'ok': False}, status=403)",),
        ("if not request.user.is_authenticated:",
         "    return router.api.create_response(request, {}, status=401)",
         "return HttpResponse(status=204)"),
        # Helpers of the module that return responses.
        ("return _csv(['a', 'b'])",),
        ("if not request.body:", "    return _error('empty')", "return HttpResponse()"),
        # A response class of any origin, known by a keyword only responses take.
        ("return CSVResponse(rows(request), content_type='text/csv')",),
    ],
    ids=["no-return", "bare-return", "return-none", "local-http-response",
         "local-of-a-call-with-a-header", "local-with-a-cookie", "create-response",
         "create-response-or-response", "annotated-helper", "helper-returning-responses",
         "content-type-keyword"],
)
def test_never_flags_operations_returning_nothing_or_responses_the_module_shows(
        body: tuple[str, ...]) -> None:
    code = operation("@api.get('/export')", *body, head=HELPERS)
    assert only(code, "PYS601") == []


@pytest.mark.parametrize(
    "body",
    [
        ("return _rows(request)",),
        ("if not request.body:", "    return", "return {'ok': True}"),
        ("if not request.body:", "    return _error('empty')", "return {'ok': True}"),
        ("data = load(request)", "data['count'] = 1", "return data"),
        ("data = load(request)", "data['X-Total'] = 1", "data = {}", "return data"),
        ("return load(request)",),
        ("return ItemResponse(name='x', content='y')",),
    ],
    ids=["data-helper", "nothing-or-dict", "error-or-dict", "local-dict-of-a-call",
         "rebound-to-a-dict", "unknown-call", "schema-named-response"],
)
def test_still_flags_operations_returning_data(body: tuple[str, ...]) -> None:
    code = operation("@api.get('/export')", *body, head=HELPERS)
    assert lines_of(code, "PYS601") == [19]


@pytest.mark.parametrize(
    "head",
    [
        "from fastapi import APIRouter as Router\nimport ninja\n\nrouter = Router()\n\n\n",
        "from fastapi import APIRouter\nimport ninja\n\nrouter = APIRouter()\n\n\n",
        "from rest_framework.routers import SimpleRouter as Router\nimport ninja\n\n"
        "router = Router()\n\n\n",
        "import ninja\nfrom app.routing import Router\n\nrouter = Router()\n\n\n",
    ],
)
def test_never_flags_routers_that_are_not_ninjas(head: str) -> None:
    assert only(operation("@router.get('/x')", "return {}", head=head), "PYS601") == []


def test_never_flags_without_ninja() -> None:
    code = "from app import api\n\n\n@api.get('/x')\ndef op(request):\n    return {}\n"
    assert only(code, "PYS601") == []


def test_never_flags_an_imported_api_object() -> None:
    code = "import ninja\nfrom .api import api\n\n\n@api.get('/x')\ndef op(request):\n    return {}\n"
    assert only(code, "PYS601") == []


def test_never_flags_decorators_that_are_not_operations() -> None:
    code = API + "@api.exception_handler(ValueError)\ndef on_error(request, exc):\n    return {}\n"
    assert only(code, "PYS601") == []


def test_never_flags_keyword_splat_that_may_carry_response() -> None:
    assert only(operation("@api.get('/x', **options)", "return {}"), "PYS601") == []


# == PYS602 ninja-unpaginated-list: flags ==============================================


def list_op(returned: str, *, response: str = "List[Schema]", decorators: str = "",
            before: tuple[str, ...] = (), head: str = LIST_API) -> str:
    """A list operation at line 10 returning `returned`; `before` body lines come first."""
    body = "".join(f"    {b}\n" for b in before)
    return (head + f"@api.get('/books', response={response})\n{decorators}"
            f"def list_books(request):\n{body}    return {returned}\n")


def test_flags_typing_list_response_returning_a_queryset() -> None:
    finding = one(list_op("Book.objects.all()"), "PYS602")
    assert (finding.line, finding.severity.value) == (10, "warning")
    assert finding.message == (
        "Ninja operation `list_books` returns a whole queryset as its list response: "
        "add `@paginate`"
    )


@pytest.mark.parametrize(
    ("head", "response"),
    [
        (LIST_API, "list[Schema]"),
        (LIST_API.replace("from typing import List", "import typing"), "typing.List[Schema]"),
        (LIST_API.replace("from typing import List", "from typing import List as L"),
         "L[Schema]"),
    ],
)
def test_flags_every_list_spelling(head: str, response: str) -> None:
    assert lines_of(list_op("Book.objects.all()", response=response, head=head), "PYS602") == [10]


@pytest.mark.parametrize(
    "returned",
    [
        "Book.objects.filter(author__name='x').order_by('title')",
        "Book.objects.select_related('author').exclude(hidden=True)",
        "Book.objects.values('id', 'title')",
        "Book.objects.published()",
        "Book.objects.all()[10:]",
        "models.Book.objects.all()",
    ],
)
def test_flags_queryset_chains(returned: str) -> None:
    assert lines_of(list_op(returned), "PYS602") == [10]


def test_flags_a_local_name_holding_a_queryset() -> None:
    code = list_op("books", before=("books = Book.objects.all()", "if request.GET.get('q'):",
                                    "    books = books.filter(title__icontains='q')"))
    assert lines_of(code, "PYS602") == [10]


def test_flags_a_ninja_router_operation() -> None:
    head = ("from ninja import Router, Schema\n\nfrom library.models import Book\n\n"
            "api = Router()\n\n\n\n\n")
    assert lines_of(list_op("Book.objects.all()", response="list[Schema]", head=head),
                    "PYS602") == [10]


def test_flags_when_one_of_several_returns_is_a_queryset() -> None:
    code = list_op("Book.objects.all()", before=("if request.GET:", "    return []"))
    assert lines_of(code, "PYS602") == [10]


# == PYS602: never flags ===============================================================


@pytest.mark.parametrize(
    ("decorators", "head"),
    [
        ("@paginate\n", LIST_API + "from ninja.pagination import paginate\n"),
        ("@paginate(PageNumberPagination)\n",
         LIST_API + "from ninja.pagination import PageNumberPagination, paginate\n"),
        ("@pagination.paginate\n", LIST_API + "from ninja import pagination\n"),
        ("@p(pagination.LimitOffsetPagination)\n",
         LIST_API + "from ninja import pagination\nfrom ninja.pagination import paginate as p\n"),
        ("@paginate_with_cursor\n", LIST_API + "from app.pages import paginate_with_cursor\n"),
    ],
)
def test_never_flags_paginated_operations(decorators: str, head: str) -> None:
    code = list_op("Book.objects.all()", decorators=decorators, head=head)
    assert only(code, "PYS602") == []


@pytest.mark.parametrize(
    "returned",
    [
        "list(Book.objects.all())",
        "[b for b in Book.objects.all()]",
        "Book.objects.all()[:50]",
        "Book.objects.order_by('-id')[0:20]",
        "Book.objects.count()",
        "Book.objects.get(pk=1)",
        "Book.objects.all().first()",
        "Book.objects",
        "books.all()",
        "request.user.books.all()",
        "cache.objects.all()",
    ],
)
def test_never_flags_what_is_not_an_unbounded_queryset(returned: str) -> None:
    assert only(list_op(returned), "PYS602") == []


def test_never_flags_a_local_name_bound_otherwise_too() -> None:
    loop = list_op("books", before=("books = Book.objects.all()", "for books in [[]]:",
                                    "    pass"))
    evaluated = list_op("books", before=("books = Book.objects.all()", "books = list(books)"))
    sliced = list_op("books", before=("books = Book.objects.all()", "books = books[:10]"))
    parameter = LIST_API + (
        "@api.get('/books', response=List[Schema])\ndef list_books(request, books):\n"
        "    return books\n"
    )
    for code in (loop, evaluated, sliced, parameter):
        assert only(code, "PYS602") == [], code


@pytest.mark.parametrize("response", ["Schema", "{200: List[Schema]}", "dict[str, Schema]"])
def test_never_flags_responses_that_are_not_lists(response: str) -> None:
    assert only(list_op("Book.objects.all()", response=response), "PYS602") == []


def test_never_flags_non_ninja_routers() -> None:
    head = ("from typing import List\n\nfrom fastapi import APIRouter\nimport ninja\n\n"
            "from library.models import Book\n\napi = APIRouter()\n\n\n")
    assert only(list_op("Book.objects.all()", head=head), "PYS602") == []


# == PYS602: fix =======================================================================


def test_fix_adds_paginate_below_the_operation_and_the_import() -> None:
    new = fix_of(list_op("Book.objects.all()"), "PYS602")
    assert new == textwrap.dedent("""\
        from typing import List

        from ninja import NinjaAPI, Schema

        from library.models import Book
        from ninja.pagination import paginate

        api = NinjaAPI()


        @api.get('/books', response=List[Schema])
        @paginate
        def list_books(request):
            return Book.objects.all()
        """)


def test_fix_keeps_an_existing_import_and_other_decorators() -> None:
    head = LIST_API.replace("from ninja import NinjaAPI, Schema",
                            "from ninja import NinjaAPI, Schema\n"
                            "from ninja.pagination import LimitOffsetPagination, paginate")
    code = list_op("Book.objects.all()", decorators="@decorate_view(cache_page(60))\n", head=head)
    finding = one(code, "PYS602")
    assert finding.fix is not None and finding.fix.imports == ()
    new = fix_of(code, "PYS602")
    assert ("@api.get('/books', response=List[Schema])\n@paginate\n"
            "@decorate_view(cache_page(60))\ndef list_books") in new


def test_fix_after_a_multi_line_decorator() -> None:
    code = LIST_API + (
        "@api.get(\n    '/books',\n    response=List[Schema],\n)\ndef list_books(request):\n"
        "    return Book.objects.all()\n"
    )
    finding = one(code, "PYS602")
    assert (finding.line, finding.end_line) == (10, 13)
    assert ")\n@paginate\ndef list_books" in fix_of(code, "PYS602")


def test_no_fix_when_paginate_is_taken() -> None:
    head = LIST_API + "from app.pages import paginate\n"
    finding = one(list_op("Book.objects.all()", head=head), "PYS602")
    assert finding.fix is None


# == PYS603 ninja-api-at-root: flags ===================================================


def urls(*patterns: str, head: str = "from django.urls import path\n\nfrom .api import api\n\n"
         ) -> str:
    return head + "urlpatterns = [\n" + "".join(f"    {p},\n" for p in patterns) + "]\n"


def test_flags_imported_api_at_root() -> None:
    finding = one(urls("path('', api.urls)"), "PYS603", URLS)
    assert (finding.line, finding.severity.value) == (6, "info")
    assert finding.message == (
        "`api.urls` is mounted at the site root: mount it under a prefix such as `api/`"
    )


def test_flags_api_bound_in_the_urls_module() -> None:
    head = "from django.urls import path\nfrom ninja import NinjaAPI\n\nv1 = NinjaAPI()\n\n"
    assert lines_of(urls('path("", v1.urls)', head=head), "PYS603", URLS) == [7]


@pytest.mark.parametrize(
    ("head", "pattern"),
    [
        ("from django.urls import re_path\n\nfrom .api import api\n\n", "re_path(r'^', api.urls)"),
        ("from django.urls import re_path\n\nfrom .api import api\n\n", "re_path('', api.urls)"),
        ("from django.conf.urls import url\n\nfrom .api import api\n\n", "url(r'^', api.urls)"),
        ("from django.urls import path\n\nfrom .api import api\n\n",
         "path(route='', view=api.urls)"),
        ("from django import urls\n\nfrom .api import api\n\n", "urls.path('', api.urls)"),
    ],
)
def test_flags_every_root_spelling(head: str, pattern: str) -> None:
    assert lines_of(urls(pattern, head=head), "PYS603", URLS) == [6]


@pytest.mark.parametrize(
    "imported",
    [
        "from core.api import router as public",
        "from .views import api",
        "from backend.apis.v1 import v1",
        "from .ninja_app import app",
        "from .api import publicApi as handle",
    ],
)
def test_flags_imported_names_that_read_as_apis(imported: str) -> None:
    name = imported.rpartition(" ")[2]
    head = f"from django.urls import path\n\n{imported}\n\n"
    assert lines_of(urls(f"path('', {name}.urls)", head=head), "PYS603", URLS) == [6]


# == PYS603: never flags ===============================================================


def test_never_flags_api_under_a_prefix() -> None:
    assert only(urls("path('api/', api.urls)", "path('v2/', api.urls)"), "PYS603", URLS) == []


def test_never_flags_outside_urls_modules() -> None:
    assert only(urls("path('', api.urls)"), "PYS603", "mysite/routing.py") == []


@pytest.mark.parametrize(
    ("imported", "view"),
    [
        ("from .admin import admin_site", "admin_site.urls"),
        ("from django.contrib import admin", "admin.site.urls"),
        ("from shop import sitemaps", "sitemaps.urls"),
        ("import api", "api.urls"),
    ],
)
def test_never_flags_urls_objects_that_are_not_apis(imported: str, view: str) -> None:
    head = f"from django.urls import path\n\n{imported}\n\n"
    assert only(urls(f"path('', {view})", head=head), "PYS603", URLS) == []


def test_never_flags_a_local_object_that_is_not_a_ninja_api() -> None:
    head = "from django.urls import path\nfrom shop.site import Site\n\napi = Site()\n\n"
    assert only(urls("path('', api.urls)", head=head), "PYS603", URLS) == []


def test_never_flags_include_or_other_routes() -> None:
    head = "from django.urls import include, path\n\nfrom .api import api\n\n"
    code = urls("path('', include('shop.urls'))", "path('', include(api.urls))",
                "path('docs', api.urls)", head=head)
    assert only(code, "PYS603", URLS) == []


def test_never_flags_a_path_function_that_is_not_djangos() -> None:
    head = "from app.routing import path\n\nfrom .api import api\n\n"
    assert only(urls("path('', api.urls)", head=head), "PYS603", URLS) == []


# == PYS603: fix =======================================================================


@pytest.mark.parametrize(
    ("head", "before", "after"),
    [
        ("from django.urls import path\n", "path('', api.urls)", "path('api/', api.urls)"),
        ("from django.urls import path\n", 'path("", api.urls)', 'path("api/", api.urls)'),
        ("from django.urls import path\n", "path(route='', view=api.urls, name='api')",
         "path(route='api/', view=api.urls, name='api')"),
        ("from django.urls import re_path\n", "re_path(r'^', api.urls)",
         "re_path(r'^api/', api.urls)"),
        ("from django.urls import re_path\n", "re_path('', api.urls)",
         "re_path('^api/', api.urls)"),
    ],
)
def test_fix_mounts_the_api_under_api(head: str, before: str, after: str) -> None:
    head += "\nfrom .api import api\n\n"
    assert fix_of(urls(before, head=head), "PYS603", URLS) == urls(after, head=head)


def test_no_fix_when_api_prefix_is_taken() -> None:
    head = "from django.urls import path\n\nfrom .api import api, legacy_api\n\n"
    code = urls("path('api/', legacy_api.urls)", "path('', api.urls)", head=head)
    finding = one(code, "PYS603", URLS)
    assert finding.line == 7 and finding.fix is None
