"""`sqlite:///PATH`: the default store, one file under the data folder, durable across
crashes and restarts on one machine, with no server to run.

Python's own sqlite3 in WAL mode (readers never wait for the writer; a commit is one
append to the log). Every call runs on one dedicated thread, off the event loop, and is
timed out: a locked or unreachable file makes the call raise StoreError, never hangs a
webhook. Writes take the database lock first (BEGIN IMMEDIATE), so several processes on
the same file (`pystd serve` and `pystd worker` on one machine) claim each job once.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from bot.store.base import (
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

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY, received_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_received ON deliveries(received_at);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL, lock_key TEXT NOT NULL, coalesce_key TEXT NOT NULL,
    payload TEXT NOT NULL, head TEXT, label TEXT NOT NULL, delivery_id TEXT NOT NULL,
    state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, run_at REAL NOT NULL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL, lease_until REAL, worker TEXT,
    error TEXT, carried TEXT NOT NULL DEFAULT '[]');
CREATE INDEX IF NOT EXISTS jobs_due ON jobs(state, run_at);
CREATE INDEX IF NOT EXISTS jobs_lock ON jobs(lock_key, state);
CREATE INDEX IF NOT EXISTS jobs_coalesce ON jobs(coalesce_key, state);
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY, value BLOB NOT NULL, stored_at REAL NOT NULL);
"""
COLUMNS = ("id, kind, lock_key, coalesce_key, payload, head, label, delivery_id, state, "
           "attempts, run_at, created_at, updated_at, lease_until, worker, error, carried")
BUSY_MS = 5000  # how long one statement waits for another process's write lock


def _job(row: tuple[Any, ...]) -> Job:
    (id_, kind, lock_key, coalesce_key, payload, head, label, delivery_id, state, attempts,
     run_at, created_at, updated_at, lease_until, worker, error, carried) = row
    return Job(id_, kind, lock_key, coalesce_key, json.loads(payload), head, label,
               delivery_id, state, attempts, run_at, created_at, updated_at, lease_until,
               worker, error, tuple(json.loads(carried)))


