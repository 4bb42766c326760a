"""The job queue on a durable store (bot/store): webhooks `submit` a job and answer once it
is written; worker tasks claim jobs, hold a lease renewed by heartbeats while they run them,
and end each as done, rescheduled (a retry with backoff; a rate limit's reset) or failed.

The same class runs in `pystd serve` (webhooks and, by default, workers) and in
`pystd worker` (workers only). A sweep in every process puts back the jobs of a worker
that died (its lease ran out), so another worker retries them within a minute, and prunes
what is older than the retention.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol

from pystd.bot.store.base import DONE, FAILED, RETENTION_SECONDS, Job, JobStore, NewJob, QueueStats
from pystd.bot.store.base import StoreError as StoreError

log = logging.getLogger(__name__)

PRUNE_EVERY = 3600.0  # seconds between two prunes of what is past the retention
WAKE_GATHER = 0.05  # seconds of other processes' notifications answered by one wake-up


class Deferred(Exception):
    """Run the job again in `wait` seconds without spending an attempt: GitHub asked to
    wait (a rate limit's reset or Retry-After)."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"deferred for {wait:.0f} s")
        self.wait = wait


class JobFailed(Exception):
    """The job could not do its work this time: retried with backoff."""


class Runner(Protocol):
    """What the queue runs: the work of a job, and what to do once it is given up."""

    async def run(self, job: Job) -> None:
        """Do the job's work; raise Deferred to wait, anything else to be retried."""

    async def give_up(self, job: Job, reason: str) -> None: ...


@dataclass(frozen=True)
class QueueTuning:
    """How jobs are leased and retried (from Settings)."""

    lease: float = 30.0  # seconds a claim holds without a heartbeat
    max_attempts: int = 5
    retry_delay: float = 30.0  # seconds before the first retry; doubles per attempt
    retry_max_delay: float = 900.0
    poll: float = 1.0  # seconds between looks at the store when nothing woke the workers
    retention: float = RETENTION_SECONDS

    def backoff(self, attempts: int) -> float:
        return min(self.retry_max_delay, self.retry_delay * 2 ** max(attempts - 1, 0))


def worker_name() -> str:
    return f"{socket.gethostname()}-{secrets.token_hex(4)}"


class JobQueue:
    """Submit jobs to the store; run `workers` tasks that claim and run them."""

    def __init__(self, store: JobStore, tuning: QueueTuning | None = None, *,
                 clock: Callable[[], float] = time.time,
                 on_finished: Callable[[float], None] | None = None) -> None:
        """`on_finished(seconds)` is told how long each job took from its delivery to its
        end, for the latency histogram."""
        self.store = store
        self.tuning = tuning or QueueTuning()
        self.clock = clock
        self.name = worker_name()
        self._on_finished = on_finished
        self._changed = asyncio.Condition()
        self._tasks: list[asyncio.Task[None]] = []  # the workers
        self._background: list[asyncio.Task[None]] = []  # the sweep, the listener
        self._queued_elsewhere = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._draining = False
        self.stats = QueueStats()
        self.queued_total = 0
        self.completed = 0
        self.failed = 0

    @property
    def depth(self) -> int:
        """Jobs waiting, as of the last look at the store."""
        return self.stats.waiting

    @property
    def running_jobs(self) -> int:
        """Jobs this process runs now."""
        return len(self._running)

    @property
    def alive(self) -> bool:
        """Whether the worker tasks and the sweep still run (a task that ended by an
        error leaves its jobs unclaimed: /healthz then says so). The listener may end
        normally: SQLite has none."""
        tasks = [*self._tasks, *self._background[:1]]  # the workers, the sweep
        return bool(tasks) and not self._draining and not any(t.done() for t in tasks)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def submit(self, delivery_id: str, job: NewJob) -> int:
        """Write the delivery id and its job (DuplicateDelivery, StoreError); then wake
        this process's workers."""
        job_id = await self.store.enqueue(delivery_id, job, self.clock())
        self.queued_total += 1
        log.info("job queued", extra={"delivery_id": delivery_id, "job": job_id,
                                      "kind": job.kind, "key": job.lock_key})
        await self._notify()
        return job_id

    async def refresh_stats(self) -> QueueStats:
        self.stats = await self.store.stats(self.clock())
        return self.stats

    # -- workers -----------------------------------------------------------------------

    def start(self, runner: Runner, workers: int) -> None:
        """Start `workers` worker tasks (0: this process only queues) and the sweep."""
        self._tasks = [asyncio.create_task(self._work(runner), name=f"pystd-worker-{i}")
                       for i in range(workers)]
        self._background = [asyncio.create_task(self._maintain(), name="pystd-queue-sweep")]
        if workers:  # jobs queued by other processes wake this one's workers at once
            self._background += [
                asyncio.create_task(self.store.listen(self._wake_soon),
                                    name="pystd-queue-listen"),
                asyncio.create_task(self._wake_gathered(), name="pystd-queue-wake")]

    async def _wake_soon(self) -> None:
        """Another process queued a job (the store's listener says so)."""
        self._queued_elsewhere.set()

    async def _wake_gathered(self) -> None:
        """Wake the workers once for what other processes queued within WAKE_GATHER
        seconds: a burst of deliveries costs a few rounds of claims, not one per job (each
        claim takes the store's write lock, which the webhooks need too)."""
        while True:
            await self._queued_elsewhere.wait()
            await asyncio.sleep(WAKE_GATHER)
            self._queued_elsewhere.clear()  # what comes after this gets a round of its own
            await self._notify()

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with self._changed:
                await asyncio.wait_for(self._changed.wait(), self.tuning.poll)

    async def _work(self, runner: Runner) -> None:
        while True:
            try:
                job = await self.store.claim(self.name, self.clock(), self.tuning.lease)
            except StoreError as exc:
                log.error("cannot claim a job: %s", exc)
                job = None
            if job is None:
                if self._draining:
                    return
                await self._idle()
                continue
            # Shielded: a shutdown's cancellation reaches the job, which completes its
            # check run, and the outcome is still written to the store.
            task = asyncio.create_task(self._run_one(runner, job), name=f"pystd-job-{job.id}")
            self._running.add(task)
            try:
                await asyncio.shield(task)
            finally:
                self._running.discard(task)

    async def _run_one(self, runner: Runner, job: Job) -> None:
        extra = {"delivery_id": job.delivery_id, "job": job.id, "kind": job.kind,
                 "key": job.lock_key, "attempt": job.attempts, "head_sha": job.head}
        beat = asyncio.create_task(self._heartbeat(job), name=f"pystd-heartbeat-{job.id}")
        try:
            if job.attempts > self.tuning.max_attempts:
                await self._give_up(runner, job, job.error or "too many attempts")
                return
            try:
                await runner.run(job)
            except Deferred as later:
                log.info("job rescheduled", extra={**extra, "wait": later.wait})
                await self._settle(self.store.reschedule(
                    job.id, self.name, self.clock() + later.wait, self.clock(),
                    "rate limited", count_attempt=False))
                return
            except asyncio.CancelledError:
                log.warning("job stopped by shutdown; it runs again at the next start",
                            extra=extra)
                await self._settle(self.store.reschedule(
                    job.id, self.name, self.clock(), self.clock(), "stopped by shutdown",
                    count_attempt=False))
                raise
            except Exception as exc:  # the job's own failure: retried, then given up
                reason = f"{type(exc).__name__}: {exc}"
                if isinstance(exc, JobFailed):  # said why: no traceback to show
                    log.warning("job failed", extra={**extra, "error": reason})
                else:
                    log.exception("job failed", extra={**extra, "error": reason})
                if job.attempts >= self.tuning.max_attempts:
                    await self._give_up(runner, job, reason)
                    return
                at = self.clock() + self.tuning.backoff(job.attempts)
                await self._settle(self.store.reschedule(job.id, self.name, at, self.clock(),
                                                         reason))
                return
            await self._settle(self.store.finish(job.id, self.name, DONE, self.clock()))
            self.completed += 1
            if self._on_finished is not None:
                self._on_finished(max(self.clock() - job.created_at, 0.0))
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            await self._notify()

    async def _give_up(self, runner: Runner, job: Job, reason: str) -> None:
        log.error("job given up", extra={"delivery_id": job.delivery_id, "job": job.id,
                                         "attempt": job.attempts, "error": reason})
        self.failed += 1
        try:
            await runner.give_up(job, reason)
        finally:
            await self._settle(self.store.finish(job.id, self.name, FAILED, self.clock(),
                                                 reason))

    async def _settle(self, write: object) -> None:
        """Write a job's outcome; if the store is down, the lease runs out and the sweep
        hands the job to a worker again (it is done at least once, never lost)."""
        try:
            await write  # type: ignore[misc]
        except StoreError as exc:
            log.error("cannot record a job's outcome: %s", exc)

    async def _heartbeat(self, job: Job) -> None:
        every = self.tuning.lease / 3
        while True:
            await asyncio.sleep(every)
            try:
                mine = await self.store.heartbeat(job.id, self.name, self.clock(),
                                                  self.tuning.lease)
            except StoreError as exc:
                log.warning("heartbeat not recorded: %s", exc, extra={"job": job.id})
                continue
            if not mine:
                log.warning("job taken over by another worker (lease lost)",
                            extra={"job": job.id})
                return

    async def _maintain(self) -> None:
        """Every third of a lease: stalled jobs back to waiting; every hour: prune."""
        pruned_at = 0.0
        while True:
            try:
                if await self.store.sweep(self.clock()):
                    log.warning("stalled jobs put back to waiting")
                    await self._notify()
                if self.clock() - pruned_at > PRUNE_EVERY:
                    pruned_at = self.clock()
                    await self.store.prune(pruned_at - self.tuning.retention)
                await self.refresh_stats()
            except StoreError as exc:
                log.error("queue sweep failed: %s", exc)
            await asyncio.sleep(self.tuning.lease / 3)

    async def join(self) -> None:
        """Until no job runs or is due (tests, the benchmark); jobs that wait for a later
        time (a retry's backoff, a rate limit's reset) do not count."""
        while (await self.refresh_stats()).busy:
            await self._idle()

    async def wake(self) -> None:
        """Have the workers look at the store now (the clock moved, in tests)."""
        await self._notify()

    async def close(self, drain_timeout: float = 60.0) -> None:
        """Run what is due for up to `drain_timeout` seconds, then cancel the jobs still
        running (each completes its check run and waits again for the next start)."""
        self._draining = True
        await self._notify()
        workers, background = self._tasks, self._background
        if workers:
            _, pending = await asyncio.wait(workers, timeout=drain_timeout)
            if pending:
                log.warning("shutdown: %d job(s) not finished in %.0f s", len(self._running),
                            drain_timeout)
            for task in [*self._running, *pending]:
                task.cancel()
            await asyncio.gather(*self._running, *pending, return_exceptions=True)
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        self._tasks, self._background = [], []


@contextlib.asynccontextmanager
async def opened(store: JobStore) -> AsyncIterator[JobStore]:
    """The store, its tables created, closed at the end."""
    await store.open()
    try:
        yield store
    finally:
        await store.close()


class KeyedLocks:
    """One asyncio.Lock per key (a pull request), forgotten once nobody holds or awaits
    it: the jobs of one key run one at a time whatever queue keys they came under."""

    def __init__(self) -> None:
        self._locks: dict[object, tuple[asyncio.Lock, list[int]]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @contextlib.asynccontextmanager
    async def hold(self, key: object) -> AsyncIterator[None]:
        lock, users = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self._locks[key]
