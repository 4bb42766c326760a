"""The engine's shared machinery: one walk, aliases, async scope, scoping, suppression,
configuration and fixes. Rules are tested in their own modules."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from pystd.rules.catalogue import all_rules, select_rules
from pystd.rules.config import ConfigError, PystdConfig, config_from_texts, load_config
from pystd.rules.context import FileContext, module_kind
from pystd.rules.engine import Fix, Rule, RuleSet, Severity
from pystd.rules.fixes import apply_fix, import_insert_line
from pystd.rules.runner import FileInput, check_inputs, check_source
from pystd.rules.walker import walk
from tests.rules.lint import codes


def context(code: str, path: str = "app.py") -> FileContext:
    code = textwrap.dedent(code)
    return FileContext(path, code, cst.parse_module(code))


# -- qualified names ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("code", "expr", "expected"),
    [
        ("from time import sleep as nap", "nap", "time.sleep"),
        ("import requests as r", "r.get", "requests.get"),
        ("import urllib.request", "urllib.request.urlopen", "urllib.request.urlopen"),
        ("import os.path as osp", "osp.join", "os.path.join"),
        ("from django.http import JsonResponse", "JsonResponse", "django.http.JsonResponse"),
        ("from .models import User", "User", ".models.User"),
        ("", "print", "builtins.print"),
        ("", "unknown_name", None),
        ("", "unknown.attr", None),
    ],
)
def test_qualified_name_resolves_aliases(code, expr, expected):
    ctx = context(code)
    assert ctx.qualified_name(cst.parse_expression(expr)) == expected


def test_imports_inside_try_and_if_blocks_are_seen():
    ctx = context(
        """
        try:
            import ujson as json
        except ImportError:
            import json
        if TYPE_CHECKING:
            from requests import Session
        """
    )
    assert ctx.qualified_name(cst.parse_expression("Session")) == "requests.Session"
    assert ctx.qualified_name(cst.parse_expression("json.loads")) == "json.loads"


def test_function_level_imports_count_from_where_they_appear():
    assert codes(
        """
        async def handler():
            from time import sleep
            sleep(1)
        """,
        select="PYS101",
    ) == [("PYS101", 4)]


# -- async scope ---------------------------------------------------------------------------

class _AsyncProbe(Rule):
    code = "PYS998"
    name = "async-probe"
    severity = Severity.INFO
    message = "probe"
    seen: list[tuple[str, bool]]

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name):
            self.seen.append((node.func.value, self.ctx.in_async()))


def test_in_async_is_lexical_and_nested_defs_and_lambdas_are_not_async():
    ctx = context(
        """
        a()
        async def outer():
            b()
            def inner():
                c()
            f = lambda: d()
            async def inner_async():
                e()
            g()
        def plain():
            h()
        """
    )
    probe = _AsyncProbe(ctx)
    probe.seen = []
    assert ctx.module is not None
    walk(ctx.module, ctx, [probe])
    assert probe.seen == [
        ("a", False), ("b", True), ("c", False), ("d", False), ("e", True), ("g", True),
        ("h", False),
    ]


def test_one_walk_visits_each_node_once_for_all_rules():
    counts: dict[str, int] = {}

    class Counter(Rule):
        code = "PYS997"
        name = "counter"
        severity = Severity.INFO
        message = "count"

        def visit_Name(self, node: cst.Name) -> None:
            counts[self.tag] = counts.get(self.tag, 0) + 1

    ctx = context("x = y + z\nprint(x)\n")
    first, second = Counter(ctx), Counter(ctx)
    first.tag, second.tag = "first", "second"  # type: ignore[attr-defined]
    assert ctx.module is not None
    walk(ctx.module, ctx, [first, second])
    assert counts == {"first": 5, "second": 5}


def test_prefilter_skips_rules_whose_words_are_absent(monkeypatch):
    calls: list[str] = []
    cls = all_rules()["PYS101"]
    monkeypatch.setattr(cls, "visit_Call", lambda self, node: calls.append("call"))
    check_source("app.py", "def f():\n    g()\n", select_rules(["PYS101"]))
    assert calls == []  # no "async" in the text: the rule never ran
    check_source("app.py", "async def f():\n    g()\n", select_rules(["PYS101"]))
    assert calls == ["call"]


# -- module kinds ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("path", "attr"),
    [
        ("tests/test_views.py", "is_test"),
        ("app/test_models.py", "is_test"),
        ("app/models_test.py", "is_test"),
        ("conftest.py", "is_test"),
        # survey: django-cms 5.1.3 `cms/test_utils/`, pretix 2026.8.0 `pretix/testutils/`
        ("cms/test_utils/testcases.py", "is_test"),
        ("cms/test_utils/project/sampleapp/views.py", "is_test"),
        ("pretix/testutils/settings.py", "is_test"),
        ("app/testing/factories.py", "is_test"),
        ("mysite/settings.py", "is_settings"),
        ("mysite/settings/production.py", "is_settings"),
        ("shop/urls.py", "is_urls"),
        ("shop/views.py", "is_views"),
        ("shop/views/orders.py", "is_views"),
        ("shop/migrations/0001_initial.py", "is_migration"),
        ("shop/management/commands/sync.py", "is_management_command"),
        ("shop/templates/shop/index.html", "is_template"),
    ],
)
def test_module_kind(path, attr):
    assert getattr(module_kind(path), attr) is True


@pytest.mark.parametrize("path", ["latest/views.py", "contest/views.py", "testimonials/views.py",
                                  "attestations/models.py", "app/tester.py"])
def test_module_kind_test_folders_are_whole_words(path):
    assert not module_kind(path).is_test


def test_settings_recognised_by_installed_apps():
    assert module_kind("conf/base.py", "INSTALLED_APPS = []\n").is_settings
    assert not module_kind("shop/views.py", "x = 1\n").is_settings
    assert not module_kind("shop/templates/readme.md").is_template


def test_test_files_are_skipped_by_rules():
    code = "import time\n\nasync def f():\n    time.sleep(1)\n"
    assert codes(code, path="tests/test_app.py") == []
    assert codes(code, path="app.py") == [("PYS101", 4)]


# -- handlers --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("code", "path", "framework"),
    [
        ("from flask import Flask\napp = Flask(__name__)\n@app.route('/')\ndef f(): ...", "a.py", "flask"),
        ("from fastapi import APIRouter\nr = APIRouter()\n@r.post('/')\nasync def f(): ...", "a.py", "fastapi"),
        ("from ninja import Router\nr = Router()\n@r.get('/')\ndef f(request): ...", "a.py", "ninja"),
        ("from rest_framework.decorators import api_view\n@api_view(['GET'])\ndef f(request): ...", "a.py", "django"),
        ("from django.http import HttpResponse\ndef f(request): ...", "shop/views.py", "django"),
        ("from starlette.routing import Route\nasync def f(request): ...\nroutes = [Route('/', f)]", "a.py", "starlette"),
        ("def f(request): ...", "shop/views.py", None),
        ("from flask import Flask\ndef f(): ...", "a.py", None),
    ],
)
def test_handler_framework(code, path, framework):
    ctx = context(code, path)
    assert ctx.module is not None
    func = next(s for s in ctx.module.body if isinstance(s, cst.FunctionDef))
    assert ctx.handler_framework(func) == framework


# -- diff scoping, suppression, bad input -------------------------------------------------------

MULTILINE = "import time\n\nasync def f():\n    time.sleep(\n        1,\n    )\n"


@pytest.mark.parametrize(("changed", "kept"), [({4}, True), ({5}, True), ({6}, True), ({3}, False)])
def test_a_finding_is_kept_when_any_of_its_lines_changed(changed, kept):
    result = check_source("app.py", MULTILINE, select_rules(), frozenset(changed))
    assert bool(result.findings) is kept


@pytest.mark.parametrize(
    ("comment", "suppressed"),
    [
        ("# noqa", True),
        ("# noqa: PYS101", True),
        ("# NOQA:PYS102,PYS101", True),
        ("# noqa: PYS102", False),
        ("# not a noqa-less comment", False),
    ],
)
def test_noqa(comment, suppressed):
    code = f"import time\n\nasync def f():\n    time.sleep(1)  {comment}\n"
    assert (codes(code) == []) is suppressed


def test_noqa_inside_a_string_does_not_suppress():
    code = 'import time\n\nasync def f():\n    time.sleep(1); x = "# noqa"\n'
    assert codes(code) == [("PYS101", 4)]


def test_ignore_file_only_in_the_first_five_lines():
    body = "import time\n\nasync def f():\n    time.sleep(1)\n"
    assert check_source("a.py", "# pystd: ignore-file\n" + body, select_rules()).findings == ()
    late = "\n" * 5 + "# pystd: ignore-file\n" + body
    assert check_source("a.py", late, select_rules()).findings != ()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"  \n\n", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary file"),
        (b"x = '\xff'\n", "not valid UTF-8"),
        (b"x = 1\n" * 200_000, "larger than 1 MB"),
    ],
)
def test_unreadable_files_are_skipped_with_a_reason(data, reason):
    result = check_source("a.py", data, select_rules())
    assert result.skipped == reason
    assert result.findings == ()


def test_syntax_error_is_one_info_finding_with_the_parser_message():
    result = check_source("a.py", b"x = (1,\n", select_rules())
    (finding,) = result.findings
    assert (finding.code, finding.severity, finding.line) == ("PYS000", Severity.INFO, 1)
    assert "was never closed" in finding.message


def test_utf8_bom_is_accepted():
    result = check_source("a.py", b"\xef\xbb\xbfimport time\nasync def f():\n    time.sleep(1)\n",
                          select_rules())
    assert [f.code for f in result.findings] == ["PYS101"]


def test_check_inputs_in_workers_matches_serial():
    items = [FileInput(f"m{i}.py", b"import time\nasync def f():\n    time.sleep(1)\n")
             for i in range(6)]
    rules = select_rules()
    assert check_inputs(items, rules, jobs=2) == check_inputs(items, rules, jobs=1)


# -- selection and configuration ---------------------------------------------------------------

def test_selection_by_prefix_and_code():
    chosen = {r.code for r in select_rules(["PYS1", "PYS205"], ["PYS102"])}
    assert "PYS101" in chosen and "PYS205" in chosen
    assert "PYS102" not in chosen and "PYS204" not in chosen


def test_severity_override_applies_to_findings():
    rules = RuleSet(select_rules(["PYS101"]).rules, {"PYS101": Severity.INFO})
    code = "import time\nasync def f():\n    time.sleep(1)\n"
    assert check_source("a.py", code, rules).findings[0].severity is Severity.INFO


def test_config_defaults_match_config_defaults_toml():
    defaults = Path(__file__).parents[2] / "config" / "defaults.toml"
    config, _ = config_from_texts({".github/pystd.toml": defaults.read_text()})
    assert config == PystdConfig()


def test_pyproject_without_table_falls_back_to_github_toml(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "pystd.toml").write_text("max-comments = 5\n")
    config, source = load_config(tmp_path)
    assert (config.max_comments, source) == (5, ".github/pystd.toml")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"selct": []}, "unknown key 'selct'"),
        ({"ignore": ["PYS999"]}, "unknown rule code 'PYS999'"),
        ({"severity": {"PYS101": "fatal"}}, "severity.PYS101"),
        ({"max-comments": -1}, "max-comments"),
    ],
)
def test_config_errors_are_one_line(table, message):
    from pystd.rules.config import parse_config

    with pytest.raises(ConfigError) as err:
        parse_config(table, "pyproject.toml")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_exclude_globs():
    config = PystdConfig(exclude=["legacy", "*/migrations/*", "scripts/*.py"])
    assert config.excludes("legacy/a.py")
    assert config.excludes("shop/migrations/0001.py")
    assert config.excludes("scripts/run.py")
    assert not config.excludes("shop/views.py")


# -- fixes -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("code", "line"),
    [
        ("x = 1\n", 1),
        ('"""Doc."""\nx = 1\n', 2),
        ('"""Doc."""\nfrom __future__ import annotations\n\nimport os\nx = 1\n', 5),
        ("#!/usr/bin/env python\n# licence\nx = 1\n", 3),
    ],
)
def test_import_insert_line(code, line):
    assert import_insert_line(cst.parse_module(code)) == line


def test_apply_fix_inserts_imports_and_replaces_lines():
    source = '"""Doc."""\nimport time\n\nasync def f():\n    time.sleep(1)\n'
    fix = Fix(5, 5, "    await asyncio.sleep(1)\n", ("import asyncio",), 3)
    assert apply_fix(source, fix) == (
        '"""Doc."""\nimport time\nimport asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n'
    )


def test_fix_keeps_comments_and_formatting():
    code = "import time\n\nasync def f():\n    time.sleep( 1 )  # wait a bit\n"
    (finding,) = check_source("a.py", code, select_rules(["PYS101"])).findings
    assert finding.fix is not None
    assert finding.fix.replacement == "    await asyncio.sleep( 1 )  # wait a bit\n"


def test_fix_import_not_added_when_present():
    code = "import asyncio\nimport time\n\nasync def f():\n    time.sleep(1)\n"
    (finding,) = check_source("a.py", code, select_rules(["PYS101"])).findings
    assert finding.fix is not None and finding.fix.imports == ()


def test_ignore_file_must_be_a_comment_not_prose_in_a_string():
    body = "import time\n\nasync def f():\n    time.sleep(1)\n"
    doc = '"""Mentions # pystd: ignore-file in prose."""\n'
    assert check_source("a.py", doc + body, select_rules()).findings != ()
    assert check_source("a.py", "    # pystd: ignore-file\n" + body, select_rules()).findings == ()


def test_huge_expression_is_skipped_not_crashed():
    terms = " + ".join(f"x{i}" for i in range(3000))
    code = f"import time\n\nasync def f():\n    time.sleep(1)\n    y = {terms}\n"
    result = check_source("a.py", code, select_rules())
    assert result.skipped in (None, "too deeply nested to analyse")


@pytest.mark.parametrize(
    "path", ["tests/fixtures/broken.py", "test_parser.py", "pkg/conftest.py", "app/tests.py"])
def test_unparsable_test_file_is_listed_as_not_checked_without_a_finding(path):
    result = check_source(path, b"def f(:\n    pass\n", select_rules())
    assert result.findings == ()
    assert result.skipped is not None and "line 1" in result.skipped
    assert not result.failed


def test_unparsable_module_next_to_tests_still_gets_its_finding():
    result = check_source("app/testing_tools.py", b"def f(:\n    pass\n", select_rules())
    assert [f.code for f in result.findings] == ["PYS000"]
