"""The queue's workers on a store: retries with backoff and a maximum of attempts, a rate
limit's reset, a dead worker's job taken over, and the webhook's answers when the store
refuses (503) or knows the delivery (200). The clock is the test's."""

from __future__ import annotations

import pytest

from pystd.bot.queue import Deferred, JobFailed, JobQueue, QueueTuning
from pystd.bot.store import Job, NewJob, StoreError
from pystd.bot.store.base import DONE, FAILED, WAITING
from pystd.bot.store.memory import MemoryStore
from pystd.bot.webhooks import SEEN_DELIVERIES, SERVICES
from tests.bot.drivers import add_pr, open_pr, settle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Script:
    """A runner that answers each run with the next scripted outcome."""

    def __init__(self, *outcomes: BaseException | None) -> None:
        self.outcomes = list(outcomes)
        self.attempts: list[int] = []
        self.given_up: list[str] = []

    async def run(self, job: Job) -> None:
        self.attempts.append(job.attempts)
        outcome = self.outcomes.pop(0)
        if outcome is not None:
            raise outcome

    async def give_up(self, job: Job, reason: str) -> None:
        self.given_up.append(reason)


def job(pr: int = 1) -> NewJob:
    return NewJob("review", f"pr:o/r#{pr}", f"pr:o/r#{pr}", {"number": pr}, head="a" * 40)


async def run_until_settled(queue: JobQueue, clock: Clock, advance: float = 0) -> None:
    clock.now += advance
    await queue.wake()
    await queue.join()


@pytest.fixture
async def setup():
    clock = Clock()
    store = MemoryStore()
    tuning = QueueTuning(lease=30, max_attempts=3, retry_delay=10, retry_max_delay=15, poll=0.05)
    queues: list[JobQueue] = []

    def make(runner: Script) -> JobQueue:
        queue = JobQueue(store, tuning, clock=clock)
        queue.start(runner, workers=1)
        queues.append(queue)
        return queue

    yield clock, store, make
    for queue in queues:
        await queue.close(drain_timeout=1)


async def test_a_failing_job_is_retried_with_backoff_then_given_up(setup):
    clock, store, make = setup
    runner = Script(JobFailed("502"), JobFailed("502"), JobFailed("502"))
    queue = make(runner)
    await queue.submit("d-1", job())
    await run_until_settled(queue, clock)
    assert runner.attempts == [1]
    await run_until_settled(queue, clock, advance=9)  # backoff 10 s: not yet
    assert runner.attempts == [1]
    await run_until_settled(queue, clock, advance=1)
    await run_until_settled(queue, clock, advance=15)  # doubled, capped at 15
    assert runner.attempts == [1, 2, 3]
    assert runner.given_up == ["JobFailed: 502"]
    (stored,) = await store.jobs()
    assert (stored.state, stored.error) == (FAILED, "JobFailed: 502")


async def test_a_rate_limited_job_runs_at_the_reset_without_spending_an_attempt(setup):
    clock, store, make = setup
    runner = Script(Deferred(600), Deferred(600), Deferred(600), None)
    queue = make(runner)
    await queue.submit("d-1", job())
    for _ in range(3):
        await run_until_settled(queue, clock, advance=600)
    await run_until_settled(queue, clock, advance=600)
    assert runner.attempts == [1, 1, 1, 1]  # never given up for waiting
    assert [j.state for j in await store.jobs()] == [DONE]


async def test_a_dead_workers_job_is_run_by_another_within_its_lease(setup):
    clock, store, make = setup
    await store.enqueue("d-1", job(), now=clock.now)
    await store.claim("a-worker-that-died", now=clock.now, lease=30)
    clock.now += 10
    assert await store.sweep(clock.now) == 0
    assert await store.claim("another", now=clock.now, lease=30) is None  # its lease holds
    runner = Script(None)
    queue = make(runner)
    clock.now += 21
    assert await store.sweep(clock.now) == 1  # what every process's sweep does
    await run_until_settled(queue, clock)
    assert runner.attempts == [2]
    assert [j.state for j in await store.jobs()] == [DONE]


class DownStore(MemoryStore):
    async def enqueue(self, delivery_id: str, job: NewJob, now: float) -> int:
        raise StoreError("database is locked")


async def test_a_delivery_is_refused_with_503_when_the_store_is_down(bot, delivery, fake_github):
    add_pr(fake_github)
    bot.app[SERVICES].queue.store = DownStore()
    response = await open_pr(bot, delivery, fake_github)
    assert response.status == 503
    assert "unavailable" in (await response.json())["error"]


async def test_a_delivery_seen_before_is_200_and_queues_nothing(bot, delivery, fake_github):
    add_pr(fake_github)
    assert (await open_pr(bot, delivery, fake_github, delivery_id="d-1")).status == 202
    await settle(bot)
    bot.app[SEEN_DELIVERIES].clear()  # what a restart forgets; the store does not
    again = await open_pr(bot, delivery, fake_github, delivery_id="d-1")
    assert again.status == 200
    jobs = await bot.app[SERVICES].queue.store.jobs()
    assert [(j.delivery_id, j.state) for j in jobs] == [("d-1", DONE)]
    assert WAITING not in {j.state for j in jobs}


class StatsDownStore(MemoryStore):
    async def stats(self, now: float):
        raise StoreError("could not connect to server")


async def test_healthz_is_503_when_the_store_does_not_answer(bot, fake_github):
    assert (await bot.get("/healthz")).status == 200
    bot.app[SERVICES].queue.store = StatsDownStore()
    response = await bot.get("/healthz")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "unhealthy" and "could not connect" in body["queue"]


async def test_a_job_queued_by_another_process_wakes_postgresql_workers_at_once(
        postgres_cluster):
    import asyncio
    import time

    import psycopg

    from pystd.bot.store import store_for

    url = postgres_cluster.fresh_database()
    here, there = store_for(url), store_for(url)  # a worker's store, a webhook replica's
    await here.open()
    await there.open()
    ran = asyncio.Event()

    class Flag(Script):
        async def run(self, job: Job) -> None:
            ran.set()

    queue = JobQueue(here, QueueTuning(poll=3600))  # only a notification can wake it
    queue.start(Flag(), workers=1)
    try:
        async with asyncio.timeout(30):
            while True:  # until the worker's LISTEN is in place
                async with await psycopg.AsyncConnection.connect(url) as db:
                    cursor = await db.execute("SELECT count(*) FROM pg_stat_activity "
                                              "WHERE query LIKE 'LISTEN %'")
                    if (await cursor.fetchone())[0]:
                        break
                await asyncio.sleep(0.05)
            await there.enqueue("d-1", job(), now=time.time())
            await ran.wait()
    finally:
        await queue.close(drain_timeout=1)
        await here.close()
        await there.close()
