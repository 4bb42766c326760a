"""`postgresql://...`: the store for several `pystd serve` replicas and `pystd worker`
processes on any number of machines.

psycopg 3 on the queries of bot/store/sql.py. Every write transaction first takes one
transaction-level advisory lock, so claims (one running job per pull request) and
coalescing (one waiting job per key) stay exact across processes; the transactions are a
few statements long, so the lock is held for a millisecond or two. Each queued job is
NOTIFYed, so workers in other processes claim it at once instead of at their next poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

import psycopg

from pystd.bot.store.sql import Connection, SQLStore

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY, received_at DOUBLE PRECISION NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_received ON deliveries(received_at);
CREATE TABLE IF NOT EXISTS jobs (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL, lock_key TEXT NOT NULL, coalesce_key TEXT NOT NULL,
    payload TEXT NOT NULL, head TEXT, label TEXT NOT NULL, delivery_id TEXT NOT NULL,
    state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    run_at DOUBLE PRECISION NOT NULL, created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL, lease_until DOUBLE PRECISION, worker TEXT,
    error TEXT, carried TEXT NOT NULL DEFAULT '[]');
CREATE INDEX IF NOT EXISTS jobs_due ON jobs(state, run_at);
CREATE INDEX IF NOT EXISTS jobs_lock ON jobs(lock_key, state);
CREATE INDEX IF NOT EXISTS jobs_coalesce ON jobs(coalesce_key, state);
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY, value BYTEA NOT NULL, stored_at DOUBLE PRECISION NOT NULL)
"""
QUEUE_LOCK = 0x70797374  # "pyst": the advisory lock of the queue's write transactions
CHANNEL = "pystd_jobs"  # NOTIFY on each queued job: workers elsewhere claim it at once
RELISTEN_SECONDS = 5.0


def without_password(url: str) -> str:
    """The URL as it may be logged."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresStore(SQLStore):
    """The contract of bot.store.base on a PostgreSQL database."""

    SCHEMA = SCHEMA
    errors = (psycopg.Error,)

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        super().__init__(without_password(url), timeout)
        self._url = url

    def _connect(self) -> Connection:
        return psycopg.connect(self._url, autocommit=True, connect_timeout=max(
            int(self.timeout), 1))

    def _begin(self, db: Connection) -> None:
        db.execute("BEGIN")
        db.execute("SELECT pg_advisory_xact_lock(%s)", (QUEUE_LOCK,))

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s")

    def _queued(self, db: Connection) -> None:
        db.execute(f"NOTIFY {CHANNEL}")  # delivered at commit, to every listener

    async def listen(self, wake: Callable[[], Awaitable[None]]) -> None:
        """LISTEN on the queue's channel, reconnecting after a failure."""
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                        self._url, autocommit=True,
                        connect_timeout=max(int(self.timeout), 1)) as db:
                    await db.execute(f"LISTEN {CHANNEL}")
                    async for _ in db.notifies():
                        await wake()
            except psycopg.Error as exc:
                log.warning("not listening for queued jobs (%s); retrying in %g s", exc,
                            RELISTEN_SECONDS, extra={"queue": self.where})
            await asyncio.sleep(RELISTEN_SECONDS)
