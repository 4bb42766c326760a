"""`pystd check` over several projects at once: each file answers to the configuration of
its own project root (as in ruff), whether the projects sit side by side or one inside
another; `--config FILE` still applies to every file; `--diff` too."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.bot.drivers import BLOCKING, git, run

SECRET = 'PASSWORD = "hunter2hunter2"\n'
BOTH = BLOCKING + "\n\n" + SECRET  # PYS101 on line 5, PYS102 on line 8


def _project(folder: Path, config: str) -> None:
    (folder / "legacy").mkdir(parents=True)
    (folder / "pyproject.toml").write_text(config)
    (folder / "app.py").write_text(BOTH)
    (folder / "legacy" / "old.py").write_text(BOTH)


@pytest.fixture
def two(project: Path) -> Path:
    """Projects a/ (only PYS101, legacy/ excluded) and b/ (only PYS102) side by side."""
    _project(project / "a", '[tool.pystd]\nselect = ["PYS101"]\nexclude = ["legacy"]\n')
    _project(project / "b", '[tool.pystd]\nselect = ["PYS102"]\n')
    return project


def found(out: str) -> list[tuple[str, str]]:
    return sorted((i["path"], i["code"]) for i in json.loads(out))


def test_each_path_is_checked_with_its_own_projects_configuration(two, capsys):
    code, out, _ = run(capsys, "check", "a", "b", "--format", "json", "--no-cache")
    assert code == 1
    assert found(out) == [("a/app.py", "PYS101"), ("b/app.py", "PYS102"),
                          ("b/legacy/old.py", "PYS102")]
    # The same as checking each project alone, in either order.
    _, alone_b, _ = run(capsys, "check", "b", "--format", "json", "--no-cache")
    _, reversed_out, _ = run(capsys, "check", "b", "a", "--format", "json", "--no-cache")
    assert found(reversed_out) == found(out)
    assert found(alone_b) == [("b/app.py", "PYS102"), ("b/legacy/old.py", "PYS102")]


def test_a_project_inside_another_answers_to_its_own_configuration(project, capsys):
    (project / "pyproject.toml").write_text('[tool.pystd]\nselect = ["PYS101", "PYS102"]\n')
    (project / "app.py").write_text(BOTH)
    _project(project / "services" / "pay", '[tool.pystd]\nselect = ["PYS102"]\n'
             'exclude = ["legacy"]\n')
    code, out, _ = run(capsys, "check", "--format", "json", "--no-cache")
    assert code == 1
    assert found(out) == [("app.py", "PYS101"), ("app.py", "PYS102"),
                          ("services/pay/app.py", "PYS102")]
    # Its exclusions are relative to its own root, whatever folder was named.
    _, inner, _ = run(capsys, "check", "services", "--format", "json", "--no-cache")
    assert found(inner) == [("services/pay/app.py", "PYS102")]


def test_a_nested_pyproject_without_a_pystd_table_does_not_hide_the_parents(project, capsys):
    (project / "pyproject.toml").write_text('[tool.pystd]\nselect = ["PYS102"]\n')
    (project / "lib").mkdir()
    (project / "lib" / "pyproject.toml").write_text('[project]\nname = "lib"\n')
    (project / "lib" / "app.py").write_text(BOTH)
    _, out, _ = run(capsys, "check", "lib", "--format", "json", "--no-cache")
    assert found(out) == [("lib/app.py", "PYS102")]


def test_an_explicit_config_file_applies_to_every_project(two, capsys):
    (two / "strict.toml").write_text('[tool.pystd]\nselect = ["PYS101"]\n')
    code, out, _ = run(capsys, "check", "a", "b", "--config", "strict.toml",
                       "--format", "json", "--no-cache")
    assert code == 1
    assert found(out) == [("a/app.py", "PYS101"), ("a/legacy/old.py", "PYS101"),
                          ("b/app.py", "PYS101"), ("b/legacy/old.py", "PYS101")]


def test_the_fail_on_gate_is_each_projects_own(two, capsys):
    (two / "a" / "pyproject.toml").write_text('[tool.pystd]\nselect = ["PYS101"]\n'
                                              'fail-on = "never"\n')
    (two / "b" / "pyproject.toml").write_text('[tool.pystd]\nselect = ["PYS102"]\n'
                                              'fail-on = "info"\n')
    (two / "b" / "app.py").write_text("x = 1\n")
    (two / "b" / "legacy" / "old.py").write_text("x = 1\n")
    code, out, _ = run(capsys, "check", "a", "b", "--format", "json", "--no-cache")
    assert found(out) == [("a/app.py", "PYS101"), ("a/legacy/old.py", "PYS101")]
    assert code == 0  # a's findings do not fail a's gate, and b has none
    (two / "b" / "app.py").write_text(SECRET)  # fails b's gate
    code, _, _ = run(capsys, "check", "a", "b", "--format", "json", "--no-cache")
    assert code == 1


def test_diff_over_two_projects_keeps_each_configuration(two, capsys):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    git(two, "init", "-q", "-b", "main")
    git(two, "config", "user.email", "dev@example.com")
    git(two, "config", "user.name", "Dev")
    git(two, "add", ".")
    git(two, "commit", "-qm", "base")
    for name in ("a", "b"):
        (two / name / "new.py").write_text(BOTH)
        (two / name / "legacy" / "old.py").write_text(BOTH + "\n\n" + BLOCKING.replace(
            "handler", "other").replace("import time\n", ""))
    code, out, _ = run(capsys, "check", "--diff", "main", "a", "b", "--format", "json")
    assert code == 1
    assert found(out) == [("a/new.py", "PYS101"), ("b/new.py", "PYS102")]


def test_sarif_over_two_projects_lists_the_rules_of_both(two, capsys):
    _, out, _ = run(capsys, "check", "a", "b", "--format", "sarif", "--no-cache")
    (log_run,) = json.loads(out)["runs"]
    assert {r["id"] for r in log_run["tool"]["driver"]["rules"]} == {"PYS101", "PYS102"}
    assert {r["ruleId"] for r in log_run["results"]} == {"PYS101", "PYS102"}
