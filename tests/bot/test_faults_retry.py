"""A transient GitHub failure delays a review, it does not drop part of it: a file GitHub
did not serve (5xx, no answer, rate limit, after the per-call retries), or a review it did
not take, has the queue run the job again on the same check run, kept `in_progress` and
saying so meanwhile; only the job's last attempt reports the file as not checked. A 404 or
a refusal is GitHub's last word: reported at once, never retried. Through the real server
and the fake GitHub; the queue's clock is moved to each retry's time (no sleeps)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from pystd.bot import messages
from pystd.bot.settings import Settings
from pystd.bot.store.base import DONE, WAITING
from pystd.bot.webhooks import SERVICES
from tests.bot.drivers import HEAD, OWNER, REPO, add_pr, open_pr
from tests.github_fake import APP_ID, FakeGitHub

BLOB = ("GET", r"/git/blobs/")
TRIES_PER_CALL = 4  # bot/github.py MAX_ATTEMPTS: one job attempt's fetches of a blob
TOO_LARGE = {"message": "This API returns blobs up to 100 MB in size. The requested blob is "
                        "too large to fetch via the API.",
             "errors": [{"resource": "Blob", "field": "data", "code": "too_large"}],
             "documentation_url": "https://docs.github.com/rest/git/blobs#get-a-blob"}


@pytest.fixture
def settings(fake_github: FakeGitHub, app_private_key_pem: str, webhook_secret: str,
             no_sleep: list[float]) -> Settings:
    return Settings(app_id=APP_ID, private_key=app_private_key_pem, webhook_secret=webhook_secret,
                    github_api_url=fake_github.url, concurrent_jobs=2, request_timeout=5,
                    queue_url="memory://", queue_max_attempts=3, _env_file=None)


async def settle(bot: TestClient) -> None:
    """Every job due has finished, and every background completion too."""
    services = bot.app[SERVICES]
    await services.queue.join()
    while services.env.runs.tasks:
        await services.env.runs.drain()
        await services.queue.join()


async def run_next_retry(bot: TestClient) -> bool:
    """Move the queue's clock to the time of the jobs waiting for a retry and run them;
    False when none waits."""
    queue = bot.app[SERVICES].queue
    await settle(bot)
    waiting = await queue.store.jobs([WAITING])
    if not waiting:
        return False
    due = max(job.run_at for job in waiting)
    queue.clock = lambda: due
    await queue.wake()
    await settle(bot)
    return True


async def run_retries(bot: TestClient) -> None:
    """Run the jobs waiting for a retry until none waits."""
    while await run_next_retry(bot):
        pass


async def the_job(bot: TestClient) -> Any:
    (job,) = await bot.app[SERVICES].queue.store.jobs()
    return job


def runs_at_head(gh: FakeGitHub) -> list[Any]:
    return [r for r in gh.check_runs(OWNER, REPO) if r.head_sha == HEAD]


async def review(bot: TestClient, delivery: Any, gh: FakeGitHub) -> None:
    add_pr(gh)
    await open_pr(bot, delivery, gh)
    await settle(bot)


def commented(gh: FakeGitHub) -> list[tuple[str, int | None]]:
    (posted,) = gh.reviews(OWNER, REPO, 1)
    return [(c.path, c.line) for c in posted.comments]


PASSING = {
    "502": {"status": 502},
    "connection reset": {"kind": "reset"},
    "secondary rate limit": {"status": 403, "headers": {"Retry-After": "3"}},
}


@pytest.mark.parametrize("fault", PASSING.values(), ids=PASSING.keys())
async def test_a_blob_github_fails_for_two_attempts_is_reviewed_on_the_third(
        bot, delivery, fake_github, fault):
    fake_github.fail_next(*BLOB, times=1000, **fault)
    await review(bot, delivery, fake_github)
    assert await run_next_retry(bot)
    # After two attempts: one run, still in progress and saying why; nothing posted yet.
    (run,) = runs_at_head(fake_github)
    assert run.status == "in_progress"
    assert run.title == messages.CHECK_TITLE_RETRYING
    assert "`app/views.py`" in run.summary
    assert fake_github.reviews(OWNER, REPO, 1) == []

    fake_github.clear_faults()  # GitHub is healthy again
    await run_retries(bot)
    (run,) = runs_at_head(fake_github)
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert [a["start_line"] for a in run.annotations] == [9]
    assert messages.SUMMARY_SKIPPED_HEADER not in run.summary
    assert commented(fake_github) == [("app/views.py", 9)]
    job = await the_job(bot)
    assert (job.state, job.attempts) == (DONE, 3)


async def test_a_blob_github_always_fails_is_not_checked_after_the_last_attempt(
        bot, delivery, fake_github):
    fake_github.fail_next(*BLOB, 502, times=1000)
    await review(bot, delivery, fake_github)
    await run_retries(bot)
    (run,) = runs_at_head(fake_github)
    assert (run.status, run.conclusion) == ("completed", "neutral")  # never a pass
    assert run.title != messages.CHECK_TITLE_CLEAN
    assert messages.SUMMARY_SKIPPED_HEADER in run.summary
    assert "app/views.py" in run.summary
    assert fake_github.reviews(OWNER, REPO, 1) == []
    job = await the_job(bot)
    assert (job.state, job.attempts) == (DONE, 3)  # queue_max_attempts
    assert len([c for c in fake_github.requests if "/git/blobs/" in c.path]) == 3 * TRIES_PER_CALL


@pytest.mark.parametrize(("status", "body"), [(404, None), (403, TOO_LARGE)],
                         ids=["missing", "too large"])
async def test_a_blob_github_refuses_is_not_checked_without_a_retry(
        bot, delivery, fake_github, status, body):
    fake_github.fail_next(*BLOB, status, body=body)
    await review(bot, delivery, fake_github)
    (run,) = runs_at_head(fake_github)
    assert (run.status, run.conclusion) == ("completed", "neutral")
    assert "app/views.py" in run.summary
    assert f"GitHub answered {status}" in run.summary
    job = await the_job(bot)
    assert (job.state, job.attempts) == (DONE, 1)
    fake_github.take_violations()


async def test_a_listing_github_fails_delays_the_review_instead_of_failing_it(
        bot, delivery, fake_github):
    fake_github.fail_next("GET", r"/pulls/1/files$", 502, times=TRIES_PER_CALL)
    await review(bot, delivery, fake_github)
    await run_retries(bot)
    (run,) = runs_at_head(fake_github)
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert commented(fake_github) == [("app/views.py", 9)]
    assert (await the_job(bot)).attempts == 2


async def test_github_down_for_every_attempt_completes_the_run_neutral(
        bot, delivery, fake_github):
    fake_github.fail_next("GET", r"/pulls/1/files$", 502, times=1000)
    await review(bot, delivery, fake_github)
    await run_retries(bot)
    (run,) = runs_at_head(fake_github)
    assert (run.status, run.conclusion) == ("completed", "neutral")
    assert "502" in run.summary
    assert "/pystd recheck" in run.summary
    assert (await the_job(bot)).attempts == 3


async def test_a_review_posted_but_unconfirmed_is_not_posted_again_by_the_retry(
        bot, delivery, fake_github):
    # The POST is processed but answered 502; every look for it fails through the rest
    # of the job's tries, so that attempt cannot tell whether the review exists.
    fake_github.fail_next("POST", r"/pulls/1/reviews$", 502, kind="after")
    fake_github.fail_next("GET", r"/pulls/1/reviews", 502, times=2 * TRIES_PER_CALL)
    await review(bot, delivery, fake_github)
    (run,) = runs_at_head(fake_github)
    assert run.status == "in_progress"
    assert run.title == messages.CHECK_TITLE_RETRYING

    await run_retries(bot)
    (run,) = runs_at_head(fake_github)
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert messages.SUMMARY_REVIEW_NOT_POSTED.split("(")[0] not in run.summary
    assert commented(fake_github) == [("app/views.py", 9)]  # one review, one comment
    assert (await the_job(bot)).attempts == 2
