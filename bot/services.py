"""What the event handlers ask for: queue a review, a recheck from a comment, a re-run of
a check. Each is a small async job on the queue; handlers only parse and call these."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import gidgethub
from cachetools import TTLCache
from gidgethub.abc import GitHubAPI

from bot import messages
from bot.checks import sweep_runs
from bot.github import GitHubAccess, describe_error
from bot.job import JobEnv, review_head
from bot.queue import JobQueue, KeyedLocks
from bot.settings import Settings
from bot.targets import ReviewTarget

log = logging.getLogger(__name__)

RECHECK_ROLES = frozenset({"admin", "maintain", "write"})
COMMAND_INTERVAL = 60.0  # seconds: one `/pystd recheck` per user and pull request
PERMISSION_TTL = 60.0  # seconds a collaborator permission answer is trusted


@dataclass(frozen=True)
class RecheckRequest:
    """A `/pystd recheck` comment on a pull request, as the webhook saw it."""

    installation_id: int
    owner: str
    repo: str
    number: int
    comment_id: int
    commenter: str
    author: str | None  # the pull request's author, from the payload when it says
    delivery_id: str

    def log_extra(self) -> dict[str, Any]:
        return {"delivery_id": self.delivery_id, "repository": f"{self.owner}/{self.repo}",
                "pr": self.number, "user": self.commenter}


@dataclass
class Services:
    settings: Settings
    access: GitHubAccess
    env: JobEnv
    queue: JobQueue
    # (owner, repo, number, user) of recent commands; (owner, repo, user) -> may write
    recent_commands: TTLCache[tuple[str, str, int, str], bool] = field(
        default_factory=lambda: TTLCache(maxsize=10_000, ttl=COMMAND_INTERVAL))
    permissions: TTLCache[tuple[str, str, str], bool] = field(
        default_factory=lambda: TTLCache(maxsize=10_000, ttl=PERMISSION_TTL))
    # A push, a recheck and a re-run of one pull request come as different queue jobs:
    # their reviews take turns, or two of them would each list the comments before the
    # other posts and the same review would be posted twice.
    reviewing: KeyedLocks = field(default_factory=KeyedLocks)

    # -- reviews -----------------------------------------------------------------------

    def schedule_review(self, target: ReviewTarget) -> None:
        """Queue a review of a pull request head; a newer push replaces a waiting one."""
        if not target.merge_group:
            self.env.heads[target.key] = target.head_sha
        self.queue.put(target.queue_key, lambda: self.run_review(target), target.log_context())

    async def run_review(self, target: ReviewTarget) -> str:
        gh = self.access.client(target.installation_id)
        return await self._review_in_turn(gh, target)

    async def _review_in_turn(self, gh: GitHubAPI, target: ReviewTarget) -> str:
        """`review_head`, once no other review of the same pull request (or merge group
        head) is running; a push, a recheck and a re-run alike come back later when GitHub
        asks to wait too long before creating the check run."""
        async with self.reviewing.hold(target.queue_key):
            return await review_head(gh, self.env, target, self.settings.job_timeout,
                                     lambda wait: self._review_later(target, wait))

    def _review_later(self, target: ReviewTarget, wait: float) -> None:
        """Queue the review again once GitHub's Retry-After has passed (unless a newer push
        came meanwhile): the job does not hold a queue slot while it waits."""
        async def later() -> None:
            await self.access.client(target.installation_id).sleep(wait)
            if not self.env.is_stale(target):
                self.schedule_review(target)

        self.env.runs.background(later(), f"pystd-later-{target.head_sha[:12]}")

    async def sweep(self) -> int:
        """Complete as neutral our check runs still open past job_timeout + sweep_margin
        (a background completion that gave up, a create whose answer never came)."""
        limit = self.settings.job_timeout + self.settings.sweep_margin
        return await sweep_runs(self.env.runs, self.access.client, limit,
                                messages.CHECK_TITLE_SWEPT,
                                messages.SUMMARY_SWEPT.format(minutes=limit / 60))

    # -- /pystd recheck --------------------------------------------------------------

    def schedule_recheck(self, request: RecheckRequest) -> bool:
        """Queue a recheck; False (nothing queued) when the same user asked on the same pull
        request less than COMMAND_INTERVAL seconds ago. The limit is checked before any
        GitHub call, so a flood of commands costs nothing."""
        key = (request.owner.lower(), request.repo.lower(), request.number,
               request.commenter.lower())
        if key in self.recent_commands:
            log.info("recheck ignored: asked again too soon", extra=request.log_extra())
            return False
        self.recent_commands[key] = True

        async def job() -> None:
            gh = self.access.client(request.installation_id)
            await self.recheck(gh, request)

        self.queue.put(("recheck", request.delivery_id), job,
                       f"recheck {request.owner}/{request.repo}#{request.number}")
        return True

    async def recheck(self, gh: GitHubAPI, request: RecheckRequest) -> bool:
        """Honour `/pystd recheck` from the PR author or a user with write access, on an
        open pull request: an `eyes` reaction, then a review. Anyone else, or a closed pull
        request, gets nothing at all: an unauthorised command must not cost a write
        (GitHub's secondary rate limit is shared with the reviews)."""
        repo_vars: dict[str, Any] = {"owner": request.owner, "repo": request.repo}
        pr: dict[str, Any] | None = None
        author = request.author
        if author is None:  # older payloads may lack the user
            pr = await self._pull(gh, repo_vars, request.number)
            author = str((pr.get("user") or {}).get("login") or "")
        allowed = request.commenter.lower() == author.lower()
        if not allowed:
            allowed = await self._can_write(gh, repo_vars, request.commenter)
        if not allowed:
            log.info("recheck refused: no write access", extra=request.log_extra())
            return False
        if pr is None:
            pr = await self._pull(gh, repo_vars, request.number)
        if pr.get("state") != "open":
            log.info("recheck ignored: pull request closed", extra=request.log_extra())
            return False
        await self._react(gh, repo_vars, request.comment_id, "eyes")
        target = ReviewTarget(request.installation_id, request.owner, request.repo,
                              request.number, pr["head"]["sha"], pr["base"]["sha"],
                              request.delivery_id)
        self.env.heads[target.key] = target.head_sha
        await self._review_in_turn(gh, target)
        return True

    async def _pull(self, gh: GitHubAPI, repo_vars: dict[str, Any], number: int
                    ) -> dict[str, Any]:
        pr: dict[str, Any] = await gh.getitem("/repos/{owner}/{repo}/pulls/{number}",
                                              {**repo_vars, "number": number})
        return pr

    async def _can_write(self, gh: GitHubAPI, repo_vars: dict[str, Any], user: str) -> bool:
        """Write, maintain or admin on the repository; answers are kept PERMISSION_TTL
        seconds per (repository, user), so repeated commands cost one request."""
        key = (str(repo_vars["owner"]).lower(), str(repo_vars["repo"]).lower(), user.lower())
        known = self.permissions.get(key)
        if known is not None:
            return bool(known)
        try:
            data = await gh.getitem("/repos/{owner}/{repo}/collaborators/{user}/permission",
                                    {**repo_vars, "user": user})
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) not in (403, 404):
                raise
            allowed = False  # not a collaborator
        else:
            role = str(data.get("role_name") or "")
            allowed = data.get("permission") in RECHECK_ROLES or role in RECHECK_ROLES
        self.permissions[key] = allowed
        return allowed

    async def _react(self, gh: GitHubAPI, repo_vars: dict[str, Any], comment_id: int,
                     content: str) -> None:
        try:
            await gh.post("/repos/{owner}/{repo}/issues/comments/{id}/reactions",
                          {**repo_vars, "id": comment_id}, data={"content": content})
        except gidgethub.HTTPException as exc:  # a missing reaction must not stop the run
            log.warning("cannot add %s reaction: %s", content, describe_error(exc))

    # -- re-run requested from the Checks tab ------------------------------------------

    def schedule_rerun(self, installation_id: int, owner: str, repo: str, head_sha: str,
                       pulls: list[dict[str, Any]], delivery_id: str) -> None:
        async def job() -> None:
            gh = self.access.client(installation_id)
            for target in await self.rerun_targets(gh, installation_id, owner, repo,
                                                   head_sha, pulls, delivery_id):
                self.env.heads[target.key] = target.head_sha
                await self._review_in_turn(gh, target)

        self.queue.put(("rerun", owner.lower(), repo.lower(), head_sha), job,
                       f"rerun {owner}/{repo}@{head_sha[:12]}")

    async def rerun_targets(self, gh: GitHubAPI, installation_id: int, owner: str,
                            repo: str, head_sha: str, pulls: list[dict[str, Any]],
                            delivery_id: str) -> list[ReviewTarget]:
        """The pull requests whose head is `head_sha`. GitHub leaves `pull_requests` empty
        for branches from forks, so then the open pull requests are searched."""
        # Only pull requests whose head is this commit: another one's review would mark
        # this sha as its newest head and make its own running review look stale.
        found = [p for p in pulls if p.get("head", {}).get("sha") == head_sha]
        if not found:
            found = [p async for p in gh.getiter(
                "/repos/{owner}/{repo}/pulls?state=open&per_page=100",
                {"owner": owner, "repo": repo}) if p["head"]["sha"] == head_sha]
        return [
            ReviewTarget(installation_id, owner, repo, int(p["number"]), head_sha,
                         p["base"]["sha"], delivery_id)
            for p in found
        ]
