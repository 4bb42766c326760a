"""Change-level rules: PYS901 (handlers changed without tests) and PYS902 (secret files)."""

from __future__ import annotations

import pytest

from pystd.rules.catalogue import select_rules
from pystd.rules.change import Change, ChangedPath, check_change, migration_folders_to_probe

VIEW = (
    "from django.shortcuts import render\n\n\n"
    "def index(request):\n    return render(request, 'index.html')\n\n\n"
    "def helper(x):\n    return x\n"
)
FLASK = (
    "from flask import Blueprint\n\nbp = Blueprint('a', __name__)\n\n\n"
    "@bp.route('/')\ndef home():\n    return 'hi'\n"
)


def run(*files: ChangedPath, select: str = "PYS9") -> list[tuple[str, str, int]]:
    return [(f.code, f.path, f.line) for f in check_change(Change(files), select_rules([select]))]


@pytest.mark.parametrize("name", [".env", ".env.production", "deploy/key.pem", "id_rsa",
                                  "home/.ssh/id_ed25519"])
def test_added_secret_files_are_flagged(name):
    assert run(ChangedPath(name, "added")) == [("PYS902", name, 1)]


@pytest.mark.parametrize("name", [".env.example", ".env.sample", ".env.template",
                                  "id_rsa.pub", "settings.env.py", "environment.md"])
def test_templates_and_public_keys_are_not_flagged(name):
    assert run(ChangedPath(name, "added")) == []


def test_only_added_secret_files_count():
    assert run(ChangedPath(".env", "modified"), ChangedPath(".env", "removed")) == []


def test_handler_change_without_tests_is_flagged_once_on_the_first_handler():
    findings = run(ChangedPath("shop/views.py", "modified", VIEW, frozenset({5})),
                   ChangedPath("web/routes.py", "added", FLASK, None))
    assert findings == [("PYS901", "shop/views.py", 4)]
    (finding,) = check_change(Change((
        ChangedPath("shop/views.py", "modified", VIEW, frozenset({5})),
        ChangedPath("web/routes.py", "added", FLASK, None))), select_rules(["PYS901"]))
    assert "`index`" in finding.message and "`home`" in finding.message


def test_handler_change_with_a_test_file_is_fine():
    assert run(ChangedPath("shop/views.py", "modified", VIEW, frozenset({5})),
               ChangedPath("shop/tests/test_views.py", "modified", "x = 1\n", None)) == []


def test_change_outside_handlers_is_fine():
    assert run(ChangedPath("shop/views.py", "modified", VIEW, frozenset({9}))) == []


def test_non_handler_files_are_fine():
    assert run(ChangedPath("shop/models.py", "modified", "def index(request):\n    pass\n",
                           None)) == []


def test_noqa_on_the_handler_line_suppresses():
    text = VIEW.replace("def index(request):", "def index(request):  # noqa: PYS901")
    assert run(ChangedPath("shop/views.py", "modified", text, frozenset({5}))) == []


# -- shared: a modified file as the App and `--diff` describe it --------------------------

def modified(path: str, old: str, new: str, status: str = "modified") -> ChangedPath:
    """`path` changed from `old` to `new`, with the new side's changed lines."""
    import difflib

    matcher = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    added = {n + 1 for tag, _, _, j1, j2 in matcher.get_opcodes() if tag != "equal"
             for n in range(j1, j2)}
    return ChangedPath(path, status, new, frozenset(added), None, old)


def codes(*files: ChangedPath, select: str, dirs: frozenset[str] | None = None,
          limit: int = 40) -> list[tuple[str, str, int]]:
    change = Change(files, dirs, limit)
    return [(f.code, f.path, f.line) for f in check_change(change, select_rules([select]))]


# -- PYS206 django-missing-migration ------------------------------------------------------

MODELS = (
    "from django.db import models\n\n\n"
    "class Order(models.Model):\n"
    "    reference = models.CharField(max_length=32)\n"
    "    total = models.DecimalField(max_digits=9, decimal_places=2)\n\n"
    "    def __str__(self):\n"
    "        return self.reference\n"
)
APP_DIRS = frozenset({"shop/migrations"})


def pys206(*files: ChangedPath, dirs: frozenset[str] | None = APP_DIRS):
    return codes(*files, select="PYS206", dirs=dirs)


def test_added_field_without_migration_is_flagged_on_the_field():
    new = MODELS.replace("    total =", "    paid_at = models.DateTimeField(null=True)\n"
                                      "    total =")
    assert pys206(modified("shop/models.py", MODELS, new)) == [("PYS206", "shop/models.py", 6)]


