"""`create_app(settings)`: the aiohttp application of the GitHub App.

`cleanup_ctx` holds one context per resource: the HTTP client session, the engine's
process pool, GitHub access with the reviews' state, the sweep and the job queue, opened
at start-up in that order and closed in the reverse one (the queue drained first).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator

import aiohttp
from aiohttp import web
from cachetools import TTLCache
from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.engine_pool import Engine
from bot.github import GitHubAccess, TokenStore, WritePacer
from bot.health import AppKeyCheck
from bot.job import JobEnv
from bot.queue import JobQueue
from bot.services import Services
from bot.settings import Settings
from bot.snapshot import BlobCache
from bot.webhooks import (
    DELIVERY_COUNTS,
    MAX_DELIVERY_BYTES,
    SEEN_DELIVERIES,
    SERVICES,
    webhook,
)

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
REGISTRY = web.AppKey("registry", CollectorRegistry)
REVIEW_SECONDS = web.AppKey("review_seconds", Histogram)
KEY_CHECK = web.AppKey("key_check", AppKeyCheck)
SESSION = web.AppKey("session", aiohttp.ClientSession)
ENGINE = web.AppKey("engine", Engine)
CleanupContext = Callable[[web.Application], AsyncIterator[None]]
LATENCY_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
LINGERING_SECONDS = 2.0  # after refusing an unread body, discard what follows this long


async def healthz(request: web.Request) -> web.Response:
    """200 when the server can serve: started, and GitHub accepts the App's key (asked
    every few minutes; GitHub being unreachable is reported but is not our failure)."""
    services = request.app.get(SERVICES)
    if services is None:
        return web.json_response({"status": "starting"}, status=503)
    key = await request.app[KEY_CHECK].status()
    body = {"status": "ok" if key.ok else "unhealthy", "github": key.detail,
            "queue": services.queue.depth}
    return web.json_response(body, status=200 if key.ok else 503)


class _AppMetrics(Collector):
    def __init__(self, app: web.Application) -> None:
        self._app = app

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        deliveries = CounterMetricFamily("pystd_webhook_deliveries", "Webhook deliveries",
                                         labels=["outcome"])
        for outcome, n in sorted(self._app[DELIVERY_COUNTS].items()):
            deliveries.add_metric([outcome], n)
        yield deliveries
        services = self._app.get(SERVICES)
        if services is None:
            return
        reviews = CounterMetricFamily("pystd_reviews", "Reviews by check-run conclusion",
                                      labels=["conclusion"])
        for conclusion, n in sorted(services.env.stats.items()):
            reviews.add_metric([conclusion], n)
        yield reviews
        calls = CounterMetricFamily("pystd_github_requests", "GitHub API requests",
                                    labels=["method"])
        for method, n in sorted(services.access.calls.items()):
            calls.add_metric([method], n)
        yield calls
        yield GaugeMetricFamily("pystd_queue_depth", "Jobs waiting", value=services.queue.depth)


def _registry(app: web.Application) -> CollectorRegistry:
    """This app's metrics: its own counters, the review latency histogram, and the
    process's CPU, memory, open files and garbage collection."""
    registry = CollectorRegistry()
    registry.register(_AppMetrics(app))
    app[REVIEW_SECONDS] = Histogram(
        "pystd_review_seconds", "Seconds from a delivery being queued to its job's end "
        "(the check run completed)", buckets=LATENCY_BUCKETS, registry=registry)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(request.app[REGISTRY]),
                        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


def create_app(settings: Settings, *, engine_in_process: bool = False) -> web.Application:
    """The App's web application. `engine_in_process` runs the engine without a process
    pool (tests that count on deterministic single-process runs)."""
    settings.check()
    app = web.Application(client_max_size=MAX_DELIVERY_BYTES, handler_args={
        # Never inflate a body while buffering it: an unauthenticated gzip bomb would cost
        # seconds of CPU and hundreds of MB before the signature is even checked. The
        # webhook refuses any Content-Encoding with 415 instead (bot/webhooks.py).
        "auto_decompress": False,
        # aiohttp arms this timer when a connection opens and re-arms it after each
        # response, and closes the connection if no complete request has arrived by then:
        # it bounds idle keep-alive sockets and slowly trickled headers alike.
        "keepalive_timeout": settings.idle_timeout,
        "lingering_time": LINGERING_SECONDS,
    })
    app[SETTINGS] = settings
    app[SEEN_DELIVERIES] = TTLCache(maxsize=50_000, ttl=24 * 3600)
    app[DELIVERY_COUNTS] = {}
    app[REGISTRY] = _registry(app)
    # One context per resource, opened in this order and closed in the reverse one.
    app.cleanup_ctx.extend([_http_session(settings), _engine(settings, engine_in_process),
                            _services(settings), _sweeper, _job_queue])
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


def _http_session(settings: Settings) -> CleanupContext:
    """The HTTP client session every GitHub call goes through."""
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        timeout = aiohttp.ClientTimeout(total=settings.request_timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            app[SESSION] = session
            yield

    return ctx


def _engine(settings: Settings, in_process: bool) -> CleanupContext:
    """The engine's worker processes, stopped at shutdown."""
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        engine = app[ENGINE] = Engine(None if in_process else settings.engine_workers,
                                      file_timeout=settings.file_timeout,
                                      memory_mb=settings.worker_memory_mb)
        try:
            yield
        finally:
            await asyncio.to_thread(engine.close)  # bounded (10 s), off the event loop

    return ctx


def _services(settings: Settings) -> CleanupContext:
    """GitHub access and the reviews' shared state; at shutdown, the check runs still
    being completed in the background get a grace time."""
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        session = app[SESSION]
        tokens = TokenStore(settings.app_id or 0, settings.private_key_pem())
        app[KEY_CHECK] = AppKeyCheck(session, settings.app_id or 0, tokens,
                                     settings.github_api_url, settings.request_timeout)
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
        env = JobEnv(engine=app[ENGINE], blobs=BlobCache(settings.blob_cache_bytes),
                     blob_concurrency=settings.blob_concurrency,
                     completion_budget=settings.completion_retry_seconds)
        queue = JobQueue(settings.concurrent_jobs, on_finished=app[REVIEW_SECONDS].observe)
        app[SERVICES] = Services(settings, access, env, queue)
        try:
            yield
        finally:
            await env.runs.close(grace=10.0)

    return ctx


async def _sweeper(app: web.Application) -> AsyncIterator[None]:
    """The sweep of check runs left open too long, stopped at shutdown."""
    sweeper = asyncio.create_task(_sweep_forever(app[SERVICES]), name="pystd-sweep")
    try:
        yield
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper


async def _job_queue(app: web.Application) -> AsyncIterator[None]:
    """The review jobs' workers; at shutdown the queue is drained first (contexts close
    in reverse order), while the sweep, GitHub access and the engine are still there."""
    services = app[SERVICES]
    services.queue.start()
    settings = services.settings
    log.info("pystd ready: %d engine worker(s), %d concurrent job(s)",
             settings.engine_workers, settings.concurrent_jobs)
    try:
        yield
    finally:
        await services.queue.close()


async def _sweep_forever(services: Services) -> None:
    """Every `sweep_interval` seconds, close our check runs left open too long."""
    while True:
        await asyncio.sleep(services.settings.sweep_interval)
        try:
            await services.sweep()
        except Exception:  # the sweep must outlive any one failure
            log.exception("sweep failed")
