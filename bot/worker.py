"""`pystd worker`: run reviews from the shared job queue, without receiving webhooks.

Any number of them, on any machine that reaches the store (PYSTD_QUEUE_URL; with SQLite,
processes on the same machine and data folder). SIGTERM or SIGINT stops claiming jobs,
lets the running ones finish (drain), and exits 0; a worker killed outright leaves its
jobs to the others, which take them over once their lease runs out.

With `--port`, it also serves `/healthz` (200 while the store answers and its worker loop
runs: what an orchestrator's health check needs) and `/metrics` (the queue's gauges, its
reviews by conclusion and their latency histogram) on PYSTD_HOST.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web
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

from bot import messages
from bot.runtime import Runtime, running
from bot.settings import Settings
from bot.store import StoreError

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)  # as bot/app.py's
RUNTIME = web.AppKey("runtime", Runtime)
REGISTRY = web.AppKey("registry", CollectorRegistry)


class _WorkerMetrics(Collector):
    """The queue's gauges (as last read from the store) and this worker's counters."""

    def __init__(self, app: web.Application) -> None:
        self._app = app

    def collect(self) -> list[CounterMetricFamily | GaugeMetricFamily]:
        runtime = self._app.get(RUNTIME)
        if runtime is None:
            return []
        services = runtime.services
        reviews = CounterMetricFamily("pystd_reviews", "Reviews by check-run conclusion",
                                      labels=["conclusion"])
        for conclusion, n in sorted(services.env.stats.items()):
            reviews.add_metric([conclusion], n)
        calls = CounterMetricFamily("pystd_github_requests", "GitHub API requests",
                                    labels=["method"])
        for method, n in sorted(services.access.calls.items()):
            calls.add_metric([method], n)
        queue = services.queue
        jobs = GaugeMetricFamily("pystd_queue_jobs", "Jobs in the queue's store by state",
                                 labels=["state"])
        for state, n in sorted(queue.stats.by_state.items()):
            jobs.add_metric([state], n)
        ended = CounterMetricFamily("pystd_worker_jobs", "Jobs this worker ended, by outcome",
                                    labels=["outcome"])
        ended.add_metric(["done"], queue.completed)
        ended.add_metric(["failed"], queue.failed)
        return [
            reviews, calls, jobs, ended,
            GaugeMetricFamily("pystd_queue_depth", "Jobs waiting", value=queue.stats.waiting),
            GaugeMetricFamily("pystd_queue_oldest_waiting_seconds",
                              "Age of the oldest job due and not started",
                              value=queue.stats.oldest_waiting_seconds),
            GaugeMetricFamily("pystd_queue_stalled_jobs",
                              "Running jobs whose worker stopped renewing its lease",
                              value=queue.stats.stalled),
            GaugeMetricFamily("pystd_worker_running_jobs", "Jobs this worker runs now",
                              value=queue.running_jobs)]


def health_app() -> tuple[web.Application, Histogram]:
    """The worker's HTTP application (its runtime is set once opened) and the review
    latency histogram the queue feeds."""
    app = web.Application()
    registry = CollectorRegistry()
    registry.register(_WorkerMetrics(app))
    histogram = Histogram(
        "pystd_review_seconds", "Seconds from a delivery being queued to its job's end "
        "(the check run completed)", buckets=LATENCY_BUCKETS, registry=registry)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    app[REGISTRY] = registry
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app, histogram


async def healthz(request: web.Request) -> web.Response:
    """200 while the store answers and the worker loop runs; 503 (with the reason) when
    either fails, so that an orchestrator restarts a worker that can no longer work."""
    runtime = request.app.get(RUNTIME)
    if runtime is None:
        return web.json_response({"status": "starting"}, status=503)
    queue = runtime.services.queue
    try:
        stats = await queue.refresh_stats()
    except StoreError as exc:
        return web.json_response({"status": "unhealthy", "queue": messages.HEALTH_QUEUE_DOWN
                                  .format(reason=exc)}, status=503)
    if not queue.alive:
        return web.json_response({"status": "unhealthy",
                                  "worker": messages.HEALTH_WORKER_STOPPED}, status=503)
    return web.json_response({"status": "ok", "queue": stats.waiting,
                              "running": queue.running_jobs})


async def metrics(request: web.Request) -> web.Response:
    runtime = request.app.get(RUNTIME)
    if runtime is not None:
        try:
            await runtime.services.queue.refresh_stats()
        except StoreError as exc:  # the gauges keep their last values
            log.warning("queue stats not read: %s", exc)
    return web.Response(body=generate_latest(request.app[REGISTRY]),
                        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


async def work(settings: Settings, workers: int, port: int | None = None) -> None:
    """Run `workers` job workers until SIGTERM or SIGINT; with `port`, serve /healthz and
    /metrics there."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    app, histogram = health_app()
    site_runner: web.AppRunner | None = None
    try:
        async with running(settings, workers=workers,
                           on_finished=histogram.observe) as runtime:
            app[RUNTIME] = runtime
            if port is not None:
                site_runner = web.AppRunner(app, access_log=None)
                await site_runner.setup()
                await web.TCPSite(site_runner, settings.host, port).start()
            log.info("worker ready", extra={"workers": workers, "port": port})
            await stop.wait()
            log.info("stopping: finishing running reviews")
    finally:
        if site_runner is not None:
            await site_runner.cleanup()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    log.info("stopped")


def run(settings: Settings, workers: int, port: int | None = None) -> None:
    asyncio.run(work(settings, workers, port))