def test_edited_and_removed_fields_are_flagged():
    edited = MODELS.replace("max_length=32", "max_length=64")
    assert pys206(modified("shop/models.py", MODELS, edited)) == [
        ("PYS206", "shop/models.py", 5)]
    removed = MODELS.replace("    total = models.DecimalField(max_digits=9, decimal_places=2)\n",
                             "")
    # The field is gone: the finding sits on its model's class line.
    assert pys206(modified("shop/models.py", MODELS, removed)) == [
        ("PYS206", "shop/models.py", 4)]


def test_field_in_a_models_package_and_through_an_alias_is_flagged():
    text = MODELS.replace("from django.db import models", "from django.db import models as m")
    text = text.replace("models.", "m.")
    new = text.replace("    total =", "    note = m.TextField(blank=True)\n    total =")
    assert pys206(modified("shop/models/order.py", text, new)) == [
        ("PYS206", "shop/models/order.py", 6)]


def test_a_new_models_module_is_flagged_once_per_app():
    other = MODELS.replace("Order", "Invoice")
    findings = pys206(ChangedPath("shop/models/order.py", "added", MODELS, None),
                      ChangedPath("shop/models/invoice.py", "added", other, None))
    assert findings == [("PYS206", "shop/models/invoice.py", 5)]


# wger 2.1: each app's models.py split into a models/ package and reformatted, no field
# changed (three wrong findings in test set 3).
SPLIT_ORDER = (
    "from django.db import models\n\n\n"
    "class Order(models.Model):\n"
    "    reference = models.CharField(\n        max_length=32,\n    )\n"
    "    total = models.DecimalField(max_digits=9, decimal_places=2)\n"
)


def removed(path: str, old: str) -> ChangedPath:
    return ChangedPath(path, "removed", None, None, None, old)


def test_a_models_module_split_into_a_package_with_the_same_fields_is_fine():
    assert pys206(removed("shop/models.py", MODELS),
                  ChangedPath("shop/models/__init__.py", "added",
                              "from .order import Order  # noqa: F401\n", None),
                  ChangedPath("shop/models/order.py", "added", SPLIT_ORDER, None)) == []


def test_a_split_that_also_changes_a_field_is_flagged():
    changed = SPLIT_ORDER.replace("max_length=32", "max_length=64")
    assert pys206(removed("shop/models.py", MODELS),
                  ChangedPath("shop/models/order.py", "added", changed, None)) == [
        ("PYS206", "shop/models/order.py", 5)]


def test_a_split_whose_removed_module_is_not_known_is_flagged():
    # No patch for the removed file (GitHub leaves it out of a large diff): no old text.
    assert pys206(removed("shop/models.py", None),  # type: ignore[arg-type]
                  ChangedPath("shop/models/order.py", "added", SPLIT_ORDER, None)) == [
        ("PYS206", "shop/models/order.py", 5)]


def test_migration_in_the_change_is_fine():
    new = MODELS.replace("max_length=32", "max_length=64")
    migration = ChangedPath("shop/migrations/0002_order_reference.py", "added",
                            "from django.db import migrations\n", None)
    assert pys206(modified("shop/models.py", MODELS, new), migration) == []


def test_migration_of_another_app_does_not_count():
    new = MODELS.replace("max_length=32", "max_length=64")
    migration = ChangedPath("billing/migrations/0002_x.py", "added", "x = 1\n", None)
    assert pys206(modified("shop/models.py", MODELS, new), migration,
                  dirs=frozenset({"shop/migrations", "billing/migrations"})) == [
        ("PYS206", "shop/models.py", 5)]


@pytest.mark.parametrize("edit", [
    # methods, properties, docstrings, comments and layout are not schema changes
    lambda s: s.replace("return self.reference", "return f'#{self.reference}'"),
    lambda s: s.replace("class Order(models.Model):\n",
                        'class Order(models.Model):\n    """A customer\'s order."""\n\n'),
    lambda s: s.replace("    def __str__", "    @property\n    def label(self):\n"
                                          "        return self.reference.upper()\n\n"
                                          "    def __str__"),
    lambda s: s.replace("max_length=32)", "max_length=32)  # the shop's own reference"),
    lambda s: s.replace("models.CharField(max_length=32)",
                        "models.CharField(\n        max_length=32,\n    )"),
])
def test_edits_outside_fields_are_fine(edit):
    assert pys206(modified("shop/models.py", MODELS, edit(MODELS))) == []


