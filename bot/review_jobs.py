"""The kinds of queued job (a review of a pull request or merge group head, a
`/pystd recheck`, a re-run from the Checks tab): how each is written to the store, and how
a worker runs it again from what was written.

A job's payload is plain JSON (written by bot/services.py's `review_job`, `recheck_job`,
`rerun_job`), so any worker process can run it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import gidgethub

from pystd.bot import messages
from pystd.bot.checks import OpenRun, RunUpdates, completion, our_runs_in_progress
from pystd.bot.github import GitHubError, RateLimited, describe_error
from pystd.bot.queue import Deferred
from pystd.bot.services import RECHECK, RERUN, REVIEW, RecheckRequest, Services
from pystd.bot.store import Job
from pystd.bot.targets import ReviewTarget

log = logging.getLogger(__name__)

class ServicesRunner:
    """Runs a stored job with the process's services (GitHub access, engine)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def run(self, job: Job) -> None:
        """The job's work; a GitHub rate limit met on the way defers it to the reset."""
        try:
            await self._run(job)
        except RateLimited as exc:
            raise Deferred(exc.wait) from exc

    async def _run(self, job: Job) -> None:
        services = self.services
        if job.kind == REVIEW:
            return await self._review(job)
        if job.kind == RECHECK:
            request = RecheckRequest(**job.payload)
            gh = services.access.client(request.installation_id)
            await services.recheck(gh, request, resume=job.attempts > 1,
                                   final=self.final(job))
            return
        if job.kind == RERUN:
            p = job.payload
            await services.rerun(int(p["installation_id"]), str(p["owner"]), str(p["repo"]),
                                 str(p["head_sha"]), list(p["pulls"]), str(p["delivery_id"]),
                                 resume=job.attempts > 1, final=self.final(job))
            return
        raise ValueError(f"unknown job kind {job.kind!r}")

    async def _review(self, job: Job) -> None:
        """Review the pull request's head as it is now (a push may have come since the job
        was queued); first close the runs an interrupted earlier job left at older heads."""
        services = self.services
        target = ReviewTarget(**job.payload)
        gh = services.access.client(target.installation_id)
        open_now = True
        if not target.merge_group:
            pr = await services.pull(gh, target.owner, target.repo, target.number)
            open_now = pr.get("state") == "open"
            head, base = pr["head"]["sha"], pr["base"]["sha"]
            if head != target.head_sha:
                target = replace(target, head_sha=head, base_sha=base, fresh=False)
        resume = job.attempts > 1
        if resume:
            target = replace(target, fresh=False)  # it may have posted its review already
        earlier = [h for h in (*job.carried, *([job.head] if resume and job.head else []))
                   if h != target.head_sha or not open_now]
        for head_sha in dict.fromkeys(earlier):
            await close_runs(gh, target.owner, target.repo, head_sha,
                             messages.CHECK_TITLE_STALE,
                             messages.SUMMARY_STALE.format(sha=target.head_sha[:12]))
        if not open_now:
            log.info("review skipped: the pull request is closed", extra={
                "delivery_id": target.delivery_id, "repository": f"{target.owner}/{target.repo}",
                "pr": target.number})
            return
        if not target.merge_group:
            services.env.heads[target.key] = target.head_sha
        await services.review_now(gh, target, resume=resume or target.head_sha in job.carried,
                                  final=self.final(job))

    def final(self, job: Job) -> bool:
        """The job's last attempt: a transient GitHub failure no longer postpones its
        review (bot/job.py), the run is completed with what could be done."""
        return job.attempts >= self.services.queue.tuning.max_attempts

    async def give_up(self, job: Job, reason: str) -> None:
        """No run is left `in_progress` by a job given up: complete them `neutral`."""
        heads = [*job.carried, *([job.head] if job.head else [])]
        if not heads:
            return
        installation = int(job.payload.get("installation_id") or 0)
        owner, repo = str(job.payload.get("owner")), str(job.payload.get("repo"))
        gh = self.services.access.client(installation)
        for head_sha in dict.fromkeys(heads):
            try:
                await close_runs(gh, owner, repo, head_sha, messages.CHECK_TITLE_FAILED,
                                 messages.SUMMARY_FAILED.format(reason=reason))
            except (GitHubError, gidgethub.HTTPException) as exc:
                log.error("cannot complete runs of a job given up: %s", describe_error(exc),
                          extra={"job": job.id, "head_sha": head_sha})


async def close_runs(gh: Any, owner: str, repo: str, head_sha: str, title: str,
                     summary: str) -> int:
    """Complete as `neutral` our runs still `in_progress` at `head_sha` (left by a job that
    died); returns how many."""
    done = 0
    for found in await our_runs_in_progress(gh, owner, repo, head_sha):
        run = OpenRun(gh.installation_id, owner, repo, head_sha,
                      str(found.get("external_id") or ""), 0.0, int(found["id"]), busy=False)
        await RunUpdates(gh, run, [completion("neutral", title, summary)],
                         unsure=True).send(attempts=3)
        log.warning("completed a check run an interrupted job left open",
                    extra={"repository": f"{owner}/{repo}", "head_sha": head_sha,
                           "check_run": run.run_id})
        done += 1
    return done
