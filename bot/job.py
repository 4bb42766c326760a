"""One review of one pull request head, from check run `in_progress` to its completion.

check run in_progress -> files (paginated) -> blobs by sha -> config from the BASE commit
-> engine in worker processes -> findings on changed lines -> review + completed check run.
Whatever fails, the check run is completed (bot/checks.py retries its completion in the
background and a sweep closes what is left), and its conclusion is the analysis's even
when the review could not be posted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import gidgethub
from cachetools import TTLCache
from gidgethub.abc import GitHubAPI

from bot import messages
from bot.checks import OpenRuns, RunUpdates, completion, finish, open_run
from bot.engine_pool import Engine, EngineCrashed
from bot.github import GitHubError, InstallationClient, RateLimited, describe_error
from bot.publish import (
    SUMMARY_LIMIT,
    Analysis,
    Skipped,
    annotation_batches,
    build_review,
    check_output,
    fingerprints,
    is_change_level,
    offers_in,
)
from bot.reviews import ReviewResult, post_review
from bot.snapshot import (
    BaseFiles,
    BlobCache,
    PullRequestSnapshot,
    existing_folders,
    fetch_base_files,
    fetch_blobs,
    fetch_compare_files,
    fetch_files,
)
from bot.threads import fixed_comments, follow_fixed, our_comments
from rules.change import Change, ChangedPath, migration_folders_to_probe
from rules.config import PystdConfig
from rules.engine import RuleSet
from rules.runner import FileInput, asking_for_facts
from rules.versions import Versions

log = logging.getLogger(__name__)
SHUTDOWN_COMPLETION_SECONDS = 10.0


@dataclass(frozen=True)
class ReviewTarget:
    """A pull request head to review."""

    installation_id: int
    owner: str
    repo: str
    number: int
    head_sha: str
    base_sha: str
    delivery_id: str = ""
    fresh: bool = False  # just opened: it cannot hold earlier pystd comments yet

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.owner.lower(), self.repo.lower(), self.number)

    @property
    def is_merge_group(self) -> bool:
        """Number 0: a merge queue's group, checked at its head sha, with no review."""
        return self.number == 0

    def log_context(self) -> str:
        return (f"delivery={self.delivery_id} repo={self.owner}/{self.repo} "
                f"pr={self.number} head={self.head_sha[:12]}")


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

    def is_stale(self, target: ReviewTarget) -> bool:
        newest = self.heads.get(target.key)
        return newest is not None and newest != target.head_sha


def _count(env: JobEnv, outcome: str) -> None:
    env.stats[outcome] = env.stats.get(outcome, 0) + 1


async def review_pull_request(gh: InstallationClient, env: JobEnv, target: ReviewTarget,
                              limit: float,
                              retry_later: Callable[[float], None] | None = None,
                              *, resume: bool = False) -> str:
    """Run one review; returns the check run's conclusion ("stale"; "error" when even the
    check run could not be created; "deferred" when GitHub asked to wait longer than a job
    may block before creating it, and `retry_later(seconds)` was told). `resume`: a retry
    of a queue job whose earlier attempt died; it takes over the run that one opened."""
    started = time.monotonic()
    try:
        run = await open_run(gh, env.runs, target.owner, target.repo, target.head_sha,
                             {"title": messages.CHECK_TITLE_RUNNING,
                              "summary": messages.CHECK_TITLE_RUNNING}, env.write_attempts,
                             resume=resume, lineage=target.delivery_id)
    except RateLimited as exc:
        if retry_later is None:
            raise
        log.warning("check run not created: %s; the review runs again then %s",
                    describe_error(exc), target.log_context())
        retry_later(exc.wait)
        _count(env, "deferred")
        return "deferred"
    except Exception as exc:
        log.error("cannot create check run: %s %s", describe_error(exc), target.log_context())
        _count(env, "error")
        return "error"
    report = _Report()
    try:
        async with asyncio.timeout(limit):
            conclusion, steps = await _review(gh, env, target, report)
    except Exception as exc:  # every failure ends in a completed check run
        reason = "the run took too long" if isinstance(exc, TimeoutError) else describe_error(exc)
        log.exception("review failed: %s %s", reason, target.log_context())
        conclusion = "neutral"
        steps = [completion("neutral", messages.CHECK_TITLE_FAILED,
                            messages.SUMMARY_FAILED.format(reason=reason))]
    except asyncio.CancelledError:
        # The server is stopping and its drain time ran out: the run must not stay
        # in_progress. Completing it gets a few seconds (its retries go on in the
        # background, which shutdown drains too), then the cancellation goes on.
        log.warning("review stopped by shutdown %s", target.log_context())
        steps = [completion("neutral", messages.CHECK_TITLE_FAILED,
                            messages.SUMMARY_FAILED.format(reason=messages.REASON_SHUTDOWN))]
        with contextlib.suppress(Exception):
            async with asyncio.timeout(SHUTDOWN_COMPLETION_SECONDS):
                await finish(env.runs, RunUpdates(gh, run, steps), env.write_attempts,
                             env.completion_budget)
        raise
    await finish(env.runs, RunUpdates(gh, run, steps), env.write_attempts, env.completion_budget)
    _count(env, conclusion)
    log.info("review completed", extra={
        "delivery_id": target.delivery_id, "repository": f"{target.owner}/{target.repo}",
        "pr": target.number, "head_sha": target.head_sha,
        "duration_ms": round((time.monotonic() - started) * 1000), "findings": report.findings,
        "conclusion": conclusion, "files": report.files})
    return conclusion


