"""rules/django is a package: importing it registers every Django rule, and the names other
modules used to import from the single module still resolve."""

from __future__ import annotations

import importlib

import rules.django
from rules.engine import all_rules

DJANGO_RULES = {"PYS201", "PYS202", "PYS203", "PYS204", "PYS205", "PYS207", "PYS209"}


def test_importing_the_package_registers_every_django_rule() -> None:
    registered = {
        code for code, rule in all_rules().items() if rule.__module__.startswith("rules.django.")
    }
    assert registered == DJANGO_RULES


def test_each_rule_lives_in_its_submodule() -> None:
    where = {code: all_rules()[code].__module__ for code in DJANGO_RULES}
    assert where == {
        "PYS201": "rules.django.deployment",
        "PYS202": "rules.django.deployment",
        "PYS203": "rules.django.queries",
        "PYS204": "rules.django.responses",
        "PYS205": "rules.django.orm",
        "PYS207": "rules.django.csrf",
        "PYS209": "rules.django.queries",
    }


def test_names_of_the_former_module_are_still_exported() -> None:
    for name in ("EVALUATING", "DJANGO_PACKAGES", "JSON_RESPONSE", "VALUES_METHODS",
                 "RETURNS_INSTANCE", "RETURNS_PAIR", "INSTANCE_METHODS", "OFFLOADING",
                 "queryset_chain", "chain_label", "with_keyword", "JsonResponseUnsafeList",
                 "SyncOrmInAsync"):
        assert hasattr(rules.django, name), name
    assert set(rules.django.__all__) <= set(dir(rules.django))


def test_reimporting_a_submodule_registers_nothing_twice() -> None:
    before = dict(all_rules())
    importlib.import_module("rules.django.queries")
    assert all_rules() == before
