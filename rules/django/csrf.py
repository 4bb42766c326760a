"""PYS207: views exempted from Django's CSRF protection."""

from __future__ import annotations

import re

import libcst as cst

from pystd.rules.context import FileContext, dotted_name
from pystd.rules.engine import Category, Example, Rule, Severity, register
from pystd.rules.walker import find_nodes

CSRF_EXEMPT = "django.views.decorators.csrf.csrf_exempt"
METHOD_DECORATOR = "django.utils.decorators.method_decorator"

# Words of a view's name that say another server calls it, not a browser: webhooks,
# payment notifications (PayPal's IPN), OAuth/payment callbacks, health and ping probes.
_SERVER_WORDS = frozenset({"webhook", "webhooks", "hook", "hooks", "callback", "callbacks",
                           "ping", "health", "healthz", "healthcheck", "heartbeat", "ipn",
                           "liveness", "readiness"})
# Header names (`request.headers[...]`, `request.META["HTTP_..."]`) that carry a
# credential: `Authorization`, `X-Api-Key`, `X-Hub-Signature-256`, `Stripe-Signature`,
# `X-Gitlab-Token`, `X-Slack-Signature`, `X-Twilio-Signature` ...
_CREDENTIAL_HEADER = re.compile(r"authori[sz]ation|signature|token|api[-_]?key|secret|hmac",
                                re.IGNORECASE)
# Calls that check a credential: constant-time comparison, HMAC, JWT, the webhook
# libraries' verifiers.
_CREDENTIAL_CALLS = frozenset({"hmac.compare_digest", "secrets.compare_digest", "hmac.new",
                               "hmac.HMAC", "jwt.decode", "stripe.Webhook.construct_event",
                               "stripe.WebhookSignature.verify_header"})
# A call or decorator whose name says it checks a credential: `verify_signature(request)`,
# `check_api_key(request)`, `@token_required`, `validate_webhook(...)`.
_CHECK_WORDS = frozenset({"verify", "verified", "validate", "check", "authenticate",
                          "required", "requires", "require", "valid", "signed"})
_CREDENTIAL_WORDS = frozenset({"signature", "token", "key", "apikey", "secret", "hmac",
                               "webhook", "auth", "header", "headers", "sign"})
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# Attributes of `request` that only a cookie-session view reads.
_SESSION_ATTRIBUTES = frozenset({"user", "session"})


def _words(name: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(name)}


def server_to_server_name(name: str) -> bool:
    """`stripe_webhook`, `GitHubHookView`, `paypal_ipn`, `oauth_callback`, `health`."""
    return bool(_words(name) & _SERVER_WORDS) or "webhook" in name.lower()


def _names_a_check(name: str) -> bool:
    words = _words(name)
    return "signature" in words or "hmac" in words or bool(
        words & _CHECK_WORDS and words & _CREDENTIAL_WORDS)


