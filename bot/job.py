"""One review of one pull request head, in the order of its steps.

check run in_progress -> files (paginated) and the base commit's configuration -> the
analysis (bot/analysis.py: blobs by sha, the pipeline in the engine's workers) -> review
(bot/publish.py) -> check run completed. Whatever fails, the check run is completed
(bot/checks.py retries its completion in the background and a sweep closes what is
left), and its conclusion is the analysis's even when the review could not be posted.

A transient GitHub failure (no answer, 5xx, rate limit: a file not fetched, the review
not posted, a listing lost) delays the review rather than dropping part of it: unless
this is the queue job's last attempt, the run stays `in_progress` saying so, and
`ReviewPostponed` has the queue run the job again, which takes the same run over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from cachetools import TTLCache
from gidgethub.abc import GitHubAPI

from pystd.bot import messages
from pystd.bot.analysis import analyse_pull_request
from pystd.bot.checks import OpenRuns
from pystd.bot.engine_pool import Engine
from pystd.bot.github import InstallationClient, RateLimited, describe_error, is_transient
from pystd.bot.plans import check_output, check_run_steps, neutral_steps
from pystd.bot.publish import (
    complete_check_run,
    open_check_run,
    postpone_check_run,
    publish_review,
)
from pystd.bot.queue import JobFailed
from pystd.bot.snapshot import (
    BaseFiles,
    BlobCache,
    PullRequestSnapshot,
    fetch_base_files,
    fetch_compare_files,
    fetch_files,
)
from pystd.bot.targets import ReviewTarget

log = logging.getLogger(__name__)
SHUTDOWN_COMPLETION_SECONDS = 10.0

__all__ = ["JobEnv", "ReviewPostponed", "ReviewTarget", "review_head"]
MAX_PATHS_SAID = 5  # files named in the summary of a postponed run


class ReviewPostponed(JobFailed):
    """GitHub failed in a way that passes and this is not the job's last attempt: its
    check run stays `in_progress` and the queue retries the job (with backoff)."""


@dataclass
class JobEnv:
    """What a job needs from the running app."""

    engine: Engine  # runs the engine off the event loop
    blobs: BlobCache
    blob_concurrency: int
    # The newest known head of each pull request, for a week (bounded: a long-running
    # server sees an unbounded number of pull requests).
    heads: TTLCache[tuple[str, str, int], str] = field(
        default_factory=lambda: TTLCache(maxsize=100_000, ttl=7 * 24 * 3600))
    # Configuration and framework versions by (owner, repo, base sha): a commit never
    # changes, and most pull requests share their base, so this saves the listing and the
    # file fetches (one to ten API calls) per review.
    configs: TTLCache[tuple[str, str, str], BaseFiles] = field(
        default_factory=lambda: TTLCache(maxsize=4096, ttl=3600))
    stats: dict[str, int] = field(default_factory=dict)
    runs: OpenRuns = field(default_factory=OpenRuns)  # check runs opened, not completed yet
    write_attempts: int = 3  # tries of one GitHub write before giving up or backgrounding
    completion_budget: float = 900.0  # seconds a run's completion is retried in background
    public_url: str | None = None  # PYSTD_PUBLIC_URL: rule links go to its /rules pages

    def is_stale(self, target: ReviewTarget) -> bool:
        newest = self.heads.get(target.key)
        return newest is not None and newest != target.head_sha

    def count(self, outcome: str) -> None:
        """One more review ended this way (the `pystd_reviews` metric)."""
        self.stats[outcome] = self.stats.get(outcome, 0) + 1


async def review_head(gh: InstallationClient, env: JobEnv, target: ReviewTarget,
                      limit: float, retry_later: Callable[[float], None] | None = None,
                      *, resume: bool = False, final: bool = True) -> str:
    """Run one review; returns the check run's conclusion ("stale"; "error" when even the
    check run could not be created; "deferred" when GitHub asked to wait longer than a job
    may block before creating it, and `retry_later(seconds)` was told). `resume`: a retry
    of a queue job whose earlier attempt died; it takes over the run that one opened.
    Not `final` (the queue will run the job again): a transient GitHub failure raises
    ReviewPostponed, the run left `in_progress` for the next attempt."""
    started = time.monotonic()
    try:
        run = await open_check_run(gh, env.runs, target, env.write_attempts, resume=resume)
    except RateLimited as exc:
        if retry_later is None:
            raise
        log.warning("check run not created: %s; the review runs again then %s",
                    describe_error(exc), target.log_context())
        retry_later(exc.wait)
        env.count("deferred")
        return "deferred"
    except Exception as exc:
        log.error("cannot create check run: %s %s", describe_error(exc), target.log_context())
        env.count("error")
        return "error"
    report = _Report()
    try:
        async with asyncio.timeout(limit):
            conclusion, steps = await _review(gh, env, target, report, final)
    except Exception as exc:  # every failure ends in a completed check run, or a retry
        if not final and (isinstance(exc, ReviewPostponed) or is_transient(exc)):
            reason = str(exc) if isinstance(exc, ReviewPostponed) else describe_error(exc)
            log.warning("review postponed: %s", reason, extra={**target.log_extra(),
                                                                 "error": reason})
            await postpone_check_run(gh, env.runs, run, reason, env.write_attempts)
            env.count("postponed")
            raise ReviewPostponed(reason) from exc
        reason = "the run took too long" if isinstance(exc, TimeoutError) else describe_error(exc)
        log.exception("review failed: %s %s", reason, target.log_context())
        conclusion = "neutral"
        steps = neutral_steps(messages.CHECK_TITLE_FAILED,
                              messages.SUMMARY_FAILED.format(reason=reason))
    except asyncio.CancelledError:
        # The server is stopping and its drain time ran out: the run must not stay
        # in_progress. Completing it gets a few seconds (its retries go on in the
        # background, which shutdown drains too), then the cancellation goes on.
        log.warning("review stopped by shutdown %s", target.log_context())
        steps = neutral_steps(messages.CHECK_TITLE_FAILED,
                              messages.SUMMARY_FAILED.format(reason=messages.REASON_SHUTDOWN))
        with contextlib.suppress(Exception):
            async with asyncio.timeout(SHUTDOWN_COMPLETION_SECONDS):
                await complete_check_run(gh, env.runs, run, steps, env.write_attempts,
                                         env.completion_budget)
        raise
    await complete_check_run(gh, env.runs, run, steps, env.write_attempts,
                             env.completion_budget)
    env.count(conclusion)
    log.info("review completed", extra={
        **target.log_extra(), "duration_ms": round((time.monotonic() - started) * 1000),
        "findings": report.findings, "conclusion": conclusion, "files": report.files})
    return conclusion


@dataclass
class _Report:
    """What the completion log line says about a review."""

    findings: int = 0
    files: int = 0


async def _review(gh: InstallationClient, env: JobEnv, target: ReviewTarget, report: _Report,
                  final: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """The conclusion and the check-run updates that complete the run. Not `final`: files
    GitHub did not serve, or a review it did not take, for a reason that passes raise
    ReviewPostponed before anything is posted or completed."""
    if target.merge_group:
        listing = fetch_compare_files(gh, target.owner, target.repo, target.base_sha,
                                      target.head_sha)
    else:
        listing = fetch_files(gh, target.owner, target.repo, target.number)
    (files, truncated), base = await asyncio.gather(listing, _base_files(gh, env, target))
    snapshot = PullRequestSnapshot(target.owner, target.repo, target.number, target.head_sha,
                                   target.base_sha, files, truncated)
    analysis, sources = await analyse_pull_request(
        gh, snapshot, base.config, base.versions, engine=env.engine, blobs=env.blobs,
        blob_concurrency=env.blob_concurrency)
    analysis = replace(analysis, config_error=base.error, config_source=base.source,
                       truncated=truncated)
    report.findings, report.files = len(analysis.findings), len(files)
    if env.is_stale(target):
        newest = env.heads[target.key]
        return "stale", neutral_steps(messages.CHECK_TITLE_STALE,
                                      messages.SUMMARY_STALE.format(sha=newest[:12]))
    lost = [s.path for s in analysis.skipped if s.transient]
    if lost and not final:
        named = ", ".join(f"`{p}`" for p in lost[:MAX_PATHS_SAID])
        raise ReviewPostponed(messages.REASON_FILES_UNFETCHED.format(
            count=len(lost), paths=named + (", …" if len(lost) > MAX_PATHS_SAID else "")))
    review = None
    if not target.merge_group:  # a merge group has no pull request to review
        review = await publish_review(gh, target, snapshot, analysis, sources, base.config,
                                      env.write_attempts, public_url=env.public_url)
        if review is not None and not review.posted and review.transient and not final:
            raise ReviewPostponed(review.problem or messages.JOB_NO_REVIEW)
    output = check_output(analysis, base.config, env.public_url)
    problem = review.problem if review is not None and not review.posted else None
    return output.conclusion, check_run_steps(output, problem)


async def _base_files(gh: GitHubAPI, env: JobEnv, target: ReviewTarget) -> BaseFiles:
    """The configuration and framework versions at the base commit, fetched once per
    (repository, base sha)."""
    key = (target.owner.lower(), target.repo.lower(), target.base_sha)
    cached = env.configs.get(key)
    if cached is None:
        cached = env.configs[key] = await fetch_base_files(gh, target.owner, target.repo,
                                                           target.base_sha)
    return cached