@dataclass
class _Report:
    """What the completion log line says about a review."""

    findings: int = 0
    files: int = 0


async def _review(gh: InstallationClient, env: JobEnv, target: ReviewTarget, report: _Report
                  ) -> tuple[str, list[dict[str, Any]]]:
    """The conclusion and the check-run updates that complete the run."""
    if target.is_merge_group:
        listing = fetch_compare_files(gh, target.owner, target.repo, target.base_sha,
                                      target.head_sha)
    else:
        listing = fetch_files(gh, target.owner, target.repo, target.number)
    (files, truncated), base = await asyncio.gather(listing, _config(gh, env, target))
    config, source, config_error = base.config, base.source, base.error
    snapshot = PullRequestSnapshot(target.owner, target.repo, target.number, target.head_sha,
                                   target.base_sha, files, truncated)
    analysis, sources = await analyse(gh, env, snapshot, config, base.versions)
    analysis = Analysis(analysis.findings, analysis.skipped, config_error, source,
                        analysis.files_checked, truncated)
    report.findings, report.files = len(analysis.findings), len(files)
    if env.is_stale(target):
        newest = env.heads[target.key]
        return "stale", [completion("neutral", messages.CHECK_TITLE_STALE,
                                    messages.SUMMARY_STALE.format(sha=newest[:12]))]
    review = None
    if not target.is_merge_group:  # a merge group has no pull request to review
        review = await publish_review(gh, env, target, snapshot, analysis, sources, config)
    output = check_output(analysis, config)
    summary = output.summary
    if review is not None and not review.posted:
        # The verdict stands: it comes from the analysis, not from the review's fate.
        note = messages.SUMMARY_REVIEW_NOT_POSTED.format(reason=review.problem)
        summary = f"{note}\n\n{summary}"[:SUMMARY_LIMIT]  # GitHub's limit still holds
    batches = annotation_batches(output.annotations)
    text = {"title": output.title, "summary": summary}
    # GitHub appends annotations on every update: all batches but the last go first.
    steps: list[dict[str, Any]] = [{"output": {**text, "annotations": batch}}
                                   for batch in batches[:-1]]
    steps.append(completion(output.conclusion, output.title, summary, batches[-1]))
    return output.conclusion, steps


async def _config(gh: GitHubAPI, env: JobEnv, target: ReviewTarget) -> BaseFiles:
    """The configuration and framework versions at the base commit, fetched once per
    (repository, base sha)."""
    key = (target.owner.lower(), target.repo.lower(), target.base_sha)
    cached = env.configs.get(key)
    if cached is None:
        cached = env.configs[key] = await fetch_base_files(gh, target.owner, target.repo,
                                                           target.base_sha)
    return cached


