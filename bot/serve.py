"""`pystd serve`'s process: listen, stop cleanly on SIGTERM or SIGINT, and stay usable when
a sender opens more connections than the process may hold.

On a stop signal the listening socket closes, requests in flight finish, and the queued
reviews drain (bot/app.py's cleanup) before the process exits 0: a container's
`docker stop` loses no accepted delivery.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import signal
import time

from aiohttp import web

log = logging.getLogger(__name__)

SHUTDOWN_SECONDS = 30.0  # for requests in flight; queued reviews have their own drain limit
BACKLOG = 128
RESERVED_FILES = 128  # descriptors kept for GitHub calls, the engine's pipes, logs
ACCEPT_ERROR = "socket.accept() out of system resource"
ACCEPT_ERROR_EVERY = 10.0  # seconds between two reports of the same accept failure


def raise_open_files_limit() -> int:
    """Raise the soft limit on open files to the hard one (Linux defaults to 1024, which a
    thousand idle sockets exhaust); returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the open files limit: %s", exc)
            return soft
        return hard
    return soft


class AcceptErrorFilter(logging.Filter):
    """Let one "accept() out of system resource" report through per ACCEPT_ERROR_EVERY
    seconds. When file descriptors run out, asyncio (3.11) logs it with a traceback for
    every pending connection, up to the backlog, every second: tens of MB of log that
    only say "too many connections"."""

    def __init__(self, every: float = ACCEPT_ERROR_EVERY) -> None:
        super().__init__()
        self._every = every
        self._last = -every
        self.suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.getMessage().startswith(ACCEPT_ERROR):
            return True
        now = time.monotonic()
        if now - self._last < self._every:
            self.suppressed += 1
            return False
        self._last = now
        record.exc_info = None  # the traceback adds nothing to "out of file descriptors"
        if self.suppressed:
            record.msg = f"{record.msg} ({self.suppressed} more since the last report)"
            self.suppressed = 0
        return True


class ConnectionCap:
    """aiohttp's protocol factory, with at most `limit` connections open: a new connection
    past it closes the oldest ones. Idle sockets held open by a sender would otherwise use
    up the process's descriptors, and then accept() fails for GitHub too until the idle
    timeout frees some; the oldest connection is almost always such a socket, since a
    real delivery is answered in milliseconds."""

    def __init__(self, server: web.Server, limit: int) -> None:
        self._server = server
        self.limit = limit
        self.evicted = 0
        self._reported = 0

    def __call__(self) -> asyncio.Protocol:
        open_now = self._server.connections  # oldest first
        excess = len(open_now) - self.limit + 1
        for handler in open_now[:max(excess, 0)]:
            handler.force_close()
            self.evicted += 1
        if excess > 0 and (not self._reported or self.evicted - self._reported >= 100):
            log.warning("connection limit reached: closing the oldest connection(s)",
                        extra={"limit": self.limit, "evicted": self.evicted})
            self._reported = self.evicted
        return self._server()


async def serve(app: web.Application, host: str, port: int, max_connections: int) -> None:
    """Run `app` until SIGTERM or SIGINT, then drain and return."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)  # a second signal while draining is ignored
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=SHUTDOWN_SECONDS,
                           access_log_format='%a "%r" %s %Tf')
    await runner.setup()
    listener: asyncio.Server | None = None
    try:
        assert runner.server is not None  # set by setup()
        listener = await loop.create_server(ConnectionCap(runner.server, max_connections),
                                            host, port, backlog=BACKLOG)
        log.info("listening", extra={"host": host, "port": port,
                                     "max_connections": max_connections})
        await stop.wait()
        log.info("stopping: finishing requests and queued reviews")
    finally:
        if listener is not None:
            listener.close()  # no new connections; the open ones are shut down below
        await runner.cleanup()  # finish requests in flight, drain the queue
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    log.info("stopped")


def run(app: web.Application, host: str, port: int) -> None:
    """The process's main loop: open-files limit raised, connections capped below it,
    accept errors rate-limited."""
    limit = raise_open_files_limit()
    logging.getLogger("asyncio").addFilter(AcceptErrorFilter())
    asyncio.run(serve(app, host, port, max(16, limit - RESERVED_FILES)))
