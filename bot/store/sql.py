"""The job store's contract in SQL, shared by SQLite and PostgreSQL (their modules say
how to connect, how a write transaction takes its lock, and their schema).

Every call runs on one dedicated thread per store, with a plain DB-API connection, off the
event loop, and is timed out: a locked or unreachable database makes the call raise
StoreError, never hangs a webhook. Statements are written with `?` placeholders.

Deliveries are written by group commit: those that arrive while a transaction is being
written go together in the next one (each keeps its own answer: its job id, or
DuplicateDelivery). A burst of 100 deliveries then costs a few transactions, not 100 in a
row, each waiting for the one before (with PostgreSQL, a round trip per statement).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

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
    StoreError,
    carried_heads,
)

T = TypeVar("T")
Connection = Any  # a DB-API connection: sqlite3.Connection or psycopg.Connection

MAX_GROUP = 200  # deliveries written in one transaction at most

COLUMNS = ("id, kind, lock_key, coalesce_key, payload, head, label, delivery_id, state, "
           "attempts, run_at, created_at, updated_at, lease_until, worker, error, carried")


def _job(row: tuple[Any, ...]) -> Job:
    (id_, kind, lock_key, coalesce_key, payload, head, label, delivery_id, state, attempts,
     run_at, created_at, updated_at, lease_until, worker, error, carried) = row
    return Job(id_, kind, lock_key, coalesce_key, json.loads(payload), head, label,
               delivery_id, state, attempts, run_at, created_at, updated_at, lease_until,
               worker, error, tuple(json.loads(carried)))


@dataclass
class _Delivery:
    """A delivery waiting for the next group commit, and where its answer goes."""

    delivery_id: str
    job: NewJob
    now: float
    answer: asyncio.Future[int]


def _retrieved(future: asyncio.Future[int]) -> None:
    """Mark a late answer nobody awaits any more as seen (no "never retrieved" warning)."""
    if not future.cancelled():
        future.exception()


class SQLStore:
    """The contract of bot.store.base in SQL; a subclass connects and locks."""

    SCHEMA = ""
    errors: tuple[type[Exception], ...] = ()  # the driver's errors: StoreError
    duplicate: type[Exception] = Exception  # the driver's unique-violation error

    def __init__(self, where: str, timeout: float = 5.0) -> None:
        self.where = where  # for messages: a path, or a server without its password
        self.timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pystd-store")
        self._db: Connection | None = None
        self._group: list[_Delivery] = []  # deliveries for the next transaction
        self._committer: asyncio.Task[None] | None = None

    def _connect(self) -> Connection:
        raise NotImplementedError

    def _begin(self, db: Connection) -> None:
        """Open a write transaction holding the lock that keeps claims and coalescing
        exact across processes."""
        raise NotImplementedError

    def _sql(self, statement: str) -> str:
        """The statement in the driver's placeholder style."""
        return statement

    def _queued(self, db: Connection) -> None:
        """Tell other processes that a job was queued (inside the transaction)."""

    async def listen(self, wake: Callable[[], Awaitable[None]]) -> None:
        return None  # SQLite cannot tell another process: its workers poll

    def _x(self, db: Connection, statement: str, params: Iterable[Any] = ()) -> Any:
        return db.execute(self._sql(statement), tuple(params))

    # -- plumbing ----------------------------------------------------------------------

    async def _call(self, fn: Callable[[Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout):
                return await loop.run_in_executor(self._executor, self._run, fn)
        except TimeoutError:
            raise StoreError(f"the queue database did not answer in {self.timeout:g} s") from None

    @property
    def _failures(self) -> tuple[type[Exception], ...]:
        """What a failed call to the database raises: the driver's errors, or OSError."""
        return (*self.errors, OSError)

    def _run(self, fn: Callable[[Connection], T]) -> T:
        try:
            if self._db is None:
                self._db = self._connect()
            return fn(self._db)
        except self._failures as exc:
            self._reset()
            raise StoreError(f"queue database {self.where}: {exc}") from exc

    def _reset(self) -> None:
        """After an error the connection may be unusable (a server restarted): the next
        call opens a new one."""
        if self._db is not None:
            # Closing a broken connection may fail too; it is dropped either way.
            with contextlib.suppress(*self._failures):
                self._db.close()
            self._db = None

    def _write(self, db: Connection, fn: Callable[[Connection], T]) -> T:
        self._begin(db)
        try:
            result = fn(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result

    async def open(self) -> None:
        def create(db: Connection) -> None:
            for statement in self.SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
        await self._call(lambda db: self._write(db, create))

    async def close(self) -> None:
        if self._committer is not None:  # the deliveries already accepted are written
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._committer), self.timeout)

        def shut(_db: Connection) -> None:
            if self._db is not None:
                self._db.close()
                self._db = None
        if self._db is not None:
            await self._call(shut)
        self._executor.shutdown(wait=False)

    # -- the queue ---------------------------------------------------------------------

    def _waiting_under(self, db: Connection, coalesce_key: str, but: int = -1) -> Job | None:
        row = self._x(db, f"SELECT {COLUMNS} FROM jobs WHERE coalesce_key = ? AND state = ? "
                      "AND id != ?", (coalesce_key, WAITING, but)).fetchone()
        return _job(row) if row else None

    def _enqueue_one(self, db: Connection, delivery_id: str, job: NewJob,
                     now: float) -> int | None:
        """Write one delivery and its job; None when the delivery id is known."""
        inserted = self._x(db, "INSERT INTO deliveries (id, received_at) VALUES (?, ?) "
                           "ON CONFLICT (id) DO NOTHING", (delivery_id, now))
        if inserted.rowcount != 1:
            return None
        old = self._waiting_under(db, job.coalesce_key)
        if old is not None:
            self._x(db, "UPDATE jobs SET state = ?, updated_at = ? WHERE id = ?",
                    (SUPERSEDED, now, old.id))
        (job_id,) = self._x(
            db, "INSERT INTO jobs (kind, lock_key, coalesce_key, payload, head, label, "
            "delivery_id, state, attempts, run_at, created_at, updated_at, carried) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?) RETURNING id",
            (job.kind, job.lock_key, job.coalesce_key, json.dumps(dict(job.payload)),
             job.head, job.label, delivery_id, WAITING, now, now, now,
             json.dumps(carried_heads(old)))).fetchone()
        return int(job_id)

    async def enqueue(self, delivery_id: str, job: NewJob, now: float) -> int:
        """Join the next group commit and wait for it (at most `timeout` seconds)."""
        answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._group.append(_Delivery(delivery_id, job, now, answer))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_groups(),
                                                  name="pystd-store-commit")
        try:
            async with asyncio.timeout(self.timeout):
                return await asyncio.shield(answer)
        except asyncio.CancelledError:
            answer.add_done_callback(_retrieved)  # written all the same: nobody waits
            raise
        except TimeoutError:
            # Written later or not at all: either way GitHub gets 503, and a redelivery
            # is then a duplicate (its job is queued) or a new delivery.
            answer.add_done_callback(_retrieved)
            raise StoreError(f"the queue database did not answer in {self.timeout:g} s"
                             ) from None

    async def _commit_groups(self) -> None:
        """Write what waits, one transaction per group, until nothing waits."""
        loop = asyncio.get_running_loop()
        while self._group:
            group, self._group = self._group[:MAX_GROUP], self._group[MAX_GROUP:]

            def write(db: Connection, group: list[_Delivery] = group) -> list[int | None]:
                ids = [self._enqueue_one(db, d.delivery_id, d.job, d.now) for d in group]
                if any(i is not None for i in ids):
                    self._queued(db)
                return ids
            try:
                ids = await loop.run_in_executor(
                    self._executor, self._run, lambda db: self._write(db, write))
            except Exception as exc:  # StoreError, or a bug: every delivery of it fails
                for d in group:
                    if not d.answer.done():
                        d.answer.set_exception(exc)
                continue
            for d, job_id in zip(group, ids, strict=True):
                if d.answer.done():
                    continue
                if job_id is None:
                    d.answer.set_exception(DuplicateDelivery(d.delivery_id))
                else:
                    d.answer.set_result(job_id)

    async def claim(self, worker: str, now: float, lease: float) -> Job | None:
        def write(db: Connection) -> Job | None:
            row = self._x(
                db, f"SELECT {COLUMNS} FROM jobs AS j WHERE state = ? AND run_at <= ? AND NOT "
                "EXISTS (SELECT 1 FROM jobs AS r WHERE r.lock_key = j.lock_key AND "
                "r.state = ?) ORDER BY run_at, id LIMIT 1", (WAITING, now, RUNNING)).fetchone()
            if row is None:
                return None
            job = _job(row)
            self._x(db, "UPDATE jobs SET state = ?, attempts = attempts + 1, worker = ?, "
                       "lease_until = ?, updated_at = ? WHERE id = ?",
                       (RUNNING, worker, now + lease, now, job.id))
            return Job(**{**job.__dict__, "state": RUNNING, "attempts": job.attempts + 1,
                          "worker": worker, "lease_until": now + lease, "updated_at": now})
        return await self._call(lambda db: self._write(db, write))

    async def heartbeat(self, job_id: int, worker: str, now: float, lease: float) -> bool:
        def write(db: Connection) -> bool:
            cursor = self._x(db, "UPDATE jobs SET lease_until = ?, updated_at = ? WHERE id = ? "
                                "AND state = ? AND worker = ?",
                                (now + lease, now, job_id, RUNNING, worker))
            return cursor.rowcount == 1
        return await self._call(lambda db: self._write(db, write))

    async def finish(self, job_id: int, worker: str, state: str, now: float,
                     error: str | None = None) -> bool:
        assert state in (DONE, FAILED)

        def write(db: Connection) -> bool:
            cursor = self._x(db, "UPDATE jobs SET state = ?, error = ?, lease_until = NULL, "
                                "updated_at = ? WHERE id = ? AND state = ? AND worker = ?",
                                (state, error, now, job_id, RUNNING, worker))
            return cursor.rowcount == 1
        return await self._call(lambda db: self._write(db, write))

    def _back_to_waiting(self, db: Connection, job: Job, at: float, now: float,
                         error: str | None, count_attempt: bool) -> None:
        newer = self._waiting_under(db, job.coalesce_key, but=job.id)
        if newer is not None:
            self._x(db, "UPDATE jobs SET state = ?, error = ?, lease_until = NULL, "
                       "updated_at = ? WHERE id = ?", (SUPERSEDED, error, now, job.id))
            carried = list(dict.fromkeys((*newer.carried, *carried_heads(job))))
            self._x(db, "UPDATE jobs SET carried = ? WHERE id = ?",
                       (json.dumps(carried), newer.id))
            return
        self._x(db, "UPDATE jobs SET state = ?, run_at = ?, error = ?, worker = NULL, "
                   "lease_until = NULL, updated_at = ?, attempts = ? WHERE id = ?",
                   (WAITING, at, error, now,
                    job.attempts if count_attempt else job.attempts - 1, job.id))

    def _running(self, db: Connection, job_id: int, worker: str) -> Job | None:
        row = self._x(db, f"SELECT {COLUMNS} FROM jobs WHERE id = ? AND state = ? AND "
                         "worker = ?", (job_id, RUNNING, worker)).fetchone()
        return _job(row) if row else None

    async def reschedule(self, job_id: int, worker: str, at: float, now: float,
                         error: str | None = None, *, count_attempt: bool = True) -> bool:
        def write(db: Connection) -> bool:
            job = self._running(db, job_id, worker)
            if job is None:
                return False
            self._back_to_waiting(db, job, at, now, error, count_attempt)
            return True
        return await self._call(lambda db: self._write(db, write))

    async def sweep(self, now: float) -> int:
        def write(db: Connection) -> int:
            rows = self._x(db, f"SELECT {COLUMNS} FROM jobs WHERE state = ? AND lease_until < ?",
                              (RUNNING, now)).fetchall()
            for row in rows:
                self._back_to_waiting(db, _job(row), now, now,
                                      "stalled: the worker stopped renewing", True)
            return len(rows)
        return await self._call(lambda db: self._write(db, write))

    async def prune(self, before: float) -> int:
        def write(db: Connection) -> int:
            marks = ", ".join("?" * len(FINISHED))
            cursor = self._x(db, f"DELETE FROM jobs WHERE state IN ({marks}) AND updated_at < ?",
                                (*FINISHED, before))
            self._x(db, "DELETE FROM deliveries WHERE received_at < ?", (before,))
            self._x(db, "DELETE FROM results WHERE stored_at < ?", (before,))
            return cursor.rowcount
        return await self._call(lambda db: self._write(db, write))

    # -- operators and metrics ---------------------------------------------------------

    async def stats(self, now: float) -> QueueStats:
        def read(db: Connection) -> QueueStats:
            by_state = dict.fromkeys(STATES, 0)
            for state, count in self._x(db, "SELECT state, COUNT(*) FROM jobs GROUP BY state"
                                        ).fetchall():
                by_state[state] = count
            oldest, due = self._x(db, "SELECT MIN(run_at), COUNT(*) FROM jobs WHERE state = ? "
                                     "AND run_at <= ?", (WAITING, now)).fetchone()
            (stalled,) = self._x(db, "SELECT COUNT(*) FROM jobs WHERE state = ? AND "
                                    "lease_until < ?", (RUNNING, now)).fetchone()
            return QueueStats(by_state, 0.0 if oldest is None else now - oldest, stalled, due)
        return await self._call(read)

    async def jobs(self, states: Iterable[str] = (), limit: int = 100) -> list[Job]:
        wanted = list(states)

        def read(db: Connection) -> list[Job]:
            where = f"WHERE state IN ({', '.join('?' * len(wanted))})" if wanted else ""
            rows = self._x(db, f"SELECT {COLUMNS} FROM jobs {where} ORDER BY id DESC LIMIT ?",
                              (*wanted, limit)).fetchall()
            return [_job(r) for r in rows]
        return await self._call(read)

    async def job(self, job_id: int) -> Job | None:
        def read(db: Connection) -> Job | None:
            row = self._x(db, f"SELECT {COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
            return None if row is None else _job(row)
        return await self._call(read)

    async def retry(self, job_id: int, now: float) -> bool:
        def write(db: Connection) -> bool:
            row = self._x(db, f"SELECT {COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return False
            job = _job(row)
            if job.state not in (FAILED, CANCELLED, DONE):
                return False
            if self._waiting_under(db, job.coalesce_key) is not None:
                return False  # a newer job of the same pull request waits already
            self._x(db, "UPDATE jobs SET state = ?, attempts = 0, run_at = ?, error = NULL, "
                       "updated_at = ? WHERE id = ?", (WAITING, now, now, job_id))
            return True
        return await self._call(lambda db: self._write(db, write))

    async def cancel(self, job_id: int, now: float) -> bool:
        def write(db: Connection) -> bool:
            cursor = self._x(db, "UPDATE jobs SET state = ?, updated_at = ? WHERE id = ? AND "
                                "state = ?", (CANCELLED, now, job_id, WAITING))
            return cursor.rowcount == 1
        return await self._call(lambda db: self._write(db, write))

    # -- engine results ----------------------------------------------------------------

    async def cache_get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        wanted = list(keys)

        def read(db: Connection) -> dict[str, bytes]:
            found: dict[str, bytes] = {}
            for start in range(0, len(wanted), 500):  # SQLite caps bound parameters
                chunk = wanted[start:start + 500]
                marks = ", ".join("?" * len(chunk))
                found.update((k, bytes(v)) for k, v in self._x(
                    db, f"SELECT key, value FROM results WHERE key IN ({marks})",
                    chunk).fetchall())
            return found
        return await self._call(read)

    async def cache_put_many(self, items: Mapping[str, bytes], now: float) -> None:
        rows = [(k, v, now) for k, v in items.items()]

        def write(db: Connection) -> None:
            for row in rows:
                self._x(db, "INSERT INTO results (key, value, stored_at) VALUES (?, ?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                        "stored_at = excluded.stored_at", row)
        await self._call(lambda db: self._write(db, write))
