"""Everything pystd posts to GitHub for one review: the check run (opened, updated,
completed), the review, and the follow-up of earlier comments this push fixed.

What to post is decided in bot/plans.py (pure); how a write survives a flaky GitHub is in
bot/checks.py (check runs), bot/reviews.py (one review) and bot/threads.py (threads).
This module reads what it must (earlier comments and reviews) and sends the plans.
"""

from __future__ import annotations

import logging
from typing import Any

import gidgethub

from pystd.bot import messages
from pystd.bot.checks import OpenRun, OpenRuns, RunUpdates, finish, open_run
from pystd.bot.github import GitHubError, InstallationClient, describe_error
from pystd.bot.plans import Analysis, build_review, fingerprints, offers_in
from pystd.bot.reviews import ReviewResult, post_review
from pystd.bot.snapshot import PullRequestSnapshot
from pystd.bot.targets import ReviewTarget
from pystd.bot.threads import fixed_comments, follow_fixed, our_comments
from pystd.rules.config import PystdConfig

log = logging.getLogger(__name__)


async def open_check_run(gh: InstallationClient, runs: OpenRuns, target: ReviewTarget,
                         attempts: int, *, resume: bool = False) -> OpenRun:
    """The `in_progress` check run at the target's head (bot/checks.py: created once).
    `resume`: a retry of a job whose earlier attempt died takes over the run it opened,
    found by the delivery id (the job's lineage)."""
    return await open_run(gh, runs, target.owner, target.repo, target.head_sha,
                          {"title": messages.CHECK_TITLE_RUNNING,
                           "summary": messages.CHECK_TITLE_RUNNING}, attempts,
                          resume=resume, lineage=target.delivery_id)


async def complete_check_run(gh: InstallationClient, runs: OpenRuns, run: OpenRun,
                             steps: list[dict[str, Any]], attempts: int,
                             budget: float) -> bool:
    """Send the updates that complete `run`; what the job's attempts could not send is
    retried in the background for `budget` seconds (bot/checks.py)."""
    return await finish(runs, RunUpdates(gh, run, steps), attempts, budget)


async def postpone_check_run(gh: InstallationClient, runs: OpenRuns, run: OpenRun,
                             reason: str, attempts: int) -> None:
    """Say on `run`, left `in_progress`, that the review will be tried again (`reason`:
    what GitHub did not give), and hand it over to the queue's retry, which takes it over
    by the job's lineage (bot/checks.py `open_run(resume=True)`); if every attempt fails,
    the queue's give-up completes it. A failure to say so changes nothing."""
    step = {"output": {"title": messages.CHECK_TITLE_RETRYING,
                       "summary": messages.SUMMARY_RETRYING.format(reason=reason)}}
    try:
        await RunUpdates(gh, run, [step]).send(attempts=attempts)
    except (GitHubError, gidgethub.HTTPException) as exc:
        log.warning("check run %s not told of the retry: %s", run.run_id, describe_error(exc))
    runs.closed(run)


async def publish_review(gh: InstallationClient, target: ReviewTarget,
                         snapshot: PullRequestSnapshot, analysis: Analysis,
                         sources: dict[str, str], config: PystdConfig,
                         attempts: int, *, public_url: str | None = None
                         ) -> ReviewResult | None:
    """Follow up on earlier comments whose finding this push fixed, then post one COMMENT
    review with the new findings (None: nothing new to say)."""
    changes = {f.path: f.changes for f in snapshot.files if f.changes is not None}
    url_vars: dict[str, str | int] = {"owner": target.owner, "repo": target.repo,
                                      "number": target.number}
    change_level = [f for f in analysis.findings if f.whole_change]
    to_say = bool(change_level) or any(f.path in changes for f in analysis.findings)
    try:
        earlier = [] if target.fresh else [c async for c in gh.getiter(
            "/repos/{owner}/{repo}/pulls/{number}/comments?per_page=100", url_vars)]
    except (GitHubError, gidgethub.HTTPException) as exc:
        if not to_say:  # only the follow-up of earlier comments is lost: the next push's
            log.warning("earlier comments not listed: %s %s", describe_error(exc),
                        target.log_context())
            return None
        return ReviewResult.failed(exc)
    if earlier:
        await _follow_fixed(gh, target, snapshot, analysis, sources, config, earlier)
    if not to_say:
        return None
    bodies = [c.get("body", "") for c in earlier]
    if change_level and not target.fresh:
        # Change-level findings may have been said only in a review body.
        try:
            bodies += [r.get("body") or "" async for r in gh.getiter(
                "/repos/{owner}/{repo}/pulls/{number}/reviews?per_page=100", url_vars)]
        except (GitHubError, gidgethub.HTTPException) as exc:
            return ReviewResult.failed(exc)
    plan = build_review(analysis.findings, changes, sources, offers_in(bodies),
                        config.max_comments, public_url=public_url)
    if not plan.worth_posting:
        return None
    added = {path: c.added for path, c in changes.items()}
    result = await post_review(gh, target.owner, target.repo, target.number, target.head_sha,
                               plan, added, attempts)
    if not result.posted:
        log.error("review not posted: %s %s", result.problem, target.log_context())
    return result


async def _follow_fixed(gh: InstallationClient, target: ReviewTarget,
                        snapshot: PullRequestSnapshot, analysis: Analysis,
                        sources: dict[str, str], config: PystdConfig,
                        earlier: list[dict[str, Any]]) -> None:
    """Resolve (or answer once) the threads of pystd's comments this push fixed. Nothing
    is judged fixed on a run that used the default configuration for want of a valid one
    (its rules differ), and past GitHub's 3000-file listing a file's absence means nothing."""
    if analysis.config_error:
        return
    failed = {s.path for s in analysis.skipped if s.failed}
    checked = {f.path for f in snapshot.checkable
               if not config.excludes(f.path) and f.path not in failed}
    listed = {f.path for f in snapshot.files}
    fixed = fixed_comments(our_comments(earlier),
                           set(fingerprints(analysis.findings, sources)), checked,
                           listed, complete=not snapshot.truncated)
    resolved, replied = await follow_fixed(gh, target.owner, target.repo, target.number,
                                           target.head_sha, fixed)
    if resolved or replied:
        log.info("fixed findings followed up", extra={
            **target.log_extra(), "resolved": resolved, "replied": replied})
