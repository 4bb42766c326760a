"""`create_app(settings)`: the aiohttp application of the GitHub App.

`cleanup_ctx` opens the resources that serve webhooks (bot/runtime.py: the job store, the
HTTP client session, the engine's process pool, GitHub access with the reviews' state, the
sweep and the job queue's workers) at start-up, each with its own exit callback, and closes
them in reverse order at shutdown (the running jobs finished first). A server without App
credentials starts too, when it has a public URL: it serves /setup, the rule pages and
/healthz, answers webhooks 503, and opens the same resources once /setup has registered the
App (bot/setup.py): no restart.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

from aiohttp import web
from cachetools import TTLCache
from prometheus_client import (
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from pystd.bot import messages, pages, pickup
from pystd.bot.health import AppKeyCheck
from pystd.bot.logs import learn_secrets
from pystd.bot.metrics import new_registry, service_metrics
from pystd.bot.runtime import running
from pystd.bot.services import Services
from pystd.bot.settings import Settings
from pystd.bot.setup import SetupFlow
from pystd.bot.setup import add_routes as add_setup_routes
from pystd.bot.store import StoreError
from pystd.bot.webhooks import (
    DELIVERY_COUNTS,
    MAX_DELIVERY_BYTES,
    SEEN_DELIVERIES,
    SERVICES,
    handle_delivery,
)

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
REGISTRY = web.AppKey("registry", CollectorRegistry)
REVIEW_SECONDS = web.AppKey("review_seconds", Histogram)
KEY_CHECK = web.AppKey("key_check", AppKeyCheck)


@dataclass
class Runtime:
    """What serving webhooks needs, once the App has credentials: set at start-up, or
    later by /setup (the application's own state is frozen by then)."""

    services: Services | None = None
    key_check: AppKeyCheck | None = None
    close: Callable[[], Awaitable[None]] | None = None


RUNTIME = web.AppKey("runtime", Runtime)
LINGERING_SECONDS = 2.0  # after refusing an unread body, discard what follows this long


async def healthz(request: web.Request) -> web.Response:
    """200 when the server can serve: started, its job queue's store answers, and GitHub
    accepts the App's key (asked every few minutes; GitHub being unreachable is reported
    but is not our failure). Without credentials yet, 200 "not configured": it is alive and
    serving /setup, which is no reason for an orchestrator to restart it."""
    runtime = request.app[RUNTIME]
    if runtime.services is None:  # another replica's /setup may have stored credentials
        await pickup.configured(request.app, pickup.PROBE)
    services = runtime.services
    if services is None or runtime.key_check is None:
        if not request.app[SETTINGS].configured:
            return web.json_response({"status": "not configured",
                                      "detail": messages.HEALTH_NOT_CONFIGURED})
        return web.json_response({"status": "starting"}, status=503)
    key = await runtime.key_check.status()
    try:  # a replica that cannot write its queue answers every delivery 503
        stats = await services.queue.refresh_stats()
    except StoreError as exc:
        return web.json_response({"status": "unhealthy", "github": key.detail,
                                  "queue": messages.HEALTH_QUEUE_DOWN.format(reason=exc)},
                                 status=503)
    body = {"status": "ok" if key.ok else "unhealthy", "github": key.detail,
            "queue": stats.waiting}
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
        services = self._app[RUNTIME].services
        if services is None:
            return
        yield from service_metrics(services)


def _registry(app: web.Application) -> CollectorRegistry:
    """This app's metrics: its own counters, the review latency histogram, and the
    process's CPU, memory, open files and garbage collection."""
    registry, app[REVIEW_SECONDS] = new_registry(_AppMetrics(app))
    return registry


async def metrics(request: web.Request) -> web.Response:
    services = request.app.get(SERVICES)
    if services is not None:
        try:
            await services.queue.refresh_stats()
        except StoreError as exc:  # the gauges keep their last values
            log.warning("queue stats not read: %s", exc)
    return web.Response(body=generate_latest(request.app[REGISTRY]),
                        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


async def webhook(request: web.Request) -> web.Response:
    """POST /webhook: bot/webhooks.py, or 503 while the App has no credentials (GitHub
    cannot be sending real deliveries yet; a redelivery after /setup will work)."""
    services = request.app[RUNTIME].services
    if services is None and await pickup.configured(request.app, pickup.WEBHOOK):
        services = request.app[RUNTIME].services  # credentials another replica stored
    if services is None:
        return web.json_response({"error": messages.WEBHOOK_NOT_CONFIGURED}, status=503)
    return await handle_delivery(request, services)


def create_app(settings: Settings, *, engine_in_process: bool = False,
               workers: int | None = None) -> web.Application:
    """The App's web application. `engine_in_process` runs the engine without a process
    pool (tests that count on deterministic single-process runs); `workers` job workers
    run in the process (default PYSTD_CONCURRENT_JOBS; 0: it only receives webhooks).
    Credentials /setup stored in the data folder fill in those the environment leaves
    unset."""
    settings = settings.with_stored_credentials()
    settings.check()
    learn_secrets(settings.secret_values())  # however the process configured its logs
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
    app[RUNTIME] = Runtime()
    app[SEEN_DELIVERIES] = TTLCache(maxsize=50_000, ttl=24 * 3600)
    app[DELIVERY_COUNTS] = {}
    app[REGISTRY] = _registry(app)
    jobs = settings.concurrent_jobs if workers is None else workers
    flow = SetupFlow(settings, activate=lambda new: _start(app, new, engine_in_process, jobs))
    if not settings.configured:  # until /setup, here or on another replica sharing data_dir
        app[pickup.WATCH] = pickup.StoredCredentialsWatch(flow)
    app.cleanup_ctx.append(_resources(settings, flow, engine_in_process, jobs))
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    pages.add_routes(app)
    add_setup_routes(app, flow)
    return app


def _resources(settings: Settings, flow: SetupFlow, engine_in_process: bool, workers: int):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        runtime = app[RUNTIME]
        if settings.configured:
            await _start(app, settings, engine_in_process, workers)
            # Still allowed during start-up; tests and benchmarks reach the services here.
            assert runtime.services is not None and runtime.key_check is not None
            app[SERVICES], app[KEY_CHECK] = runtime.services, runtime.key_check
        else:
            log.warning(messages.SETUP_LOG_OPEN, extra={"setup_url": flow.setup_url})
        try:
            yield
        finally:
            if runtime.close is not None:
                await runtime.close()

    return ctx


async def _start(app: web.Application, settings: Settings, engine_in_process: bool,
                 workers: int) -> None:
    """Open the resources that serve webhooks for this App (bot/runtime.py), at start-up or
    when /setup registers it, into the app's Runtime; its `close` undoes them. A failure
    half-way closes what was opened."""
    runtime = app[RUNTIME]
    if runtime.services is not None:
        return
    stack = contextlib.AsyncExitStack()
    try:
        opened = await stack.enter_async_context(running(
            settings, workers=workers, engine_in_process=engine_in_process,
            on_finished=app[REVIEW_SECONDS].observe))
    except BaseException:
        await stack.aclose()
        raise
    key_check = AppKeyCheck(opened.session, settings.app_id or 0, opened.tokens,
                            settings.github_api_url, settings.request_timeout)
    runtime.services, runtime.key_check, runtime.close = opened.services, key_check, stack.aclose
