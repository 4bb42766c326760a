"""`create_app(settings)`: the aiohttp application of the GitHub App.

`cleanup_ctx` owns every resource in one place: the HTTP client session, the engine's
process pool and the job queue, opened at start-up and closed (the queue drained first)
at shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import aiohttp
from aiohttp import web
from cachetools import TTLCache
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.engine_pool import Engine
from bot.github import GitHubAccess, TokenStore, WritePacer
from bot.job import JobEnv
from bot.queue import JobQueue
from bot.services import Services
from bot.settings import Settings
from bot.snapshot import BlobCache
from bot.webhooks import DELIVERY_COUNTS, SEEN_DELIVERIES, SERVICES, webhook

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
MAX_DELIVERY_BYTES = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB


async def healthz(request: web.Request) -> web.Response:
    services = request.app.get(SERVICES)
    if services is None:
        return web.json_response({"status": "starting"}, status=503)
    return web.json_response({"status": "ok", "queue": services.queue.depth})


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


async def metrics(request: web.Request) -> web.Response:
    registry = CollectorRegistry()
    registry.register(_AppMetrics(request.app))
    return web.Response(body=generate_latest(registry),
                        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


def create_app(settings: Settings, *, engine_in_process: bool = False) -> web.Application:
    """The App's web application. `engine_in_process` runs the engine without a process
    pool (tests that count on deterministic single-process runs)."""
    settings.check()
    app = web.Application(client_max_size=MAX_DELIVERY_BYTES)
    app[SETTINGS] = settings
    app[SEEN_DELIVERIES] = TTLCache(maxsize=50_000, ttl=24 * 3600)
    app[DELIVERY_COUNTS] = {}
    app.cleanup_ctx.append(_resources(settings, engine_in_process))
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


def _resources(settings: Settings, engine_in_process: bool):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        timeout = aiohttp.ClientTimeout(total=settings.request_timeout)
        session = aiohttp.ClientSession(timeout=timeout)
        queue = JobQueue(settings.concurrent_jobs)
        access = GitHubAccess(
            session=session,
            tokens=TokenStore(settings.app_id or 0, settings.private_key_pem()),
            pacer=WritePacer(settings.writes_per_minute),
            base_url=settings.github_api_url,
            timeout=settings.request_timeout,
        )
        engine = Engine(None if engine_in_process else settings.engine_workers,
                        file_timeout=settings.file_timeout,
                        memory_mb=settings.worker_memory_mb)
        env = JobEnv(engine=engine, blobs=BlobCache(settings.blob_cache_bytes),
                     blob_concurrency=settings.blob_concurrency)
        app[SERVICES] = Services(settings, access, env, queue)
        queue.start()
        log.info("pystd ready: %d engine worker(s), %d concurrent job(s)",
                 settings.engine_workers, settings.concurrent_jobs)
        try:
            yield
        finally:
            await queue.close()
            engine.close()
            await session.close()

    return ctx
