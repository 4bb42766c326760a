"""The everyday options linters have: --version, --exit-zero, --output-file,
--statistics, a validated --jobs, and a quiet end when the reader of the output goes."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pystd.bot import messages
from tests.bot.drivers import BLOCKING, run

ROOT = Path(__file__).resolve().parents[2]


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        run(capsys, "--version")
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"pystd {importlib.metadata.version('pystd')}"


@pytest.mark.parametrize("jobs", ["0", "-3", "two"])
def test_jobs_must_be_a_positive_number(project, capsys, jobs):
    with pytest.raises(SystemExit) as done:
        run(capsys, "check", "--jobs", jobs)
    assert done.value.code == 2
    assert messages.CLI_BAD_JOBS.format(value=jobs) in capsys.readouterr().err


def test_worker_counts_are_named_as_workers(project, capsys):
    with pytest.raises(SystemExit) as done:
        run(capsys, "worker", "--workers", "0")
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert messages.CLI_BAD_WORKERS.format(value="0") in err and "--jobs" not in err


def test_exit_zero_reports_findings_but_passes(project, capsys):
    (project / "app.py").write_text(BLOCKING)
    code, out, _ = run(capsys, "check", "--exit-zero")
    assert code == 0
    assert "PYS101" in out


def test_output_file_gets_the_report_and_stdout_stays_empty(project, capsys):
    (project / "app.py").write_text(BLOCKING)
    code, out, _ = run(capsys, "check", "--format", "json", "--output-file", "report.json")
    assert (code, out) == (1, "")
    assert [f["code"] for f in json.loads((project / "report.json").read_text())] == ["PYS101"]


def test_an_output_file_that_cannot_be_written_is_one_line(project, capsys):
    (project / "app.py").write_text(BLOCKING)
    code, _, err = run(capsys, "check", "--output-file", "no/such/dir/out.txt")
    assert code == 2
    assert err.startswith("pystd: error: --output-file no/such/dir/out.txt: ")


def test_statistics_counts_findings_per_rule(project, capsys):
    (project / "a.py").write_text(BLOCKING)
    (project / "b.py").write_text(BLOCKING + "\n\nasync def other():\n    time.sleep(2)\n")
    code, out, _ = run(capsys, "check", "--statistics")
    assert code == 1
    assert out.split() == ["3", "PYS101", "blocking-call-in-async", "error"]


def test_a_closed_pipe_ends_quietly(project):
    # Far more report than a pipe holds (64 KB), so writing goes on after `head` left.
    calls = "".join(f"    time.sleep({i})\n" for i in range(2000))
    (project / "m.py").write_text(f"import time\n\n\nasync def handler():\n{calls}")
    done = subprocess.run(f"{sys.executable} -m bot.cli check --jobs 1 | head -1",
                          shell=True, cwd=project, capture_output=True, text=True, check=False,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.stdout.count("\n") == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_per_file_ignores_leave_out_the_rules_they_name_in_the_files_they_match(project, capsys):
    (project / "pyproject.toml").write_text(
        '[tool.pystd]\nper-file-ignores = { "legacy/*" = ["PYS101"], "*_tool.py" = ["performance"] }\n')
    (project / "legacy").mkdir()
    for name in ("app.py", "legacy/old.py", "admin_tool.py"):
        (project / name).write_text(BLOCKING)
    code, out, _ = run(capsys, "check", "--format", "json")
    assert code == 1
    assert [f["path"] for f in json.loads(out)] == ["app.py"]


def test_per_file_ignores_with_an_unknown_code_is_one_line(project, capsys):
    (project / "pyproject.toml").write_text(
        '[tool.pystd]\nper-file-ignores = { "legacy/*" = ["PYS999"] }\n')
    (project / "app.py").write_text(BLOCKING)
    code, _, err = run(capsys, "check")
    assert code == 2
    assert err.count("\n") == 1 and "per-file-ignores" in err and "PYS999" in err


def test_a_nested_pyproject_without_a_pystd_table_keeps_the_parents_settings(project, capsys):
    (project / ".git").mkdir()
    (project / "pyproject.toml").write_text('[tool.pystd]\nignore = ["PYS101"]\n')
    (project / "service").mkdir()
    (project / "service" / "pyproject.toml").write_text('[project]\nname = "service"\n')
    (project / "service" / "app.py").write_text(BLOCKING)
    code, out, _ = run(capsys, "check", "service", "--format", "json")
    assert (code, json.loads(out)) == (0, [])


def test_errors_of_an_explicit_config_file_name_that_file(project, capsys):
    (project / "strict.toml").write_text('select = ["PYS999"]\n')
    (project / "app.py").write_text(BLOCKING)
    code, _, err = run(capsys, "check", "--config", "strict.toml")
    assert code == 2
    assert "strict.toml" in err and ".github/pystd.toml" not in err
