"""Event handlers and services on their own: what each typed event queues (and whether the
handler says so), and the GitHub calls a service makes (against the recording fake, which
fails on any unexpected call)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pystd.bot.engine_pool import Engine
from pystd.bot.events import (
    CheckRunEvent,
    IssueCommentEvent,
    MergeGroupEvent,
    PullRequestEvent,
    WebhookEvent,
    parse_event,
)
from pystd.bot.handlers import router
from pystd.bot.handlers.issue_comment import is_recheck
from pystd.bot.job import JobEnv, ReviewTarget
from pystd.bot.queue import JobQueue
from pystd.bot.services import RecheckRequest, Services
from pystd.bot.settings import Settings
from pystd.bot.snapshot import BlobCache, fetch_compare_files
from pystd.bot.store import Job, NewJob
from pystd.bot.store.memory import MemoryStore
from tests.github_fake import RecordingGitHubAPI

JSON = {"content-type": "application/json"}


class QueueSpy(JobQueue):
    """A queue that keeps what was submitted to it instead of storing it."""

    def __init__(self) -> None:
        super().__init__(MemoryStore())
        self.submitted: list[NewJob] = []

    async def submit(self, delivery_id: str, job: NewJob) -> int:
        self.submitted.append(job)
        return len(self.submitted)

    @property
    def keys(self) -> list[str]:
        return [job.coalesce_key for job in self.submitted]


@pytest.fixture
def services() -> Services:
    settings = Settings(app_id=42, private_key="x", webhook_secret="s", _env_file=None)
    env = JobEnv(engine=Engine(None), blobs=BlobCache(1024), blob_concurrency=1)
    return Services(settings, access=None, env=env, queue=QueueSpy())  # type: ignore[arg-type]


REPO = {"name": "r", "owner": {"login": "o"}}
INSTALLATION = {"id": 7}


async def handle(name: str, data: dict[str, Any], services: Services) -> bool:
    """What the webhook does once a delivery is signed: route, parse, call the handler."""
    route = router.lookup(name, data["action"])
    assert route is not None, f"no handler for {name}.{data['action']}"
    event: WebhookEvent = parse_event(route.model, data, "d-1")
    return await route.handler(event, services)


def comment(user: str = "octocat", body: str = "/pystd recheck", *, state: str = "open",
            author: str = "octocat", number: int = 1) -> dict[str, Any]:
    return {"action": "created", "repository": REPO, "installation": INSTALLATION,
            "issue": {"number": number, "state": state, "user": {"login": author},
                      "pull_request": {"url": "u"}},
            "comment": {"id": 11, "body": body, "user": {"login": user, "type": "User"}}}


async def test_merge_group_is_reviewed_at_the_group_head(services):
    assert await handle("merge_group", {
        "action": "checks_requested", "repository": REPO, "installation": INSTALLATION,
        "merge_group": {"head_sha": "h" * 40, "base_sha": "b" * 40, "head_ref": "gh-readonly-queue/main/pr-1"},
    }, services) is True
    assert services.queue.keys == ["group:o/r@" + "h" * 40]
    assert services.env.heads == {}  # a merge group is no pull request head


async def test_other_apps_check_runs_are_ignored(services):
    assert await handle("check_run", {
        "action": "rerequested", "repository": REPO, "installation": INSTALLATION,
        "check_run": {"head_sha": "h" * 40, "app": {"id": 999}, "pull_requests": []},
    }, services) is False
    assert services.queue.keys == []


async def test_our_check_run_rerequested_is_rerun(services):
    assert await handle("check_run", {
        "action": "rerequested", "repository": REPO, "installation": INSTALLATION,
        "check_run": {"head_sha": "h" * 40, "app": {"id": 42}, "pull_requests": []},
    }, services) is True
    assert services.queue.keys == ["rerun:o/r@" + "h" * 40]


def test_only_handled_events_are_routed():
    assert router.lookup("pull_request", "closed") is None
    assert router.lookup("issue_comment", "edited") is None
    assert router.lookup("check_run", None) is None
    routed = {(r.model, a) for a in ("opened", "synchronize") if (r := router.lookup(
        "pull_request", a))}
    assert routed == {(PullRequestEvent, "opened"), (PullRequestEvent, "synchronize")}
    assert router.lookup("merge_group", "checks_requested").model is MergeGroupEvent
    assert router.lookup("check_run", "rerequested").model is CheckRunEvent
    assert router.lookup("issue_comment", "created").model is IssueCommentEvent


# -- /pystd recheck ----------------------------------------------------------------------

async def test_recheck_is_queued_once_per_user_and_pull_request_a_minute(services):
    assert await handle("issue_comment", comment("alice"), services) is True
    assert await handle("issue_comment", comment("alice"), services) is False
    assert await handle("issue_comment", comment("Alice"), services) is False  # logins ignore case
    assert await handle("issue_comment", comment("bob"), services) is True
    assert await handle("issue_comment", comment("alice", number=2), services) is True
    assert len(services.queue.keys) == 3
    services.recent_commands.clear()  # what the minute's expiry does
    assert await handle("issue_comment", comment("alice"), services) is True


@pytest.mark.parametrize("data", [
    comment(state="closed"),
    comment(body="looks good, /pystd recheck"),
    {**comment(), "comment": {"id": 11, "body": "/pystd recheck",
                              "user": {"login": "pystd[bot]", "type": "Bot"}}},
    {**comment(), "issue": {"number": 1, "state": "open"}},  # an issue, not a pull request
], ids=["closed-pr", "not-first-line", "bot", "plain-issue"])
async def test_comments_that_queue_nothing(services, data):
    assert await handle("issue_comment", data, services) is False
    assert services.queue.keys == []


def recheck_request(commenter: str, author: str | None = "octocat") -> RecheckRequest:
    return RecheckRequest(installation_id=7, owner="o", repo="r", number=1, comment_id=11,
                          commenter=commenter, author=author, delivery_id="d-1")


PULL = "/repos/o/r/pulls/1"
PERMISSION = "/repos/o/r/collaborators/{user}/permission"


def pull(state: str = "open") -> tuple[int, dict[str, str], dict[str, Any]]:
    return (200, JSON, {"number": 1, "state": state, "user": {"login": "octocat"},
                        "head": {"sha": "h" * 40}, "base": {"sha": "b" * 40}})


async def test_unauthorised_recheck_costs_one_cached_read_and_no_write(services):
    answer = (200, JSON, {"permission": "read", "role_name": "read"})
    gh = RecordingGitHubAPI({("GET", PERMISSION.format(user="visitor")): answer})
    # No canned POST: a reaction (or anything else) would fail the test.
    assert await services.recheck(gh, recheck_request("visitor")) is False
    assert await services.recheck(gh, recheck_request("visitor")) is False
    assert [(c.method, c.path) for c in gh.calls] == [("GET", PERMISSION.format(user="visitor"))]


async def test_non_collaborator_is_refused_without_a_write(services):
    gh = RecordingGitHubAPI({("GET", PERMISSION.format(user="stranger")):
                             (404, JSON, {"message": "Not Found"})})
    assert await services.recheck(gh, recheck_request("stranger")) is False
    assert [c.method for c in gh.calls] == ["GET"]


async def test_recheck_on_a_pull_request_closed_since_runs_nothing(services):
    gh = RecordingGitHubAPI({("GET", PULL): pull("closed")})
    assert await services.recheck(gh, recheck_request("octocat")) is False
    assert [(c.method, c.path) for c in gh.calls] == [("GET", PULL)]


async def test_author_unknown_from_an_older_payload_is_read_from_the_pull_request(services):
    gh = RecordingGitHubAPI({("GET", PULL): pull("closed")})
    assert await services.recheck(gh, recheck_request("octocat", author=None)) is False
    assert [(c.method, c.path) for c in gh.calls] == [("GET", PULL)]  # read once


async def test_a_newer_push_replaces_a_waiting_review(services):
    queue = JobQueue(MemoryStore())
    services.queue = queue
    ran: list[str] = []

    class Recorder:
        async def run(self, job: Job) -> None:
            ran.append(job.payload["head_sha"])

        async def give_up(self, job: Job, reason: str) -> None:
            raise AssertionError(reason)

    for delivery_id, sha in (("d-1", "a" * 40), ("d-2", "c" * 40)):
        await services.schedule_review(ReviewTarget(7, "o", "r", 1, sha, "b" * 40, delivery_id))
    queue.start(Recorder(), workers=1)
    await queue.join()
    await queue.close()
    assert ran == ["c" * 40]


@pytest.mark.parametrize(
    ("body", "expected"),
    [("/pystd recheck", True), ("  /PYSTD   Recheck  \nthanks", True),
     ("please /pystd recheck", False), ("/pystd rechecking", False), ("", False), (None, False)],
)
def test_recheck_is_the_first_line(body, expected):
    assert is_recheck(body) is expected


async def test_rerun_from_a_fork_searches_open_pull_requests(services):
    pulls = [{"number": 3, "head": {"sha": "x" * 40}, "base": {"sha": "b" * 40}},
             {"number": 5, "head": {"sha": "h" * 40}, "base": {"sha": "c" * 40}}]
    gh = RecordingGitHubAPI({("GET", "/repos/o/r/pulls?state=open&per_page=100"):
                             (200, JSON, json.dumps(pulls).encode())})
    targets = await services.rerun_targets(gh, 7, "o", "r", "h" * 40, [], "d-1")
    assert [(t.number, t.base_sha) for t in targets] == [(5, "c" * 40)]


async def test_a_rerun_never_reviews_a_pull_request_whose_head_is_another_commit(services):
    older = [{"number": 4, "head": {"sha": "o" * 40}, "base": {"sha": "c" * 40}}]
    gh = RecordingGitHubAPI({("GET", "/repos/o/r/pulls?state=open&per_page=100"):
                             (200, JSON, json.dumps(older).encode())})
    assert await services.rerun_targets(gh, 7, "o", "r", "h" * 40, older, "d-1") == []


async def test_compare_files_for_a_merge_group():
    files = [{"filename": "a.py", "status": "modified", "sha": "1" * 40,
              "patch": "@@ -1 +1,2 @@\n x\n+y\n"},
             {"filename": "b.png", "status": "added", "sha": "2" * 40}]
    gh = RecordingGitHubAPI({("GET", "/repos/o/r/compare/" + "b" * 40 + "..." + "h" * 40):
                             (200, JSON, json.dumps({"files": files}).encode())})
    changed, truncated = await fetch_compare_files(gh, "o", "r", "b" * 40, "h" * 40)
    assert [(f.path, f.changes.added if f.changes else None) for f in changed] == [
        ("a.py", frozenset({2})), ("b.png", None)]
    assert truncated is False
