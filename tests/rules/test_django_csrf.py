"""PYS207 django-csrf-exempt: every flags / never-flags item of its RULES.md row, and its
suppression with `# noqa: PYS207`."""

from __future__ import annotations

import textwrap

import pytest

from rules.engine import Finding, Severity
from tests.rules.lint import lint

IMPORT = "from django.views.decorators.csrf import csrf_exempt\n"
VIEW = "def hook(request):\n    return HttpResponse(status=204)\n"
HEAD = "from django.http import HttpResponse\n"


def only(code: str, path: str = "shop/views.py") -> list[Finding]:
    return lint(code, path, select="PYS207")


def lines(code: str, path: str = "shop/views.py") -> list[int]:
    return [f.line for f in only(code, path)]


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
        "from django.views import View\n\n\n" + decorator + "\nclass HookView(View):\n    pass\n"
    assert lines(code) == [8]


def test_method_decorator_with_csrf_exempt_on_a_method_flagged() -> None:
    code = IMPORT + "from django.utils.decorators import method_decorator\n" \
        "from django.views import View\n\n\n" \
        "class HookView(View):\n" \
        "    @method_decorator(csrf_exempt)\n" \
        "    def dispatch(self, request, *args, **kwargs):\n" \
        "        return super().dispatch(request, *args, **kwargs)\n"
    assert lines(code) == [7]


@pytest.mark.parametrize(
    "route",
    [
        "path('hook/', csrf_exempt(views.hook))",
        "path('hook/', csrf_exempt(views.HookView.as_view()), name='hook')",
        "re_path(r'^hook/$', csrf_exempt(views.hook))",
    ],
)
def test_csrf_exempt_call_in_a_urlconf_flagged(route: str) -> None:
    code = "from django.urls import path, re_path\n" + IMPORT + "\nfrom shop import views\n\n" \
        f"urlpatterns = [\n    {route},\n]\n"
    assert lines(code, "shop/urls.py") == [7]


def test_csrf_exempt_call_outside_a_urlconf_flagged() -> None:
    code = HEAD + IMPORT + "\n\n" + VIEW.replace("hook", "_hook") + "\n\nhook = csrf_exempt(_hook)\n"
    assert lines(code) == [9]


def test_multi_line_method_decorator_flagged_once() -> None:
    code = IMPORT + "from django.utils.decorators import method_decorator\n\n\n" \
        "@method_decorator(\n    csrf_exempt,\n    name='dispatch',\n)\nclass HookView:\n    pass\n"
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
        "urlpatterns = [\n    path('hook/', csrf_exempt(views.hook)),  # noqa: PYS207\n]\n"
    assert only(code, "shop/urls.py") == []


def test_noqa_on_the_first_line_of_a_multi_line_decorator_suppresses() -> None:
    code = textwrap.dedent("""\
        from django.utils.decorators import method_decorator
        from django.views.decorators.csrf import csrf_exempt


        @method_decorator(  # noqa: PYS207
            csrf_exempt,
            name="dispatch",
        )
        class HookView:
            pass
        """)
    assert only(code) == []
