"""PYS2xx: Django rules, one submodule per concern; importing the package registers them all.

- `deployment`: settings that must not reach production (PYS201 DEBUG, PYS202 ALLOWED_HOSTS)
- `queries`: how querysets are built (PYS203 `.extra()`, PYS209 N+1 loops)
- `responses`: `JsonResponse` of a list (PYS204)
- `orm`: the synchronous ORM in async code (PYS205)
- `csrf`: CSRF exemptions (PYS207)
- `querysets`: recognising `<Model>.objects` chains, shared by the rules above

PYS206 (missing migration) is change-level and PYS208 reads templates: they live in
rules/change/migrations.py and rules/templates.py.
"""

from __future__ import annotations

from pystd.rules.django import csrf, deployment, orm, queries, querysets, responses
from pystd.rules.django.csrf import CsrfExempt
from pystd.rules.django.deployment import AllowedHostsWildcard, DebugTrue
from pystd.rules.django.orm import (
    INSTANCE_METHODS,
    OFFLOADING,
    RETURNS_INSTANCE,
    RETURNS_PAIR,
    SyncOrmInAsync,
)
from pystd.rules.django.queries import NPlusOne, QuerysetExtra
from pystd.rules.django.querysets import (
    DJANGO_PACKAGES,
    EVALUATING,
    VALUES_METHODS,
    chain_label,
    queryset_chain,
)
from pystd.rules.django.responses import JSON_RESPONSE, JsonResponseUnsafeList, with_keyword

__all__ = [
    "DJANGO_PACKAGES",
    "EVALUATING",
    "INSTANCE_METHODS",
    "JSON_RESPONSE",
    "OFFLOADING",
    "RETURNS_INSTANCE",
    "RETURNS_PAIR",
    "VALUES_METHODS",
    "AllowedHostsWildcard",
    "CsrfExempt",
    "DebugTrue",
    "JsonResponseUnsafeList",
    "NPlusOne",
    "QuerysetExtra",
    "SyncOrmInAsync",
    "chain_label",
    "csrf",
    "deployment",
    "orm",
    "queries",
    "queryset_chain",
    "querysets",
    "responses",
    "with_keyword",
]