def _string(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _header_read(node: cst.CSTNode) -> bool:
    """`x.headers["Authorization"]`, `x.headers.get("X-Hub-Signature-256")`,
    `x.META.get("HTTP_AUTHORIZATION")`, `x.META["HTTP_X_API_KEY"]`."""
    if isinstance(node, cst.Subscript):
        holder = node.value
        key = (node.slice[0].slice.value if len(node.slice) == 1
               and isinstance(node.slice[0].slice, cst.Index) else None)
    elif (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
          and node.func.attr.value in ("get", "getlist", "__getitem__") and node.args):
        holder = node.func.value
        key = node.args[0].value
    else:
        return False
    if not (isinstance(holder, cst.Attribute) and holder.attr.value in ("headers", "META")):
        return False
    text = _string(key)
    return text is not None and bool(_CREDENTIAL_HEADER.search(text))


def authenticates_by_header(view: cst.FunctionDef | cst.ClassDef, ctx: FileContext,
                            helpers: dict[str, cst.FunctionDef], depth: int = 0) -> bool:
    """Does the view (or a function of the module it calls) read a credential header,
    compare or verify a signature or token, or carry a decorator that does?"""
    for dec in view.decorators:
        target = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
        name = dotted_name(target)
        if name is not None and _names_a_check(name.rpartition(".")[2]):
            return True
    body = view.body
    for node in find_nodes(body, (cst.Subscript, cst.Call, cst.FunctionDef),
                           into_functions=True):
        if isinstance(node, cst.FunctionDef):
            if any(_names_a_check(dotted_name(d.decorator.func if isinstance(
                    d.decorator, cst.Call) else d.decorator) or "") for d in node.decorators):
                return True
            continue
        if _header_read(node):
            return True
        if not isinstance(node, cst.Call):
            continue
        if ctx.qualified_name(node.func) in _CREDENTIAL_CALLS:
            return True
        name = dotted_name(node.func)
        if name is None:
            continue
        last = name.rpartition(".")[2]
        if _names_a_check(last):
            return True
        helper = helpers.get(name)
        if helper is not None and helper is not view and depth < 2 and authenticates_by_header(
                helper, ctx, helpers, depth + 1):
            return True
    return False


def uses_session(view: cst.FunctionDef | cst.ClassDef) -> bool:
    """Does the view read `request.user` or `request.session` (a cookie-session view,
    where the exemption opens a hole whatever the view is called)?"""
    for node in find_nodes(view.body, (cst.Attribute,), into_functions=True):
        assert isinstance(node, cst.Attribute)
        if node.attr.value in _SESSION_ATTRIBUTES and isinstance(node.value, (cst.Name, cst.Attribute)):
            base = dotted_name(node.value) or ""
            if base.rpartition(".")[2] == "request":
                return True
    return False


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
- as a call, `path("profile/", csrf_exempt(views.update_profile))` in a URLconf.

A function of your own that happens to be called `csrf_exempt` is not flagged.

Nor is a view that proves its caller by something no other site can make a browser send,
or that by its name or URL is called by another server, not a browser:
- it reads a credential header: `request.headers["Authorization"]`,
  `request.headers.get("X-Hub-Signature-256")`, `request.META.get("HTTP_AUTHORIZATION")`,
  `request.META["HTTP_X_API_KEY"]` (a header name with authorization, signature, token,
  api-key, secret or hmac in it);
- it checks a signature or token: `hmac.compare_digest`, `hmac.new`, `jwt.decode`,
  `stripe.Webhook.construct_event`, a call or decorator named for such a check
  (`verify_signature(request)`, `@api_key_required`, `@token_required`), also in a function
  of the module the view calls;
- it is named, or routed, as a webhook, callback, payment notification (IPN), health or
  ping endpoint (`stripe_webhook`, `GitHubHookView`, `path("webhooks/github/", ...)`),
  unless it reads `request.user` or `request.session`: a view that trusts the browser's
  session cookie is flagged whatever its name.

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
`X-CSRFToken` header from JavaScript). For a view that proves its caller another way,
keep the exemption where the proof is visible:
```python
@csrf_exempt
def build_trigger(request):
    if not hmac.compare_digest(request.headers.get("X-Token", ""), settings.BUILD_TOKEN):
        return HttpResponse(status=403)
    ...
```

