"""Suppressions other tools already decided: `# noqa: S608`, `# nosec`, `# nosemgrep`,
detect-secrets' and gitleaks' allow comments silence the equivalent pystd rule."""

from __future__ import annotations

import pytest

from pystd.rules.catalogue import all_rules, select_rules
from pystd.rules.engine import Category
from pystd.rules.runner import check_source
from pystd.rules.suppress import EQUIVALENTS, comment_codes, equivalent

SQL = 'def f(cursor, name):\n    cursor.execute(f"SELECT * FROM t WHERE name = \'{name}\'"){c}\n'
SECRET = 'API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"{c}\n'
SWALLOW = "def f():\n    try:\n        g()\n    except Exception:{c}\n        pass\n"
PRINT = "import flask\n\n\ndef f():\n    print('hi'){c}\n"
MARKUP = ("from django.utils.safestring import mark_safe\n\n\n"
          "def f(x):\n    return mark_safe(x){c}\n")
SLEEP = "import time\n\n\nasync def f():\n    time.sleep(1){c}\n"
DEBUG = "from flask import Flask\napp = Flask(__name__)\napp.run(debug=True){c}\n"


def found(template: str, comment: str = "", path: str = "app.py") -> list[str]:
    source = template.replace("{c}", f"  {comment}" if comment else "")
    return [f.code for f in check_source(path, source, select_rules(["ALL"])).findings]


@pytest.mark.parametrize(
    ("template", "comment", "code"),
    [
        (SQL, "# noqa: S608", "PYS105"),
        (SQL, "# nosec B608", "PYS105"),
        (SECRET, "# noqa: S105", "PYS102"),
        (SECRET, "# nosec: B105", "PYS102"),
        (SECRET, "# pragma: allowlist secret", "PYS102"),
        (SECRET, "# gitleaks:allow", "PYS102"),
        (SWALLOW, "# noqa: BLE001", "PYS103"),
        (SWALLOW, "# noqa: S110", "PYS103"),
        (MARKUP, "# noqa: S308", "PYS106"),
        (MARKUP, "# noqa: S704", "PYS106"),
        (SLEEP, "# noqa: ASYNC251", "PYS101"),
        (DEBUG, "# noqa: S201", "PYS301"),
        (DEBUG, "# nosemgrep: python.flask.security.audit.debug-enabled.debug-enabled",
         "PYS301"),
    ],
)
def test_an_equivalent_code_silences_the_pystd_rule(template, comment, code):
    assert found(template) == [code]
    assert found(template, comment) == []


def test_noqa_t201_silences_print_in_server_code():
    assert found(PRINT, path="views.py") == ["PYS104"]
    assert found(PRINT, "# noqa: T201", path="views.py") == []


@pytest.mark.parametrize(
    ("template", "comment"),
    [
        (SQL, "# noqa: S105"),          # another rule's code
        (SQL, "# nosec B105"),          # another bandit test
        (SQL, "# nosec B999"),          # an id pystd does not know
        (SQL, "# nosemgrep: my-own-rule"),
        (SQL, "# noqa: E501"),
    ],
)
def test_a_code_of_another_rule_silences_nothing(template, comment):
    assert found(template, comment) == ["PYS105"]


@pytest.mark.parametrize("template", [SQL, SECRET, MARKUP, DEBUG])
def test_bare_nosec_silences_security_rules(template):
    assert found(template, "# nosec") == []
    assert found(template, "# nosec -- reviewed, values come from a fixed list") == []


def test_bare_nosec_leaves_other_categories_alone():
    assert found(SLEEP, "# nosec") == ["PYS101"]
    assert found(SWALLOW, "# nosec") == ["PYS103"]


@pytest.mark.parametrize("template", [SQL, SLEEP, SWALLOW, DEBUG])
def test_bare_nosemgrep_silences_every_rule_on_the_line(template):
    assert found(template, "# nosemgrep") == []


def test_markers_inside_strings_do_not_count():
    source = 'import time\n\n\nasync def f():\n    time.sleep(1); x = "# nosec # nosemgrep"\n'
    assert [f.code for f in check_source("a.py", source, select_rules(["ALL"])).findings] == [
        "PYS101"]


def test_templates_take_nosemgrep_in_their_own_comments():
    page = "shop/templates/shop/p.html"
    assert found("<p>{{ product.description|safe }}</p>{c}", path=page) == ["PYS208"]
    assert found("<p>{{ product.description|safe }}</p>{c}", "{# nosemgrep #}",
                 path=page) == []


def test_a_noqa_list_mixing_tools_keeps_every_code():
    assert comment_codes("# noqa: E501, S608, PYS101") == {"E501", "S608", "PYS105", "PYS101"}
    assert comment_codes("# noqa: E501  # nosec B105") == {"E501", "PYS102"}
    assert comment_codes("# an ordinary comment") is None


def test_bare_nosec_means_exactly_the_security_category():
    security = {c for c, r in all_rules().items() if r.category is Category.SECURITY}
    assert comment_codes("# nosec") == security


@pytest.mark.parametrize(("code", "others"), sorted(EQUIVALENTS.items()))
def test_every_listed_equivalent_names_a_real_rule_and_maps_back(code, others):
    assert code in all_rules()
    for other in others:
        assert equivalent(other) == code
        if other[:1].isupper() and other[-1].isdigit():  # a code, as `noqa` comments name them (S608)
            assert code in comment_codes(f"# noqa: {other}")
        elif "_" in other:  # a bandit test name, as in `# nosec hardcoded_sql_expressions`
            assert comment_codes(f"# nosec {other}") == {code}
        else:  # a semgrep rule id
            assert comment_codes(f"# nosemgrep: python.x.{other}.{other}") == {code}
