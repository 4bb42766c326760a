"""What the event handlers ask for: queue a review, a recheck from a comment, a re-run of
a check. Each is written to the durable queue as a job of plain JSON (bot/store), which a
worker runs later through bot/review_jobs.py; handlers only parse and call these."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import gidgethub
from cachetools import TTLCache
from gidgethub.abc import GitHubAPI

from pystd.bot import messages
from pystd.bot.checks import completed_by_earlier_attempt, sweep_runs
from pystd.bot.github import GitHubAccess, InstallationClient, describe_error
from pystd.bot.job import JobEnv, review_head
from pystd.bot.queue import Deferred, JobFailed, JobQueue, KeyedLocks
from pystd.bot.settings import Settings
from pystd.bot.store import NewJob
from pystd.bot.targets import ReviewTarget

log = logging.getLogger(__name__)

REVIEW, RECHECK, RERUN = "review", "recheck", "rerun"  # the kinds of queued job
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

    async def schedule_review(self, target: ReviewTarget) -> None:
        """Queue a review of a pull request head; a newer push replaces a waiting one.
        Raises DuplicateDelivery or StoreError (bot/store) for the webhook to answer."""
        if not target.merge_group:
            self.env.heads[target.key] = target.head_sha
        await self.queue.submit(target.delivery_id, review_job(target))

    async def review_now(self, gh: InstallationClient, target: ReviewTarget, *,
                         resume: bool = False, final: bool = True) -> str:
        """`review_head`, once no other review of the same pull request (or merge
        group head) in this process is running. Raises Deferred when GitHub asks to wait
        too long before creating the check run (the queue runs the job again then), and
        JobFailed when the run could not be created or, unless this is the job's `final`
        attempt, a transient GitHub failure postponed the review (the queue retries with
        backoff)."""
        if resume and await completed_by_earlier_attempt(gh, target.owner, target.repo,
                                                         target.head_sha, target.delivery_id):
            log.info("review done by an earlier attempt", extra={
                "delivery_id": target.delivery_id, "repository": f"{target.owner}/{target.repo}",
                "pr": target.number, "head_sha": target.head_sha})
            return "done"
        waits: list[float] = []
        async with self.reviewing.hold(target.queue_key):
            conclusion = await review_head(gh, self.env, target, self.settings.job_timeout,
                                           waits.append, resume=resume, final=final)
        if conclusion == "deferred":
            raise Deferred(waits[0])
        if conclusion == "error":
            raise JobFailed(messages.JOB_NO_CHECK_RUN)
        return conclusion

    async def sweep(self) -> int:
        """Complete as neutral our check runs still open past job_timeout + sweep_margin
        (a background completion that gave up, a create whose answer never came)."""
        limit = self.settings.job_timeout + self.settings.sweep_margin
        return await sweep_runs(self.env.runs, self.access.client, limit,
                                messages.CHECK_TITLE_SWEPT,
                                messages.SUMMARY_SWEPT.format(minutes=limit / 60))

    # -- /pystd recheck --------------------------------------------------------------

    async def schedule_recheck(self, request: RecheckRequest) -> bool:
        """Queue a recheck; False (nothing queued) when the same user asked on the same pull
        request less than COMMAND_INTERVAL seconds ago. The limit is checked before any
        GitHub call, so a flood of commands costs nothing."""
        key = (request.owner.lower(), request.repo.lower(), request.number,
               request.commenter.lower())
        if key in self.recent_commands:
            log.info("recheck ignored: asked again too soon", extra=request.log_extra())
            return False
        await self.queue.submit(request.delivery_id, recheck_job(request))
        self.recent_commands[key] = True  # once queued: a refused delivery may come again
        return True

    async def recheck(self, gh: InstallationClient, request: RecheckRequest, *,
                      resume: bool = False, final: bool = True) -> bool:
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
        await self.review_now(gh, target, resume=resume, final=final)
        return True

    async def pull(self, gh: GitHubAPI, owner: str, repo: str, number: int) -> dict[str, Any]:
        """The pull request as it is now (its head, base and state)."""
        return await self._pull(gh, {"owner": owner, "repo": repo}, number)

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

    async def schedule_rerun(self, installation_id: int, owner: str, repo: str,
                             head_sha: str, pulls: list[dict[str, Any]],
                             delivery_id: str) -> None:
        await self.queue.submit(delivery_id, rerun_job(installation_id, owner, repo, head_sha,
                                                       pulls, delivery_id))

    async def rerun(self, installation_id: int, owner: str, repo: str, head_sha: str,
                    pulls: list[dict[str, Any]], delivery_id: str, *,
                    resume: bool = False, final: bool = True) -> None:
        """The re-run job: review every open pull request whose head is `head_sha`."""
        gh = self.access.client(installation_id)
        for target in await self.rerun_targets(gh, installation_id, owner, repo, head_sha,
                                               pulls, delivery_id):
            self.env.heads[target.key] = target.head_sha
            await self.review_now(gh, target, resume=resume, final=final)

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


# -- the jobs, as written to the queue ---------------------------------------------------------

def _pr_key(owner: str, repo: str, number: int) -> str:
    return f"pr:{owner.lower()}/{repo.lower()}#{number}"


def review_job(target: ReviewTarget) -> NewJob:
    """A review: the reviews of one pull request take turns, and a newer push replaces
    one still waiting; a merge group is keyed by its head."""
    if target.merge_group:
        key = f"group:{target.owner.lower()}/{target.repo.lower()}@{target.head_sha}"
    else:
        key = _pr_key(target.owner, target.repo, target.number)
    return NewJob(REVIEW, key, key, asdict(target), head=target.head_sha,
                  label=f"review {target.owner}/{target.repo}#{target.number}")


def recheck_job(request: RecheckRequest) -> NewJob:
    """A recheck takes its turn with the pull request's reviews and is never replaced."""
    return NewJob(RECHECK, _pr_key(request.owner, request.repo, request.number),
                  f"recheck:{request.delivery_id}", asdict(request),
                  label=f"recheck {request.owner}/{request.repo}#{request.number}")


def rerun_job(installation_id: int, owner: str, repo: str, head_sha: str,
              pulls: list[dict[str, Any]], delivery_id: str) -> NewJob:
    key = f"rerun:{owner.lower()}/{repo.lower()}@{head_sha}"
    payload = {"installation_id": installation_id, "owner": owner, "repo": repo,
               "head_sha": head_sha, "pulls": pulls, "delivery_id": delivery_id}
    return NewJob(RERUN, key, key, payload, head=head_sha,
                  label=f"rerun {owner}/{repo}@{head_sha[:12]}")
