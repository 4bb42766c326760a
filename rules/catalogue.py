"""The rule catalogue: every rule pystd ships, found by walking the `rules` package.

The engine (rules/engine.py) holds the rule API and the registry and imports no rule;
this module imports every module under `rules/` once (pkgutil), so each `@register`
runs, and a rule module that no package `__init__` lists is registered all the same.
`all_rules()` and `select_rules()` are what the CLI, the App, the configuration and the
docs use to know the rules.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable

import pystd.rules as rules
from pystd.rules.engine import (
    ALL,
    DEFAULT,
    Rule,
    RuleSet,
    Severity,
    matches_rule,
    registered,
    selector,
)

_loaded = False


def load_rule_modules() -> None:
    """Import every module of the `rules` package (once per process)."""
    global _loaded
    if _loaded:
        return
    for module in pkgutil.walk_packages(rules.__path__, prefix=rules.__name__ + "."):
        importlib.import_module(module.name)
    _loaded = True


def all_rules() -> dict[str, type[Rule]]:
    """Every rule by code, in code order."""
    load_rule_modules()
    return dict(sorted(registered().items()))


def select_rules(
    select: Iterable[str] = (ALL,),
    ignore: Iterable[str] = (),
    severities: dict[str, Severity] | None = None,
    *,
    predicate: Callable[[type[Rule]], bool] | None = None,
) -> RuleSet:
    """The rules `select` picks and `ignore` does not (entries as `selector` reads them;
    ones that name nothing are ignored here: configuration checks them first)."""
    chosen_by = [c for c in (selector(p) for p in select) if c is not None]
    ignored_by = [c for c in (selector(p) for p in ignore) if c is not None]
    chosen = tuple(
        cls
        for cls in all_rules().values()
        if matches_rule(cls, chosen_by)
        and not matches_rule(cls, ignored_by)
        and (predicate is None or predicate(cls))
    )
    by_name = [c for c in chosen_by if c != DEFAULT]
    named = frozenset(cls.code for cls in chosen if matches_rule(cls, by_name))
    return RuleSet(chosen, dict(severities or {}), named=named)

