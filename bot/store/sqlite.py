"""`sqlite:///PATH`: the default store, one file under the data folder, durable across
crashes and restarts on one machine, with no server to run.

Python's own sqlite3 in WAL mode (readers never wait for the writer; a commit is one
append to the log). Writes take the database lock first (BEGIN IMMEDIATE), so several
processes on the same file (`pystd serve` and `pystd worker` on one machine) claim each
job once. The queries are bot/store/sql.py's.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pystd.bot.store.sql import Connection, SQLStore

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
    key TEXT PRIMARY KEY, value BLOB NOT NULL, stored_at REAL NOT NULL)
"""
BUSY_MS = 5000  # how long one statement waits for another process's write lock


def path_of(url: str) -> Path:
    """The file of a `sqlite:///PATH` URL (three slashes and a relative path, four and an
    absolute one, as SQLAlchemy writes them)."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not a sqlite:/// URL: {url}")
    return Path(url.removeprefix("sqlite:///"))


class SQLiteStore(SQLStore):
    """The contract of bot.store.base on one SQLite file."""

    SCHEMA = SCHEMA
    errors = (sqlite3.Error,)

    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        super().__init__(str(path), timeout)
        self.path = path

    def _connect(self) -> Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: each method opens its own transaction explicitly.
        db = sqlite3.connect(self.path, timeout=BUSY_MS / 1000, isolation_level=None,
                             check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable across a process crash
        db.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        return db

    def _begin(self, db: Connection) -> None:
        db.execute("BEGIN IMMEDIATE")
