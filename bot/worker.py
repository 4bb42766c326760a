"""`pystd worker`: run reviews from the shared job queue, without receiving webhooks.

Any number of them, on any machine that reaches the store (PYSTD_QUEUE_URL; with SQLite,
processes on the same machine and data folder). SIGTERM or SIGINT stops claiming jobs,
lets the running ones finish (drain), and exits 0; a worker killed outright leaves its
jobs to the others, which take them over once their lease runs out.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from bot.runtime import running
from bot.settings import Settings

log = logging.getLogger(__name__)


async def work(settings: Settings, workers: int) -> None:
    """Run `workers` job workers until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with running(settings, workers=workers):
            log.info("worker ready", extra={"workers": workers})
            await stop.wait()
            log.info("stopping: finishing running reviews")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    log.info("stopped")


def run(settings: Settings, workers: int) -> None:
    asyncio.run(work(settings, workers))