async def analyse(gh: GitHubAPI, env: JobEnv, snapshot: PullRequestSnapshot,
                  config: PystdConfig, versions: Versions | None = None
                  ) -> tuple[Analysis, dict[str, str]]:
    """Fetch the changed files and run the engine on them in the worker processes, with
    the project's framework `versions` (None: unknown, all current)."""
    wanted = [f for f in snapshot.checkable if not config.excludes(f.path)]
    contents = await fetch_blobs(gh, snapshot.owner, snapshot.repo, wanted, env.blobs,
                                 env.blob_concurrency)
    skipped: list[Skipped] = []
    inputs: list[FileInput] = []
    for f in wanted:
        data = contents.get(f.path)
        if isinstance(data, str) or data is None:
            skipped.append(Skipped(f.path, data or "could not be fetched", failed=True))
            continue
        if f.changes is None:
            skipped.append(Skipped(f.path, messages.SKIP_NO_PATCH))
        inputs.append(FileInput(f.path, data, f.changes.added if f.changes else None))
    rules = config.rule_set(versions=versions)
    change = _change(snapshot, inputs, config)
    inputs = asking_for_facts(inputs, change, rules)
    results, folders = await asyncio.gather(env.engine.check_files(inputs, rules),
                                            _migration_folders(gh, snapshot, change, rules))
    # A file whose own analysis failed is not handed to the change rules either: they
    # would parse it again and fail the same way, taking every finding with them.
    failed = {r.path for r in results if r.failed}
    change = replace(
        change, existing_dirs=folders,
        facts={r.path: r.facts for r in results if r.facts is not None},
        files=tuple(replace(c, text=None, old_text=None) if c.path in failed else c
                    for c in change.files))
    try:
        findings = list(await env.engine.check_change(change, rules))
    except EngineCrashed as exc:  # the file findings still stand; the run is not a pass
        findings = []
        skipped.append(Skipped(messages.CHANGE_RULES_NOT_RUN, str(exc), failed=True))
    checked = 0
    for result in results:
        if result.skipped:
            skipped.append(Skipped(result.path, result.skipped, failed=result.failed))
            continue
        checked += 1
        findings.extend(result.findings)
    findings = [f for f in findings if config.reports(f, f.path)]  # per-file-ignores
    flagged = {f.path for f in findings}
    sources = {c.path: c.text for c in change.files if c.path in flagged and c.text is not None}
    return Analysis(tuple(findings), tuple(skipped), files_checked=checked), sources


def _change(snapshot: PullRequestSnapshot, inputs: Sequence[FileInput],
            config: PystdConfig) -> Change:
    """The whole pull request for change-level rules; the text before the change is
    rebuilt from each file's patch (no extra API call)."""
    texts = {i.path: i.data.decode("utf-8-sig", errors="replace") for i in inputs}
    paths = []
    for f in snapshot.files:
        if config.excludes(f.path):
            continue
        text = texts.get(f.path)
        old = None
        if text is not None and f.changes is not None and f.status != "added":
            old = f.changes.old_text(text)
        paths.append(ChangedPath(f.path, f.status, text, f.changes.added if f.changes else None,
                                 f.previous_path, old))
    # Folders of the repository are not known yet (None); `analyse` asks GitHub for the
    # few that PYS206 needs, and adds the facts the engine works out.
    return Change(tuple(paths), max_handler_lines=config.max_handler_lines)


async def _migration_folders(gh: GitHubAPI, snapshot: PullRequestSnapshot, change: Change,
                             rules: RuleSet) -> frozenset[str] | None:
    """For PYS206, which `app/migrations` folders of changed models modules exist at the
    head commit (None: no question to ask, the folders stay unknown)."""
    probe = migration_folders_to_probe(change) if any(
        r.code == "PYS206" for r in rules) else ()
    if not probe:
        return None
    return await existing_folders(gh, snapshot.owner, snapshot.repo, snapshot.head_sha, probe)


async def publish_review(gh: InstallationClient, env: JobEnv, target: ReviewTarget,
                         snapshot: PullRequestSnapshot, analysis: Analysis,
                         sources: dict[str, str], config: PystdConfig) -> ReviewResult | None:
    """Follow up on earlier comments whose finding this push fixed, then post one COMMENT
    review with the new findings (None: nothing new to say)."""
    changes = {f.path: f.changes for f in snapshot.files if f.changes is not None}
    url_vars = {"owner": target.owner, "repo": target.repo, "number": target.number}
    change_level = [f for f in analysis.findings if is_change_level(f)]
    to_say = bool(change_level) or any(f.path in changes for f in analysis.findings)
    try:
        earlier = [] if target.fresh else [c async for c in gh.getiter(
            "/repos/{owner}/{repo}/pulls/{number}/comments?per_page=100", url_vars)]
    except (GitHubError, gidgethub.HTTPException) as exc:
        if not to_say:  # only the follow-up of earlier comments is lost: the next push's
            log.warning("earlier comments not listed: %s %s", describe_error(exc),
                        target.log_context())
            return None
        return ReviewResult(False, problem=describe_error(exc))
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
            return ReviewResult(False, problem=describe_error(exc))
    plan = build_review(analysis.findings, changes, sources, offers_in(bodies),
                        config.max_comments)
    if not plan.worth_posting:
        return None
    added = {path: c.added for path, c in changes.items()}
    result = await post_review(gh, target.owner, target.repo, target.number, target.head_sha,
                               plan, added, env.write_attempts)
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
            "delivery_id": target.delivery_id, "repository": f"{target.owner}/{target.repo}",
            "pr": target.number, "head_sha": target.head_sha, "resolved": resolved,
            "replied": replied})
