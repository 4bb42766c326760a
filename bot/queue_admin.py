"""`pystd queue list | retry ID | cancel ID`: what an operator sees of and does to the
job queue, on the store PYSTD_QUEUE_URL names."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

import aiohttp

from pystd.bot import messages
from pystd.bot.settings import Settings, SettingsError
from pystd.bot.store import Job, JobStore, StoreError, store_for
from pystd.bot.store.base import carried_heads

LIST_LIMIT = 50


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def job_line(job: Job) -> str:
    """One job as a line of `pystd queue list`."""
    error = f"  ({job.error})" if job.error else ""
    return (f"{job.id:>6}  {job.state:<10}  {job.attempts:>2}  {_when(job.created_at)}  "
            f"{job.label or job.lock_key}  delivery {job.delivery_id}{error}")


async def close_cancelled_runs(settings: Settings, err: Callable[[str], None], job: Job
                               ) -> None:
    """Complete `neutral` the check runs a cancelled job may have left open (its own once
    an attempt ran, those it carried), as the queue does for a job it gives up. When
    GitHub cannot be reached from here (no credentials, an unreadable key), say which runs
    stay open instead."""
    heads = carried_heads(job)
    open_runs = messages.QUEUE_CANCEL_RUNS_OPEN.format(
        job_id=job.id, heads=", ".join(head[:12] for head in heads))
    if not settings.configured:
        err(open_runs)
        return
    from pystd.bot.review_jobs import ServicesRunner
    from pystd.bot.runtime import running

    # Only those heads: at a head it never reached, a run is another job's, maybe live.
    only = replace(job, head=None, carried=heads)
    try:
        async with running(settings, workers=0) as runtime:
            await ServicesRunner(runtime.services).give_up(only, messages.QUEUE_CANCELLED_REASON)
    except (SettingsError, StoreError, OSError, aiohttp.ClientError, TimeoutError) as exc:
        err(f"{open_runs} ({exc})")


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
        cancelled = await store.job(job_id) if action == "cancel" else None
        change: dict[str, Callable[[JobStore], object]] = {
            "retry": lambda s: s.retry(job_id, time.time()),
            "cancel": lambda s: s.cancel(job_id, time.time())}
        if not await change[action](store):  # type: ignore[misc]
            out(messages.QUEUE_NO_SUCH_JOB.format(action=action, job_id=job_id))
            return 1
        outcome = "waits to run again" if action == "retry" else "cancelled"
        out(messages.QUEUE_DONE.format(action=action, job_id=job_id, outcome=outcome))
        if cancelled is not None and close is not None and carried_heads(cancelled):
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
