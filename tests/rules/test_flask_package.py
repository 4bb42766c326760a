"""rules/flask is a package: importing it registers every Flask rule, and the names the
former single module exported still resolve."""

from __future__ import annotations

import rules.flask
from rules.engine import all_rules

FLASK_RULES = {"PYS301", "PYS302", "PYS303", "PYS304", "PYS305"}


def test_importing_the_package_registers_every_flask_rule() -> None:
    registered = {
        code for code, rule in all_rules().items() if rule.__module__.startswith("rules.flask.")
    }
    assert registered == FLASK_RULES


def test_each_rule_lives_in_its_submodule() -> None:
    where = {code: all_rules()[code].__module__ for code in FLASK_RULES}
    assert where == {
        "PYS301": "rules.flask.debug_mode",
        "PYS302": "rules.flask.global_app",
        "PYS303": "rules.flask.request_json",
        "PYS304": "rules.flask.url_building",
        "PYS305": "rules.flask.csrf",
    }


def test_names_of_the_former_module_are_still_exported() -> None:
    for name in ("FLASK_CLASSES", "APP_NAMES", "FACTORIES", "without_arg", "FlaskDebugMode"):
        assert hasattr(rules.flask, name), name
    assert set(rules.flask.__all__) <= set(dir(rules.flask))


def test_every_flask_rule_runs_only_where_its_words_occur() -> None:
    for code in FLASK_RULES:
        assert all_rules()[code].requires, f"{code} needs a `requires` prefilter"
