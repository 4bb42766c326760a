"""PYS207 django-csrf-exempt: every flags / never-flags item of its RULES.md row, and its
suppression with `# noqa: PYS207`."""

from __future__ import annotations

import textwrap

import pytest

from pystd.rules.engine import Finding, Severity
from tests.rules import lint as shared

IMPORT = "from django.views.decorators.csrf import csrf_exempt\n"
VIEW = "def update_profile(request):\n    return HttpResponse(status=204)\n"
HEAD = "from django.http import HttpResponse\n"


def only(code: str, path: str = "shop/views.py") -> list[Finding]:
    return shared.only(code, "PYS207", path)


def lines(code: str, path: str = "shop/views.py") -> list[int]:
    return shared.lines_of(code, "PYS207", path)


# == PYS207 django-csrf-exempt: flags ===================================================


def test_csrf_exempt_decorator_flagged() -> None:
    findings = only(HEAD + IMPORT + "\n\n@csrf_exempt\n" + VIEW)
    assert [f.line for f in findings] == [5]
    finding = findings[0]
    assert (finding.column, finding.end_column) == (1, 12)
    assert finding.severity is Severity.WARNING
    assert finding.message == "`csrf_exempt` switches off CSRF protection for this view"
    assert finding.fix is None


@pytest.mark.parametrize(
    ("imports", "decorator"),
    [
        ("from django.views.decorators.csrf import csrf_exempt as no_csrf\n", "no_csrf"),
        ("from django.views.decorators import csrf\n", "csrf.csrf_exempt"),
        ("import django.views.decorators.csrf\n", "django.views.decorators.csrf.csrf_exempt"),
    ],
)
def test_csrf_exempt_resolved_through_import_aliases(imports: str, decorator: str) -> None:
    assert lines(HEAD + imports + f"\n\n@{decorator}\n" + VIEW) == [5]


def test_csrf_exempt_flagged_among_other_decorators() -> None:
    code = HEAD + IMPORT + "from django.views.decorators.http import require_POST\n\n\n" \
        "@require_POST\n@csrf_exempt\n" + VIEW
    assert lines(code) == [7]


@pytest.mark.parametrize(
    "decorator",
    [
        "@method_decorator(csrf_exempt, name='dispatch')",
        "@method_decorator(decorator=csrf_exempt, name='dispatch')",
        "@method_decorator([csrf_exempt, login_required], name='dispatch')",
        "@md((login_required, csrf_exempt), name='dispatch')",
    ],
)
def test_method_decorator_with_csrf_exempt_on_a_class_flagged(decorator: str) -> None:
    code = IMPORT + "from django.contrib.auth.decorators import login_required\n" \
        "from django.utils.decorators import method_decorator\n" \
        "from django.utils.decorators import method_decorator as md\n" \
        "from django.views import View\n\n\n" + decorator + "\nclass ProfileView(View):\n    pass\n"
    assert lines(code) == [8]


def test_method_decorator_with_csrf_exempt_on_a_method_flagged() -> None:
    code = IMPORT + "from django.utils.decorators import method_decorator\n" \
        "from django.views import View\n\n\n" \
        "class ProfileView(View):\n" \
        "    @method_decorator(csrf_exempt)\n" \
        "    def dispatch(self, request, *args, **kwargs):\n" \
        "        return super().dispatch(request, *args, **kwargs)\n"
    assert lines(code) == [7]


@pytest.mark.parametrize(
    "route",
    [
        "path('profile/', csrf_exempt(views.update_profile))",
        "path('profile/', csrf_exempt(views.ProfileView.as_view()), name='profile')",
        "re_path(r'^profile/$', csrf_exempt(views.update_profile))",
    ],
)
def test_csrf_exempt_call_in_a_urlconf_flagged(route: str) -> None:
    code = "from django.urls import path, re_path\n" + IMPORT + "\nfrom shop import views\n\n" \
        f"urlpatterns = [\n    {route},\n]\n"
    assert lines(code, "shop/urls.py") == [7]


