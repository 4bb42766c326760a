"""`pystd queue list | retry ID | cancel ID`: what an operator sees of and does to the
job queue, on the store PYSTD_QUEUE_URL names."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

from pystd.bot import messages
from pystd.bot.store import Job, JobStore, StoreError, store_for

LIST_LIMIT = 50


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")


def job_line(job: Job) -> str:
    """One job as a line of `pystd queue list`."""
    error = f"  ({job.error})" if job.error else ""
    return (f"{job.id:>6}  {job.state:<10}  {job.attempts:>2}  {_when(job.created_at)}  "
            f"{job.label or job.lock_key}  delivery {job.delivery_id}{error}")


async def _run(store: JobStore, action: str, job_id: int | None, states: list[str],
               out: Callable[[str], None]) -> int:
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
        change: dict[str, Callable[[JobStore], object]] = {
            "retry": lambda s: s.retry(job_id, time.time()),
            "cancel": lambda s: s.cancel(job_id, time.time())}
        if not await change[action](store):  # type: ignore[misc]
            out(messages.QUEUE_NO_SUCH_JOB.format(action=action, job_id=job_id))
            return 1
        outcome = "waits to run again" if action == "retry" else "cancelled"
        out(messages.QUEUE_DONE.format(action=action, job_id=job_id, outcome=outcome))
        return 0
    finally:
        await store.close()


def queue_command(url: str, timeout: float, action: str, job_id: int | None,
                  states: list[str], out: Callable[[str], None],
                  err: Callable[[str], None]) -> int:
    """Exit 0 done, 1 nothing to do (no such job), 2 the store cannot be used."""
    try:
        return asyncio.run(_run(store_for(url, timeout=timeout), action, job_id, states, out))
    except (StoreError, ValueError) as exc:
        err(messages.QUEUE_UNAVAILABLE.format(command="queue", reason=exc))
        return 2
