"""Replicas pick up /setup without a restart.

Several `pystd serve` replicas share one data folder (the Docker volume, PYSTD_DATA_DIR).
/setup runs on one of them, which stores the App's credentials there and starts serving
at once (bot/setup.py). The others started "not configured"; each of them looks in the
data folder again when a webhook, /healthz or /setup reaches it, and once the credentials
are there it serves through the same resources a normal start opens (`SetupFlow.adopt`,
bot/app.py's `_start`).

A look is a file read and a key check, done in a thread (never on the event loop), at
most once every `INTERVAL` seconds for deliveries and once for probes (/healthz, the
/setup page), each with its own allowance so that an orchestrator's probe never makes the
next delivery wait: an unauthenticated flood of deliveries costs one read per interval,
and is answered 503 in between. A /setup callback (with a state this server issued) always
looks first, so that no replica registers a second App over the first. Requests that
arrive while a look is under way share its outcome. A missing, damaged or half-written
file, or a key that does not load, is "not configured" (said once in the log per distinct
problem), never a failed request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web

from pystd.bot import messages
from pystd.bot.credentials import StoredApp, StoredCredentialsError, load_app
from pystd.bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from pystd.bot.setup import SetupFlow

log = logging.getLogger(__name__)

INTERVAL = 5.0  # seconds between two looks at the data folder, for each reason
WEBHOOK, PROBE = "webhook", "probe"  # deliveries; /healthz and the /setup page


class StoredCredentialsWatch:
    """Looks for credentials another replica's /setup stored, for a server started
    without any; tests replace `clock`."""

    def __init__(self, flow: SetupFlow, *, interval: float = INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.flow = flow
        self.interval, self.clock = interval, clock
        self.looks = 0  # how many times the data folder was read
        self._next: dict[str, float] = {}  # by reason: no look before this time
        self._lock = asyncio.Lock()
        self._problem: str | None = None

    @property
    def configured(self) -> bool:
        return self.flow.settings.configured

    async def check(self, reason: str = PROBE, *, force: bool = False) -> bool:
        """Is the App configured, after looking in the data folder if `reason` (WEBHOOK
        or PROBE) may look now? `force`: look whenever the last look is older than this
        call (a /setup callback, about to register an App of its own)."""
        if self.configured:
            return True
        seen = self.looks
        async with self._lock:
            if self.configured or self.looks != seen:
                return self.configured  # a look made while this call waited answers it
            now = self.clock()
            if not force and now < self._next.get(reason, now):
                return False
            self._next[reason] = now + self.interval
            try:
                await self._look()
            finally:
                self.looks += 1
        return self.configured

    async def _look(self) -> None:
        found = await asyncio.to_thread(self._read, self.flow.settings)
        if found is None:
            return
        settings, stored = found
        try:
            adopted = await self.flow.adopt(settings, stored)
        except Exception as exc:  # the next look tries again
            self._say(messages.PICKUP_NOT_STARTED.format(reason=type(exc).__name__),
                      exc_info=True)
            return
        if adopted:
            self._problem = None
            log.info(messages.PICKUP_DONE, extra={"app_id": settings.app_id,
                                                  "slug": stored.slug})

    def _read(self, base: Settings) -> tuple[Settings, StoredApp] | None:
        """In a thread: the settings with the stored credentials, checked, and what was
        stored; None when there is nothing usable (said in the log once per problem)."""
        try:
            stored = load_app(base.data_dir)
            if stored is None:
                return None
            settings = base.with_stored_credentials()
            settings.check()
        except (StoredCredentialsError, SettingsError) as exc:
            self._say(str(exc))
            return None
        except Exception as exc:  # anything else about the file: still not configured
            self._say(messages.PICKUP_UNREADABLE.format(reason=type(exc).__name__),
                      exc_info=True)
            return None
        if not settings.configured:
            return None
        return settings, stored

    def _say(self, problem: str, *, exc_info: bool = False) -> None:
        if problem != self._problem:
            self._problem = problem
            log.warning(messages.PICKUP_PROBLEM, extra={"problem": problem},
                        exc_info=exc_info)


WATCH = web.AppKey("stored_credentials_watch", StoredCredentialsWatch)


async def configured(app: web.Application, reason: str = PROBE, *, force: bool = False
                     ) -> bool:
    """Is `app`'s App configured (having looked for stored credentials if it may)?"""
    watch = app.get(WATCH)
    return watch is not None and await watch.check(reason, force=force)
