"""A flaky GitHub, end to end: every GitHub call a review makes fails the way networks do
(an error before or after GitHub processed it, an answer too late, a dropped connection, a
secondary rate limit), through the real server and the fake GitHub. Whatever happens, each
head ends with exactly one completed check run carrying the analysis's conclusion, at most
one review, and no inline comment lost without being listed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bench.faults import replay, report
from pystd.bot import messages
from pystd.bot.app import create_app
from pystd.bot.github import (
    AmbiguousWrite,
    GitHubAccess,
    GitHubError,
    InstallationClient,
    TokenStore,
    WritePacer,
)
from pystd.bot.plans import ReviewComment
from pystd.bot.reviews import narrowed
from pystd.bot.services import Services
from pystd.bot.settings import Settings
from pystd.bot.snapshot import existing_folders, fetch_config
from pystd.bot.store.base import WAITING
from pystd.bot.webhooks import SERVICES
from tests.bot.drivers import BASE, HEAD, OWNER, REPO, add_pr, open_pr
from tests.github_fake import (
    APP_ID,
    LINE_NOT_RESOLVED,
    START_SAME_HUNK,
    FakeFile,
    FakeGitHub,
    Fault,
)

# 52 blocking calls in async functions: 52 findings, so two annotation PATCHes.
MANY = "import time\n" + "".join(
    f"\n\nasync def f{i}():\n    time.sleep({i})\n" for i in range(52))
RATE_LIMIT = {"status": 403, "headers": {"Retry-After": "7"}}
FAULTS = {
    "502 before processing": {"status": 502},
    "502 after processing": {"status": 502, "kind": "after"},
    "answered too late": {"kind": "slow"},
    "reset before processing": {"kind": "reset"},
    "reset after processing": {"kind": "reset-after"},
    "secondary rate limit": RATE_LIMIT,
}
CALLS = {
    "installation token": ("POST", r"/access_tokens$"),
    "check-run create": ("POST", r"/check-runs$"),
    "config": ("GET", r"/contents"),  # the listing of the base commit's root
    "files list": ("GET", r"/pulls/1/files$"),
    "blob": ("GET", r"/git/blobs/"),
    "review": ("POST", r"/pulls/1/reviews$"),
    "completing PATCH": ("PATCH", r"/check-runs/\d+$"),
}


@pytest.fixture
def settings(fake_github: FakeGitHub, app_private_key_pem: str, webhook_secret: str) -> Settings:
    fake_github.slow_seconds = 0.6  # held past the bot's request timeout
    return Settings(app_id=APP_ID, private_key=app_private_key_pem, webhook_secret=webhook_secret,
                    github_api_url=fake_github.url, concurrent_jobs=2, request_timeout=0.25,
                    queue_url="memory://", _env_file=None)


@pytest.fixture
async def bot(aiohttp_client: Callable[..., Any], settings: Settings,
              no_sleep: list[float]) -> AsyncIterator[TestClient]:
    yield await aiohttp_client(create_app(settings, engine_in_process=True))


async def settle(bot: TestClient) -> None:
    """Every queued job finished, and every background completion too."""
    services = bot.app[SERVICES]
    await services.queue.join()
    while services.env.runs.tasks:  # a background task may queue a job again
        await services.env.runs.drain()
        await services.queue.join()


async def waits_for_later(bot: TestClient, seconds: float) -> None:
    """One job waits in the store for `seconds` (a rate limit's reset), none is due."""
    queue = bot.app[SERVICES].queue
    (job,) = await queue.store.jobs([WAITING])
    assert job.run_at - queue.clock() >= seconds - 5
    assert (await queue.refresh_stats()).busy == 0


async def run_later_jobs(bot: TestClient, seconds: float) -> None:
    """Move the queue's clock `seconds` on, and run what has come due."""
    queue = bot.app[SERVICES].queue
    start = queue.clock()
    queue.clock = lambda: start + seconds
    await queue.wake()
    await settle(bot)


def the_run(gh: FakeGitHub):
    runs = [r for r in gh.check_runs(OWNER, REPO) if r.head_sha == HEAD]
    assert len(runs) == 1, [(r.id, r.status) for r in runs]
    assert runs[0].status == "completed"
    return runs[0]


async def review_once(bot, delivery, gh, files=None) -> None:
    add_pr(gh, files)
    await open_pr(bot, delivery, gh)
    await settle(bot)
    gh.take_violations()  # refusals provoked on purpose (422, rate limits)


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_each_fault_on_each_call_ends_in_one_completed_run_and_one_review(
        bot, delivery, fake_github, call, fault):
    fake_github.fail_next(*call, **fault)
    await review_once(bot, delivery, fake_github)
    assert fake_github.injected, "the fault was not served"
    run = the_run(fake_github)
    assert (run.conclusion, run.title) == ("failure", "1 error")
    assert [a["start_line"] for a in run.annotations] == [9]
    (review,) = fake_github.reviews(OWNER, REPO, 1)
    assert [(c.path, c.line) for c in review.comments] == [("app/views.py", 9)]


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
async def test_annotation_patch_faults_never_duplicate_annotations(bot, delivery, fake_github,
                                                                   fault):
    fake_github.fail_next("PATCH", r"/check-runs/\d+$", **fault)
    await review_once(bot, delivery, fake_github,
                      [FakeFile("app/many.py", status="added", content=MANY)])
    run = the_run(fake_github)
    assert run.conclusion == "failure"
    assert sorted(a["start_line"] for a in run.annotations) == [5 + 4 * i for i in range(52)]
    (review,) = fake_github.reviews(OWNER, REPO, 1)
    assert len(review.comments) == 30  # max-comments; the other 30 are counted in the body
    assert "22 more finding(s)" in review.body


async def test_completion_failing_for_long_is_finished_in_the_background(
        bot, delivery, fake_github, no_sleep):
    fake_github.fail_next("PATCH", r"/check-runs/\d+$", 502, times=12)
    await review_once(bot, delivery, fake_github)
    assert the_run(fake_github).conclusion == "failure"
    assert sum(no_sleep) > 60  # kept at it for minutes, not seconds


async def test_retry_after_past_two_minutes_is_honoured_in_the_background(
        bot, delivery, fake_github, monkeypatch):
    """The job does not wait 300 s (the queue moves on); a background task does."""
    gate, waits = asyncio.Event(), []

    async def sleep(self: InstallationClient, seconds: float) -> None:
        waits.append(seconds)
        if seconds > 120:
            await gate.wait()

    monkeypatch.setattr(InstallationClient, "sleep", sleep)
    fake_github.fail_next("PATCH", r"/check-runs/\d+$", 403, headers={"Retry-After": "300"})
    add_pr(fake_github)
    await open_pr(bot, delivery, fake_github)
    await bot.app[SERVICES].queue.join()
    (run,) = fake_github.check_runs(OWNER, REPO)
    assert run.status == "in_progress"
    assert len(bot.app[SERVICES].env.runs.tasks) == 1
    gate.set()
    await settle(bot)
    assert the_run(fake_github).conclusion == "failure"
    assert 300.0 in waits


async def test_a_long_retry_after_on_creating_the_run_reviews_later(
        bot, delivery, fake_github, no_sleep):
    fake_github.fail_next("POST", r"/check-runs$", 403, headers={"Retry-After": "600"})
    await review_once(bot, delivery, fake_github)
    await waits_for_later(bot, 600)  # in the queue's store, without holding a worker
    assert fake_github.check_runs(OWNER, REPO) == []
    await run_later_jobs(bot, 600)
    assert the_run(fake_github).conclusion == "failure"
    assert len(fake_github.reviews(OWNER, REPO, 1)) == 1
    assert bot.app[SERVICES].env.stats == {"deferred": 1, "failure": 1}


async def test_a_long_retry_after_on_reading_the_pull_request_defers_the_job(
        bot, delivery, fake_github, no_sleep):
    fake_github.fail_next("GET", r"/pulls/1$", 403, headers={"Retry-After": "600"})
    await review_once(bot, delivery, fake_github)
    await waits_for_later(bot, 600)  # no attempt spent, no worker held
    assert fake_github.check_runs(OWNER, REPO) == []
    await run_later_jobs(bot, 600)
    assert the_run(fake_github).conclusion == "failure"
    (job,) = await bot.app[SERVICES].queue.store.jobs()
    assert job.attempts == 1


async def test_a_long_retry_after_on_a_recheck_reviews_later(bot, delivery, fake_github, no_sleep):
    add_pr(fake_github)
    fake_github.fail_next("POST", r"/check-runs$", 403, headers={"Retry-After": "600"})
    comment_id = fake_github.add_issue_comment(OWNER, REPO, 1, "/pystd recheck", user="octocat")
    headers, body = delivery("issue_comment", "created.payload.json",
                             overrides=fake_github.issue_comment_overrides(OWNER, REPO, comment_id))
    assert (await bot.post("/webhook", data=body, headers=headers)).status == 202
    await settle(bot)
    await waits_for_later(bot, 600)
    await run_later_jobs(bot, 600)
    fake_github.take_violations()
    assert the_run(fake_github).conclusion == "failure"
    assert bot.app[SERVICES].env.stats == {"deferred": 1, "failure": 1}


async def test_sweep_closes_a_run_left_open_as_neutral_with_the_reason(
        bot, delivery, fake_github, settings):
    services = bot.app[SERVICES]
    clock = [0.0]
    services.env.runs.clock = lambda: clock[0]
    services.env.completion_budget = 30.0  # the background gives up soon
    fake_github.fail_next("PATCH", r"/check-runs/\d+$", 502, times=50)
    await review_once(bot, delivery, fake_github)
    (run,) = fake_github.check_runs(OWNER, REPO)
    assert run.status == "in_progress"
    assert await services.sweep() == 0  # not overdue yet
    fake_github.clear_faults()
    clock[0] = settings.job_timeout + settings.sweep_margin + 1
    assert await services.sweep() == 1
    run = the_run(fake_github)
    assert (run.conclusion, run.title) == ("neutral", messages.CHECK_TITLE_SWEPT)
    assert "/pystd recheck" in run.summary
    assert len(services.env.runs.runs) == 0


async def test_the_sweep_never_overwrites_a_completion_that_landed_unconfirmed(
        bot, delivery, fake_github, settings):
    # The completing PATCH was processed but answered 502, and GitHub could not be read
    # until the background gave up: the sweep must look before completing the run
    # neutral, or a failing pull request would end as a pass.
    services = bot.app[SERVICES]
    clock = [0.0]
    services.env.runs.clock = lambda: clock[0]
    services.env.completion_budget = 30.0
    fake_github.fail_next("PATCH", r"/check-runs/\d+$", 502, kind="after")
    fake_github.fail_next("GET", r"/check-runs/\d+$", 502, times=200)
    fake_github.fail_next("PATCH", r"/check-runs/\d+$", 502, times=200)
    await review_once(bot, delivery, fake_github)
    assert (the_run(fake_github).conclusion, len(services.env.runs.runs)) == ("failure", 1)
    fake_github.clear_faults()
    clock[0] = settings.job_timeout + settings.sweep_margin + 1
    await services.sweep()
    run = the_run(fake_github)
    assert (run.conclusion, run.title) != ("neutral", messages.CHECK_TITLE_SWEPT)
    assert run.conclusion == "failure"
    assert len(services.env.runs.runs) == 0


async def test_a_run_created_but_never_confirmed_is_found_and_closed_by_the_sweep(
        bot, delivery, fake_github, settings):
    services = bot.app[SERVICES]
    clock = [0.0]
    services.env.runs.clock = lambda: clock[0]
    fake_github.fail_next("POST", r"/check-runs$", 502, kind="after")
    fake_github.fail_next("GET", r"/commits/[0-9a-f]+/check-runs$", 502, times=50)
    await review_once(bot, delivery, fake_github)
    (run,) = fake_github.check_runs(OWNER, REPO)
    assert run.status == "in_progress"  # GitHub could not say whether it was ours
    fake_github.clear_faults()
    clock[0] = settings.job_timeout + settings.sweep_margin + 1
    assert await services.sweep() == 1
    assert (the_run(fake_github).conclusion, fake_github.reviews(OWNER, REPO, 1)) == (
        "neutral", [])


async def test_the_app_sweeps_every_sweep_interval(aiohttp_client, settings, monkeypatch):
    swept = asyncio.Event()

    async def sweep(self: Services) -> int:
        swept.set()
        return 0

    monkeypatch.setattr(Services, "sweep", sweep)
    await aiohttp_client(create_app(settings.model_copy(update={"sweep_interval": 0.01}),
                                    engine_in_process=True))
    await asyncio.wait_for(swept.wait(), 10)


async def test_a_422_once_keeps_every_inline_comment(bot, delivery, fake_github):
    fake_github.fail_next("POST", r"/reviews$", 422,
                          body={"message": "Unprocessable Entity", "errors": [LINE_NOT_RESOLVED]})
    await review_once(bot, delivery, fake_github)
    (review,) = fake_github.reviews(OWNER, REPO, 1)
    assert len(review.comments) == 1
    assert "refused" not in review.body


async def test_comments_github_keeps_refusing_are_listed_in_the_body(bot, delivery, fake_github):
    fake_github.fail_next("POST", r"/reviews$", 422, times=2, body={
        "message": "Unprocessable Entity", "errors": [START_SAME_HUNK]})
    await review_once(bot, delivery, fake_github)
    (review,) = fake_github.reviews(OWNER, REPO, 1)
    assert review.comments == []
    assert "`app/views.py:9` PYS101" in review.body
    assert the_run(fake_github).conclusion == "failure"


async def test_the_verdict_stands_when_the_review_cannot_be_posted(bot, delivery, fake_github):
    fake_github.fail_next("POST", r"/reviews$", 403, times=10, body={
        "message": "Resource not accessible by integration", "documentation_url": "x"})
    await review_once(bot, delivery, fake_github)
    assert fake_github.reviews(OWNER, REPO, 1) == []
    run = the_run(fake_github)
    assert run.conclusion == "failure"
    assert run.summary.startswith("**The review could not be posted** (GitHub answered 403")


async def test_one_log_line_per_completed_review(bot, delivery, fake_github, caplog):
    caplog.set_level(logging.INFO, logger="pystd.bot.job")
    await review_once(bot, delivery, fake_github)
    (record,) = [r for r in caplog.records if r.getMessage() == "review completed"]
    assert (record.repository, record.pr, record.head_sha, record.conclusion) == (
        f"{OWNER}/{REPO}", 1, HEAD, "failure")
    assert (record.findings, record.files) == (1, 1)
    assert record.duration_ms >= 0 and record.delivery_id


# -- the transport and the URLs, against the fake ----------------------------------------------

@pytest.fixture
async def client(fake_github: FakeGitHub, app_private_key_pem: str, no_sleep: list[float]
                 ) -> AsyncIterator[InstallationClient]:
    add_pr(fake_github)
    installation = fake_github.find_repository(OWNER, REPO).installation_id
    async with aiohttp.ClientSession() as session:
        access = GitHubAccess(session, TokenStore(APP_ID, app_private_key_pem), WritePacer(80),
                              fake_github.url, timeout=0.25, app_id=APP_ID)
        yield access.client(installation)


CHECK_RUN = {"name": "pystd", "head_sha": HEAD, "status": "in_progress"}


async def test_a_post_answered_502_is_not_repeated_by_the_transport(client, fake_github):
    fake_github.fail_next("POST", r"/check-runs$", 502, kind="after")
    with pytest.raises(AmbiguousWrite):
        await client.post("/repos/{owner}/{repo}/check-runs", {"owner": OWNER, "repo": REPO},
                          data=CHECK_RUN)
    assert len(fake_github.calls("POST", r"/check-runs$")) == 1
    assert len(fake_github.check_runs(OWNER, REPO)) == 1


async def test_gets_and_rate_limited_writes_are_retried(client, fake_github, no_sleep):
    fake_github.fail_next("GET", r"/pulls/1/files$", 502, kind="reset")
    fake_github.fail_next("POST", r"/check-runs$", 403, headers={"Retry-After": "3"})
    files = [f async for f in client.getiter("/repos/{owner}/{repo}/pulls/1/files",
                                             {"owner": OWNER, "repo": REPO})]
    await client.post("/repos/{owner}/{repo}/check-runs", {"owner": OWNER, "repo": REPO},
                      data=CHECK_RUN)
    assert len(files) == 1
    assert len(fake_github.check_runs(OWNER, REPO)) == 1
    assert 3.0 in no_sleep
    fake_github.take_violations()


async def test_a_write_refused_before_sending_is_retried(app_private_key_pem, no_sleep):
    """Nothing listens on port 1: the connection is refused before anything is sent, so
    repeating the POST is safe (and not an AmbiguousWrite)."""
    async with aiohttp.ClientSession() as session:
        access = GitHubAccess(session, TokenStore(APP_ID, app_private_key_pem), WritePacer(80),
                              "http://127.0.0.1:1", timeout=0.25, app_id=APP_ID)
        gh = access.client(1)
        with pytest.raises(GitHubError) as raised:
            await gh.post("/repos/{owner}/{repo}/check-runs", {"owner": OWNER, "repo": REPO},
                          data=CHECK_RUN, oauth_token="test-token")
    assert not isinstance(raised.value, AmbiguousWrite)
    assert access.calls["POST"] == 4 and len(no_sleep) == 3


@pytest.mark.parametrize("folder", ["odd ?name", "hash#tag", "per%cent", "sp ace"])
async def test_folder_names_are_escaped_in_contents_urls(client, fake_github, folder):
    fake_github.add_repository(OWNER, "paths", files={
        f"{folder}/migrations/0001_initial.py": "x = 1\n",
        "pyproject.toml": "[tool.pystd]\nmax-comments = 3\n"}, head_sha=BASE)
    found = await existing_folders(client, OWNER, "paths", BASE,
                                   [f"{folder}/migrations", f"{folder}/nothing"])
    assert found == {f"{folder}/migrations"}
    config, source, error = await fetch_config(client, OWNER, "paths", BASE)
    assert (config.max_comments, source, error) == (3, "pyproject.toml", None)


def test_a_refusal_drops_only_what_it_points_at():
    multi = ReviewComment("a.py", 5, "suggest", 3, "plain", "- a.py:5")
    single = ReviewComment("a.py", 9, "body", None, "body", "- a.py:9")
    context = ReviewComment("a.py", 12, "body", None, "body", "- a.py:12")
    added = {"a.py": frozenset({4, 5, 9})}
    assert narrowed([multi, single], START_SAME_HUNK.lower(), added) == [
        ReviewComment("a.py", 5, "plain", None, "plain", "- a.py:5"), single]
    assert narrowed([multi, single, context], LINE_NOT_RESOLVED, added) == [single]
    assert narrowed([multi, single], "Validation Failed", added) == []



# -- the benchmark, in small -----------------------------------------------------------------

async def test_twenty_pull_requests_under_random_faults_end_right():
    """bench/faults.py at 20 runs and a 20% fault rate: nothing pending, duplicated, lost
    or wrongly concluded. One run at a time, so that the seed decides every fault (with
    runs in parallel the order of calls, and so the faults, vary with the machine's load;
    `python bench/faults.py` measures that)."""
    figures = await replay(runs=20, seed=3, rate=0.2, concurrency=1)
    assert sum(figures.faults.values()) > 10
    assert figures.failures == 0, report(figures)
    assert figures.reference.startswith("failure")


@pytest.mark.parametrize("seed", [5, 6])
async def test_a_quarter_of_calls_failing_delays_reviews_but_loses_nothing(seed):
    """At a 25% fault rate a blob (seed 6) or the review POST (seed 5) fails through all
    of a job's per-call retries; before the queue retried such reviews, seed 6 lost a
    file's comment and annotation and seed 5 its whole review."""
    figures = await replay(runs=20, seed=seed, rate=0.25, concurrency=1)
    assert figures.failures == 0, report(figures)


async def test_a_review_cut_short_by_shutdown_leaves_no_run_in_progress(
        bot, delivery, fake_github):
    add_pr(fake_github)
    # The file fetch answers only after the client's timeout: the review is still
    # running when the server stops and its drain time is over.
    fetching = asyncio.Event()

    def slow_blob(method: str, path: str) -> Fault | None:
        if method == "GET" and "/git/blobs/" in path:
            fetching.set()
            return Fault("slow")
        return None

    fake_github.chaos = slow_blob
    await open_pr(bot, delivery, fake_github)
    await fetching.wait()
    await bot.app[SERVICES].queue.close(drain_timeout=0.05)
    (run,) = fake_github.check_runs(OWNER, REPO)
    assert (run.status, run.conclusion) == ("completed", "neutral")
    assert messages.REASON_SHUTDOWN in run.summary
