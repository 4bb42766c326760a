"""The result cache of `pystd check`: a second run over unchanged files checks none of them
again and says the same; a changed file, rule selection or configuration is checked anew;
the cache folder keeps itself out of git."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pystd.bot import cli, messages
from tests.bot.drivers import BLOCKING, CLEAN, run


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The files the engine was handed, one list per run (what the cache did not know)."""
    calls: list[list[str]] = []
    real = cli.check_inputs

    def spy(items, rules, jobs=None, **kwargs):
        calls.append([i.path for i in items])
        return real(items, rules, jobs, **kwargs)

    monkeypatch.setattr(cli, "check_inputs", spy)
    return calls


def test_a_second_run_checks_nothing_again_and_says_the_same(project, capsys, checked):
    (project / "app.py").write_text(BLOCKING)
    (project / "ok.py").write_text(CLEAN)
    first = run(capsys, "check", "--jobs", "1", "--format", "json")
    second = run(capsys, "check", "--jobs", "1", "--format", "json")
    assert first == second and first[0] == 1
    assert checked == [["app.py", "ok.py"]]  # the second run was all from the cache
    text = [run(capsys, "check", "--jobs", "1", "--show-source") for _ in range(2)]
    assert text[0] == text[1] and "time.sleep(1)" in text[0][1]


def test_a_changed_file_is_checked_again(project, capsys, checked):
    (project / "app.py").write_text(BLOCKING)
    (project / "ok.py").write_text(CLEAN)
    run(capsys, "check", "--jobs", "1")
    (project / "ok.py").write_text(BLOCKING)
    code, out, _ = run(capsys, "check", "--jobs", "1", "--format", "json")
    assert code == 1 and checked[1] == ["ok.py"]
    assert sorted(f["path"] for f in json.loads(out)) == ["app.py", "ok.py"]


@pytest.mark.parametrize("change", ["select", "config", "versions"])
def test_other_rules_or_settings_are_a_fresh_cache(project, capsys, checked, change):
    (project / "app.py").write_text("from pydantic import BaseModel\n\n\ndef dump(m: BaseModel):\n"
                                    "    return m.dict()\n")
    run(capsys, "check", "--jobs", "1", "--select", "ALL")
    args = ["check", "--jobs", "1", "--select", "ALL", "--format", "json"]
    if change == "select":
        args[-3] = "PYS1"
    elif change == "config":
        (project / "pyproject.toml").write_text('[tool.pystd]\nignore = ["PYS404"]\n')
    else:  # the project now pins Pydantic 1: no v2 advice
        (project / "requirements.txt").write_text("pydantic==1.10.2\n")
    code, out, _ = run(capsys, *args)
    assert checked[1] == ["app.py"]
    assert (code, json.loads(out)) == (0, [])


def test_the_cache_folder_ignores_itself_in_git(project, capsys):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    (project / "app.py").write_text(BLOCKING)
    run(capsys, "check")
    assert (project / ".pystd_cache" / ".gitignore").read_text().splitlines()[-1] == "*"
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                            cwd=project, capture_output=True, text=True, check=True).stdout
    assert status.split() == ["??", "app.py"]


def test_no_cache_writes_nothing_and_checks_every_time(project, capsys, checked):
    (project / "app.py").write_text(BLOCKING)
    run(capsys, "check", "--no-cache")
    run(capsys, "check", "--no-cache")
    assert checked == [["app.py"], ["app.py"]]
    assert not (project / ".pystd_cache").exists()