def path_of(url: str) -> Path:
    """The file of a `sqlite:///PATH` URL (three slashes and a relative path, four and an
    absolute one, as SQLAlchemy writes them)."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not a sqlite:/// URL: {url}")
    return Path(url.removeprefix("sqlite:///"))


class SQLiteStore:
    """The contract of bot.store.base on one SQLite file."""

    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        self.path = path
        self.timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pystd-sqlite")
        self._db: sqlite3.Connection | None = None

    # -- plumbing ----------------------------------------------------------------------

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout):
                return await loop.run_in_executor(self._executor, self._run, fn)
        except TimeoutError:
            raise StoreError(f"the queue database did not answer in {self.timeout:g} s") from None

    def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            if self._db is None:
                self._db = self._connect()
            return fn(self._db)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"queue database {self.path}: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: each method opens its own transaction explicitly.
        db = sqlite3.connect(self.path, timeout=BUSY_MS / 1000, isolation_level=None,
                             check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable across a process crash
        db.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        return db

    @staticmethod
    def _write(db: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
        db.execute("BEGIN IMMEDIATE")
        try:
            result = fn(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result

    async def open(self) -> None:
        await self._call(lambda db: db.executescript(SCHEMA))

    async def close(self) -> None:
        def shut(_db: sqlite3.Connection) -> None:
            if self._db is not None:
                self._db.close()
                self._db = None
        if self._db is not None:
            await self._call(shut)
        self._executor.shutdown(wait=False)

    # -- the queue ---------------------------------------------------------------------

    @staticmethod
    def _waiting_under(db: sqlite3.Connection, coalesce_key: str, but: int = -1) -> Job | None:
        row = db.execute(f"SELECT {COLUMNS} FROM jobs WHERE coalesce_key = ? AND state = ? "
                         "AND id != ?", (coalesce_key, WAITING, but)).fetchone()
        return _job(row) if row else None

    async def enqueue(self, delivery_id: str, job: NewJob, now: float) -> int:
        def write(db: sqlite3.Connection) -> int:
            try:
                db.execute("INSERT INTO deliveries (id, received_at) VALUES (?, ?)",
                           (delivery_id, now))
            except sqlite3.IntegrityError:
                raise DuplicateDelivery(delivery_id) from None
            old = self._waiting_under(db, job.coalesce_key)
            if old is not None:
                db.execute("UPDATE jobs SET state = ?, updated_at = ? WHERE id = ?",
                           (SUPERSEDED, now, old.id))
            cursor = db.execute(
                "INSERT INTO jobs (kind, lock_key, coalesce_key, payload, head, label, "
                "delivery_id, state, attempts, run_at, created_at, updated_at, carried) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
                (job.kind, job.lock_key, job.coalesce_key, json.dumps(dict(job.payload)),
                 job.head, job.label, delivery_id, WAITING, now, now, now,
                 json.dumps(carried_heads(old))))
            return int(cursor.lastrowid or 0)
        return await self._call(lambda db: self._write(db, write))

    async def claim(self, worker: str, now: float, lease: float) -> Job | None:
        def write(db: sqlite3.Connection) -> Job | None:
            row = db.execute(
                f"SELECT {COLUMNS} FROM jobs AS j WHERE state = ? AND run_at <= ? AND NOT "
                "EXISTS (SELECT 1 FROM jobs AS r WHERE r.lock_key = j.lock_key AND "
                "r.state = ?) ORDER BY run_at, id LIMIT 1", (WAITING, now, RUNNING)).fetchone()
            if row is None:
                return None
            job = _job(row)
            db.execute("UPDATE jobs SET state = ?, attempts = attempts + 1, worker = ?, "
                       "lease_until = ?, updated_at = ? WHERE id = ?",
                       (RUNNING, worker, now + lease, now, job.id))
            return Job(**{**job.__dict__, "state": RUNNING, "attempts": job.attempts + 1,
                          "worker": worker, "lease_until": now + lease, "updated_at": now})
        return await self._call(lambda db: self._write(db, write))

    async def heartbeat(self, job_id: int, worker: str, now: float, lease: float) -> bool:
        def write(db: sqlite3.Connection) -> bool:
            cursor = db.execute("UPDATE jobs SET lease_until = ?, updated_at = ? WHERE id = ? "
                                "AND state = ? AND worker = ?",
                                (now + lease, now, job_id, RUNNING, worker))
            return cursor.rowcount == 1
        return await self._call(lambda db: self._write(db, write))

    async def finish(self, job_id: int, worker: str, state: str, now: float,
                     error: str | None = None) -> bool:
        assert state in (DONE, FAILED)

        def write(db: sqlite3.Connection) -> bool:
            cursor = db.execute("UPDATE jobs SET state = ?, error = ?, lease_until = NULL, "
                                "updated_at = ? WHERE id = ? AND state = ? AND worker = ?",
                                (state, error, now, job_id, RUNNING, worker))
            return cursor.rowcount == 1
        return await self._call(lambda db: self._write(db, write))

    def _back_to_waiting(self, db: sqlite3.Connection, job: Job, at: float, now: float,
                         error: str | None, count_attempt: bool) -> None:
        newer = self._waiting_under(db, job.coalesce_key, but=job.id)
        if newer is not None:
            db.execute("UPDATE jobs SET state = ?, error = ?, lease_until = NULL, "
                       "updated_at = ? WHERE id = ?", (SUPERSEDED, error, now, job.id))
            carried = list(dict.fromkeys((*newer.carried, *carried_heads(job))))
            db.execute("UPDATE jobs SET carried = ? WHERE id = ?",
                       (json.dumps(carried), newer.id))
            return
        db.execute("UPDATE jobs SET state = ?, run_at = ?, error = ?, worker = NULL, "
                   "lease_until = NULL, updated_at = ?, attempts = ? WHERE id = ?",
                   (WAITING, at, error, now,
                    job.attempts if count_attempt else job.attempts - 1, job.id))

    def _running(self, db: sqlite3.Connection, job_id: int, worker: str) -> Job | None:
        row = db.execute(f"SELECT {COLUMNS} FROM jobs WHERE id = ? AND state = ? AND "
                         "worker = ?", (job_id, RUNNING, worker)).fetchone()
        return _job(row) if row else None

    async def reschedule(self, job_id: int, worker: str, at: float, now: float,
                         error: str | None = None, *, count_attempt: bool = True) -> bool:
        def write(db: sqlite3.Connection) -> bool:
            job = self._running(db, job_id, worker)
            if job is None:
                return False
            self._back_to_waiting(db, job, at, now, error, count_attempt)
            return True
        return await self._call(lambda db: self._write(db, write))

    async def sweep(self, now: float) -> int:
        def write(db: sqlite3.Connection) -> int:
            rows = db.execute(f"SELECT {COLUMNS} FROM jobs WHERE state = ? AND lease_until < ?",
                              (RUNNING, now)).fetchall()
            for row in rows:
                self._back_to_waiting(db, _job(row), now, now,
                                      "stalled: the worker stopped renewing", True)
            return len(rows)
        return await self._call(lambda db: self._write(db, write))

    async def prune(self, before: float) -> int:
        def write(db: sqlite3.Connection) -> int:
            marks = ", ".join("?" * len(FINISHED))
            cursor = db.execute(f"DELETE FROM jobs WHERE state IN ({marks}) AND updated_at < ?",
                                (*FINISHED, before))
            db.execute("DELETE FROM deliveries WHERE received_at < ?", (before,))
            db.execute("DELETE FROM results WHERE stored_at < ?", (before,))
            return cursor.rowcount
        return await self._call(lambda db: self._write(db, write))

    # -- operators and metrics ---------------------------------------------------------

    async def stats(self, now: float) -> QueueStats:
        def read(db: sqlite3.Connection) -> QueueStats:
            by_state = dict.fromkeys(STATES, 0)
            for state, count in db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state"):
                by_state[state] = count
            oldest, due = db.execute("SELECT MIN(run_at), COUNT(*) FROM jobs WHERE state = ? "
                                     "AND run_at <= ?", (WAITING, now)).fetchone()
            (stalled,) = db.execute("SELECT COUNT(*) FROM jobs WHERE state = ? AND "
                                    "lease_until < ?", (RUNNING, now)).fetchone()
            return QueueStats(by_state, 0.0 if oldest is None else now - oldest, stalled, due)
        return await self._call(read)

    async def jobs(self, states: Iterable[str] = (), limit: int = 100) -> list[Job]:
        wanted = list(states)

        def read(db: sqlite3.Connection) -> list[Job]:
            where = f"WHERE state IN ({', '.join('?' * len(wanted))})" if wanted else ""
            rows = db.execute(f"SELECT {COLUMNS} FROM jobs {where} ORDER BY id DESC LIMIT ?",
                              (*wanted, limit)).fetchall()
            return [_job(r) for r in rows]
        return await self._call(read)

    async def retry(self, job_id: int, now: float) -> bool:
        def write(db: sqlite3.Connection) -> bool:
            row = db.execute(f"SELECT {COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return False
            job = _job(row)
            if job.state not in (FAILED, CANCELLED, DONE):
                return False
            if self._waiting_under(db, job.coalesce_key) is not None:
                return False  # a newer job of the same pull request waits already
            db.execute("UPDATE jobs SET state = ?, attempts = 0, run_at = ?, error = NULL, "
                       "updated_at = ? WHERE id = ?", (WAITING, now, now, job_id))
            return True
        return await self._call(lambda db: self._write(db, write))

    async def cancel(self, job_id: int, now: float) -> bool:
        def write(db: sqlite3.Connection) -> bool:
            cursor = db.execute("UPDATE jobs SET state = ?, updated_at = ? WHERE id = ? AND "
                                "state = ?", (CANCELLED, now, job_id, WAITING))
            return cursor.rowcount == 1
        return await self._call(lambda db: self._write(db, write))

    # -- engine results ----------------------------------------------------------------

    async def cache_get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        wanted = list(keys)

        def read(db: sqlite3.Connection) -> dict[str, bytes]:
            found: dict[str, bytes] = {}
            for start in range(0, len(wanted), 500):  # SQLite caps bound parameters
                chunk = wanted[start:start + 500]
                marks = ", ".join("?" * len(chunk))
                found.update(db.execute(f"SELECT key, value FROM results WHERE key IN "
                                        f"({marks})", chunk).fetchall())
            return found
        return await self._call(read)

    async def cache_put_many(self, items: Mapping[str, bytes], now: float) -> None:
        rows = [(k, v, now) for k, v in items.items()]

        def write(db: sqlite3.Connection) -> None:
            db.executemany("INSERT OR REPLACE INTO results (key, value, stored_at) "
                           "VALUES (?, ?, ?)", rows)
        await self._call(lambda db: self._write(db, write))
