"""PYS603 ninja-api-at-root: a Ninja API mounted at the site's root URL."""

from __future__ import annotations

import re

import libcst as cst

from pystd.rules.context import FileContext
from pystd.rules.engine import Category, Example, Rule, Severity, register
from pystd.rules.ninja.operations import TUTORIAL_DOCS, analyse
from pystd.rules.nodes import keyword

URL_FUNCTIONS = frozenset({"django.urls.path", "django.urls.conf.path"})
REGEX_URL_FUNCTIONS = frozenset({"django.urls.re_path", "django.urls.conf.re_path",
                                 "django.conf.urls.url"})
# Words in an imported name that say "this is an API object" (PYS603).
_API_WORDS = frozenset({"api", "apis", "ninja"})
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def _words(name: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(name)}


def _rooted_route(string: cst.SimpleString, regex: bool) -> cst.SimpleString:
    """`""` -> `"api/"`, `r"^"` -> `r"^api/"`, keeping the prefix and the quotes."""
    text = string.value
    prefix = text[: len(text) - len(text.lstrip("rRbBuU"))]
    quote = text[len(prefix):][:3] if text[len(prefix):][:3] in ('"""', "'''") else text[len(prefix)]
    return string.with_changes(value=f"{prefix}{quote}{'^api/' if regex else 'api/'}{quote}")


@register
class NinjaApiAtRoot(Rule):
    code = "PYS603"
    name = "ninja-api-at-root"
    severity = Severity.INFO
    category = Category.STYLE
    default = False
    rationale = "Where the API is mounted is the project's choice. Opt-in."
    message = "`{api}.urls` is mounted at the site root: mount it under a prefix such as `api/`"
    requires = (".urls",)
    docs = f"""
## What it does
In a URLconf module (`urls.py`), flags `path("", api.urls)` — also `re_path("", …)` /
`re_path(r"^", …)`, `url(r"^", …)` and the `route=`/`view=` keywords — where `api` is a
name bound to `ninja.NinjaAPI(...)` in that module, or a name imported from elsewhere
(`from .api import api`) that reads as an API object: its name or its module path has the
word `api`, `apis` or `ninja` in it (`api`, `public_api`, `from core.api import v1`). Other
`.urls` objects — an admin site (`admin_site.urls`, `admin.site.urls`), DRF routers — are
never flagged, nor is `path("api/", api.urls)`.

## Why is this bad?
At the root, the API's operations share one URL space with the rest of the site: an
operation and a Django view can shadow each other depending on the order of
`urlpatterns`, the interactive docs land on the site's own `/docs` and the schema on
`/openapi.json`, and there is no prefix to version (`api/v2/`), proxy, rate-limit or
exempt from middleware as a whole. Django Ninja's tutorial ({TUTORIAL_DOCS}) mounts the API
with `path("api/", api.urls)`.

## Example
```python
urlpatterns = [
    path("", api.urls),
]
```

## Use instead
```python
urlpatterns = [
    path("api/", api.urls),
]
```

## Fix
`path("", api.urls)` -> `path("api/", api.urls)` (`r"^"` -> `r"^api/"` for regex routes);
no fix when the module already routes `api/` elsewhere. Clients and the docs URL move to
`/api/...`.

## Suppress
`# noqa: PYS603` on the line, for a service whose whole site is the API.
"""
    bad = (
        Example(
            """
            from django.urls import path

            from .api import api

            urlpatterns = [
                path('', api.urls),  # flagged
            ]
            """,
            "mysite/urls.py",
            fixed="""
            from django.urls import path

            from .api import api

            urlpatterns = [
                path('api/', api.urls),  # flagged
            ]
            """,
        ),
        Example(
            """
            from django.urls import path
            from ninja import NinjaAPI

            api = NinjaAPI()

            urlpatterns = [
                path("", api.urls),  # flagged
            ]
            """,
            "mysite/urls.py",
            fixed="""
            from django.urls import path
            from ninja import NinjaAPI

            api = NinjaAPI()

            urlpatterns = [
                path("api/", api.urls),  # flagged
            ]
            """,
        ),
    )
    good = (
        Example(
            """
            from django.urls import path

            from .api import api

            urlpatterns = [
                path('api/', api.urls),
            ]
            """,
            "mysite/urls.py",
        ),
        Example(
            """
            from django.urls import path

            from .admin import admin_site

            urlpatterns = [
                path('', admin_site.urls),
            ]
            """,
            "backoffice/urls.py",
        ),
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._apis: set[str] = set()

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return ctx.kind.is_urls and "django" in ctx.frameworks

    def visit_Module(self, node: cst.Module) -> None:
        self._apis = analyse(self.ctx, node).apis

    def visit_Call(self, node: cst.Call) -> None:
        func_name = node.func.attr.value if isinstance(node.func, cst.Attribute) else getattr(
            node.func, "value", None)
        if func_name not in ("path", "re_path", "url"):
            return
        qualified = self.ctx.qualified_name(node.func)
        regex = qualified in REGEX_URL_FUNCTIONS
        if not regex and qualified not in URL_FUNCTIONS:
            return
        positional = [a for a in node.args if a.keyword is None and not a.star]
        route = keyword(node, "route") or (positional[0] if positional else None)
        view = keyword(node, "view") or (positional[1] if len(positional) >= 2 else None)
        if route is None or view is None or not isinstance(route.value, cst.SimpleString):
            return
        if route.value.evaluated_value not in (("", "^") if regex else ("",)):
            return
        target = view.value
        if not (isinstance(target, cst.Attribute) and target.attr.value == "urls"
                and isinstance(target.value, cst.Name) and self._is_api(target.value.value)):
            return
        message = self.message.format(api=target.value.value)
        if re.search(r"""['"]\^?api/['"]""", self.ctx.source):
            self.report(node, message)  # `api/` is taken: the fix would collide
            return
        self.report(node, message, replace=(route.value, _rooted_route(route.value, regex)))

    def _is_api(self, name: str) -> bool:
        if name in self._apis:
            return True
        imported = self.ctx.imports.get(name)
        if imported is None or "." not in imported.strip("."):
            return False  # not imported, or `import api` (a module has no `.urls` API)
        words = _words(name)
        for part in imported.split("."):
            words |= _words(part)
        return bool(words & _API_WORDS)