def test_quote_style_of_a_field_argument_is_layout():
    old = MODELS.replace("max_length=32)", "max_length=32, help_text='Ref')")
    new = old.replace("'Ref'", '"Ref"')
    assert pys206(modified("shop/models.py", old, new)) == []
    assert pys206(modified("shop/models.py", old, old.replace("'Ref'", "'Reference'"))) == [
        ("PYS206", "shop/models.py", 5)]


def test_app_without_migrations_package_is_fine():
    new = MODELS.replace("max_length=32", "max_length=64")
    assert pys206(modified("shop/models.py", MODELS, new), dirs=frozenset()) == []
    assert pys206(modified("shop/models.py", MODELS, new), dirs=None) == []


def test_non_model_classes_and_other_modules_are_fine():
    plain = MODELS.replace("models.Model", "object")
    assert pys206(modified("shop/models.py", plain,
                           plain.replace("max_length=32", "max_length=64"))) == []
    assert pys206(modified("shop/forms.py", MODELS,
                           MODELS.replace("max_length=32", "max_length=64"))) == []


def test_noqa_on_the_field_line_suppresses_pys206():
    new = MODELS.replace("max_length=32)", "max_length=64)  # noqa: PYS206")
    assert pys206(modified("shop/models.py", MODELS, new)) == []


# -- PYS110 fat-handler -------------------------------------------------------------------

def view(name: str, statements: int, *, doc: bool = False, comments: int = 0) -> str:
    body = ['    """What it does."""'] if doc else []
    body += ["    # a note"] * comments
    body += [f"    x{i} = request.GET.get('k{i}')" for i in range(statements - 1)]
    body.append("    return render(request, 'page.html', {})")
    return f"def {name}(request):\n" + "\n".join(body) + "\n"


VIEWS_HEAD = "from django.shortcuts import render\n\n\n"


def pys110(*files: ChangedPath, limit: int = 40):
    return codes(*files, select="PYS110", limit=limit)


def test_added_fat_handler_is_flagged_on_its_def_line():
    text = VIEWS_HEAD + view("small", 5) + "\n\n" + view("big", 41)
    assert pys110(ChangedPath("shop/views.py", "added", text, None)) == [
        ("PYS110", "shop/views.py", 12)]


def test_handler_grown_past_the_limit_is_flagged():
    old = VIEWS_HEAD + view("index", 30)
    new = VIEWS_HEAD + view("index", 45)
    (finding,) = check_change(Change((modified("shop/views.py", old, new),)),
                              select_rules(["PYS110"]))
    assert (finding.line, finding.severity.value) == (4, "info")
    assert "`index` has 45 lines" in finding.message and "more than 40" in finding.message


def test_handler_that_did_not_grow_is_fine():
    old = VIEWS_HEAD + view("index", 50)
    shrunk = VIEWS_HEAD + view("index", 48)
    touched = old.replace("x0 = request.GET.get('k0')", "x0 = request.GET.get('key0')")
    assert pys110(modified("shop/views.py", old, shrunk)) == []
    assert pys110(modified("shop/views.py", old, touched)) == []


def test_handler_already_over_the_limit_that_grows_is_not_flagged_again():
    # It crossed the limit in an earlier change: growing it by a line is not this change's
    # doing, and the same comment on every pull request that touches it is noise.
    old = VIEWS_HEAD + view("index", 50)
    grown = VIEWS_HEAD + view("index", 55)
    assert pys110(modified("shop/views.py", old, grown)) == []


def test_handler_crossing_the_limit_exactly_in_this_change_is_flagged():
    old = VIEWS_HEAD + view("index", 40)
    new = VIEWS_HEAD + view("index", 41)
    assert pys110(modified("shop/views.py", old, new)) == [("PYS110", "shop/views.py", 4)]


def test_new_handler_beside_an_old_fat_one_is_flagged_alone():
    old = VIEWS_HEAD + view("legacy", 60)
    new = old + "\n\n" + view("fresh", 45)
    assert pys110(modified("shop/views.py", old, new)) == [("PYS110", "shop/views.py", 67)]


def test_docstring_comments_and_blank_lines_do_not_count():
    text = VIEWS_HEAD + view("index", 40, doc=True, comments=10)
    assert pys110(ChangedPath("shop/views.py", "added", text, None)) == []


def test_max_handler_lines_sets_the_threshold():
    text = VIEWS_HEAD + view("index", 25)
    assert pys110(ChangedPath("shop/views.py", "added", text, None), limit=20) == [
        ("PYS110", "shop/views.py", 4)]
    assert pys110(ChangedPath("shop/views.py", "added", text, None), limit=25) == []


