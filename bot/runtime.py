"""What a process that runs reviews holds, opened and closed in one place: the job store,
the HTTP session to GitHub, the engine's process pool and the queue's workers.

`pystd serve` opens it inside its aiohttp application (bot/app.py); `pystd worker` opens
it alone (bot/worker.py). Closing finishes the running jobs first (each completes its check
run), then the background completions, the engine, the session and the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp

from pystd.bot.github import GitHubAccess, TokenStore, WritePacer
from pystd.bot.job import JobEnv
from pystd.bot.queue import JobQueue, QueueTuning
from pystd.bot.result_cache import CachingEngine
from pystd.bot.review_jobs import ServicesRunner
from pystd.bot.services import Services
from pystd.bot.settings import Settings
from pystd.bot.snapshot import BlobCache
from pystd.bot.store import store_for

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    services: Services
    session: aiohttp.ClientSession
    tokens: TokenStore


def queue_tuning(settings: Settings) -> QueueTuning:
    return QueueTuning(lease=settings.queue_lease_seconds,
                       max_attempts=settings.queue_max_attempts,
                       retry_delay=settings.queue_retry_delay,
                       poll=settings.queue_poll_interval)


def result_key(settings: Settings) -> bytes:
    """The key that signs the engine results kept in the store: derived from the webhook
    secret, which every process of one App shares."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    return hashlib.sha256(b"pystd engine results\0" + secret.encode()).digest()


@contextlib.asynccontextmanager
async def running(settings: Settings, *, workers: int, engine_in_process: bool = False,
                  on_finished: Callable[[float], None] | None = None
                  ) -> AsyncIterator[Runtime]:
    """Open everything and start `workers` job workers (0: queue only). Each resource has
    its own exit callback, so a failure half-way closes what was opened, and closing runs
    in reverse: the running jobs first (each completes its check run), then the sweep, the
    background completions, the engine, the session and the store."""
    async with contextlib.AsyncExitStack() as stack:
        store = store_for(settings.queue_store_url, timeout=settings.queue_timeout)
        await store.open()
        stack.push_async_callback(store.close)
        timeout = aiohttp.ClientTimeout(total=settings.request_timeout)
        session = await stack.enter_async_context(aiohttp.ClientSession(timeout=timeout))
        engine = CachingEngine(None if engine_in_process else settings.engine_workers,
                               store=store, key=result_key(settings),
                               file_timeout=settings.file_timeout,
                               memory_mb=settings.worker_memory_mb)
        stack.push_async_callback(asyncio.to_thread, engine.close)  # bounded, off the loop
        if workers:
            await engine.warm()  # the first review does not wait for the engine to start
        tokens = TokenStore(settings.app_id or 0, settings.private_key_pem())
        access = GitHubAccess(
            session=session,
            tokens=tokens,
            pacer=WritePacer(settings.writes_per_minute),
            base_url=settings.github_api_url,
            timeout=settings.request_timeout,
            app_id=settings.app_id or 0,
            base_backoff=settings.retry_base_delay,
            max_backoff=settings.retry_max_delay,
        )
        env = JobEnv(engine=engine, blobs=BlobCache(settings.blob_cache_bytes),
                     blob_concurrency=settings.blob_concurrency,
                     completion_budget=settings.completion_retry_seconds,
                     public_url=settings.public_url)
        stack.push_async_callback(env.runs.close, grace=10.0)
        queue = JobQueue(store, queue_tuning(settings), on_finished=on_finished)
        services = Services(settings, access, env, queue)
        sweeper = asyncio.create_task(_sweep_forever(services), name="pystd-sweep")
        stack.push_async_callback(_stopped, sweeper)
        queue.start(ServicesRunner(services), workers)
        stack.push_async_callback(queue.close)
        log.info("pystd ready: %d engine worker(s), %d job worker(s)",
                 settings.engine_workers if workers else 0, workers)
        yield Runtime(services, session, tokens)


async def _stopped(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _sweep_forever(services: Services) -> None:
    """Every `sweep_interval` seconds, close our check runs left open too long."""
    while True:
        await asyncio.sleep(services.settings.sweep_interval)
        try:
            await services.sweep()
        except Exception:  # the sweep must outlive any one failure
            log.exception("sweep failed")
