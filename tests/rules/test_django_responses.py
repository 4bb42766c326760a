"""PYS204 django-jsonresponse-unsafe-list: every flags / never-flags item and fix of its
RULES.md row."""

from __future__ import annotations

import textwrap

import pytest

from tests.rules.lint import fix_of, lines_of, one, only

VIEW = "from django.http import JsonResponse\nfrom shop.models import Book\n\n\n"


def in_json_view(expr: str, head: str = VIEW) -> str:
    return head + f"def view(request):\n    return {expr}\n"


# == PYS204 django-jsonresponse-unsafe-list: flags =====================================


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ("['a', 'b']", "list"),
        ("('a', 'b')", "tuple"),
        ("[t.name for t in request.user.tags.all()]", "list comprehension"),
        ("list(request.GET)", "list"),
        ("Book.objects.values_list('id', flat=True)", "`.values()` queryset"),
        ("Book.objects.filter(a=1).values('id').order_by('id')[:10]", "`.values()` queryset"),
    ],
)
def test_jsonresponse_flags_non_dict_data(data: str, kind: str) -> None:
    finding = one(in_json_view(f"JsonResponse({data})"), "PYS204")
    assert finding.line == 6
    assert finding.message == (
        f"`JsonResponse` of a {kind} without `safe=False` raises TypeError at run time"
    )


@pytest.mark.parametrize(
    "head",
    [
        "from django.http import JsonResponse as JR\n",
        "from django.http.response import JsonResponse as JR\n",
        "from django import http\nJR = None\n",
        "import django.http\n",
    ],
)
def test_jsonresponse_resolved_through_import_aliases(head: str) -> None:
    call = {
        "from django import http\nJR = None\n": "http.JsonResponse",
        "import django.http\n": "django.http.JsonResponse",
    }.get(head, "JR")
    code = head + f"\n\ndef view(request):\n    return {call}([1, 2])\n"
    assert len(only(code, "PYS204")) == 1


def test_jsonresponse_flags_data_keyword() -> None:
    assert lines_of(in_json_view("JsonResponse(data=[1], status=201)"), "PYS204") == [6]


# == PYS204: never flags ================================================================


@pytest.mark.parametrize(
    "data",
    [
        "{'tags': ['a']}",
        "{t.id: t.name for t in tags}",
        "dict(tags=['a'])",
        "payload",
        "build_payload(request)",
        "(t.name for t in tags)",
    ],
)
def test_jsonresponse_ignores_dicts_and_unknown_values(data: str) -> None:
    assert only(in_json_view(f"JsonResponse({data})"), "PYS204") == []


@pytest.mark.parametrize(
    "call",
    [
        "JsonResponse([1, 2], safe=False)",
        "JsonResponse([1, 2], safe=True)",
        "JsonResponse(data=[1, 2], safe=False)",
        "JsonResponse([1, 2], **options)",
        "JsonResponse(*args)",
    ],
)
def test_jsonresponse_ignores_calls_passing_safe(call: str) -> None:
    assert only(in_json_view(call), "PYS204") == []


def test_jsonresponse_ignores_other_classes_of_that_name() -> None:
    code = "from myapp.http import JsonResponse\n\n\ndef view(request):\n" \
           "    return JsonResponse([1])\n"
    assert only(code, "PYS204") == []


# == PYS204: fix ========================================================================


def test_jsonresponse_fix_adds_safe_false() -> None:
    new = fix_of(in_json_view("JsonResponse(['a', 'b'], status=200)"), "PYS204")
    assert new.splitlines()[5] == "    return JsonResponse(['a', 'b'], status=200, safe=False)"


def test_jsonresponse_fix_keeps_one_argument_per_line() -> None:
    code = VIEW + textwrap.dedent("""\
        def view(request):
            return JsonResponse(
                [1, 2],
            )
        """)
    new = fix_of(code, "PYS204")
    assert new.endswith("    return JsonResponse(\n        [1, 2],\n        safe=False,\n    )\n")


def test_jsonresponse_fix_after_several_arguments_one_per_line() -> None:
    code = VIEW + textwrap.dedent("""\
        def view(request):
            return JsonResponse(
                [1, 2],
                status=201,
            )
        """)
    new = fix_of(code, "PYS204")
    assert "        status=201,\n        safe=False,\n    )\n" in new


def test_jsonresponse_fix_keeps_a_trailing_comment() -> None:
    code = VIEW + textwrap.dedent("""\
        def view(request):
            return JsonResponse(
                [1, 2]  # the ids
            )
        """)
    new = fix_of(code, "PYS204")
    assert "        [1, 2], safe=False  # the ids\n" in new


def test_jsonresponse_fix_wraps_a_values_queryset_in_list() -> None:
    new = fix_of(in_json_view("JsonResponse(Book.objects.values('id'))"), "PYS204")
    assert "JsonResponse(list(Book.objects.values('id')), safe=False)" in new


def test_jsonresponse_fix_with_data_keyword() -> None:
    new = fix_of(in_json_view("JsonResponse(data=(1, 2))"), "PYS204")
    assert "JsonResponse(data=(1, 2), safe=False)" in new
