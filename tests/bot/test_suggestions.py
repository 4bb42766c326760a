"""Suggestions that never break code and comments that follow it (issue 9, items 6 and 7),
end to end: a signed delivery in, the review as posted on the fake GitHub, each suggestion
applied alone as GitHub's button applies it, and later pushes resolving threads."""

from __future__ import annotations

from typing import Any

import pytest

from bench.replay import apply_suggestion, undefined_names
from pystd.bot import messages
from tests.bot.drivers import BASE, HEAD, HEAD2, OWNER, REPO, open_pr, send, settle
from tests.github_fake import FakeFile, FakeGitHub

HEAD3 = "d" * 40
SELECT_ALL = {".github/pystd.toml": 'select = ["ALL"]\n'}


def pr(gh: FakeGitHub, files: list[FakeFile], base_files: dict[str, str] | None = None) -> None:
    gh.add_pull_request(OWNER, REPO, 1, head_sha=HEAD, base_sha=BASE, files=files,
                        base_files=base_files)


async def push(bot: Any, delivery: Any, gh: FakeGitHub, sha: str, files: list[FakeFile]) -> None:
    gh.move_head(OWNER, REPO, 1, sha, files=files)
    await send(bot, delivery, gh, "pull_request", "synchronize.payload.json",
               gh.pull_request_overrides(OWNER, REPO, 1))
    await settle(bot)


def as_json(c: Any) -> dict[str, Any]:
    return {"body": c.body, "start_line": c.start_line, "line": c.line, "path": c.path}


def assert_applies_alone(text: str, comment: Any) -> str:
    """GitHub's "Commit suggestion" on the file: it still parses, names nothing new."""
    after = apply_suggestion(text, as_json(comment))
    assert after is not None, comment.body
    compile(after, comment.path, "exec", dont_inherit=True)
    assert undefined_names(after, comment.path) <= undefined_names(text, comment.path)
    return after


def comments(gh: FakeGitHub) -> list[Any]:
    return [c for c in gh.review_comments(OWNER, REPO, 1) if c.in_reply_to_id is None]


# -- item 6: suggestions never break code ---------------------------------------------------

NEW_MODULE = "import time\n\n\nasync def pause():\n    time.sleep(2)\n"


async def test_a_fix_needing_an_import_in_reach_is_one_suggestion_that_applies_alone(
        bot, delivery, fake_github):
    pr(fake_github, [FakeFile("app/jobs.py", status="added", content=NEW_MODULE)])
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    (comment,) = comments(fake_github)
    assert (comment.start_line, comment.line) == (2, 5)  # the import's place to the fix
    assert "```suggestion\nimport asyncio\n" in comment.body
    after = assert_applies_alone(NEW_MODULE, comment)
    assert "import asyncio\n" in after and "await asyncio.sleep(2)" in after


async def test_a_fix_needing_an_import_out_of_reach_is_a_collapsed_diff(
        bot, delivery, fake_github):
    base = "import time\n" + "\n" * 30 + "\n\ndef keep():\n    return 1\n"
    head = base + "\n\nasync def pause():\n    time.sleep(2)\n"
    pr(fake_github, [FakeFile("app/jobs.py", content=head, base_content=base)])
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    (comment,) = comments(fake_github)
    assert "```suggestion" not in comment.body
    assert "<details>" in comment.body and "```diff" in comment.body
    assert "+import asyncio" in comment.body and "+    await asyncio.sleep(2)" in comment.body


FASTAPI_VIEW = '''import requests
from fastapi import FastAPI

app = FastAPI()


@app.get("/items")
async def items():
{body}    return requests.get("http://x").json()
'''


