"""The rule policy from the command line: the default set, `--select` by category or ALL,
unknown categories, and `pystd rule` showing category and default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pystd.bot import messages
from pystd.bot.cli import main
from pystd.rules.catalogue import all_rules
from pystd.rules.engine import Category

# A blocking call (correctness of the event loop: on by default), a hard-coded key
# (security: on by default) and a print in server code (style: opt-in).
APP = ("import time\n\nimport flask\n\nAPI_KEY = \"sk_live_4eC39HqLyjWDarjtT1zdp7dc\"\n\n\n"
       "async def handler():\n    time.sleep(1)\n    print('slept')\n")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text(APP)
    return tmp_path


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = main(["check", "--format", "json", *args])
    out, err = capsys.readouterr()
    return code, sorted(i["code"] for i in json.loads(out)) if out else [], err


def test_without_configuration_only_default_rules_run(project, capsys):
    code, found, _ = check(capsys)
    assert (code, found) == (1, ["PYS101", "PYS102"])


def test_select_all_opts_in_to_every_rule(project, capsys):
    _, found, _ = check(capsys, "--select", "ALL")
    assert found == ["PYS101", "PYS102", "PYS104"]


def test_select_by_category_replaces_the_default(project, capsys):
    code, found, _ = check(capsys, "--select", "security")
    assert (code, found) == (0, ["PYS102"])  # a warning does not fail the gate
    _, found, _ = check(capsys, "--select", "DEFAULT,style", "--ignore", "security")
    assert found == ["PYS101", "PYS104"]


def test_configuration_opts_in_by_category(project, capsys):
    (project / "pyproject.toml").write_text('[tool.pystd]\nselect = ["DEFAULT", "style"]\n')
    _, found, _ = check(capsys)
    assert found == ["PYS101", "PYS102", "PYS104"]


@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_unknown_category_is_a_one_line_error(project, capsys, option):
    code = main(["check", option, "securty"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith(f"pystd: error: {option}: unknown rule code or category 'securty'")
    assert ", ".join(c.value for c in Category) in err
    assert messages.CLI_UNKNOWN_SELECTOR.split("{")[0] in err


def test_unknown_category_in_the_configuration_is_a_one_line_error(project, capsys):
    (project / "pyproject.toml").write_text('[tool.pystd]\nignore = ["styles"]\n')
    code, _, err = check(capsys)
    assert code == 2 and err.count("\n") == 1 and "'styles'" in err


def test_rule_lists_category_and_default(capsys):
    assert main(["rule"]) == 0
    lines = {line[:6]: line for line in capsys.readouterr().out.splitlines()}
    assert set(lines) == set(all_rules())
    assert lines["PYS205"].split()[2:5] == ["error", "correctness", "on"]
    assert lines["PYS409"].split()[2:5] == ["info", "style", "off"]


def test_rule_docs_say_category_default_and_why(capsys):
    assert main(["rule", "PYS104"]) == 0
    out = capsys.readouterr().out
    assert "Category: style · off by default" in out
    assert all_rules()["PYS104"].rationale in out
