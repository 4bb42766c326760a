"""What the pipeline benchmark (bench/pipeline.py) records of the fake GitHub's traffic:
which pull request each API call belongs to, when each answer left, and when each check
run was created and completed.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bench.pipeline_changes import OWNER, REPO, PullRequest
from tests.github_fake import FakeGitHub

TOKEN_PATH = re.compile(r"^/app/installations/\d+/access_tokens$")
REPO_PATH = r"^/(?:repos/[^/]+/[^/]+|repositories/\d+)"
KINDS: tuple[tuple[str, re.Pattern[str], str], ...] = (  # (method, path, kind)
    ("POST", re.compile(REPO_PATH + r"/check-runs$"), "check run: create"),
    ("PATCH", re.compile(REPO_PATH + r"/check-runs/(?P<run>\d+)$"), "check run: update"),
    ("GET", re.compile(REPO_PATH + r"/pulls/(?P<number>\d+)/files$"), "pull: list files"),
    ("GET", re.compile(REPO_PATH + r"/pulls/(?P<number>\d+)/comments$"),
     "pull: list review comments"),
    ("POST", re.compile(REPO_PATH + r"/pulls/(?P<number>\d+)/reviews$"), "pull: create review"),
    ("GET", re.compile(REPO_PATH + r"/pulls/(?P<number>\d+)$"), "pull: get"),
    ("GET", re.compile(REPO_PATH + r"/git/blobs/(?P<sha>[0-9a-f]+)$"), "blob"),
    ("GET", re.compile(REPO_PATH + r"/contents/(?P<path>.+)$"), "config: "),
)


@dataclass
class Attribution:
    """Which pull request a request to the fake belongs to, from its path, query or body."""

    gh: FakeGitHub
    pulls: list[PullRequest]
    by_head: dict[str, PullRequest] = field(init=False)
    by_base: dict[str, PullRequest] = field(init=False)
    by_blob: dict[str, PullRequest] = field(init=False)
    by_number: dict[int, PullRequest] = field(init=False)

    prefixes: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        repo = self.gh.find_repository(OWNER, REPO)
        self.prefixes = (f"/repos/{OWNER}/{REPO}/",
                         f"/repositories/{repo.id if repo else 0}/")
        self.by_head = {p.head_sha: p for p in self.pulls}
        self.by_base = {p.base_sha: p for p in self.pulls}
        self.by_blob = {sha: p for p in self.pulls for sha in p.blobs}
        self.by_number = {p.number: p for p in self.pulls}

    def run_head(self, run_id: int) -> str | None:
        repo = self.gh.find_repository(OWNER, REPO)
        run = repo.check_runs.get(run_id) if repo is not None else None
        return run.head_sha if run is not None else None

    def __call__(self, method: str, path: str, query: dict[str, str], body: Any
                 ) -> tuple[PullRequest | None, str]:
        if method == "POST" and TOKEN_PATH.match(path):
            return None, "token exchange"
        if not path.startswith(self.prefixes):  # another repository (the warm-up's)
            return None, f"other: {method} {path}"
        for kind_method, pattern, kind in KINDS:
            match = pattern.match(path)
            if match is None or method != kind_method:
                continue
            groups = match.groupdict()
            pr: PullRequest | None = None
            if "number" in groups:
                pr = self.by_number.get(int(groups["number"]))
            elif "run" in groups:
                pr = self.by_head.get(self.run_head(int(groups["run"])) or "")
            elif "sha" in groups:
                pr = self.by_blob.get(groups["sha"])
            elif "path" in groups:
                pr = self.by_base.get(query.get("ref", ""))
                kind += groups["path"]
            elif isinstance(body, dict):
                pr = self.by_head.get(str(body.get("head_sha")))
            return pr, kind
        return None, f"other: {method} {path}"


# -- timing the fake's answers ---------------------------------------------------------------

@dataclass
class Answered:
    at: float
    pr: int | None
    kind: str
    status: int


RUN_PATH = re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/check-runs/(?P<run>\d+)$")


def timing_hook(gh: FakeGitHub, attribute: Attribution, watched: dict[str, PullRequest],
                log: list[Answered]):
    """An `on_response_prepare` handler of the fake: notes when each answer leaves, and
    when the check run of a watched head sha is created and completed (setting its event)."""

    async def hook(request: web.Request, response: web.StreamResponse) -> None:
        now = time.perf_counter()
        body: Any = None
        if request.method == "POST" and request.path.endswith("/check-runs"):
            try:
                body = json.loads(await request.read())
            except ValueError:
                body = None
        pr, kind = attribute(request.method, request.path, dict(request.query), body)
        log.append(Answered(now, pr.number if pr else None, kind, response.status))
        if response.status >= 300:
            return
        if isinstance(body, dict):
            created = watched.get(str(body.get("head_sha")))
            if created is not None and created.created_at is None:
                created.created_at = now
        match = RUN_PATH.match(request.path) if request.method == "PATCH" else None
        repo = gh.find_repository(match["owner"], match["repo"]) if match else None
        run = repo.check_runs.get(int(match["run"])) if repo and match else None
        if run is not None and run.status == "completed" and run.head_sha in watched:
            done = watched[run.head_sha]
            if done.completed_at is None:
                done.completed_at = now
            done.event.set()

    return hook


@dataclass
class Measured:
    """What one run observed, besides the fake's own state."""

    answers: dict[str, list[float]] = field(
        default_factory=lambda: {"pull_request": [], "ping": []})  # seconds, by event
    statuses: Counter[str] = field(default_factory=Counter)
    first_request: int = 0  # index into the fake's requests where the measured part starts
    started: float = 0.0
    sent_all: float = 0.0
    finished: float = 0.0
    cpu_main: float = 0.0  # this process: the bot, the fake and the client, one event loop
    cpu_workers: float = 0.0  # the bot's engine processes (warm-up included)
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after
