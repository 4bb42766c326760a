"""rules/general is a package: importing it registers every PYS1xx file rule, and the names
other modules used to import from the single module still resolve."""

from __future__ import annotations

import importlib

import rules.general
from rules.engine import all_rules

GENERAL_RULES = {
    "PYS101": "rules.general.async_calls",
    "PYS102": "rules.general.secrets",
    "PYS103": "rules.general.exceptions",
    "PYS104": "rules.general.printing",
    "PYS105": "rules.general.sql",
    "PYS106": "rules.general.markup",
    "PYS107": "rules.general.html_responses",
    "PYS108": "rules.general.async_calls",
    "PYS109": "rules.general.environment",
}


def test_each_rule_is_registered_from_its_submodule() -> None:
    registered = {code: rule.__module__ for code, rule in all_rules().items()
                  if rule.__module__.startswith("rules.general.")}
    assert registered == GENERAL_RULES


def test_names_of_the_former_module_are_still_exported() -> None:
    for name in ("BlockingCallInAsync", "HardcodedSecret", "SqlStringBuilding",
                 "identifier_words", "is_secret_name", "looks_real", "string_pieces",
                 "BLOCKING_CALLS", "OFFLOADING_CALLS", "SECRET_WORDS", "DB_MODULES"):
        assert hasattr(rules.general, name), name
    assert set(rules.general.__all__) <= set(dir(rules.general))


def test_reimporting_a_submodule_registers_nothing_twice() -> None:
    before = dict(all_rules())
    importlib.import_module("rules.general.sql")
    assert all_rules() == before
