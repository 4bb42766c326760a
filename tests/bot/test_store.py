"""The job store's contract, run against every store: memory, SQLite and PostgreSQL (a
throw-away cluster, tests/bot/postgres.py; skipped with the reason when the machine has no
PostgreSQL server binaries). Times are given, never read from a clock: each test says what
`now` is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from pystd.bot.store import DuplicateDelivery, JobStore, NewJob, StoreError, store_for
from pystd.bot.store.base import CANCELLED, DONE, FAILED, RUNNING, SUPERSEDED, WAITING
from pystd.bot.store.sqlite import SQLiteStore

LEASE = 30.0


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def store(request, tmp_path) -> AsyncIterator[JobStore]:
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_cluster").fresh_database()
    else:
        url = {"memory": "memory://", "sqlite": f"sqlite:///{tmp_path / 'queue.db'}"}[
            request.param]
    opened = store_for(url)
    await opened.open()
    yield opened
    await opened.close()


def review(pr: int, head: str = "a" * 40, repo: str = "o/r") -> NewJob:
    key = f"{repo}#{pr}"
    return NewJob("review", key, key, {"number": pr, "head_sha": head}, head=head,
                  label=f"review {key}")


async def test_a_delivery_is_accepted_once(store):
    first = await store.enqueue("d-1", review(1), now=100)
    with pytest.raises(DuplicateDelivery):
        await store.enqueue("d-1", review(1, "b" * 40), now=101)
    (job,) = await store.jobs()
    assert (job.id, job.state, job.head, job.delivery_id) == (first, WAITING, "a" * 40, "d-1")


async def test_a_newer_push_replaces_the_waiting_one(store):
    await store.enqueue("d-1", review(1, "a" * 40), now=100)
    await store.enqueue("d-2", review(1, "b" * 40), now=101)
    await store.enqueue("d-3", review(2, "c" * 40), now=102)
    states = {(j.delivery_id, j.state) for j in await store.jobs()}
    assert states == {("d-1", SUPERSEDED), ("d-2", WAITING), ("d-3", WAITING)}
    job = await store.claim("w1", now=103, lease=LEASE)
    assert (job.delivery_id, job.payload["head_sha"], job.attempts) == ("d-2", "b" * 40, 1)


async def test_a_burst_of_deliveries_at_once_gets_each_its_own_answer(store):
    """Deliveries sent together (SQL stores write them in one transaction) are accepted,
    refused as duplicates and coalesced exactly as if they came one by one."""
    await store.enqueue("d-0", review(9), now=99)
    answers = await asyncio.gather(
        store.enqueue("d-0", review(9, "f" * 40), now=100),  # known before the burst
        *(store.enqueue(f"d-{n}", review(n % 3 + 1, f"{n:040x}"), now=100 + n)
          for n in range(1, 10)),
        store.enqueue("d-4", review(1, "e" * 40), now=110),  # twice in the same burst
        return_exceptions=True)
    assert isinstance(answers[0], DuplicateDelivery)
    assert isinstance(answers[-1], DuplicateDelivery)
    ids = answers[1:-1]
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == 9
    waiting = {j.lock_key: j.delivery_id for j in await store.jobs([WAITING])}
    # The last push of each pull request waits; the earlier ones are superseded.
    assert waiting == {"o/r#1": "d-9", "o/r#2": "d-7", "o/r#3": "d-8", "o/r#9": "d-0"}
    assert sum(j.state == SUPERSEDED for j in await store.jobs()) == 6


async def test_one_job_per_pull_request_runs_at_a_time_others_in_parallel(store):
    await store.enqueue("d-1", review(1, "a" * 40), now=100)
    await store.enqueue("d-2", review(2), now=100)
    first = await store.claim("w1", now=101, lease=LEASE)
    # A push while PR 1 is being reviewed waits (one running, one waiting) ...
    await store.enqueue("d-3", review(1, "b" * 40), now=102)
    second = await store.claim("w2", now=103, lease=LEASE)
    assert (first.delivery_id, second.delivery_id) == ("d-1", "d-2")  # PR 2 in parallel
    assert await store.claim("w3", now=104, lease=LEASE) is None  # PR 1 is busy
    assert await store.finish(first.id, "w1", DONE, now=105)
    third = await store.claim("w3", now=106, lease=LEASE)
    assert (third.delivery_id, third.head) == ("d-3", "b" * 40)


async def test_only_the_claiming_worker_may_finish_or_renew(store):
    await store.enqueue("d-1", review(1), now=100)
    job = await store.claim("w1", now=101, lease=LEASE)
    assert not await store.heartbeat(job.id, "w2", now=102, lease=LEASE)
    assert not await store.finish(job.id, "w2", DONE, now=102)
    assert await store.heartbeat(job.id, "w1", now=102, lease=LEASE)
    assert await store.finish(job.id, "w1", DONE, now=103)
    assert not await store.finish(job.id, "w1", DONE, now=104)  # once


async def test_a_dead_workers_job_is_claimed_again_after_its_lease(store):
    await store.enqueue("d-1", review(1), now=100)
    job = await store.claim("dead", now=101, lease=LEASE)
    assert await store.sweep(now=101 + LEASE - 1) == 0  # still leased
    assert (await store.stats(now=101 + LEASE - 1)).stalled == 0
    assert (await store.stats(now=101 + LEASE + 1)).stalled == 1
    assert await store.sweep(now=101 + LEASE + 1) == 1
    again = await store.claim("w2", now=101 + LEASE + 2, lease=LEASE)
    assert (again.id, again.attempts, again.worker) == (job.id, 2, "w2")
    # The dead worker's late answers change nothing.
    assert not await store.finish(job.id, "dead", DONE, now=200)
    assert not await store.heartbeat(job.id, "dead", now=200, lease=LEASE)


async def test_heartbeats_keep_a_long_job(store):
    await store.enqueue("d-1", review(1), now=100)
    job = await store.claim("w1", now=100, lease=LEASE)
    for now in range(110, 200, 10):
        assert await store.heartbeat(job.id, "w1", now=now, lease=LEASE)
        assert await store.sweep(now=now + 1) == 0


async def test_a_stalled_job_with_a_newer_push_waiting_hands_it_its_head(store):
    await store.enqueue("d-1", review(1, "a" * 40), now=100)
    await store.claim("dead", now=101, lease=LEASE)
    await store.enqueue("d-2", review(1, "b" * 40), now=102)
    assert await store.sweep(now=200) == 1
    states = {j.delivery_id: j.state for j in await store.jobs()}
    assert states == {"d-1": SUPERSEDED, "d-2": WAITING}
    job = await store.claim("w2", now=201, lease=LEASE)
    # The newer job closes the check run the dead one may have left open at its head.
    assert (job.delivery_id, job.carried) == ("d-2", ("a" * 40,))


async def test_a_retry_waits_for_its_backoff(store):
    await store.enqueue("d-1", review(1), now=100)
    job = await store.claim("w1", now=100, lease=LEASE)
    assert await store.reschedule(job.id, "w1", at=160, now=101, error="502 from GitHub")
    assert await store.claim("w1", now=159, lease=LEASE) is None
    again = await store.claim("w1", now=160, lease=LEASE)
    assert (again.id, again.attempts, again.error) == (job.id, 2, "502 from GitHub")


async def test_a_rate_limit_reschedules_without_spending_an_attempt(store):
    await store.enqueue("d-1", review(1), now=100)
    job = await store.claim("w1", now=100, lease=LEASE)
    assert await store.reschedule(job.id, "w1", at=3700, now=101, count_attempt=False)
    assert (await store.stats(now=200)).waiting == 1
    assert (await store.stats(now=200)).oldest_waiting_seconds == 0  # not due yet
    again = await store.claim("w1", now=3700, lease=LEASE)
    assert again.attempts == 1


async def test_a_failed_job_can_be_retried_and_a_waiting_one_cancelled(store):
    await store.enqueue("d-1", review(1), now=100)
    await store.enqueue("d-2", review(2), now=100)
    job = await store.claim("w1", now=100, lease=LEASE)
    assert await store.finish(job.id, "w1", FAILED, now=101, error="gave up")
    assert await store.retry(job.id, now=102)
    assert not await store.retry(job.id, now=102)  # waiting already
    other = next(j for j in await store.jobs() if j.delivery_id == "d-2")
    assert await store.cancel(other.id, now=103)
    assert not await store.cancel(other.id, now=103)
    again = await store.claim("w1", now=104, lease=LEASE)
    assert (again.id, again.attempts) == (job.id, 1)
    assert {j.state for j in await store.jobs([CANCELLED])} == {CANCELLED}
    assert (await store.job(other.id)).state == CANCELLED  # one job by id, any state
    assert await store.job(10_000) is None


async def test_stats_count_states_and_the_oldest_waiting_job(store):
    await store.enqueue("d-1", review(1), now=100)
    await store.enqueue("d-2", review(2), now=110)
    await store.claim("w1", now=120, lease=LEASE)
    stats = await store.stats(now=130)
    assert (stats.by_state[WAITING], stats.by_state[RUNNING]) == (1, 1)
    assert stats.oldest_waiting_seconds == 20


async def test_finished_jobs_and_deliveries_are_pruned_after_the_retention(store):
    await store.enqueue("d-1", review(1), now=100)
    job = await store.claim("w1", now=100, lease=LEASE)
    await store.finish(job.id, "w1", DONE, now=101)
    await store.enqueue("d-2", review(2), now=102)  # still waiting: kept
    assert await store.prune(before=101.5) == 1
    assert [j.delivery_id for j in await store.jobs()] == ["d-2"]
    await store.enqueue("d-1", review(1), now=103)  # its id was forgotten with it


async def test_cached_results_round_trip(store):
    await store.cache_put_many({"k1": b"one", "k2": b"\x00two"}, now=100)
    assert await store.cache_get_many(["k1", "k2", "k3"]) == {"k1": b"one", "k2": b"\x00two"}
    assert await store.cache_get_many([]) == {}


async def test_sqlite_survives_a_reopen(tmp_path):
    path = tmp_path / "data" / "queue.db"
    first = SQLiteStore(path)
    await first.open()
    await first.enqueue("d-1", review(1), now=100)
    await first.close()
    second = SQLiteStore(path)
    await second.open()
    with pytest.raises(DuplicateDelivery):
        await second.enqueue("d-1", review(1), now=101)
    assert [j.delivery_id for j in await second.jobs()] == ["d-1"]
    await second.close()


async def test_sqlite_unusable_file_is_a_store_error(tmp_path):
    (tmp_path / "blocker").write_text("not a folder")
    broken = SQLiteStore(tmp_path / "blocker" / "queue.db")
    with pytest.raises(StoreError):
        await broken.open()
    await broken.close()


async def test_sql_stores_write_a_burst_in_a_few_transactions(tmp_path):
    """Group commit: deliveries that arrive while a transaction is written go together in
    the next one, instead of each waiting for a transaction of its own."""
    store = SQLiteStore(tmp_path / "queue.db")
    await store.open()
    transactions = []
    begin = store._begin
    store._begin = lambda db: (transactions.append(1), begin(db))[1]  # type: ignore[method-assign]
    await asyncio.gather(*(store.enqueue(f"d-{n}", review(n), now=100) for n in range(50)))
    assert len(await store.jobs([WAITING])) == 50
    assert 1 <= len(transactions) <= 2
    await store.close()


async def test_a_failed_group_fails_each_of_its_deliveries(tmp_path):
    (tmp_path / "blocker").write_text("not a folder")
    broken = SQLiteStore(tmp_path / "blocker" / "queue.db")
    answers = await asyncio.gather(*(broken.enqueue(f"d-{n}", review(n), now=100)
                                     for n in range(5)), return_exceptions=True)
    assert all(isinstance(a, StoreError) for a in answers)
    await broken.close()


async def test_a_delivery_whose_sender_went_away_is_still_written_once(tmp_path):
    """A webhook handler cancelled while its delivery waits for the group commit: the
    delivery is written all the same (a redelivery is then a duplicate)."""
    store = SQLiteStore(tmp_path / "queue.db")
    await store.open()
    sender = asyncio.create_task(store.enqueue("d-1", review(1), now=100))
    await asyncio.sleep(0)  # it has joined the group
    sender.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sender
    with pytest.raises(DuplicateDelivery):
        await store.enqueue("d-1", review(1), now=101)
    assert [j.delivery_id for j in await store.jobs()] == ["d-1"]
    await store.close()
