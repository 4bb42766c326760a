"""pystd where teams already work without the App: the GitHub Action (action.yml), whose
shell steps run here as a runner would run them on a pull request, and the pre-commit hook
(.pre-commit-hooks.yaml), run through `pre-commit try-repo` on a temporary repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
STEPS = {step.get("name", step.get("uses")): step for step in ACTION["runs"]["steps"]}
BIN = str(Path(sys.executable).parent)
BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep({n})\n"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def pull_request(tmp_path: Path) -> tuple[Path, str]:
    """A repository whose base commit has an old finding, and a pull request adding one."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "dev")
    (repo / "old.py").write_text(BLOCKING.format(n=1))
    (repo / "app.py").write_text("import asyncio\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "app.py").write_text(BLOCKING.format(n=2))
    git(repo, "commit", "-qam", "a blocking call")
    return repo, base


def run_step(name: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One `run:` step of action.yml, as the runner runs a `shell: bash` step."""
    step = STEPS[name]
    assert step["shell"] == "bash"
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=cwd,
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}",
                               "GITHUB_ACTION_PATH": str(ROOT), **env})


def test_no_step_pastes_an_input_into_a_script():
    # Inputs reach the scripts as environment variables, never as `${{ }}` in the code
    # (GitHub's guidance against script injection).
    for step in ACTION["runs"]["steps"]:
        assert "${{" not in step.get("run", "")


def test_the_check_step_annotates_what_the_pull_request_changed(pull_request, tmp_path):
    repo, base = pull_request
    outputs = tmp_path / "github_output"
    sarif = tmp_path / "pystd.sarif"
    done = run_step("pystd check", repo, {"PYSTD_PATHS": ".", "PYSTD_BASE": base,
                                          "PYSTD_ARGS": "", "PYSTD_SARIF": str(sarif),
                                          "GITHUB_OUTPUT": str(outputs)})
    assert done.returncode == 1, done.stderr  # an error fails the step (fail-on: error)
    commands = done.stdout.splitlines()
    assert len(commands) == 1 and commands[0].startswith("::error file=app.py,line=5,")
    log = json.loads(sarif.read_text())
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in log["runs"][0]["results"]] == ["app.py"]
    assert outputs.read_text() == f"sarif-file={sarif}\n"
    upload = STEPS["Upload SARIF to code scanning"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ steps.check.outputs.sarif-file }}"


def test_without_a_base_the_whole_tree_is_checked_and_sarif_is_optional(pull_request,
                                                                        tmp_path):
    repo, _ = pull_request
    outputs = tmp_path / "github_output"
    done = run_step("pystd check", repo, {"PYSTD_PATHS": ".", "PYSTD_BASE": "",
                                          "PYSTD_ARGS": "--exit-zero", "PYSTD_SARIF": "",
                                          "GITHUB_OUTPUT": str(outputs)})
    assert done.returncode == 0, done.stderr
    assert sorted(line.split(",")[0] for line in done.stdout.splitlines()) == [
        "::error file=app.py", "::error file=old.py"]
    assert not outputs.exists()


def test_a_bad_option_fails_the_step_with_the_reason(pull_request):
    repo, base = pull_request
    done = run_step("pystd check", repo, {"PYSTD_PATHS": ".", "PYSTD_BASE": base,
                                          "PYSTD_ARGS": "--select PYS999", "PYSTD_SARIF": ""})
    assert done.returncode == 2 and "PYS999" in done.stderr


@pytest.mark.parametrize(("version", "installed"), [("", str(ROOT)),
                                                    ("pystd==0.2.0", "pystd==0.2.0")])
def test_the_install_step_installs_this_action_or_the_version_asked(tmp_path, version,
                                                                    installed):
    # A `python` first on PATH that writes down what it was asked to do.
    shim = tmp_path / "bin" / "python"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {tmp_path / "argv"}\n')
    shim.chmod(0o755)
    step = STEPS["Install pystd"]
    done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, capture_output=True,
                          text=True, check=False,
                          env={"PATH": f"{shim.parent}:/usr/bin:/bin", "GITHUB_ACTION_PATH":
                               str(ROOT), "PYSTD_VERSION": version})
    assert done.returncode == 0, done.stderr
    argv = (tmp_path / "argv").read_text().splitlines()
    assert argv[:3] == ["-m", "pip", "install"] and argv[-1] == installed


PRE_COMMIT = shutil.which("pre-commit", path=BIN)


@pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is not installed (the test extra)")
def test_the_pre_commit_hook_checks_the_staged_python_and_template_files(tmp_path):
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["pystd"]
    repo = tmp_path / "repo"
    (repo / "shop" / "templates").mkdir(parents=True)
    git(repo, "init", "-q")
    (repo / "shop" / "views.py").write_text(BLOCKING.format(n=1))
    (repo / "shop" / "templates" / "page.html").write_text("<p>{{ bio|safe }}</p>\n")
    (repo / "notes.txt").write_text("not Python\n")
    (repo / "pyproject.toml").write_text('[tool.pystd]\nselect = ["DEFAULT", "PYS208"]\n')
    git(repo, "add", ".")
    done = subprocess.run(
        [PRE_COMMIT, "try-repo", str(ROOT), "pystd", "--all-files", "--verbose"],
        cwd=repo, capture_output=True, text=True, check=False,
        env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
             "PIP_NO_COMPILE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "shop/views.py:5:5: PYS101" in done.stdout
    assert "shop/templates/page.html:1:" in done.stdout  # PYS208: the template was checked
    assert "notes.txt" not in done.stdout.split("hook id: pystd")[-1]