def test_cache_dir_puts_the_cache_there(project, capsys, checked, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("caches") / "pystd"
    (project / "app.py").write_text(BLOCKING)
    run(capsys, "check", "--cache-dir", str(elsewhere))
    run(capsys, "check", "--cache-dir", str(elsewhere))
    assert checked == [["app.py"]]
    assert (elsewhere / ".gitignore").exists() and any(elsewhere.glob("*.json"))
    assert not (project / ".pystd_cache").exists()


def test_a_cache_that_cannot_be_written_is_a_warning_not_a_failure(project, capsys):
    (project / "blocker").write_text("a file where the cache folder should go\n")
    (project / "app.py").write_text(BLOCKING)
    code, out, err = run(capsys, "check", "--cache-dir", "blocker/cache")
    assert code == 1 and "PYS101" in out
    warning = messages.CLI_CACHE_UNWRITABLE.split("{")[0]
    assert err.startswith(warning) and err.count("\n") == 1


def test_a_damaged_cache_is_checked_afresh(project, capsys, checked):
    (project / "app.py").write_text(BLOCKING)
    run(capsys, "check")
    for cache_file in (project / ".pystd_cache").glob("*.json"):
        cache_file.write_text('{"files": {"app.py": ["x", "not a result"]}}')
    code, out, _ = run(capsys, "check")
    assert code == 1 and "PYS101" in out
    assert checked == [["app.py"], ["app.py"]]


def test_a_file_whose_analysis_failed_is_not_cached(project, capsys, checked):
    deep = "x = " + "(" * 2000 + ")" * 2000 + "\n"
    (project / "deep.py").write_text(deep)
    run(capsys, "check", "--jobs", "1")
    _, _, err = run(capsys, "check", "--jobs", "1")
    assert checked == [["deep.py"], ["deep.py"]]
    assert "deep.py" in err


def test_cached_paths_follow_the_working_directory(project, capsys, monkeypatch):
    (project / "pyproject.toml").write_text("[tool.pystd]\n")
    (project / "pkg").mkdir()
    (project / "pkg" / "app.py").write_text(BLOCKING)
    run(capsys, "check")
    monkeypatch.chdir(project / "pkg")
    code, out, _ = run(capsys, "check", ".", "--format", "json")
    assert code == 1 and [f["path"] for f in json.loads(out)] == ["app.py"]
    assert Path(project / ".pystd_cache").is_dir()


@pytest.mark.parametrize("entry", ["7", '["only one"]', '{"a": 1}'])
def test_a_cache_entry_of_the_wrong_shape_is_checked_afresh(project, capsys, checked, entry):
    (project / "app.py").write_text(BLOCKING)
    run(capsys, "check")
    for cache_file in (project / ".pystd_cache").glob("*.json"):
        cache_file.write_text('{"files": {"app.py": ' + entry + "}}")
    code, out, _ = run(capsys, "check")
    assert code == 1 and "PYS101" in out


def test_choosing_a_rule_by_code_is_a_fresh_cache(project, capsys):
    # By default a lower-case phrase is not reported as a secret; chosen by code it is
    # (docs/rules.md, "Evidence, or quiet"): the cached default answer must not stand.
    (project / "settings.py").write_text('SECRET_KEY = "reallyhardtoguess"\n')
    assert run(capsys, "check", "--select", "DEFAULT")[0] == 0
    code, out, _ = run(capsys, "check", "--select", "DEFAULT,PYS102")
    assert code == 0 and "PYS102" in out  # a warning: reported, not failing


def test_files_fixed_by_fix_are_cached_as_fixed(project, capsys, checked, monkeypatch):
    from pystd.bot import fixing
    from tests.bot.drivers import DJANGO_VIEW

    fix_checks: list[str] = []
    real = fixing.check_source

    def spy(name, text, rules, *args, **kwargs):
        fix_checks.append(name)
        return real(name, text, rules, *args, **kwargs)

    monkeypatch.setattr(fixing, "check_source", spy)
    (project / "views.py").write_text(DJANGO_VIEW)  # two safe fixes, in two passes
    # A safe fix and an unsafe one (PYS101) in one file: --fix leaves a finding there.
    (project / "mixed.py").write_text(DJANGO_VIEW + "\n\n" + BLOCKING.replace(
        "import time\n\n\n", "import time  # noqa: E402\n\n\n"))
    (project / "ok.py").write_text(CLEAN)
    code, _, err = run(capsys, "check", "--jobs", "1", "--fix")
    assert code == 1 and "2 files" in err
    assert sorted(fix_checks) == ["mixed.py", "mixed.py", "views.py", "views.py"]
    # The next run analyses nothing (the fixed files' checks came from the fix passes)
    # and says what a run without the cache says.
    cached = run(capsys, "check", "--jobs", "1", "--format", "json")
    assert checked == [["mixed.py", "ok.py", "views.py"]]
    assert len(fix_checks) == 4
    fresh = run(capsys, "check", "--jobs", "1", "--format", "json", "--no-cache")
    assert cached == fresh and cached[0] == 1
    assert [(f["path"], f["code"]) for f in json.loads(cached[1])] == [("mixed.py", "PYS101")]
    text = run(capsys, "check", "--jobs", "1", "--show-source")
    assert text == run(capsys, "check", "--jobs", "1", "--show-source", "--no-cache")
    assert len(checked) == 3  # only the two --no-cache runs checked again
