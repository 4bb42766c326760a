"""Event handlers and services on their own: what each event queues, and the GitHub calls
a service makes (against the recording fake, which fails on any unexpected call)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from gidgethub.sansio import Event

from bot.engine_pool import Engine
from bot.handlers import router
from bot.handlers.issue_comment import is_recheck
from bot.job import JobEnv, ReviewTarget
from bot.queue import JobQueue
from bot.services import Services
from bot.settings import Settings
from bot.snapshot import BlobCache, fetch_compare_files
from tests.github_fake import RecordingGitHubAPI

JSON = {"content-type": "application/json"}


class QueueSpy(JobQueue):
    """A queue that keeps what was put in it instead of running it."""

    def __init__(self) -> None:
        super().__init__(1)
        self.keys: list[object] = []

    def put(self, key: object, run: Any, label: str = "") -> None:
        self.keys.append(key)
        self.queued_total += 1


@pytest.fixture
def services() -> Services:
    settings = Settings(app_id=42, private_key="x", webhook_secret="s", _env_file=None)
    env = JobEnv(engine=Engine(None), blobs=BlobCache(1024), blob_concurrency=1)
    return Services(settings, access=None, env=env, queue=QueueSpy())  # type: ignore[arg-type]


def event(name: str, data: dict[str, Any]) -> Event:
    return Event(data, event=name, delivery_id="d-1")


REPO = {"name": "r", "owner": {"login": "o"}}
INSTALLATION = {"id": 7}


async def test_merge_group_is_reviewed_at_the_group_head(services):
    await router.dispatch(event("merge_group", {
        "action": "checks_requested", "repository": REPO, "installation": INSTALLATION,
        "merge_group": {"head_sha": "h" * 40, "base_sha": "b" * 40, "head_ref": "gh-readonly-queue/main/pr-1"},
    }), services)
    assert services.queue.keys == ["h" * 40]
    assert services.env.heads == {}  # a merge group is no pull request head


async def test_other_apps_check_runs_are_ignored(services):
    await router.dispatch(event("check_run", {
        "action": "rerequested", "repository": REPO, "installation": INSTALLATION,
        "check_run": {"head_sha": "h" * 40, "app": {"id": 999}, "pull_requests": []},
    }), services)
    assert services.queue.keys == []


async def test_our_check_run_rerequested_is_rerun(services):
    await router.dispatch(event("check_run", {
        "action": "rerequested", "repository": REPO, "installation": INSTALLATION,
        "check_run": {"head_sha": "h" * 40, "app": {"id": 42}, "pull_requests": []},
    }), services)
    assert services.queue.keys == [("rerun", "o", "r", "h" * 40)]


async def test_a_newer_push_replaces_a_waiting_review(services):
    queue = JobQueue(1)
    services.queue = queue
    ran: list[str] = []

    async def job(sha: str) -> None:
        ran.append(sha)

    target = ReviewTarget(7, "o", "r", 1, "a" * 40, "b" * 40)
    queue.put(target.key, lambda: job("old"))
    queue.put(target.key, lambda: job("new"))
    queue.start()
    await queue.close()
    assert ran == ["new"]


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
