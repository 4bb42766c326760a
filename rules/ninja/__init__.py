"""PYS6xx: Django Ninja rules.

The operation rules (PYS601, PYS602) look only at decorators of names the module itself
binds to `ninja.NinjaAPI(...)` or `ninja.Router(...)` (resolved through imports, also through
a subclass declared in the module). FastAPI's `APIRouter`, DRF's routers and anything else
spelled `router.get` are never touched.

The package splits them by concern: `operations` (which names are Ninja objects, and the
operation decorators), `response_schema` (PYS601), `querysets` (which expressions are lazy
querysets) and `pagination` (PYS602), `api_root` (PYS603). Every name importable from the
single module this package once was is re-exported here.
"""

from __future__ import annotations

from pystd.rules.ninja.api_root import REGEX_URL_FUNCTIONS, URL_FUNCTIONS, NinjaApiAtRoot
from pystd.rules.ninja.operations import (
    NINJA_APIS,
    NINJA_ROUTERS,
    OPERATIONS,
    PAGINATE,
    PAGINATE_IMPORT,
    PAGINATION_DOCS,
    RESPONSE_DOCS,
    TUTORIAL_DOCS,
    NinjaModule,
    analyse,
    has_double_star,
    is_django_response,
    operation_decorators,
)
from pystd.rules.ninja.pagination import LIST_TYPES, NinjaUnpaginatedList
from pystd.rules.ninja.querysets import is_manager, lazy_chain, returns_queryset
from pystd.rules.ninja.response_schema import RESPONSE_SHORTCUTS, NinjaMissingResponseSchema

__all__ = [
    "LIST_TYPES",
    "NINJA_APIS",
    "NINJA_ROUTERS",
    "OPERATIONS",
    "PAGINATE",
    "PAGINATE_IMPORT",
    "PAGINATION_DOCS",
    "REGEX_URL_FUNCTIONS",
    "RESPONSE_DOCS",
    "RESPONSE_SHORTCUTS",
    "TUTORIAL_DOCS",
    "URL_FUNCTIONS",
    "NinjaApiAtRoot",
    "NinjaMissingResponseSchema",
    "NinjaModule",
    "NinjaUnpaginatedList",
    "analyse",
    "has_double_star",
    "is_django_response",
    "is_manager",
    "lazy_chain",
    "operation_decorators",
    "returns_queryset",
]
