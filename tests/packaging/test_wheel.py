"""The wheel installs pystd under its own name and beside anything else: bot/ and rules/
become pystd.bot and pystd.rules, nothing lands at the top level, and a project that also
installs django-rules (whose import name is `rules`) keeps both working. The wheel is built
from exactly what the Dockerfile copies, so the image gets every module too."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from pystd.rules.catalogue import all_rules

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()

# A stand-in for django-rules (https://pypi.org/project/rules/): a distribution named
# `rules` whose import package is `rules`. Tests reach only loopback, so it is built here.
DJANGO_RULES = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=77"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "rules"
        version = "3.5"
        [tool.setuptools]
        packages = ["rules"]
    """,
    "rules/__init__.py": """
        from .predicates import predicate
        VERSION = (3, 5, 0, "final", 1)
    """,
    "rules/predicates.py": """
        def predicate(fn):
            return fn
    """,
}


def _pip(*args: str, cwd: Path) -> None:
    # No index and no build isolation: setuptools comes from the test environment.
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet",
                    *args, "--no-deps", "--no-index"], cwd=cwd, check=True,
                   capture_output=True, text=True)


def _build(source: Path, out: Path) -> Path:
    _pip("wheel", "--no-build-isolation", "--wheel-dir", str(out), ".", cwd=source)
    (wheel,) = out.glob(f"{source.name}-*.whl")
    return wheel


def _docker_build_context(dest: Path) -> None:
    """The files the Dockerfile's build stage copies into its source folder."""
    for line in DOCKERFILE.splitlines():
        copy = re.match(r"COPY (?!--from)(.+)$", line)
        if not copy:
            continue
        *sources, target = copy.group(1).split()
        for name in sources:
            to = dest / target / name if target.endswith("/") else dest / target
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, to, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                to.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(ROOT / name, to)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("wheels")
    pystd = tmp / "pystd"
    pystd.mkdir()
    _docker_build_context(pystd)
    rules = tmp / "rules"
    for name, text in DJANGO_RULES.items():
        (rules / name).parent.mkdir(parents=True, exist_ok=True)
        (rules / name).write_text(textwrap.dedent(text))
    return {"pystd": _build(pystd, tmp / "dist"), "rules": _build(rules, tmp / "dist")}


def test_the_wheel_holds_every_module_under_pystd_and_nothing_at_the_top(wheels):
    names = zipfile.ZipFile(wheels["pystd"]).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"pystd", next(t for t in tops if t.endswith(".dist-info"))}
    shipped = {name.removeprefix("pystd/") for name in names if name.endswith(".py")}
    source = {str(p.relative_to(ROOT)) for d in ("bot", "rules") for p in (ROOT / d).rglob("*.py")}
    assert shipped == source
    assert "pystd/bot/app.yml" in names  # /setup posts it to GitHub
    entry = zipfile.ZipFile(wheels["pystd"]).read(
        next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "pystd = pystd.bot.cli:main" in entry


def test_installed_beside_django_rules_both_work(wheels, tmp_path):
    site = tmp_path / "site"
    # django-rules first, then pystd: pystd must not overwrite rules/__init__.py.
    _pip("install", "--target", str(site), str(wheels["rules"]), cwd=tmp_path)
    _pip("install", "--target", str(site), str(wheels["pystd"]), cwd=tmp_path)
    assert "VERSION = (3, 5, 0" in (site / "rules" / "__init__.py").read_text()
    assert not (site / "bot").exists()

    project = tmp_path / "project"
    project.mkdir()
    (project / "views.py").write_text(
        "from django.http import JsonResponse\n\n\n"
        "def show(request):\n"
        "    password = \"Kx7mP2qR9vT4wY8zB3nF\"\n"
        "    return JsonResponse({\"ok\": True})\n")
    # The wheel's copy, not the checkout's: -I drops the working folder and PYTHONPATH and
    # the installed folder goes first on sys.path; the CLI then runs as `pystd check`.
    script = textwrap.dedent(f"""
        import contextlib, io, json, sys
        sys.path.insert(0, {str(site)!r})
        import rules
        from pystd.bot.cli import main
        import pystd.rules.catalogue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["check", "--no-cache", "--format", "json", "views.py"])
        print(json.dumps({{
            "rules_is_django_rules": hasattr(rules, "predicate"),
            "pystd_from": pystd.rules.catalogue.__file__,
            "top_level": sorted(m for m in sys.modules if m in ("bot", "rules.engine")),
            "rule_count": len(pystd.rules.catalogue.all_rules()),
            "exit": code,
            "findings": json.loads(out.getvalue()),
        }}))
    """)
    done = subprocess.run([sys.executable, "-I", "-c", script], cwd=project,
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["rules_is_django_rules"]
    assert result["pystd_from"].startswith(str(site))
    assert result["top_level"] == []
    assert result["rule_count"] == len(all_rules())
    assert result["exit"] == 0  # a warning; only errors fail the run
    assert any(f["code"] == "PYS102" for f in result["findings"])
