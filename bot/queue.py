"""The in-process job queue: webhooks enqueue and return at once; a few worker tasks run
the jobs. Jobs for the same key (one pull request) are coalesced: a newer push replaces
a waiting older one. Shutdown drains what is queued before the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

JobFn = Callable[[], Awaitable[object]]


@dataclass
class _Entry:
    key: object
    run: JobFn
    label: str
    cancelled: bool = False
    queued_at: float = field(default_factory=time.monotonic)


class JobQueue:
    """An asyncio queue with `concurrency` workers and per-key coalescing."""

    def __init__(self, concurrency: int,
                 on_finished: Callable[[float], None] | None = None) -> None:
        """`on_finished(seconds)` is told how long each job took from being queued (the
        delivery) to its end, for the latency histogram."""
        self._queue: asyncio.Queue[_Entry] = asyncio.Queue()
        self._waiting: dict[object, _Entry] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._concurrency = concurrency
        self._on_finished = on_finished
        self.completed = 0
        self.failed = 0
        self.queued_total = 0

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        self._workers = [asyncio.create_task(self._work(), name=f"pystd-worker-{i}")
                         for i in range(self._concurrency)]

    def put(self, key: object, run: JobFn, label: str = "") -> None:
        """Queue a job; a job still waiting under the same key is dropped for this one."""
        older = self._waiting.get(key)
        if older is not None:
            older.cancelled = True
        entry = _Entry(key, run, label)
        self.queued_total += 1
        self._waiting[key] = entry
        self._queue.put_nowait(entry)

    async def _work(self) -> None:
        while True:
            entry = await self._queue.get()
            try:
                if entry.cancelled:
                    continue
                if self._waiting.get(entry.key) is entry:
                    del self._waiting[entry.key]
                await entry.run()
                self.completed += 1
            except Exception:  # a job reports its own failures; this only keeps workers alive
                self.failed += 1
                log.exception("job failed: %s", entry.label)
            finally:
                if not entry.cancelled and self._on_finished is not None:
                    self._on_finished(time.monotonic() - entry.queued_at)
                self._queue.task_done()

    async def join(self) -> None:
        await self._queue.join()

    async def close(self, drain_timeout: float = 60.0) -> None:
        """Finish queued jobs (up to `drain_timeout`), then stop the workers."""
        try:
            async with asyncio.timeout(drain_timeout):
                await self._queue.join()
        except TimeoutError:
            log.warning("shutdown: %d job(s) not finished in %.0f s", self.depth, drain_timeout)
        for task in self._workers:
            task.cancel()
        for task in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers = []


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