async def test_blocking_call_with_an_async_def_fix_is_commented_on_the_call(
        bot, delivery, fake_github):
    near = FASTAPI_VIEW.format(body="    n = 1\n")
    far = FASTAPI_VIEW.format(body="    n = 1\n" * 12).replace("app", "api")
    pr(fake_github, [FakeFile("app/near.py", status="added", content=near),
                     FakeFile("app/far.py", status="added", content=far)],
       base_files={".github/pystd.toml": 'select = ["PYS101"]\n'})
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    by_path = {c.path: c for c in comments(fake_github)}
    close = by_path["app/near.py"]
    # On the call (line 10), one suggestion reaching up to the `async def` (line 8).
    assert (close.start_line, close.line) == (8, 10)
    after = assert_applies_alone(near, close)
    assert "\ndef items():\n" in after
    distant = by_path["app/far.py"]
    assert (distant.start_line, distant.line) == (None, 21)
    assert "```suggestion" not in distant.body
    assert messages.FIX_ELSEWHERE.format(line=8) in distant.body


ANNOTATED_VIEW = '''from typing import Annotated

from fastapi import APIRouter, Depends, Query

router = APIRouter(tags=["items"])


def get_db() -> str:
    return "db"


def get_user(db: Annotated[str, Depends(get_db)]) -> str:
    return db


@router.get("/items")
def list_items(
    {db},
    q: str = Query(...),
) -> list[str]:
    return [db, q]
'''


async def test_a_fix_that_becomes_valid_is_offered_on_a_later_push(bot, delivery, fake_github):
    first = ANNOTATED_VIEW.format(db="db: str = Depends(get_db)")
    pr(fake_github, [FakeFile("app/items.py", status="added", content=first)],
       base_files={".github/pystd.toml": 'select = ["PYS409"]\n'})
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    # `q` cannot lose its default while `db` keeps one: said, without a fix.
    by_line = {c.line: c for c in comments(fake_github)}
    assert set(by_line) == {18, 19}
    assert "```suggestion" in by_line[18].body
    assert "```suggestion" not in by_line[19].body and "<details>" not in by_line[19].body
    after = assert_applies_alone(first, by_line[18])
    await push(bot, delivery, fake_github, HEAD2,
               [FakeFile("app/items.py", status="added", content=after)])
    # Now `q`'s fix is valid: offered once more, as a suggestion; nothing else repeated.
    later = comments(fake_github)[2:]
    assert [c.line for c in later] == [19]
    assert_applies_alone(after, later[0])
    await push(bot, delivery, fake_github, HEAD3,
               [FakeFile("app/items.py", status="added", content=after + "\n")])
    assert len(comments(fake_github)) == 3


async def test_template_comments_suggest_a_template_noqa(bot, delivery, fake_github):
    page = "<html><body>\n{{ user_bio|safe }}\n</body></html>\n"
    pr(fake_github, [FakeFile("shop/templates/shop/bio.html", status="added", content=page)],
       base_files=SELECT_ALL)
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    (comment,) = comments(fake_github)
    assert "`{# noqa: PYS208 #}`" in comment.body
    assert "`# noqa: PYS208`" not in comment.body


# -- item 7: comments that follow the code --------------------------------------------------

TWO_JOBS = ("import asyncio\nimport time\n\n\nasync def first():\n    time.sleep(1)\n\n\n"
            "async def second():\n    time.sleep(1)\n    time.sleep(1)\n")


async def test_identical_lines_get_a_comment_each_and_keep_them_when_moved(
        bot, delivery, fake_github):
    pr(fake_github, [FakeFile("app/jobs.py", status="added", content=TWO_JOBS)])
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    assert [c.line for c in comments(fake_github)] == [6, 10, 11]
    moved = TWO_JOBS.replace("import time\n", "import time\n\nDELAY = 1\n")
    await push(bot, delivery, fake_github, HEAD2,
               [FakeFile("app/jobs.py", status="added", content=moved)])
    assert len(comments(fake_github)) == 3  # moved, not new
    assert fake_github.graphql_mutations == []  # and not fixed either
    third = moved + "\n\nasync def third():\n    time.sleep(1)\n"
    await push(bot, delivery, fake_github, HEAD3,
               [FakeFile("app/jobs.py", status="added", content=third)])
    # A new finding on a line whose text equals the others' is still new.
    assert [c.line for c in comments(fake_github)[3:]] == [17]