## Suppress
`# noqa: PYS207` on the decorator line (or on the `csrf_exempt(...)` call), with the reason.
"""
    bad = (
        """
        from django.http import HttpResponse
        from django.views.decorators.csrf import csrf_exempt


        @csrf_exempt  # flagged
        def update_profile(request):
            return HttpResponse(status=204)
        """,
        """
        from django.utils.decorators import method_decorator
        from django.views import View
        from django.views.decorators.csrf import csrf_exempt as no_csrf


        @method_decorator(no_csrf, name='dispatch')  # flagged
        class ProfileView(View):
            pass
        """,
        Example(
            """
            from django.urls import path
            from django.views.decorators import csrf

            from shop import views

            urlpatterns = [
                path('profile/', csrf.csrf_exempt(views.update_profile)),  # flagged
            ]
            """,
            "shop/urls.py",
        ),
    )
    good = (
        """
        from django.http import HttpResponse
        from django.views.decorators.csrf import csrf_protect


        @csrf_protect
        def update_profile(request):
            return HttpResponse(status=204)
        """,
        """
        from django.http import HttpResponse
        from django.views.decorators.csrf import csrf_exempt


        @csrf_exempt  # noqa: PYS207 -- the payload is checked against its HMAC signature
        def stripe_webhook(request):
            return HttpResponse(status=204)
        """,
        """
        import hmac

        from django.conf import settings
        from django.http import HttpResponse
        from django.views.decorators.csrf import csrf_exempt


        @csrf_exempt
        def build_trigger(request):
            sent = request.headers.get('X-Build-Token', '')
            if not hmac.compare_digest(sent, settings.BUILD_TOKEN):
                return HttpResponse(status=403)
            return HttpResponse(status=204)
        """,
        """
        from django.http import HttpResponse

        from shop.security import csrf_exempt


        @csrf_exempt
        def update_profile(request):
            return HttpResponse(status=204)
        """,
    )

    def _is_csrf_exempt(self, expr: cst.BaseExpression) -> bool:
        return self.ctx.qualified_name(expr) == CSRF_EXEMPT

    def visit_Decorator(self, node: cst.Decorator) -> None:
        target = node.decorator
        if (not isinstance(target, cst.Call) and self._is_csrf_exempt(target)
                and not self._proves_itself(self._decorated())):
            self.report(node)

    def visit_Call(self, node: cst.Call) -> None:
        # `csrf_exempt(view)` in a URLconf or anywhere; `method_decorator(csrf_exempt, …)`.
        qualified = self.ctx.qualified_name(node.func)
        if qualified == CSRF_EXEMPT:
            if self._route_of_server_view(node):
                return
            view = self._view_of(node)
        elif qualified == METHOD_DECORATOR and self._exempts(node):
            view = self._decorated()
        else:
            return
        if not self._proves_itself(view):
            self.report(node)

    def _decorated(self) -> cst.FunctionDef | cst.ClassDef | None:
        """The class (for a method, its class) or function the decorator being visited
        applies to."""
        for node in reversed(self.ctx.ancestors):
            if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
                if isinstance(node, cst.FunctionDef):
                    outer = self._enclosing_class(node)
                    return outer if outer is not None else node
                return node
        return None

    def _enclosing_class(self, func: cst.FunctionDef) -> cst.ClassDef | None:
        ancestors = self.ctx.ancestors
        index = next((i for i, n in enumerate(ancestors) if n is func), None)
        owner = ancestors[index - 2] if index is not None and index >= 2 else None
        return owner if isinstance(owner, cst.ClassDef) else None  # ClassDef > IndentedBlock > FunctionDef

    def _route_of_server_view(self, call: cst.Call) -> bool:
        """`path("webhooks/github/", csrf_exempt(views.github))`: the URL says another
        server calls the view."""
        ancestors = self.ctx.ancestors
        for node in reversed(ancestors[:-1]):
            if isinstance(node, cst.Call):
                route = _string(node.args[0].value) if node.args else None
                return route is not None and server_to_server_name(route)
            if not isinstance(node, cst.Arg):
                return False
        return False

    def _view_of(self, call: cst.Call) -> cst.FunctionDef | cst.ClassDef | str | None:
        """What `csrf_exempt(view)` wraps: a function or class of the module, else the
        view's name as written (`views.stripe_webhook`, `views.HookView.as_view()`)."""
        if not call.args:
            return None
        value = call.args[0].value
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
            value = value.func.value  # `HookView.as_view()`
        name = dotted_name(value)
        if name is None:
            return None
        module = self.ctx.module
        if "." not in name and module is not None:
            for stmt in module.body:
                if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) and stmt.name.value == name:
                    return stmt
        return name.rpartition(".")[2]

    def _proves_itself(self, view: cst.FunctionDef | cst.ClassDef | str | None) -> bool:
        """Does the exempted view authenticate its caller by something no other site can
        make a browser send (a header, a token, a signature), or is it by its name a view
        another server calls (a webhook, a payment notification, a health probe)?"""
        if view is None:
            return False
        if isinstance(view, str):
            return server_to_server_name(view)
        helpers = self._module_functions()
        if authenticates_by_header(view, self.ctx, helpers):
            return True
        return server_to_server_name(view.name.value) and not uses_session(view)

    def _module_functions(self) -> dict[str, cst.FunctionDef]:
        module = self.ctx.module
        return {stmt.name.value: stmt for stmt in (module.body if module is not None else ())
                if isinstance(stmt, cst.FunctionDef)}

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
