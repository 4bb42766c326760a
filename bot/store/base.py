"""The job store's contract: what `pystd serve` and `pystd worker` need from a durable queue.

A delivery is accepted by writing its id (unique) and its job in one transaction, before
the webhook answers. Jobs carry a `lock_key` (one pull request: its jobs run one at a time)
and a `coalesce_key` (at most one job waiting per key: a newer one replaces it). A worker
claims a job with a lease and renews it (heartbeat); a job whose lease ran out is stalled
and goes back to waiting. Every implementation (memory, SQLite, PostgreSQL) passes the one
contract suite in tests/bot/test_store.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

WAITING, RUNNING, DONE, FAILED, CANCELLED, SUPERSEDED = (
    "waiting", "running", "done", "failed", "cancelled", "superseded")
STATES = (WAITING, RUNNING, DONE, FAILED, CANCELLED, SUPERSEDED)
FINISHED = (DONE, FAILED, CANCELLED, SUPERSEDED)
RETENTION_SECONDS = 30 * 24 * 3600.0  # GitHub lets an operator redeliver for 30 days


class StoreError(Exception):
    """The store cannot be used now (down, locked past its time limit): the webhook answers
    503 so that GitHub records the failure and the delivery can be redelivered."""


class DuplicateDelivery(Exception):
    """This delivery id was accepted before: no new job."""


@dataclass(frozen=True)
class NewJob:
    """A job to queue: `kind` names the work, `payload` holds its JSON-able arguments,
    `head` the commit it checks (a retry looks there for the check run it opened)."""

    kind: str
    lock_key: str
    coalesce_key: str
    payload: Mapping[str, Any]
    head: str | None = None
    label: str = ""


@dataclass(frozen=True)
class Job:
    """A job as stored. `attempts` counts claims (so the first run has attempts == 1);
    `carried` lists heads at which an interrupted earlier job of the same coalesce key may
    have left a check run open, for this job to close."""

    id: int
    kind: str
    lock_key: str
    coalesce_key: str
    payload: Mapping[str, Any]
    head: str | None
    label: str
    delivery_id: str
    state: str
    attempts: int
    run_at: float
    created_at: float
    updated_at: float
    lease_until: float | None = None
    worker: str | None = None
    error: str | None = None
    carried: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueueStats:
    """What /metrics says about the queue."""

    by_state: Mapping[str, int] = field(default_factory=dict)
    oldest_waiting_seconds: float = 0.0  # the oldest job due now and not started
    stalled: int = 0  # running jobs whose lease has run out (their worker is gone)
    due: int = 0  # waiting jobs whose time has come

    @property
    def waiting(self) -> int:
        return self.by_state.get(WAITING, 0)

    @property
    def busy(self) -> int:
        """Jobs running or due: work for the workers now."""
        return self.due + self.by_state.get(RUNNING, 0)


class JobStore(Protocol):
    """A durable job queue. Every method may raise StoreError; times are epoch seconds."""

    async def open(self) -> None:
        """Create the tables if needed."""

    async def close(self) -> None: ...

    async def enqueue(self, delivery_id: str, job: NewJob, now: float) -> int:
        """Record the delivery id and queue `job` in one transaction; a job still waiting
        under the same coalesce key is superseded. DuplicateDelivery when the id is known."""

    async def claim(self, worker: str, now: float, lease: float) -> Job | None:
        """The oldest due waiting job whose lock key has no running job, now running for
        `worker` until `now + lease`; None when there is none."""

    async def heartbeat(self, job_id: int, worker: str, now: float, lease: float) -> bool:
        """Extend the lease; False when the job is no longer this worker's."""

    async def finish(self, job_id: int, worker: str, state: str, now: float,
                     error: str | None = None) -> bool:
        """End a running job as DONE or FAILED; False when it was not this worker's."""

    async def reschedule(self, job_id: int, worker: str, at: float, now: float,
                         error: str | None = None, *, count_attempt: bool = True) -> bool:
        """Put a running job back to wait until `at` (a retry, or a rate limit's reset when
        `count_attempt` is False); superseded instead when a newer job already waits."""

    async def sweep(self, now: float) -> int:
        """Stalled jobs (lease run out) back to waiting, or superseded when a newer job of
        the same coalesce key waits; returns how many."""

    async def prune(self, before: float) -> int:
        """Forget finished jobs and delivery ids older than `before`; returns how many jobs."""

    async def stats(self, now: float) -> QueueStats: ...

    async def jobs(self, states: Iterable[str] = (), limit: int = 100) -> list[Job]:
        """Jobs, newest first, in any of `states` (all when empty)."""

    async def job(self, job_id: int) -> Job | None:
        """The job with this id, in any state (None: no such job)."""

    async def retry(self, job_id: int, now: float) -> bool:
        """An operator's retry: a finished job waits again (attempts reset)."""

    async def cancel(self, job_id: int, now: float) -> bool:
        """An operator's cancel of a waiting job."""

    async def listen(self, wake: Callable[[], Awaitable[None]]) -> None:
        """Call `wake` whenever another process queues a job, until cancelled (returns at
        once when the store cannot tell: the workers look every poll interval)."""

    async def cache_get_many(self, keys: Iterable[str]) -> dict[str, bytes]:
        """Cached engine results by key (the keys not found are absent)."""

    async def cache_put_many(self, items: Mapping[str, bytes], now: float) -> None: ...


def carried_heads(old: Job | None) -> tuple[str, ...]:
    """The heads a job replacing `old` must close runs at: `old`'s own (if it was
    interrupted after opening one) and those it carried."""
    if old is None:
        return ()
    heads = list(old.carried)
    if old.attempts > 0 and old.head and old.head not in heads:
        heads.append(old.head)
    return tuple(heads)
