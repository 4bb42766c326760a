"""PYS204: `JsonResponse` of something that is certainly not a dict, without `safe=False`."""

from __future__ import annotations

import libcst as cst

from pystd.rules.context import FileContext
from pystd.rules.django.querysets import is_values_chain
from pystd.rules.engine import Category, Example, Rule, Severity, register

JSON_RESPONSE = frozenset({"django.http.JsonResponse", "django.http.response.JsonResponse"})


def _non_dict_kind(value: cst.BaseExpression, ctx: FileContext) -> str | None:
    """What `value` is when it is certainly not a dict, else None."""
    if isinstance(value, cst.List):
        return "list"
    if isinstance(value, cst.Tuple):
        return "tuple"
    if isinstance(value, cst.ListComp):
        return "list comprehension"
    if isinstance(value, cst.Call) and ctx.qualified_name(value.func) == "builtins.list":
        return "list"
    if is_values_chain(value):
        return "`.values()` queryset"
    return None


def with_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """`call` with `name=value` appended, keeping its one-line or one-per-line layout."""
    args = list(call.args)
    new = cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        ),
    )
    if not args:
        return call.with_changes(args=[new])
    last = args[-1]
    if isinstance(last.comma, cst.Comma):  # a trailing comma: the call is one argument a line
        if len(args) >= 2 and isinstance(args[-2].comma, cst.Comma):
            separator = args[-2].comma
        else:
            separator = cst.Comma(whitespace_after=call.whitespace_before_args)
        args[-1] = last.with_changes(comma=separator)
        args.append(new.with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg))
    else:
        args[-1] = last.with_changes(
            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
            whitespace_after_arg=cst.SimpleWhitespace(""),
        )
        args.append(new.with_changes(whitespace_after_arg=last.whitespace_after_arg))
    return call.with_changes(args=args)


@register
class JsonResponseUnsafeList(Rule):
    code = "PYS204"
    name = "django-jsonresponse-unsafe-list"
    severity = Severity.ERROR
    category = Category.CORRECTNESS
    default = True
    rationale = (
        "`JsonResponse` of a list without `safe=False` raises TypeError on every call: a "
        "certain bug."
    )
    message = "`JsonResponse` of a {kind} without `safe=False` raises TypeError at run time"
    requires = ("JsonResponse",)
    docs = """
## What it does
Flags `django.http.JsonResponse(data)` (through import aliases, also
`django.http.response.JsonResponse`) whose `data` is certainly not a dict — a list or
tuple display, a list comprehension, a `list(...)` call, or a `.values()`/`.values_list()`
queryset chain — and that does not pass `safe=`.

## Why is this bad?
`JsonResponse` only serialises a `dict` unless it is told otherwise: with the default
`safe=True` any other object raises `TypeError: In order to allow non-dict objects to be
serialized set the safe parameter to False.` The view fails with a 500 on every request
that reaches the line. Django's "Request and response objects" documentation
(docs.djangoproject.com/en/stable/ref/request-response/#serializing-non-dictionary-objects)
says to pass `safe=False` to serialise anything but a dict. A `.values()` queryset is not
a list either: the JSON encoder cannot serialise a `QuerySet`, so it needs `list(...)` too.

## Example
```python
def tags(request):
    return JsonResponse([t.name for t in Tag.objects.all()])
```

## Use instead
```python
def tags(request):
    return JsonResponse([t.name for t in Tag.objects.all()], safe=False)
```
or return an object, `JsonResponse({"tags": [...]})`, which leaves room to add fields.

## Fix
Adds `safe=False`; a `.values()`/`.values_list()` chain is also wrapped in `list(...)`.

## Suppress
`# noqa: PYS204` on the line.
"""
    bad = (
        Example(
            """
            from django.http import JsonResponse


            def tags(request):
                return JsonResponse(['a', 'b'])  # flagged
            """,
            fixed="""
            from django.http import JsonResponse


            def tags(request):
                return JsonResponse(['a', 'b'], safe=False)  # flagged
            """,
        ),
        Example(
            """
            from django.http import JsonResponse as JR


            def tags(request):
                return JR([t.name for t in request.user.tags.all()])  # flagged
            """,
            fixed="""
            from django.http import JsonResponse as JR


            def tags(request):
                return JR([t.name for t in request.user.tags.all()], safe=False)  # flagged
            """,
        ),
        Example(
            """
            from django import http


            def ids(request):
                return http.JsonResponse(list(request.GET))  # flagged
            """,
            fixed="""
            from django import http


            def ids(request):
                return http.JsonResponse(list(request.GET), safe=False)  # flagged
            """,
        ),
        Example(
            """
            from django.http import JsonResponse
            from shop.models import Book


            def books(request):
                return JsonResponse(Book.objects.values('id', 'title'))  # flagged
            """,
            fixed="""
            from django.http import JsonResponse
            from shop.models import Book


            def books(request):
                return JsonResponse(list(Book.objects.values('id', 'title')), safe=False)  # flagged
            """,
        ),
    )
    good = (
        """
        from django.http import JsonResponse


        def tags(request):
            return JsonResponse(['a', 'b'], safe=False)
        """,
        """
        from django.http import JsonResponse


        def tags(request):
            return JsonResponse({'tags': ['a', 'b']})
        """,
        """
        from django.http import JsonResponse


        def tags(request):
            return JsonResponse(dict(tags=['a']))
        """,
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name):
            if func.value != "JsonResponse" and func.value not in self.ctx.imports:
                return
        elif not (isinstance(func, cst.Attribute) and func.attr.value == "JsonResponse"):
            return
        if self.ctx.qualified_name(func) not in JSON_RESPONSE:
            return
        data: cst.Arg | None = None
        for index, arg in enumerate(node.args):
            if arg.star:  # `*args`/`**kwargs` may well carry `safe=`
                return
            keyword = arg.keyword.value if arg.keyword is not None else None
            if keyword == "safe":
                return
            if (keyword is None and index == 0) or keyword == "data":
                data = arg
        if data is None:
            return
        kind = _non_dict_kind(data.value, self.ctx)
        if kind is None:
            return
        new = node
        if kind.startswith("`.values"):
            # A `.values()` queryset is not a list: `safe=False` alone does not make it
            # serialisable, so the fix also wraps it in `list(...)`.
            wrapped = cst.Call(func=cst.Name("list"), args=[cst.Arg(value=data.value)])
            new = node.deep_replace(data.value, wrapped)
            assert isinstance(new, cst.Call)
        new = with_keyword(new, "safe", cst.Name("False"))
        self.report(node, self.message.format(kind=kind), replace=(node, new))