async def test_a_push_that_fixes_a_finding_resolves_its_thread_only(bot, delivery, fake_github):
    pr(fake_github, [FakeFile("app/jobs.py", status="added", content=TWO_JOBS)])
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    first, second, third = comments(fake_github)
    fixed = TWO_JOBS.replace("    time.sleep(1)\n\n\nasync def second",
                             "    await asyncio.sleep(1)\n\n\nasync def second")
    await push(bot, delivery, fake_github, HEAD2,
               [FakeFile("app/jobs.py", status="added", content=fixed)])
    state = fake_github.pull_request(OWNER, REPO, 1)
    assert state.resolved_threads == {first.id}
    assert len(fake_github.graphql_mutations) == 1
    await push(bot, delivery, fake_github, HEAD3,
               [FakeFile("app/jobs.py", status="added", content=fixed + "\n")])
    assert len(fake_github.graphql_mutations) == 1  # resolved already: left alone
    assert fake_github.take_violations() == []
    assert [c.id for c in comments(fake_github)] == [first.id, second.id, third.id]


@pytest.mark.parametrize("refused", ["resolveReviewThread", "reviewThreads"])
async def test_where_resolving_is_refused_pystd_replies_once(bot, delivery, fake_github,
                                                            refused):
    pr(fake_github, [FakeFile("app/jobs.py", status="added", content=TWO_JOBS)])
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    first = comments(fake_github)[0]
    fake_github.graphql_refused.add(refused)
    fixed = TWO_JOBS.replace("    time.sleep(1)\n\n\nasync def second",
                             "    await asyncio.sleep(1)\n\n\nasync def second")
    await push(bot, delivery, fake_github, HEAD2,
               [FakeFile("app/jobs.py", status="added", content=fixed)])
    await push(bot, delivery, fake_github, HEAD3,
               [FakeFile("app/jobs.py", status="added", content=fixed + "\n")])
    replies = [c for c in fake_github.review_comments(OWNER, REPO, 1) if c.in_reply_to_id]
    assert [r.in_reply_to_id for r in replies] == [first.id]
    assert "Fixed in " + HEAD2[:12] in replies[0].body
    assert fake_github.pull_request(OWNER, REPO, 1).resolved_threads == set()


async def test_a_change_level_finding_outside_the_diff_reaches_the_review_body(
        bot, delivery, fake_github):
    view = ("from django.shortcuts import render\n\n\ndef index(request):\n"
            + "    x = 1\n" * 8 + "    return render(request, 'i.html')\n")
    changed = view.replace("'i.html'", "'index.html'")
    pr(fake_github, [FakeFile("shop/views.py", content=changed, base_content=view)],
       base_files={".github/pystd.toml": 'select = ["PYS901"]\n'})
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    (review,) = fake_github.reviews(OWNER, REPO, 1)
    assert "PYS901 handler-change-without-tests" in review.body
    assert comments(fake_github) == []  # its `def` line (4) is not in the diff
    await push(bot, delivery, fake_github, HEAD2,
               [FakeFile("shop/views.py", content=changed + "\n", base_content=view)])
    assert len(fake_github.reviews(OWNER, REPO, 1)) == 1  # said once


async def test_a_clean_push_whose_comments_cannot_be_listed_still_passes_quietly(
        bot, delivery, fake_github):
    pr(fake_github, [FakeFile("app/jobs.py", status="added", content=TWO_JOBS)])
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    fake_github.fail_next("GET", r"/pulls/1/comments", 404, times=10)
    clean = TWO_JOBS.replace("time.sleep(1)", "await asyncio.sleep(1)")
    await push(bot, delivery, fake_github, HEAD2,
               [FakeFile("app/jobs.py", status="added", content=clean)])
    run = next(r for r in fake_github.check_runs(OWNER, REPO) if r.head_sha == HEAD2)
    assert run.conclusion == "success"
    assert messages.SUMMARY_REVIEW_NOT_POSTED.split("(")[0] not in run.summary
