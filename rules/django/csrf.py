"""PYS207: views exempted from Django's CSRF protection."""

from __future__ import annotations

import libcst as cst

from rules.engine import Category, Example, Rule, Severity, register

CSRF_EXEMPT = "django.views.decorators.csrf.csrf_exempt"
METHOD_DECORATOR = "django.utils.decorators.method_decorator"


@register
class CsrfExempt(Rule):
    code = "PYS207"
    name = "django-csrf-exempt"
    severity = Severity.WARNING
    category = Category.SECURITY
    default = False
    rationale = (
        "Views exempted from CSRF are nearly always deliberate (OAuth, OIDC and SAML "
        "callbacks, signed webhooks, embeddable widgets): none of 8 read on the tuning "
        "projects was a hole. Opt-in."
    )
    message = "`csrf_exempt` switches off CSRF protection for this view"
    requires = ("csrf_exempt",)
    docs = """
## What it does
Flags Django's `csrf_exempt` (`django.views.decorators.csrf.csrf_exempt`, through import
aliases) wherever it is applied to a view:
- as a decorator, `@csrf_exempt`;
- through `method_decorator`, `@method_decorator(csrf_exempt, name="dispatch")` (also in a
  list, `method_decorator([csrf_exempt, login_required], …)`);
- as a call, `path("hook/", csrf_exempt(views.hook))` in a URLconf.

A function of your own that happens to be called `csrf_exempt` is not flagged.

## Why is this bad?
Django's CSRF middleware stops another site from making a logged-in user's browser submit
forms or API calls to yours. `csrf_exempt` turns that check off for the view, so any page
the user visits can post to it with their cookies. Django's CSRF documentation
(docs.djangoproject.com/en/stable/ref/csrf/ and the "How to use Django's CSRF protection"
guide) presents the exemption as a narrow tool for views that are not protected by cookies
at all. Webhooks and token-authenticated APIs are the usual real cases: they should verify
a signature or token instead, and say so where the exemption is made.

## Example
```python
@csrf_exempt
def update_profile(request):
    request.user.email = request.POST["email"]
    request.user.save()
    return HttpResponse(status=204)
```

## Use instead
Keep the protection and send the token from the page (`{% csrf_token %}` in forms, the
`X-CSRFToken` header from JavaScript). For a webhook that proves itself another way,
keep the exemption and justify it:
```python
@csrf_exempt  # noqa: PYS207 -- verified by the HMAC signature below
def stripe_webhook(request):
    verify_signature(request)
    ...
```

## Suppress
`# noqa: PYS207` on the decorator line (or on the `csrf_exempt(...)` call), with the reason.
"""
    bad = (
        "from django.http import HttpResponse\n"
        "from django.views.decorators.csrf import csrf_exempt\n\n\n"
        "@csrf_exempt  # flagged\n"
        "def update_profile(request):\n"
        "    return HttpResponse(status=204)\n",
        "from django.utils.decorators import method_decorator\n"
        "from django.views import View\n"
        "from django.views.decorators.csrf import csrf_exempt as no_csrf\n\n\n"
        "@method_decorator(no_csrf, name='dispatch')  # flagged\n"
        "class HookView(View):\n"
        "    pass\n",
        Example(
            "from django.urls import path\n"
            "from django.views.decorators import csrf\n\n"
            "from shop import views\n\n"
            "urlpatterns = [\n"
            "    path('hook/', csrf.csrf_exempt(views.hook)),  # flagged\n"
            "]\n",
            "shop/urls.py",
        ),
    )
    good = (
        "from django.http import HttpResponse\n"
        "from django.views.decorators.csrf import csrf_protect\n\n\n"
        "@csrf_protect\n"
        "def update_profile(request):\n"
        "    return HttpResponse(status=204)\n",
        "from django.http import HttpResponse\n"
        "from django.views.decorators.csrf import csrf_exempt\n\n\n"
        "@csrf_exempt  # noqa: PYS207 -- the payload is checked against its HMAC signature\n"
        "def stripe_webhook(request):\n"
        "    return HttpResponse(status=204)\n",
        "from django.http import HttpResponse\n\nfrom shop.security import csrf_exempt\n\n\n"
        "@csrf_exempt\n"
        "def update_profile(request):\n"
        "    return HttpResponse(status=204)\n",
    )

    def _is_csrf_exempt(self, expr: cst.BaseExpression) -> bool:
        return self.ctx.qualified_name(expr) == CSRF_EXEMPT

    def visit_Decorator(self, node: cst.Decorator) -> None:
        target = node.decorator
        if not isinstance(target, cst.Call) and self._is_csrf_exempt(target):
            self.report(node)

    def visit_Call(self, node: cst.Call) -> None:
        # `csrf_exempt(view)` in a URLconf or anywhere; `method_decorator(csrf_exempt, …)`.
        qualified = self.ctx.qualified_name(node.func)
        if qualified == CSRF_EXEMPT or (qualified == METHOD_DECORATOR and self._exempts(node)):
            self.report(node)

    def _exempts(self, call: cst.Call) -> bool:
        """Does `method_decorator(...)` apply `csrf_exempt`, alone or in a list/tuple?"""
        for index, arg in enumerate(call.args):
            keyword = arg.keyword.value if arg.keyword is not None else None
            if not ((keyword is None and index == 0 and not arg.star) or keyword == "decorator"):
                continue
            value = arg.value
            if isinstance(value, (cst.List, cst.Tuple)):
                return any(
                    isinstance(el, cst.Element) and self._is_csrf_exempt(el.value)
                    for el in value.elements
                )
            return self._is_csrf_exempt(value)
        return False
