"""Framework versions read from a project's dependency files decide version advice;
anything unknown counts as the current release."""

from __future__ import annotations

import json

import pytest

from pystd.rules.versions import versions_from_texts


@pytest.mark.parametrize("line", ["pydantic<2", "pydantic==1.10.13", "pydantic~=1.10",
                                  "pydantic>=1.8,<2.0", "Pydantic[email]==1.*"])
def test_a_requirement_that_rules_out_the_new_major_is_below_it(line):
    versions = versions_from_texts({"requirements.txt": f"django>=4.2\n{line}  # pinned\n"})
    assert versions.below("pydantic", "2")
    assert not versions.at_least("pydantic", "2")


@pytest.mark.parametrize("line", ["pydantic", "pydantic>=1.8", "pydantic!=2.0", "pydantic<3"])
def test_a_range_that_allows_the_new_major_is_not_below_it(line):
    assert not versions_from_texts({"requirements.txt": line}).below("pydantic", "2")


@pytest.mark.parametrize("line", ["django==4.1.7", "django~=4.1.2", "django>4.1.0,<4.1.3",
                                  "django==4.1.*", "django>=4.0,<=4.1"])
def test_a_pin_at_or_above_the_release_is_not_below_it(line):
    assert not versions_from_texts({"requirements.txt": line}).below("django", "4.1")


def test_nothing_known_means_current():
    versions = versions_from_texts({})
    assert not versions.below("fastapi", "0.95") and not versions.at_least("fastapi", "0.95")
    assert not versions


def test_pyproject_project_and_poetry_dependencies():
    pyproject = """
[project]
dependencies = ["fastapi>=0.80,<0.95", "httpx"]

[tool.poetry.dependencies]
python = "^3.11"
django = "^4.0"
pydantic = { version = "~1.10", extras = ["email"] }
"""
    versions = versions_from_texts({"pyproject.toml": pyproject})
    assert versions.below("fastapi", "0.95")
    assert versions.below("django", "5") and not versions.below("django", "4.1")
    assert versions.at_least("django", "4.0") and not versions.at_least("django", "4.1")
    assert versions.below("pydantic", "2")


def test_a_lock_file_wins_over_ranges():
    lock = '[[package]]\nname = "Django"\nversion = "4.0.10"\n'
    versions = versions_from_texts({"requirements.txt": "django>=3.2", "poetry.lock": lock})
    assert versions.below("django", "4.1")
    uv = '[[package]]\nname = "pydantic"\nversion = "2.7.1"\n'
    assert versions_from_texts({"uv.lock": uv}).at_least("pydantic", "2")
    pipfile = json.dumps({"default": {"flask": {"version": "==2.0.3"}}})
    assert versions_from_texts({"Pipfile.lock": pipfile}).below("flask", "2.1")


def test_unreadable_files_and_lines_are_skipped():
    versions = versions_from_texts({
        "pyproject.toml": "not [toml", "requirements.txt": "-r base.txt\n-e .\n???\n"
        "git+https://example.invalid/x.git\nflask==2.0.1\n", "uv.lock": "[[package]\n"})
    assert versions.below("flask", "2.1")
