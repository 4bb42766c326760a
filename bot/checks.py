"""A check run's life on a flaky GitHub: opened once, each update applied once, always
completed.

GitHub may process a write and still answer 5xx, answer too late, or drop the connection
(`AmbiguousWrite`). So:
- opening: the run carries a unique `external_id`; after an ambiguous failure our App's
  runs at the head are listed and ours is found by that id before anything is posted again;
- updating: GitHub appends the annotations of every PATCH, so after an ambiguous failure
  the run's `output.annotations_count` (and `status`) say whether the update landed;
- completing: retried with backoff, honouring any Retry-After, in a background task once
  the job's own attempts are spent (the job queue is not held up); `OpenRuns` remembers
  every run not completed yet, and the sweep completes any left open too long as neutral.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import gidgethub

from pystd.bot.github import (
    AmbiguousWrite,
    GitHubError,
    InstallationClient,
    RateLimited,
    describe_error,
)
from pystd.bot.plans import CHECK_NAME, completion, now_iso

log = logging.getLogger(__name__)

MAX_BACKGROUND_DELAY = 60.0  # seconds between background attempts, at most
RUN_URL = "/repos/{owner}/{repo}/check-runs/{id}"


@dataclass
class OpenRun:
    """A check run we opened (or may have opened: `run_id` None after an unanswered
    create) and have not completed yet."""

    installation_id: int
    owner: str
    repo: str
    head_sha: str
    external_id: str
    opened_at: float
    run_id: int | None = None
    # The job that opened it, or a background completion, is working on it: the sweep
    # leaves it alone (a review may outlast the sweep's age limit when creating the run
    # waited out rate limits; completing it neutral then would pass a required check).
    busy: bool = True

    @property
    def url_vars(self) -> dict[str, Any]:
        return {"owner": self.owner, "repo": self.repo, "id": self.run_id}


@dataclass
class OpenRuns:
    """In-process registry of our runs not completed yet, and the background tasks that
    complete them (a durable store comes later)."""

    clock: Callable[[], float] = time.monotonic
    runs: dict[str, OpenRun] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def opening(self, installation_id: int, owner: str, repo: str, head_sha: str,
                lineage: str = "") -> OpenRun:
        """A run about to be created, held by the calling job until `finish` or `released`;
        its external_id starts with `lineage_tag(lineage)`."""
        run = OpenRun(installation_id, owner, repo, head_sha,
                      f"{lineage_tag(lineage)}{secrets.token_hex(8)}", self.clock())
        self.runs[run.external_id] = run
        return run

    def closed(self, run: OpenRun) -> None:
        self.runs.pop(run.external_id, None)

    def released(self, run: OpenRun) -> None:
        """Nobody works on `run` any more: the sweep completes it once overdue."""
        run.busy = False

    def overdue(self, age: float) -> list[OpenRun]:
        """Runs open longer than `age` seconds that no background task is completing."""
        now = self.clock()
        return [r for r in self.runs.values() if not r.busy and now - r.opened_at > age]

    def spawn(self, run: OpenRun, work: Coroutine[Any, Any, None]) -> None:
        run.busy = True

        async def guarded() -> None:
            try:
                await work
            finally:
                run.busy = False

        self.background(guarded(), f"pystd-complete-{run.external_id}")

    def background(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run `work` as a task that `drain` and `close` wait for."""
        task = asyncio.create_task(work, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def drain(self) -> None:
        """Wait for every background completion (tests, the benchmark, shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def close(self, grace: float) -> None:
        try:
            async with asyncio.timeout(grace):
                await self.drain()
        except TimeoutError:
            log.warning("shutdown: %d check run completion(s) still retrying", len(self.tasks))
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*list(self.tasks), return_exceptions=True)


async def find_run(gh: InstallationClient, run: OpenRun) -> dict[str, Any] | None:
    """Our App's run at the head carrying this run's external_id, if GitHub has one."""
    url = ("/repos/{owner}/{repo}/commits/{ref}/check-runs"
           "{?check_name,app_id,filter,per_page}")
    url_vars = {"owner": run.owner, "repo": run.repo, "ref": run.head_sha,
                "check_name": CHECK_NAME, "app_id": gh.app_id, "filter": "all",
                "per_page": 100}
    async for found in gh.getiter(url, url_vars, iterable_key="check_runs"):
        if found.get("external_id") == run.external_id:
            return dict(found)
    return None


def lineage_tag(lineage: str) -> str:
    """The start of the external_id of every run opened for one queued job (its delivery
    id): a retry of the job finds the runs its earlier attempts opened by it."""
    if not lineage:
        return "pystd-"
    return f"pystd-{hashlib.sha256(lineage.encode()).hexdigest()[:10]}-"


async def our_runs(gh: InstallationClient, owner: str, repo: str, head_sha: str,
                   status: str | None = None) -> list[dict[str, Any]]:
    """Our App's runs at the head (only those in `status` when given), oldest first."""
    url = ("/repos/{owner}/{repo}/commits/{ref}/check-runs"
           "{?check_name,app_id,status,filter,per_page}")
    url_vars = {"owner": owner, "repo": repo, "ref": head_sha, "check_name": CHECK_NAME,
                "app_id": gh.app_id, "status": status, "filter": "all",
                "per_page": 100}
    found = [dict(r) async for r in gh.getiter(url, url_vars, iterable_key="check_runs")
             if status is None or r.get("status") == status]
    return sorted(found, key=lambda r: int(r["id"]))


async def our_runs_in_progress(gh: InstallationClient, owner: str, repo: str,
                               head_sha: str) -> list[dict[str, Any]]:
    """Our App's runs at the head that are still `in_progress`, oldest first."""
    return await our_runs(gh, owner, repo, head_sha, "in_progress")


async def completed_by_earlier_attempt(gh: InstallationClient, owner: str, repo: str,
                                       head_sha: str, lineage: str) -> bool:
    """An earlier attempt of the job `lineage` completed its run at the head (it died
    after that, before the queue heard of it): the review is done."""
    tag = lineage_tag(lineage)
    mine = [r for r in await our_runs(gh, owner, repo, head_sha)
            if str(r.get("external_id") or "").startswith(tag)]
    return bool(mine) and all(r.get("status") == "completed" for r in mine)


async def open_run(gh: InstallationClient, runs: OpenRuns, owner: str, repo: str,
                   head_sha: str, output: dict[str, str], attempts: int,
                   *, resume: bool = False, lineage: str = "") -> OpenRun:
    """Create the `in_progress` run once, whatever GitHub answers. Raises GitHubError when
    it cannot; a run that may exist stays registered for the sweep. `resume`: a retry of a
    job whose earlier attempt died; the run it opened at this head, if still in progress,
    is taken over instead of opening a second one (found by `lineage`, the job's id)."""
    run = runs.opening(gh.installation_id, owner, repo, head_sha, lineage)
    if resume:
        try:
            tag = lineage_tag(lineage)
            left = [r for r in await our_runs_in_progress(gh, owner, repo, head_sha)
                    if str(r.get("external_id") or "").startswith(tag)]
        except (GitHubError, gidgethub.HTTPException) as exc:
            runs.closed(run)
            raise GitHubError(f"cannot list earlier check runs: {describe_error(exc)}") from exc
        if left:
            run.run_id = int(left[-1]["id"])
            return run
    body = {"name": CHECK_NAME, "head_sha": head_sha, "status": "in_progress",
            "started_at": now_iso(), "external_id": run.external_id, "output": output}
    unsure = False
    for attempt in range(1, attempts + 1):
        try:
            if unsure:
                found = await find_run(gh, run)
                if found is not None:
                    run.run_id = int(found["id"])
                    return run
                unsure = False
            created = await gh.post("/repos/{owner}/{repo}/check-runs",
                                    {"owner": owner, "repo": repo}, data=body)
            run.run_id = int(created["id"])
            return run
        except AmbiguousWrite as exc:
            log.warning("check run create unanswered (%s); looking for it", describe_error(exc))
            unsure = True
        except RateLimited:  # nothing was made; the caller decides when to come back
            _forget_unless_unsure(runs, run, unsure)
            raise
        except (GitHubError, gidgethub.GitHubBroken) as exc:
            if attempt == attempts:
                _forget_unless_unsure(runs, run, unsure)
                raise
            log.warning("check run not confirmed yet: %s", describe_error(exc))
        except gidgethub.HTTPException:
            _forget_unless_unsure(runs, run, unsure)
            raise
        await gh.sleep(gh.backoff(attempt))
    _forget_unless_unsure(runs, run, unsure)
    raise GitHubError("GitHub did not confirm the check run")


def _forget_unless_unsure(runs: OpenRuns, run: OpenRun, unsure: bool) -> None:
    if not unsure:
        runs.closed(run)
    else:
        runs.released(run)


@dataclass
class RunUpdates:
    """A run's remaining updates, each sent so that it lands exactly once. Progress is
    kept, so a background task can carry on where the job stopped."""

    gh: InstallationClient
    run: OpenRun
    steps: list[dict[str, Any]]
    annotations: int = 0  # annotations GitHub holds for the run before the next step
    unsure: bool = False  # the last PATCH may have landed
    pause: float = 0.0  # seconds to wait before the next attempt

    async def send(self, attempts: int | None = None, budget: float | None = None) -> None:
        """Send the steps; raise GitHubError after `attempts` failures, or once the waits
        add up to `budget` seconds (Retry-After included)."""
        failures, waited = 0, 0.0
        if self.pause:  # what the last failure asked for (a Retry-After, a backoff)
            waited, self.pause = self.pause, 0.0
            await self.gh.sleep(waited)
        while self.steps:
            try:
                await self._step()
                continue
            except RateLimited as exc:
                error: GitHubError = exc
                delay = exc.wait  # retrying earlier is pointless, however long it is
            except GitHubError as exc:
                error = exc
                delay = min(MAX_BACKGROUND_DELAY, self.gh.base_backoff * 2 ** min(failures, 16))
            failures += 1
            if attempts is not None and (failures >= attempts or isinstance(error, RateLimited)):
                self.pause = delay  # a long Retry-After is waited out in the background
                raise error
            if budget is not None and waited >= budget:
                raise error
            waited += delay
            await self.gh.sleep(delay)

    async def _step(self) -> None:
        step = self.steps[0]
        batch = len((step.get("output") or {}).get("annotations") or [])
        completing = step.get("status") == "completed"
        if self.unsure and (batch or completing):
            try:
                current = await self.gh.getitem(RUN_URL, self.run.url_vars)
            except gidgethub.HTTPException as exc:
                raise GitHubError(f"cannot read the check run: {describe_error(exc)}") from exc
            count = int((current.get("output") or {}).get("annotations_count") or 0)
            landed = batch > 0 and count >= self.annotations + batch
            if landed or (completing and current.get("status") == "completed"):
                self._landed(batch, completing and current.get("status") != "completed")
                return
        self.unsure = False
        try:
            await self.gh.patch(RUN_URL, self.run.url_vars, data=step)
        except AmbiguousWrite:
            self.unsure = True
            raise
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) in (403, 429):  # still rate limited after waiting
                raise GitHubError(describe_error(exc)) from exc
            if not batch:
                raise  # refused for good: retrying cannot help
            # GitHub refused these annotations: complete (or go on) without them.
            log.error("annotations refused (%s); sending the update without them",
                      describe_error(exc))
            self.steps[0] = {**step, "output": {**step["output"], "annotations": []}}
            raise GitHubError(describe_error(exc)) from exc
        self._landed(batch, False)

    def _landed(self, batch: int, still_to_complete: bool) -> None:
        """The first step landed; a completion whose annotations landed but not its
        status (never seen, but cheap to handle) is sent again without them."""
        self.annotations += batch
        self.unsure = False
        step = self.steps.pop(0)
        if still_to_complete:
            self.steps.insert(0, {**step, "output": {**step["output"], "annotations": []}})