def test_csrf_exempt_call_outside_a_urlconf_flagged() -> None:
    code = HEAD + IMPORT + "\n\n" + VIEW.replace("update_profile", "_update_profile") + "\n\nupdate_profile = csrf_exempt(_update_profile)\n"
    assert lines(code) == [9]


def test_multi_line_method_decorator_flagged_once() -> None:
    code = IMPORT + "from django.utils.decorators import method_decorator\n\n\n" \
        "@method_decorator(\n    csrf_exempt,\n    name='dispatch',\n)\nclass ProfileView:\n    pass\n"
    findings = only(code)
    assert [(f.line, f.end_line) for f in findings] == [(5, 8)]


# == PYS207: never flags ================================================================


@pytest.mark.parametrize(
    "code",
    [
        # Django's other CSRF decorators keep or strengthen the protection.
        "from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie\n\n\n"
        "@csrf_protect\n@ensure_csrf_cookie\n" + VIEW,
        # A function of your own that is called `csrf_exempt`.
        "from shop.security import csrf_exempt\n\n\n@csrf_exempt\n" + VIEW,
        "def csrf_exempt(view):\n    return view\n\n\n@csrf_exempt\n" + VIEW,
        # `method_decorator` with something else.
        IMPORT + "from django.contrib.auth.decorators import login_required\n"
        "from django.utils.decorators import method_decorator\n\n\n"
        "@method_decorator(login_required, name='dispatch')\nclass V:\n    pass\n",
        # Flask-WTF's exemption is PYS305's business.
        "from flask_wtf.csrf import CSRFProtect\n\ncsrf = CSRFProtect()\n\n\n"
        "@csrf.exempt\n" + VIEW,
        # Only importing it, or mentioning it in prose.
        IMPORT + '\n"""Never use csrf_exempt here."""\n',
    ],
)
def test_other_decorators_and_other_csrf_exempts_are_ignored(code: str) -> None:
    assert only(HEAD + code) == []


# == PYS207: views that prove their caller another way ===================================

AUTH_HEAD = (HEAD + "import hmac\n\nimport stripe\n" + IMPORT
             + "from django.utils.decorators import method_decorator\n"
             + "from django.views import View\n\nfrom shop.auth import api_key_required\n\n\n"
             "def _has_valid_key(request):\n"
             "    return request.headers.get('X-Api-Key') == 'k'\n\n\n")


def exempted(body: str, name: str = "receive", decorators: str = "") -> str:
    return (AUTH_HEAD + f"@csrf_exempt\n{decorators}def {name}(request):\n{body}"
            "    return HttpResponse(status=204)\n")


@pytest.mark.parametrize(
    "body",
    [
        "    token = request.headers.get('Authorization')\n",
        "    token = request.headers['Authorization']\n",
        "    auth = request.META.get('HTTP_AUTHORIZATION', '')\n",
        "    key = request.META['HTTP_X_API_KEY']\n",
        "    sent = request.headers.get('X-Hub-Signature-256')\n",
        "    if not hmac.compare_digest(sent, expected):\n        return HttpResponse(status=403)\n",
        "    event = stripe.Webhook.construct_event(request.body, sig, SECRET)\n",
        "    verify_signature(request)\n",
        "    if not signer.is_valid_signature(request.body):\n        return HttpResponse(status=403)\n",
        "    if not _has_valid_key(request):\n        return HttpResponse(status=401)\n",
    ],
    ids=["authorization-header", "authorization-item", "meta-authorization", "meta-api-key",
         "signature-header", "compare-digest", "stripe-construct-event", "verify-signature",
         "signature-method", "module-helper-reading-a-key"],
)
def test_never_flags_a_view_that_authenticates_by_header_token_or_signature(body: str) -> None:
    assert only(exempted(body)) == []


def test_never_flags_a_view_with_a_credential_decorator() -> None:
    assert only(exempted("    pass\n", decorators="@api_key_required\n")) == []


@pytest.mark.parametrize("name", ["stripe_webhook", "github_hook", "paypal_ipn",
                                  "oauth_callback", "health", "ping", "healthz"])
def test_never_flags_a_view_another_server_calls_by_its_name(name: str) -> None:
    assert only(exempted("    process(request.body)\n", name=name)) == []


