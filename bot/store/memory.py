"""`memory://`: the store's contract in one process's memory, for tests. Nothing survives
the process; SQLite is the default for that."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace

from pystd.bot.store.base import (
    CANCELLED,
    DONE,
    FAILED,
    FINISHED,
    RUNNING,
    STATES,
    SUPERSEDED,
    WAITING,
    DuplicateDelivery,
    Job,
    NewJob,
    QueueStats,
    carried_heads,
)


class MemoryStore:
    """Jobs and delivery ids in dicts; every method is atomic (no await inside)."""

    def __init__(self) -> None:
        self._jobs: dict[int, Job] = {}
        self._deliveries: dict[str, float] = {}
        self._cache: dict[str, tuple[bytes, float]] = {}
        self._ids = itertools.count(1)

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def _waiting_under(self, coalesce_key: str, but: int | None = None) -> Job | None:
        for job in self._jobs.values():
            if job.coalesce_key == coalesce_key and job.state == WAITING and job.id != but:
                return job
        return None

    async def enqueue(self, delivery_id: str, job: NewJob, now: float) -> int:
        if delivery_id in self._deliveries:
            raise DuplicateDelivery(delivery_id)
        self._deliveries[delivery_id] = now
        old = self._waiting_under(job.coalesce_key)
        if old is not None:
            self._jobs[old.id] = replace(old, state=SUPERSEDED, updated_at=now)
        new = Job(next(self._ids), job.kind, job.lock_key, job.coalesce_key, dict(job.payload),
                  job.head, job.label, delivery_id, WAITING, 0, now, now, now,
                  carried=carried_heads(old))
        self._jobs[new.id] = new
        return new.id

    async def claim(self, worker: str, now: float, lease: float) -> Job | None:
        busy = {j.lock_key for j in self._jobs.values() if j.state == RUNNING}
        due = [j for j in self._jobs.values()
               if j.state == WAITING and j.run_at <= now and j.lock_key not in busy]
        if not due:
            return None
        job = min(due, key=lambda j: (j.run_at, j.id))
        claimed = replace(job, state=RUNNING, attempts=job.attempts + 1, worker=worker,
                          lease_until=now + lease, updated_at=now)
        self._jobs[job.id] = claimed
        return claimed

    def _mine(self, job_id: int, worker: str) -> Job | None:
        job = self._jobs.get(job_id)
        if job is None or job.state != RUNNING or job.worker != worker:
            return None
        return job

    async def heartbeat(self, job_id: int, worker: str, now: float, lease: float) -> bool:
        job = self._mine(job_id, worker)
        if job is None:
            return False
        self._jobs[job_id] = replace(job, lease_until=now + lease, updated_at=now)
        return True

    async def finish(self, job_id: int, worker: str, state: str, now: float,
                     error: str | None = None) -> bool:
        assert state in (DONE, FAILED)
        job = self._mine(job_id, worker)
        if job is None:
            return False
        self._jobs[job_id] = replace(job, state=state, error=error, lease_until=None,
                                     updated_at=now)
        return True

    async def reschedule(self, job_id: int, worker: str, at: float, now: float,
                         error: str | None = None, *, count_attempt: bool = True) -> bool:
        job = self._mine(job_id, worker)
        if job is None:
            return False
        self._back_to_waiting(job, at, now, error, count_attempt)
        return True

    def _back_to_waiting(self, job: Job, at: float, now: float, error: str | None,
                         count_attempt: bool) -> None:
        newer = self._waiting_under(job.coalesce_key, but=job.id)
        if newer is not None:
            self._jobs[job.id] = replace(job, state=SUPERSEDED, error=error, updated_at=now,
                                         lease_until=None)
            self._jobs[newer.id] = replace(newer, carried=tuple(dict.fromkeys(
                (*newer.carried, *carried_heads(job)))))
            return
        attempts = job.attempts if count_attempt else job.attempts - 1
        self._jobs[job.id] = replace(job, state=WAITING, run_at=at, error=error, worker=None,
                                     lease_until=None, updated_at=now, attempts=attempts)

    async def sweep(self, now: float) -> int:
        stalled = [j for j in self._jobs.values()
                   if j.state == RUNNING and (j.lease_until or 0) < now]
        for job in stalled:
            self._back_to_waiting(job, now, now, "stalled: the worker stopped renewing", True)
        return len(stalled)

    async def prune(self, before: float) -> int:
        old = [i for i, j in self._jobs.items() if j.state in FINISHED and j.updated_at < before]
        for job_id in old:
            del self._jobs[job_id]
        for delivery_id in [d for d, t in self._deliveries.items() if t < before]:
            del self._deliveries[delivery_id]
        for key in [k for k, (_, t) in self._cache.items() if t < before]:
            del self._cache[key]
        return len(old)

    async def stats(self, now: float) -> QueueStats:
        by_state = dict.fromkeys(STATES, 0)
        oldest = 0.0
        stalled = due = 0
        for job in self._jobs.values():
            by_state[job.state] += 1
            if job.state == WAITING and job.run_at <= now:
                oldest = max(oldest, now - job.run_at)
                due += 1
            if job.state == RUNNING and (job.lease_until or 0) < now:
                stalled += 1
        return QueueStats(by_state, oldest, stalled, due)

    async def jobs(self, states: Iterable[str] = (), limit: int = 100) -> list[Job]:
        wanted = set(states)
        found = [j for j in self._jobs.values() if not wanted or j.state in wanted]
        return sorted(found, key=lambda j: -j.id)[:limit]

    async def job(self, job_id: int) -> Job | None:
        return self._jobs.get(job_id)

    async def retry(self, job_id: int, now: float) -> bool:
        job = self._jobs.get(job_id)
        if job is None or job.state not in (FAILED, CANCELLED, DONE):
            return False
        if self._waiting_under(job.coalesce_key) is not None:
            return False  # a newer job of the same pull request waits already
        self._jobs[job_id] = replace(job, state=WAITING, attempts=0, run_at=now, error=None,
                                     updated_at=now)
        return True

    async def cancel(self, job_id: int, now: float) -> bool:
        job = self._jobs.get(job_id)
        if job is None or job.state != WAITING:
            return False
        self._jobs[job_id] = replace(job, state=CANCELLED, updated_at=now)
        return True

    async def listen(self, wake: Callable[[], Awaitable[None]]) -> None:
        return None  # one process: JobQueue.submit wakes its workers itself

    async def cache_get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        return {k: self._cache[k][0] for k in keys if k in self._cache}

    async def cache_put_many(self, items: Mapping[str, bytes], now: float) -> None:
        for key, value in items.items():
            self._cache[key] = (value, now)