def test_fat_functions_that_are_not_handlers_are_fine():
    text = "def compute(rows):\n" + "".join(f"    a{i} = {i}\n" for i in range(60))
    assert pys110(ChangedPath("shop/services.py", "added", text, None)) == []


def test_fat_fastapi_path_operation_is_flagged():
    body = "".join(f"    v{i} = {i}\n" for i in range(45))
    text = ("from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n"
            "@router.get('/items')\nasync def items():\n" + body + "    return []\n")
    assert pys110(ChangedPath("api/items.py", "added", text, None)) == [
        ("PYS110", "api/items.py", 7)]


# -- PYS411 routes-on-app-in-large-module -------------------------------------------------

def fastapi_app(routes: int, owner: str = "app", make: str = "FastAPI()") -> str:
    head = f"from fastapi import APIRouter, FastAPI\n\n{owner} = {make}\n"
    return head + "".join(
        f"\n\n@{owner}.get('/r{i}')\nasync def r{i}():\n    return {i}\n" for i in range(routes))


def pys411(*files: ChangedPath):
    return codes(*files, select="PYS411")


def test_sixteenth_route_on_the_app_is_flagged_on_the_added_route():
    old, new = fastapi_app(15), fastapi_app(16)
    findings = pys411(modified("main.py", old, new))
    assert findings == [("PYS411", "main.py", new.splitlines().index("@app.get('/r15')") + 1)]


def test_routes_are_counted_through_any_name_bound_to_an_app_class():
    old = fastapi_app(15, "api", "Flask(__name__)").replace("from fastapi import",
                                                            "from flask import Flask\nfrom fastapi import")
    new = old + "\n\n@api.route('/extra')\ndef extra():\n    return 'x'\n"
    assert [c for c, _, _ in pys411(modified("web.py", old, new))] == ["PYS411"]


def test_add_url_rule_counts_as_a_route():
    old = fastapi_app(15)
    new = old + "\napp.add_api_route('/extra', handler)\n"
    assert [c for c, _, _ in pys411(modified("main.py", old, new))] == ["PYS411"]


def test_fifteen_routes_are_fine():
    assert pys411(modified("main.py", fastapi_app(14), fastapi_app(15))) == []


def test_routes_on_a_router_are_not_counted():
    old = fastapi_app(20, "router", "APIRouter()")
    new = fastapi_app(21, "router", "APIRouter()")
    assert pys411(modified("routers/items.py", old, new)) == []


def test_a_change_that_adds_no_route_is_fine():
    old = fastapi_app(20)
    new = old.replace("return 3", "return 3 + 0")
    assert pys411(modified("main.py", old, new)) == []


CLASS_VIEWS = (
    "from django.views import View\n\n\n"
    "class OrderView(View):\n"
    "    def get(self, request):\n        return None\n\n"
    "    def post(self, request):\n        return None\n"
)


def test_methods_are_named_with_their_class():
    (finding,) = check_change(Change((ChangedPath("shop/views.py", "added", CLASS_VIEWS),)),
                              select_rules(["PYS901"]))
    assert "`OrderView.get`, `OrderView.post`" in finding.message


def test_private_helpers_in_views_are_not_handlers():
    text = CLASS_VIEWS + ("\n    def _load(self, request):\n        return None\n\n\n"
                          "def _shared(request):\n    return None\n")
    (finding,) = check_change(Change((ChangedPath("shop/views.py", "added", text),)),
                              select_rules(["PYS901"]))
    assert "_load" not in finding.message and "_shared" not in finding.message


# -- one parse: the engine hands the change rules their facts -----------------------------

def test_engine_facts_give_the_same_findings_without_parsing_again(monkeypatch):
    from pystd.rules.change import base
    from pystd.rules.change.base import FileChange
    from pystd.rules.runner import check_source

    old_models = MODELS
    new_models = MODELS.replace("max_length=32", "max_length=64")
    views = VIEWS_HEAD + view("index", 45)
    app = fastapi_app(16)
    files = (modified("shop/models.py", old_models, new_models),
             ChangedPath("shop/views.py", "added", views),
             modified("main.py", fastapi_app(15), app))
    rules = select_rules(["ALL"])
    facts = {}
    for f in files:
        how = FileChange(f.status, f.previous_path, f.old_text, 40)
        result = check_source(f.path, f.text, rules, f.added, how)
        assert result.facts is not None
        facts[f.path] = result.facts
    assert facts["shop/models.py"]["PYS206"] == 5
    assert facts["shop/views.py"]["PYS901"].names == ("index",)

    expected = check_change(Change(files, APP_DIRS), rules)
    assert {f.code for f in expected} == {"PYS110", "PYS206", "PYS411", "PYS901"}

    def no_parse(path: str, text: str) -> None:
        raise AssertionError(f"{path} parsed again")

    monkeypatch.setattr(base, "parse", no_parse)
    assert check_change(Change(files, APP_DIRS, facts=facts), rules) == expected


