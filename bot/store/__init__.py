"""The durable job store, chosen by `PYSTD_QUEUE_URL`: `sqlite:///PATH` (the default, a
file under the data folder), `postgresql://...` (several replicas and workers), `memory://`
(tests)."""

from __future__ import annotations

from pystd.bot.store.base import (
    DuplicateDelivery,
    Job,
    JobStore,
    NewJob,
    QueueStats,
    StoreError,
)

__all__ = ["DuplicateDelivery", "Job", "JobStore", "NewJob", "QueueStats", "StoreError",
           "store_for"]


def store_for(url: str, timeout: float = 5.0) -> JobStore:
    """The store a queue URL names; ValueError for a scheme pystd does not know."""
    if url == "memory://":
        from pystd.bot.store.memory import MemoryStore
        return MemoryStore()
    if url.startswith("sqlite:///"):
        from pystd.bot.store.sqlite import SQLiteStore, path_of
        return SQLiteStore(path_of(url), timeout=timeout)
    if url.startswith(("postgresql://", "postgres://")):
        from pystd.bot.store.postgres import PostgresStore
        return PostgresStore(url, timeout=timeout)
    raise ValueError(f"unknown queue URL scheme: {url.split(':', 1)[0]}")
