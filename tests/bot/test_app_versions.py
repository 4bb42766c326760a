"""The App reads the framework versions from the dependency files of the pull request's
BASE commit, through the real server and the fake GitHub: a project pinned to Pydantic 1
gets no Pydantic v2 advice, and reading the pins costs at most one extra API call."""

from __future__ import annotations

import re

import pytest

from tests.bot.drivers import BASE, OWNER, REPO, add_pr, only_run, open_pr, settle
from tests.github_fake import FakeFile

SETTINGS_V1 = ("from pydantic import BaseModel, BaseSettings\n\n\n"
               "class Settings(BaseSettings):\n    debug: bool = False\n\n\n"
               "class User(BaseModel):\n    name: str\n\n\n"
               "def dump(user: User) -> dict:\n    return user.dict()\n")
SELECT_404 = 'select = ["DEFAULT", "PYS404"]\n'


def pydantic_pr(gh, base_files: dict[str, str]) -> None:
    add_pr(gh, [FakeFile("app/settings.py", status="added", content=SETTINGS_V1)],
           base_files={".github/pystd.toml": SELECT_404, **base_files})


def codes_commented(gh) -> list[str]:
    return sorted(re.findall(r"PYS\d{3}", c.body)[0] for c in gh.review_comments(OWNER, REPO, 1))


async def test_a_base_pinned_to_pydantic_1_gets_no_pydantic_2_advice(bot, delivery, fake_github):
    pydantic_pr(fake_github, {"requirements.txt": "fastapi==0.99.1\npydantic<2\n"})
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    run = only_run(fake_github)
    assert (run.conclusion, run.annotations) == ("success", [])
    assert fake_github.review_comments(OWNER, REPO, 1) == []
    fetched = [c for c in fake_github.calls("GET", r"/contents/requirements\.txt$")]
    assert [c.query.get("ref") for c in fetched] == [BASE]


@pytest.mark.parametrize("requirements", ["pydantic>=2\n", None])
async def test_pydantic_2_or_unknown_gets_the_findings(bot, delivery, fake_github, requirements):
    pydantic_pr(fake_github, {"requirements.txt": requirements} if requirements else {})
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    run = only_run(fake_github)
    assert run.conclusion == "failure"  # PYS405: the import raises on Pydantic 2
    assert codes_commented(fake_github) == ["PYS404", "PYS405"]


async def test_versions_come_from_a_lock_file_and_a_requirements_folder(
        bot, delivery, fake_github):
    pydantic_pr(fake_github, {"requirements/base.txt": "pydantic==1.10.13\n",
                              "poetry.lock": '[[package]]\nname = "pydantic"\n'
                                             'version = "1.10.13"\n'})
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    assert only_run(fake_github).conclusion == "success"
    assert fake_github.review_comments(OWNER, REPO, 1) == []
    paths = sorted(c.path.rpartition("/contents")[2] for c in fake_github.calls(
        "GET", r"/contents"))
    assert paths == ["", "/.github/pystd.toml", "/poetry.lock", "/requirements",
                     "/requirements/base.txt"]


async def test_only_pyproject_costs_at_most_one_extra_call(bot, delivery, fake_github):
    pyproject = ('[project]\nname = "shop"\ndependencies = ["pydantic>=1.8,<2"]\n\n'
                 '[tool.pystd]\nselect = ["DEFAULT", "PYS404"]\n')
    add_pr(fake_github, [FakeFile("app/settings.py", status="added", content=SETTINGS_V1)],
           base_files={"pyproject.toml": pyproject})
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    assert only_run(fake_github).conclusion == "success"
    assert fake_github.review_comments(OWNER, REPO, 1) == []
    calls = [c.path.rpartition("/contents")[2] for c in fake_github.calls("GET", r"/contents")]
    # Before: pyproject.toml and .github/pystd.toml (2 calls). Now: the listing, then
    # pyproject.toml once for both the configuration and the versions.
    assert calls == ["", "/pyproject.toml"]


async def test_a_dependency_file_github_cannot_serve_leaves_versions_unknown(
        bot, delivery, fake_github, no_sleep):
    pydantic_pr(fake_github, {"requirements.txt": "pydantic<2\n"})
    fake_github.fail_next("GET", r"/contents/requirements\.txt$", status=502, times=10)
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    assert fake_github.injected, "the fault was not served"
    run = only_run(fake_github)
    assert run.status == "completed" and run.conclusion == "failure"  # checked as current
    assert codes_commented(fake_github) == ["PYS404", "PYS405"]


async def test_when_the_listing_fails_the_configuration_is_still_read(
        bot, delivery, fake_github, no_sleep):
    add_pr(fake_github, base_files={".github/pystd.toml": 'fail-on = "never"\n',
                                    "requirements.txt": "pydantic<2\n"})
    fake_github.fail_next("GET", r"/contents$", status=502, times=10)
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    assert fake_github.injected, "the fault was not served"
    run = only_run(fake_github)
    # The base's configuration (never fail) still applies: findings, but success.
    assert (run.conclusion, len(run.annotations)) == ("success", 1)


async def test_a_lock_file_above_the_contents_api_limit_is_not_fetched(
        bot, delivery, fake_github):
    big_lock = '[[package]]\nname = "pydantic"\nversion = "2.7.1"\n' + "# padding\n" * 110_000
    pydantic_pr(fake_github, {"requirements.txt": "pydantic<2\n", "poetry.lock": big_lock})
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    assert fake_github.calls("GET", r"/contents/poetry\.lock") == []
    assert fake_github.review_comments(OWNER, REPO, 1) == []  # requirements.txt: Pydantic 1


@pytest.mark.parametrize("pyproject", [
    'project = "app"\n',
    "[tool]\npoetry = 2\n",
    "[tool.poetry]\ndependencies = ['django']\n",
    "tool = 1\n",
], ids=["project-string", "poetry-number", "poetry-dependencies-list", "tool-number"])
async def test_a_pyproject_of_an_odd_shape_leaves_the_versions_unknown(
        bot, delivery, fake_github, pyproject):
    # Valid TOML, not the shape packaging tools document: the review runs as if nothing
    # were pinned, instead of failing (neutral, which passes a required check).
    pydantic_pr(fake_github, {"pyproject.toml": pyproject})
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    assert only_run(fake_github).conclusion == "failure"
    assert codes_commented(fake_github) == ["PYS404", "PYS405"]