def test_no_facts_without_a_change_or_change_rules():
    from pystd.rules.change.base import FileChange
    from pystd.rules.runner import check_source

    assert check_source("shop/views.py", VIEWS_HEAD + view("index", 3), select_rules()).facts is None
    only_file_rules = select_rules(["PYS1"], ["PYS110"])
    assert check_source("shop/views.py", VIEWS_HEAD + view("index", 3), only_file_rules,
                        None, FileChange("added")).facts is None


def test_text_too_deep_for_the_parser_is_not_parsed_by_the_change_rules():
    from pystd.rules.change.base import parse

    deep = "LIMIT = " + " + ".join(["1"] * 1500) + "\n"
    assert parse("shop/models.py", deep) is None  # the engine skips it too
    models = MODELS.replace("    total =", "    " + deep.replace("LIMIT", "limit") + "    total =")
    edited = models.replace("    limit = " + " + ".join(["1"] * 1500), "    limit = 1500")
    # The text before the change cannot be read: only fields on changed lines could count,
    # and the edited line is no field.
    assert pys206(modified("shop/models.py", models, edited)) == []


def test_editing_or_moving_routes_of_a_large_module_adds_none():
    old = fastapi_app(16)
    edited = old.replace("@app.get('/r7')", "@app.get('/items/7', tags=['items'])")
    assert pys411(modified("main.py", old, edited)) == []
    lines = old.split("\n\n\n")
    moved = "\n\n\n".join([lines[0], *lines[2:], lines[1]])
    assert pys411(modified("main.py", old, moved)) == []


def test_ignore_file_silences_the_change_rules_too():
    text = "# pystd: ignore-file\n" + MODELS
    edited = text.replace("max_length=32", "max_length=64")
    assert pys206(modified("shop/models.py", text, edited)) == []
    views = "# pystd: ignore-file\n" + VIEWS_HEAD + view("index", 45)
    assert run(ChangedPath("shop/views.py", "added", views), select="PYS") == []


def test_a_copied_migration_is_a_migration_in_the_change():
    new = MODELS.replace("max_length=32", "max_length=64")
    copied = ChangedPath("shop/migrations/0002_ref.py", "copied", "operations = []\n")
    assert pys206(modified("shop/models.py", MODELS, new), copied) == []


def test_abstract_models_modules_count_as_models_modules():
    # django-oscar keeps every field in apps/<app>/abstract_models.py.
    abstract = MODELS.replace("class Order(models.Model):",
                              "class AbstractOrder(models.Model):")
    new = abstract.replace("max_length=32", "max_length=64")
    assert pys206(modified("shop/abstract_models.py", abstract, new)) == [
        ("PYS206", "shop/abstract_models.py", 5)]
    assert pys206(modified("shop/model_forms.py", abstract, new)) == []


# -- PYS206: which app folders the App asks GitHub about ---------------------------------

SQLALCHEMY_MODELS = (
    "from sqlalchemy import Column, Integer, String\nfrom sqlalchemy.orm import declarative_base\n\n"
    "Base = declarative_base()\n\n\nclass Order(Base):\n    __tablename__ = 'orders'\n"
    "    id = Column(Integer, primary_key=True)\n    reference = Column(String(32))\n"
)


def test_django_models_modules_are_probed_for_their_migrations_folder():
    new = MODELS.replace("max_length=32", "max_length=64")
    gis = MODELS.replace("from django.db import models",
                         "from django.contrib.gis.db import models")
    change = Change((modified("shop/models.py", MODELS, new),
                     modified("geo/models.py", gis, gis.replace("32", "64"))))
    assert migration_folders_to_probe(change) == ("geo/migrations", "shop/migrations")


def test_sqlalchemy_and_pydantic_models_modules_cost_no_question():
    pydantic = "from pydantic import BaseModel\n\n\nclass Order(BaseModel):\n    ref: str\n"
    change = Change((
        modified("api/models.py", SQLALCHEMY_MODELS,
                 SQLALCHEMY_MODELS.replace("String(32)", "String(64)")),
        modified("api/schemas/models.py", pydantic, pydantic.replace("ref: str", "ref: int")),
    ))
    assert migration_folders_to_probe(change) == ()
    # Nor does PYS206 flag them, whatever the folders hold.
    assert pys206(*change.files, dirs=frozenset({"api/migrations"})) == []