def test_never_flags_a_webhook_view_class_or_route() -> None:
    view_class = (AUTH_HEAD + "@method_decorator(csrf_exempt, name='dispatch')\n"
                  "class GitHubWebhookView(View):\n    def post(self, request):\n"
                  "        return HttpResponse(status=204)\n")
    assert only(view_class) == []
    header_class = (AUTH_HEAD + "class ApiView(View):\n    @method_decorator(csrf_exempt)\n"
                    "    def dispatch(self, request, *args, **kwargs):\n"
                    "        return super().dispatch(request, *args, **kwargs)\n\n"
                    "    def post(self, request):\n"
                    "        key = request.headers.get('X-Api-Key')\n"
                    "        return HttpResponse(status=204)\n")
    assert only(header_class) == []
    urls = ("from django.urls import path\n" + IMPORT + "\nfrom shop import views\n\n"
            "urlpatterns = [\n    path('webhooks/github/', csrf_exempt(views.github)),\n"
            "    path('stripe/', csrf_exempt(views.stripe_webhook)),\n]\n")
    assert only(urls, "shop/urls.py") == []


@pytest.mark.parametrize(
    ("name", "body"),
    [
        # A cookie-session view: the exemption lets any site post with the user's cookies.
        ("update_profile", "    request.user.email = request.POST['email']\n"),
        ("login_view", "    user = authenticate(request, username=request.POST['u'],"
                       " password=request.POST['p'])\n"),
        # Headers that are no credential: any browser sends them.
        ("save", "    agent = request.headers.get('User-Agent')\n"),
        ("save", "    ajax = request.headers.get('X-Requested-With') == 'XMLHttpRequest'\n"),
        ("save", "    back = request.META.get('HTTP_REFERER')\n"),
        # Checks of something else than a credential.
        ("save", "    validate(request.POST)\n"),
        ("save", "    check_form(request)\n"),
        # Named like a callback, but served to the logged-in user's browser.
        ("payment_callback", "    order = request.user.orders.last()\n"),
        ("oauth_callback", "    request.session['state'] = request.GET['state']\n"),
    ],
    ids=["session-user", "password-login", "user-agent", "requested-with", "referer",
         "validate-form", "check-form", "callback-with-user", "callback-with-session"],
)
def test_still_flags_views_that_trust_the_browser_session(name: str, body: str) -> None:
    assert lines(exempted(body, name=name)) == [16]


def test_still_flags_a_urlconf_exemption_of_an_ordinary_view() -> None:
    urls = ("from django.urls import path\n" + IMPORT + "\nfrom shop import views\n\n"
            "urlpatterns = [\n    path('checkout/', csrf_exempt(views.checkout)),\n]\n")
    assert lines(urls, "shop/urls.py") == [7]


# == PYS207: suppression ================================================================


@pytest.mark.parametrize("comment", ["# noqa: PYS207", "# noqa: PYS207 -- HMAC-signed webhook",
                                     "# noqa", "# NOQA:PYS101,PYS207"])
def test_noqa_on_the_decorator_line_suppresses(comment: str) -> None:
    code = HEAD + IMPORT + f"\n\n@csrf_exempt  {comment}\n" + VIEW
    assert only(code) == []


def test_noqa_for_another_code_does_not_suppress() -> None:
    assert lines(HEAD + IMPORT + "\n\n@csrf_exempt  # noqa: PYS101\n" + VIEW) == [5]


def test_noqa_on_a_urlconf_call_suppresses() -> None:
    code = "from django.urls import path\n" + IMPORT + "\nfrom shop import views\n\n" \
        "urlpatterns = [\n    path('profile/', csrf_exempt(views.update_profile)),  # noqa: PYS207\n]\n"
    assert only(code, "shop/urls.py") == []


def test_noqa_on_the_first_line_of_a_multi_line_decorator_suppresses() -> None:
    code = textwrap.dedent("""\
        from django.utils.decorators import method_decorator
        from django.views.decorators.csrf import csrf_exempt


        @method_decorator(  # noqa: PYS207
            csrf_exempt,
            name="dispatch",
        )
        class ProfileView:
            pass
        """)
    assert only(code) == []