async def finish(runs: OpenRuns, updates: RunUpdates, attempts: int, budget: float) -> bool:
    """Send a run's last updates now; on failure a background task keeps at it for
    `budget` seconds. True when the run is completed already."""
    try:
        await updates.send(attempts=attempts)
    except gidgethub.HTTPException as exc:
        log.error("check run %s refused its completion: %s", updates.run.run_id,
                  describe_error(exc))
        runs.released(updates.run)
        return False
    except GitHubError as exc:
        log.warning("check run %s not completed yet (%s); retrying in the background",
                    updates.run.run_id, describe_error(exc))
        runs.spawn(updates.run, _finish_later(runs, updates, budget))
        return False
    runs.closed(updates.run)
    return True


async def _finish_later(runs: OpenRuns, updates: RunUpdates, budget: float) -> None:
    try:
        await updates.send(budget=budget)
    except (GitHubError, gidgethub.HTTPException) as exc:
        log.error("check run %s could not be completed: %s; the sweep will try again",
                  updates.run.run_id, describe_error(exc))
        return
    runs.closed(updates.run)
    log.info("check run %s completed in the background", updates.run.run_id)


async def sweep_runs(runs: OpenRuns, client: Callable[[int], InstallationClient], age: float,
                title: str, summary: str) -> int:
    """Complete as neutral every run of ours open longer than `age` seconds; returns how
    many were completed."""
    done = 0
    for run in runs.overdue(age):
        gh = client(run.installation_id)
        try:
            if run.run_id is None:
                found = await find_run(gh, run)
                if found is None:  # the create never landed: nothing to complete
                    runs.closed(run)
                    continue
                run.run_id = int(found["id"])
            # Unsure: a completion whose answer was lost may have landed (a failure, say),
            # so the run is read first and a completed one is left as it is.
            await RunUpdates(gh, run, [completion("neutral", title, summary)],
                             unsure=True).send(attempts=3)
        except (GitHubError, gidgethub.HTTPException) as exc:
            log.error("sweep: cannot complete check run %s: %s", run.run_id,
                      describe_error(exc))
            continue
        runs.closed(run)
        log.warning("sweep completed check run %s left open", run.run_id,
                    extra={"repository": f"{run.owner}/{run.repo}", "head_sha": run.head_sha})
        done += 1
    return done
