"""`pystd queue list | retry ID | cancel ID`: what an operator sees of and does to the
job queue, on the store PYSTD_QUEUE_URL names."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from pystd.bot import messages
from pystd.bot.settings import Settings
from pystd.bot.store import Job, JobStore, StoreError, store_for

LIST_LIMIT = 50


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def job_line(job: Job) -> str:
    """One job as a line of `pystd queue list`."""
    error = f"  ({job.error})" if job.error else ""
    return (f"{job.id:>6}  {job.state:<10}  {job.attempts:>2}  {_when(job.created_at)}  "
            f"{job.label or job.lock_key}  delivery {job.delivery_id}{error}")


def open_run_heads(job: Job) -> list[str]:
    """The heads at which `job` may have left a check run `in_progress`: those an
    interrupted earlier job handed it (`carried`), and its own once an attempt ran (a job
    waiting for its retry keeps its run open, bot/publish.py `postpone_check_run`)."""
    return list(dict.fromkeys([*job.carried, *([job.head] if job.head and job.attempts else [])]))


async def _waiting(store: JobStore, job_id: int) -> Job | None:
    return next((job for job in await store.jobs(["waiting"], limit=100_000)
                 if job.id == job_id), None)


async def close_cancelled_runs(settings: Settings, err: Callable[[str], None], job: Job
                               ) -> None:
    """Complete `neutral` the check runs a cancelled job may have left open, as the queue
    does for a job it gives up; without the App's credentials, say which stay open."""
    if not settings.configured:
        err(messages.QUEUE_CANCEL_RUNS_OPEN.format(
            job_id=job.id, heads=", ".join(head[:12] for head in open_run_heads(job))))
        return
    from pystd.bot.review_jobs import ServicesRunner
    from pystd.bot.runtime import running

    async with running(settings, workers=0) as runtime:
        await ServicesRunner(runtime.services).give_up(job, messages.QUEUE_CANCELLED_REASON)


async def _run(store: JobStore, action: str, job_id: int | None, states: list[str],
               out: Callable[[str], None],
               close: Callable[[Job], Awaitable[None]] | None = None) -> int:
    try:
        await store.open()
        if action == "list":
            jobs = await store.jobs(states, limit=LIST_LIMIT)
            for job in jobs:
                out(job_line(job))
            if not jobs:
                out(messages.QUEUE_EMPTY)
            return 0
        assert job_id is not None
        cancelled = await _waiting(store, job_id) if action == "cancel" else None
        change: dict[str, Callable[[JobStore], object]] = {
            "retry": lambda s: s.retry(job_id, time.time()),
            "cancel": lambda s: s.cancel(job_id, time.time())}
        if not await change[action](store):  # type: ignore[misc]
            out(messages.QUEUE_NO_SUCH_JOB.format(action=action, job_id=job_id))
            return 1
        outcome = "waits to run again" if action == "retry" else "cancelled"
        out(messages.QUEUE_DONE.format(action=action, job_id=job_id, outcome=outcome))
        if cancelled is not None and close is not None and open_run_heads(cancelled):
            await close(cancelled)  # no check run is left `in_progress` by a cancel
        return 0
    finally:
        await store.close()


def queue_command(url: str, timeout: float, action: str, job_id: int | None,
                  states: list[str], out: Callable[[str], None],
                  err: Callable[[str], None],
                  close: Callable[[Job], Awaitable[None]] | None = None) -> int:
    """Exit 0 done, 1 nothing to do (no such job), 2 the store cannot be used. `close`
    completes the check runs a cancelled job may have left open."""
    try:
        return asyncio.run(_run(store_for(url, timeout=timeout), action, job_id, states, out,
                                close))
    except (StoreError, ValueError) as exc:
        err(messages.QUEUE_UNAVAILABLE.format(command="queue", reason=exc))
        return 2
