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
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from pystd.bot import messages
from pystd.bot.metrics import Family, new_registry, service_metrics
from pystd.bot.runtime import Runtime, running
from pystd.bot.settings import Settings
from pystd.bot.store import StoreError

log = logging.getLogger(__name__)

RUNTIME = web.AppKey("runtime", Runtime)
REGISTRY = web.AppKey("registry", CollectorRegistry)


class _WorkerMetrics(Collector):
    """The queue's gauges (as last read from the store) and this worker's counters."""

    def __init__(self, app: web.Application) -> None:
        self._app = app

    def collect(self) -> list[Family]:
        runtime = self._app.get(RUNTIME)
        if runtime is None:
            return []
        queue = runtime.services.queue
        ended = CounterMetricFamily("pystd_worker_jobs", "Jobs this worker ended, by outcome",
                                    labels=["outcome"])
        ended.add_metric(["done"], queue.completed)
        ended.add_metric(["failed"], queue.failed)
        return [*service_metrics(runtime.services), ended,
                GaugeMetricFamily("pystd_worker_running_jobs", "Jobs this worker runs now",
                                  value=queue.running_jobs)]


def health_app() -> tuple[web.Application, Histogram]:
    """The worker's HTTP application (its runtime is set once opened) and the review
    latency histogram the queue feeds."""
    app = web.Application()
    app[REGISTRY], histogram = new_registry(_WorkerMetrics(app))
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
