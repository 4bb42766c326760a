"""`pystd check` and `pystd rule` as a developer uses them in a terminal and in CI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pystd.bot import messages
from pystd.rules.limits import TOO_DEEP
from tests.bot.drivers import BLOCKING, CLEAN, git, run


def test_findings_exit_1_and_text_shows_place_code_message_and_fix(project, capsys):
    (project / "app.py").write_text(BLOCKING)
    code, out, _ = run(capsys, "check", "--jobs", "1")
    assert code == 1
    assert "app.py:5:5: PYS101 [error] Blocking call `time.sleep`" in out
    assert "+    await asyncio.sleep(1)" in out
    assert "+import asyncio" in out
    assert "Found 1 finding (1 error) in 1 file, 1 fixable." in out


def test_clean_project_exits_0(project, capsys):
    (project / "app.py").write_text(CLEAN)
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert "clean" in out


def test_json_output_is_one_array_with_paths_relative_to_cwd(project, capsys):
    (project / "pkg").mkdir()
    (project / "pkg" / "app.py").write_text(BLOCKING)
    code, out, _ = run(capsys, "check", "--format", "json", "pkg")
    items = json.loads(out)
    assert code == 1
    assert [(i["path"], i["line"], i["code"]) for i in items] == [("pkg/app.py", 5, "PYS101")]
    assert items[0]["fix"]["replacement"] == "    await asyncio.sleep(1)\n"


def test_github_format_prints_workflow_commands(project, capsys):
    (project / "app.py").write_text(BLOCKING)
    _, out, _ = run(capsys, "check", "--format", "github")
    assert out.startswith("::error file=app.py,line=5,")


def test_sarif_format_is_json_with_one_run(project, capsys):
    (project / "app.py").write_text(BLOCKING)
    _, out, _ = run(capsys, "check", "--format", "sarif")
    log = json.loads(out)
    assert log["version"] == "2.1.0"
    assert log["runs"][0]["results"][0]["ruleId"] == "PYS101"


def test_select_and_ignore_by_prefix(project, capsys):
    (project / "app.py").write_text(BLOCKING + 'API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"\n')
    _, out, _ = run(capsys, "check", "--format", "json", "--select", "PYS1", "--ignore", "PYS101")
    assert {i["code"] for i in json.loads(out)} == {"PYS102"}


@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_unknown_rule_code_is_a_one_line_error(project, capsys, option):
    (project / "app.py").write_text(CLEAN)
    code, out, err = run(capsys, "check", option, "PYS999")
    assert code == 2
    assert err.strip() == messages.CLI_UNKNOWN_CODE.format(option=option, code="PYS999")
    assert out == ""


def test_missing_path_is_exit_2(project, capsys):
    code, _, err = run(capsys, "check", "nowhere")
    assert code == 2
    assert err.strip() == messages.CLI_NO_SUCH_PATH.format(path="nowhere")


def test_pyproject_config_ignores_and_excludes(project, capsys):
    (project / "pyproject.toml").write_text(
        '[tool.pystd]\nignore = ["PYS102"]\nexclude = ["legacy"]\n'
    )
    (project / "legacy").mkdir()
    (project / "legacy" / "old.py").write_text(BLOCKING)
    (project / "app.py").write_text('PASSWORD = "hunter2hunter2"\n')
    code, out, _ = run(capsys, "check", "--format", "json")
    assert code == 0
    assert json.loads(out) == []


def test_github_pystd_toml_is_used_without_pyproject_table(project, capsys):
    (project / ".github").mkdir()
    (project / ".github" / "pystd.toml").write_text('fail-on = "never"\n')
    (project / "app.py").write_text(BLOCKING)
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert "PYS101" in out


def test_severity_override_and_fail_on_warning(project, capsys):
    (project / "pyproject.toml").write_text(
        '[tool.pystd]\nseverity = {PYS101 = "warning"}\nfail-on = "warning"\n'
    )
    (project / "app.py").write_text(BLOCKING)
    code, out, _ = run(capsys, "check", "--format", "json")
    assert code == 1
    assert json.loads(out)[0]["severity"] == "warning"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ('[tool.pystd]\nselct = ["PYS1"]\n', "unknown key 'selct'"),
        ('[tool.pystd]\nselect = ["PYS777"]\n', "unknown rule code 'PYS777'"),
        ('[tool.pystd]\nfail-on = "sometimes"\n', "fail-on"),
        ("[tool.pystd\n", "invalid TOML"),
    ],
)
def test_bad_config_is_a_one_line_error(project, capsys, config, expected):
    (project / "pyproject.toml").write_text(config)
    (project / "app.py").write_text(CLEAN)
    code, _, err = run(capsys, "check")
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert expected in err


def test_explicit_config_file(project, capsys):
    (project / "strict.toml").write_text('[tool.pystd]\nselect = ["PYS102"]\n')
    (project / "app.py").write_text(BLOCKING)
    code, _, _ = run(capsys, "check", "--config", "strict.toml")
    assert code == 0


def test_bad_input_files_are_skipped_not_crashed(project, capsys):
    (project / "binary.py").write_bytes(b"\x00\x01\x02 not python")
    (project / "latin1.py").write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    (project / "empty.py").write_text("")
    (project / "huge.py").write_text("x = 1\n" * 200_000)
    (project / "broken.py").write_text("def f(:\n    pass\n")
    code, out, _ = run(capsys, "check", "--jobs", "2")
    assert code == 0  # PYS000 is info, below the default gate
    assert "skipped binary.py: binary file" in out
    assert "skipped latin1.py: not valid UTF-8" in out
    assert "empty.py" not in out  # an empty module is nothing to report
    assert "skipped huge.py: larger than 1 MB" in out
    assert "broken.py:1:" in out
    assert "PYS000" in out


def test_a_file_the_parser_cannot_take_is_named_on_stderr(project, capsys):
    (project / "deep.py").write_text("x = " + "(" * 300 + "1" + ")" * 300 + "\n")
    (project / "app.py").write_text(BLOCKING)
    code, _, err = run(capsys, "check", "--jobs", "2")
    assert code == 1  # app.py's finding still counts
    assert err.strip() == messages.CLI_NOT_CHECKED.format(path="deep.py", reason=TOO_DEEP)


def test_noqa_and_ignore_file(project, capsys):
    (project / "a.py").write_text(BLOCKING.replace("sleep(1)", "sleep(1)  # noqa: PYS101"))
    (project / "b.py").write_text(BLOCKING.replace("sleep(1)", "sleep(1)  # noqa"))
    (project / "c.py").write_text("# pystd: ignore-file\n" + BLOCKING)
    (project / "d.py").write_text(BLOCKING.replace("sleep(1)", "sleep(1)  # noqa: PYS102"))
    _, out, _ = run(capsys, "check", "--format", "json")
    assert [i["path"] for i in json.loads(out)] == ["d.py"]


def test_parallel_and_serial_runs_agree(project, capsys):
    for i in range(12):
        (project / f"m{i}.py").write_text(BLOCKING if i % 3 else CLEAN)
    _, serial, _ = run(capsys, "check", "--format", "json", "--jobs", "1")
    _, parallel, _ = run(capsys, "check", "--format", "json", "--jobs", "2")
    assert json.loads(serial) == json.loads(parallel)
    assert len(json.loads(serial)) == 8


# -- --diff ------------------------------------------------------------------------------

@pytest.fixture
def repo(project: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    git(project, "init", "-q", "-b", "main")
    git(project, "config", "user.email", "dev@example.com")
    git(project, "config", "user.name", "Dev")
    (project / "app.py").write_text(BLOCKING)
    git(project, "add", ".")
    git(project, "commit", "-qm", "base")
    git(project, "checkout", "-qb", "feature")
    return project


def test_diff_reports_only_changed_lines(repo, capsys):
    (repo / "app.py").write_text(BLOCKING + "\n\nasync def other():\n    time.sleep(2)\n")
    git(repo, "commit", "-qam", "add other")
    code, out, _ = run(capsys, "check", "--diff", "main", "--format", "json")
    assert code == 1
    assert [(i["path"], i["line"]) for i in json.loads(out)] == [("app.py", 9)]


def test_diff_counts_a_multiline_statement_when_any_line_changed(repo, capsys):
    (repo / "app.py").write_text(
        "import time\n\n\nasync def handler():\n    time.sleep(\n        1\n    )\n"
    )
    git(repo, "commit", "-qam", "reformat")
    _, out, _ = run(capsys, "check", "--diff", "main", "--format", "json")
    assert [i["line"] for i in json.loads(out)] == [5]


def test_diff_includes_uncommitted_and_untracked_files(repo, capsys):
    (repo / "new.py").write_text("import os\n\n\nasync def f():\n    os.system('ls')\n")
    code, out, _ = run(capsys, "check", "--diff", "main", "--format", "json")
    assert code == 1
    assert [(i["path"], i["line"]) for i in json.loads(out)] == [("new.py", 5)]


def test_diff_with_no_changes_is_clean(repo, capsys):
    code, out, _ = run(capsys, "check", "--diff", "main", "--format", "json")
    assert code == 0
    assert json.loads(out) == []


def test_diff_bad_ref_is_exit_2(repo, capsys):
    code, _, err = run(capsys, "check", "--diff", "no-such-branch")
    assert code == 2
    assert "no-such-branch" in err


def test_diff_outside_git_is_exit_2(project, capsys):
    (project / "app.py").write_text(BLOCKING)
    code, _, err = run(capsys, "check", "--diff", "main")
    assert code == 2
    assert "needs a git repository" in err


# -- pystd rule --------------------------------------------------------------------------

def test_rule_lists_every_rule(capsys):
    code, out, _ = run(capsys, "rule")
    assert code == 0
    assert "PYS101  blocking-call-in-async" in out
    assert "PYS405" in out


def test_rule_shows_docs(capsys):
    code, out, _ = run(capsys, "rule", "pys205")
    assert code == 0
    assert out.startswith("# PYS205 django-sync-orm-in-async (error)")
    assert "## Why is this bad?" in out


def test_unknown_rule_is_exit_2(capsys):
    code, _, err = run(capsys, "rule", "PYS999")
    assert code == 2
    assert "PYS999" in err


def test_diff_runs_change_level_rules(repo, capsys):
    (repo / ".env").write_text("DATABASE_URL=postgres://app:pw@db/app\n")
    (repo / ".env.example").write_text("DATABASE_URL=\n")
    code, out, _ = run(capsys, "check", "--diff", "main", "--format", "json")
    assert code == 0  # a warning: the rule sees the file's name, not what it holds
    assert [(i["code"], i["path"]) for i in json.loads(out)] == [("PYS902", ".env")]


def test_change_level_rules_need_diff(project, capsys):
    (project / ".env").write_text("SECRET=1\n")
    code, out, _ = run(capsys, "check", "--format", "json")
    assert (code, json.loads(out)) == (0, [])


SHOP_MODELS = (
    "from django.db import models\n\n\n"
    "class Order(models.Model):\n"
    "    reference = models.CharField(max_length=32)\n\n"
    "    def __str__(self):\n"
    "        return self.reference\n"
)


@pytest.fixture
def django_repo(repo: Path) -> Path:
    git(repo, "checkout", "-q", "main")  # the app exists on the base branch
    (repo / "shop" / "migrations").mkdir(parents=True)
    (repo / "shop" / "__init__.py").write_text("")
    (repo / "shop" / "migrations" / "__init__.py").write_text("")
    (repo / "shop" / "migrations" / "0001_initial.py").write_text("operations = []\n")
    (repo / "shop" / "models.py").write_text(SHOP_MODELS)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "shop app")
    git(repo, "checkout", "-qB", "feature")
    return repo


def test_diff_flags_a_model_field_change_without_migration(django_repo, capsys):
    models = django_repo / "shop" / "models.py"
    models.write_text(SHOP_MODELS.replace("max_length=32", "max_length=64"))
    git(django_repo, "commit", "-qam", "longer reference")
    code, out, _ = run(capsys, "check", "--diff", "main", "--format", "json")
    assert code == 0  # a warning: the migration may come in another change
    assert [(i["code"], i["path"], i["line"]) for i in json.loads(out)] == [
        ("PYS206", "shop/models.py", 5)]


def test_diff_is_quiet_when_the_migration_is_in_the_change(django_repo, capsys):
    models = django_repo / "shop" / "models.py"
    models.write_text(SHOP_MODELS.replace("max_length=32", "max_length=64"))
    (django_repo / "shop" / "migrations" / "0002_longer_reference.py").write_text("ops = []\n")
    code, out, _ = run(capsys, "check", "--diff", "main", "--format", "json")
    assert (code, json.loads(out)) == (0, [])


def test_diff_is_quiet_when_only_a_method_changed(django_repo, capsys):
    models = django_repo / "shop" / "models.py"
    models.write_text(SHOP_MODELS.replace("return self.reference", "return f'#{self.reference}'"))
    code, out, _ = run(capsys, "check", "--diff", "main", "--format", "json")
    assert (code, json.loads(out)) == (0, [])


def test_diff_reads_max_handler_lines_from_the_configuration(repo, capsys):
    (repo / "pyproject.toml").write_text(
        '[tool.pystd]\nmax-handler-lines = 3\nselect = ["DEFAULT", "structure"]\n')
    (repo / "views.py").write_text(
        "from django.shortcuts import render\n\n\ndef index(request):\n"
        "    a = 1\n    b = 2\n    c = 3\n    return render(request, 'x.html', {})\n")
    (repo / "tests").mkdir()
    (repo / "tests" / "test_views.py").write_text("def test_x():\n    pass\n")
    _, out, _ = run(capsys, "check", "--diff", "main", "--format", "json")
    assert [(i["code"], i["path"], i["line"]) for i in json.loads(out)] == [
        ("PYS110", "views.py", 4)]


# -- versions -------------------------------------------------------------------------------

PYDANTIC_V1 = ("from pydantic import BaseModel, BaseSettings\n\n\n"
               "class Settings(BaseSettings):\n    debug: bool = False\n\n\n"
               "class User(BaseModel):\n    name: str\n\n\n"
               "def dump(user: User) -> dict:\n    return user.dict()\n")


def pydantic_codes(capsys) -> list[str]:
    code, out, _ = run(capsys, "check", "--jobs", "1", "--format", "json",
                       "--select", "PYS404,PYS405")
    found = [item["code"] for item in json.loads(out)]
    assert code == (1 if "PYS405" in found else 0)
    return found


@pytest.mark.parametrize(("name", "text"), [
    ("requirements.txt", "django>=4.2\npydantic==1.10.13  # pinned\n"),
    ("pyproject.toml", '[project]\nname = "shop"\ndependencies = ["pydantic>=1.8,<2"]\n'),
    ("pyproject.toml", '[tool.poetry.dependencies]\npython = "^3.11"\npydantic = "^1.10"\n'),
    ("poetry.lock", '[[package]]\nname = "pydantic"\nversion = "1.10.13"\n'),
])
def test_check_reads_the_pins_of_the_project(project, capsys, name, text):
    (project / "app").mkdir()
    (project / "app" / "settings.py").write_text(PYDANTIC_V1)
    assert sorted(pydantic_codes(capsys)) == ["PYS404", "PYS405"]
    (project / name).write_text(text)
    assert pydantic_codes(capsys) == []


def test_check_reads_the_pins_at_the_project_root_from_a_subfolder(project, capsys,
                                                                   monkeypatch):
    (project / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    (project / "requirements").mkdir()
    (project / "requirements" / "base.txt").write_text("pydantic<2\n")
    (project / "app").mkdir()
    (project / "app" / "settings.py").write_text(PYDANTIC_V1)
    monkeypatch.chdir(project / "app")
    code, out, _ = run(capsys, "check", "--jobs", "1", "--select", "PYS404,PYS405", ".")
    assert code == 0 and "clean" in out


def test_pydantic_2_pinned_keeps_the_findings(project, capsys):
    (project / "app.py").write_text(PYDANTIC_V1)
    (project / "requirements.txt").write_text("pydantic>=2.5\n")
    assert sorted(pydantic_codes(capsys)) == ["PYS404", "PYS405"]
